//! The paused shops of this process, kept current from the control stream. Every worker
//! process follows the log itself, so a `pause` reaches all of them within the broker's
//! delivery time, and a process that starts (or reconnects) folds the whole log again before
//! it acts: its consumers wait for [`PausedShops::caught_up`].
//!
//! Catching up: the follower appends a mark with an id of its own, then reads from the first
//! entry; the log is ordered, so when its mark comes back every entry written before it started
//! is folded. Until then the last known set stays in effect (none at all at start: the
//! consumers do not start).

use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::event::control::{ControlEvent, Paused};
use crate::queue::control::{self, LogReader};
use crate::queue::{Broker, Publisher, QueueError, Session};
use crate::telemetry::{Metrics, ShopLabels};

/// The set the consumers check before acting on a message.
pub struct PausedShops {
    state: RwLock<Paused>,
    ready: watch::Sender<bool>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for PausedShops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PausedShops")
            .field("ready", &*self.ready.borrow())
            .finish_non_exhaustive()
    }
}

impl PausedShops {
    pub fn new(metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(Self {
            state: RwLock::default(),
            ready: watch::Sender::new(false),
            metrics,
        })
    }

    pub fn is_paused(&self, shop: &str) -> bool {
        self.state.read().expect("never poisoned").contains(shop)
    }

    /// Returns once the control log was read to its end at least once.
    pub async fn caught_up(&self) {
        let mut ready = self.ready.subscribe();
        let _ = ready.wait_for(|r| *r).await;
    }

    /// Swaps in the set the log now gives; logs and counts each shop whose state changed.
    fn replace(&self, new: Paused) {
        let mut state = self.state.write().expect("never poisoned");
        for (shop, pause) in new.iter() {
            match state.get(shop) {
                None => tracing::warn!(
                    shop,
                    reason = pause.reason.as_deref().unwrap_or(""),
                    since = %pause.since,
                    by = pause.by.as_deref().unwrap_or(""),
                    "shop paused: its messages wait in the delay queues until `orderflow resume`"
                ),
                Some(old) if old != pause => tracing::warn!(
                    shop,
                    reason = pause.reason.as_deref().unwrap_or(""),
                    since = %pause.since,
                    "shop still paused; the reason was updated"
                ),
                Some(_) => {}
            }
            self.gauge(shop).set(1);
        }
        for (shop, pause) in state.iter() {
            if !new.contains(shop) {
                tracing::info!(shop, since = %pause.since, "shop resumed: its messages are processed again");
                self.gauge(shop).set(0);
            }
        }
        *state = new;
    }

    fn gauge(&self, shop: &str) -> prometheus_client::metrics::gauge::Gauge {
        self.metrics
            .shop_paused
            .get_or_create(&ShopLabels {
                shop: shop.to_owned(),
            })
            .clone()
    }
}

/// Follows the control stream into a [`PausedShops`], across reconnects, until stopped.
pub struct ControlFollower {
    pub paused: Arc<PausedShops>,
    pub publisher: Publisher,
}

impl ControlFollower {
    pub async fn run(self, stop: CancellationToken) {
        let broker: Broker = self.publisher.broker().clone();
        loop {
            let session = tokio::select! {
                _ = stop.cancelled() => return,
                s = broker.wait_connected(Duration::from_secs(3600)) => match s {
                    Ok(s) => s,
                    Err(_) => continue,
                },
            };
            match self.follow(&session, &stop).await {
                Ok(()) if stop.is_cancelled() => return,
                Ok(()) => tracing::warn!("the control stream's consumer ended; reading it again"),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot read the control stream (paused shops); retrying");
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
        }
    }

    /// Reads the whole log on `session`, then follows it live.
    async fn follow(&self, session: &Session, stop: &CancellationToken) -> Result<(), QueueError> {
        let mut reader = LogReader::open(session, self.publisher.names()).await?;
        let Some(mut fold) = catch_up(&mut reader, &self.publisher, stop).await? else {
            reader.close().await;
            return Ok(());
        };
        tracing::info!(
            paused = fold.iter().count(),
            "control stream read to its end: the workers know the paused shops"
        );
        self.paused.replace(fold.clone());
        self.paused.ready.send_replace(true);
        loop {
            let next = tokio::select! {
                _ = stop.cancelled() => break,
                next = reader.next() => next,
            };
            let Some(bytes) = next else { break };
            let Some(event) = ControlEvent::decode(&bytes?) else {
                continue;
            };
            if matches!(event, ControlEvent::Mark { .. }) {
                continue;
            }
            fold.apply(&event);
            self.paused.replace(fold.clone());
        }
        reader.close().await;
        Ok(())
    }
}

/// Appends a mark of its own to the log and folds `reader`'s entries until the mark comes
/// back: then every entry written before the call is folded. `None` when stopped or the
/// channel closed first.
async fn catch_up(
    reader: &mut LogReader,
    publisher: &Publisher,
    stop: &CancellationToken,
) -> Result<Option<Paused>, QueueError> {
    let mark = format!("{}-{:016x}", std::process::id(), rand::random::<u64>());
    let event = ControlEvent::Mark { id: mark.clone() };
    control::append(publisher, &mark, &event.encode()).await?;
    let mut fold = Paused::default();
    loop {
        let next = tokio::select! {
            _ = stop.cancelled() => return Ok(None),
            next = reader.next() => next,
        };
        let Some(bytes) = next else { return Ok(None) };
        let Some(event) = ControlEvent::decode(&bytes?) else {
            continue;
        };
        if matches!(&event, ControlEvent::Mark { id } if *id == mark) {
            return Ok(Some(fold));
        }
        fold.apply(&event);
    }
}

/// The paused shops as the whole log gives them now, read once (`orderflow pause`, `resume`
/// and `pause --list`); `timeout` bounds the read.
pub async fn current(publisher: &Publisher, timeout: Duration) -> Result<Paused, QueueError> {
    let session = publisher
        .broker()
        .session()
        .ok_or(QueueError::Unavailable)?;
    let mut reader = LogReader::open(&session, publisher.names()).await?;
    let stop = CancellationToken::new();
    let read = tokio::time::timeout(timeout, catch_up(&mut reader, publisher, &stop)).await;
    reader.close().await;
    match read {
        Ok(Ok(Some(paused))) => Ok(paused),
        Ok(Ok(None)) => Err(QueueError::Broker(
            "the control stream's consumer was closed by the broker".into(),
        )),
        Ok(Err(e)) => Err(e),
        Err(_) => Err(QueueError::Broker(format!(
            "the control stream was not read to its end within {timeout:?}"
        ))),
    }
}
