//! The sweep's lock and durable state, on RabbitMQ: the `<prefix>.sweep` queue has a single
//! active consumer, so of every process consuming it only one receives its messages, and that
//! one holds the lease. It keeps every delivery unacked while it works; `commit` publishes the
//! new state (confirmed) and only then acks what it held, so the queue always keeps a state:
//! the new one, or (after a crash between the two) both, which the next holder merges. When
//! the channel is lost the broker returns the held messages to the queue and hands them to the
//! next consumer: `lost` fires at once so the holder stops working.

use futures_util::StreamExt;
use lapin::Acker;
use lapin::Channel;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::QueueError;
use super::names::key;
use super::publisher::{Outgoing, Publisher};

/// How many state messages a holder may hold unacked: every process publishes one seed when
/// it starts, and the holder acks them all at its next commit.
const PREFETCH: u16 = 16;

/// Held deliveries at which a holder should commit (and so ack them) before the prefetch fills.
pub const PREFETCH_HALF: usize = PREFETCH as usize / 2;

/// The AMQP `type` of a state message.
pub const STATE_KIND: &str = "orderflow/sweep-state";

/// A consumer of the sweep queue on a channel of its own. Receiving a message means holding
/// the lease (until `lost`).
pub struct Lease {
    channel: Channel,
    deliveries: mpsc::UnboundedReceiver<lapin::message::Delivery>,
    held: Vec<Acker>,
    lost: CancellationToken,
    publisher: Publisher,
}

impl std::fmt::Debug for Lease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lease")
            .field("held", &self.held.len())
            .field("lost", &self.lost.is_cancelled())
            .finish_non_exhaustive()
    }
}

impl Lease {
    /// Starts consuming the sweep queue on the current session. Nothing arrives until this
    /// consumer is the active one.
    pub async fn open(publisher: &Publisher) -> Result<Self, QueueError> {
        let lapin = QueueError::from_lapin;
        let session = publisher
            .broker()
            .session()
            .ok_or(QueueError::Unavailable)?;
        let channel = session.connection.create_channel().await.map_err(lapin)?;
        channel
            .basic_qos(PREFETCH, BasicQosOptions::default())
            .await
            .map_err(lapin)?;
        let queue = publisher.names().sweep_queue();
        let mut consumer = channel
            .basic_consume(
                queue.as_str().into(),
                format!("orderflow-sweep-{}", std::process::id())
                    .as_str()
                    .into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .map_err(lapin)?;
        let (tx, deliveries) = mpsc::unbounded_channel();
        let lost = CancellationToken::new();
        let on_end = lost.clone();
        // Reads the stream apart from the holder, so a lost channel is seen at once even while
        // the holder is busy sweeping.
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = on_end.cancelled() => break,
                    next = consumer.next() => match next {
                        Some(Ok(d)) => if tx.send(d).is_err() { break },
                        Some(Err(e)) => {
                            tracing::warn!(error = %e, "the sweep lease's channel failed");
                            break;
                        }
                        None => break,
                    },
                }
            }
            on_end.cancel();
        });
        Ok(Self {
            channel,
            deliveries,
            held: Vec::new(),
            lost,
            publisher: publisher.clone(),
        })
    }

    /// Fires when the channel is gone: the lease is someone else's now.
    pub fn lost(&self) -> CancellationToken {
        self.lost.clone()
    }

    pub fn is_lost(&self) -> bool {
        self.lost.is_cancelled() || !self.channel.status().connected()
    }

    /// How many messages this holder has received and not acked.
    pub fn held(&self) -> usize {
        self.held.len()
    }

    /// The next state message's body, held; `None` once the lease is lost.
    pub async fn recv(&mut self) -> Option<Vec<u8>> {
        tokio::select! {
            _ = self.lost.cancelled() => None,
            d = self.deliveries.recv() => d.map(|d| self.hold(d)),
        }
    }

    /// A state message already received, without waiting.
    pub fn try_recv(&mut self) -> Option<Vec<u8>> {
        let d = self.deliveries.try_recv().ok()?;
        Some(self.hold(d))
    }

    fn hold(&mut self, d: lapin::message::Delivery) -> Vec<u8> {
        self.held.push(d.acker);
        d.data
    }

    /// Publishes `state` to the sweep queue, confirmed, then acks every message held: the
    /// queue is never without a state.
    pub async fn commit(&mut self, state: &[u8]) -> Result<(), QueueError> {
        if self.is_lost() {
            return Err(QueueError::Unavailable);
        }
        offer(&self.publisher, state).await?;
        // Acked one by one: `multiple` would also ack a delivery the reader has received but
        // not handed over yet.
        for acker in self.held.drain(..) {
            acker
                .ack(BasicAckOptions::default())
                .await
                .map_err(QueueError::from_lapin)?;
        }
        Ok(())
    }

    /// Closes the channel; what it still holds goes back to the queue.
    pub async fn close(&mut self) {
        self.lost.cancel();
        let _ = self.channel.close(200, "sweeper stopping".into()).await;
    }
}

/// Publishes a state message to the sweep queue, confirmed: a seed when a sweeper starts, so
/// the holder (perhaps this process) learns it holds the lease.
pub async fn offer(publisher: &Publisher, state: &[u8]) -> Result<(), QueueError> {
    let id = format!("sweep-state-{}", std::process::id());
    let msg = Outgoing {
        message_id: &id,
        kind: STATE_KIND,
        headers: Vec::new(),
        body: state,
    };
    let exchange = publisher.names().events_exchange();
    publisher
        .publish_raw(&exchange, key::SWEEP, &msg)
        .await
        .map(|_| ())
}
