//! What the workers do with each delivery: skip it on its next hop when it is not due, park it
//! when its shop is paused (`orderflow pause`), else hand it to the `Handler`, settle the
//! `Disposition`, then ack (or requeue when settling could not publish). The loops themselves (one consumer per partition queue, prefetch 1, manual
//! acks, restarted on each new session) are `queue::consumer`'s.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::disposition::{Disposition, Settled, Settler};
use super::paused::PausedShops;
use crate::clock::Clock;
use crate::event::Incoming;
use crate::queue::Broker;
use crate::queue::consumer::{self, Consume, ConsumeError, Delivery};

/// Handles one message to the end. Implementations must be idempotent: a message can arrive
/// again after a crash, and other events of the same order may follow it.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, msg: &Incoming) -> impl Future<Output = Disposition> + Send;

    /// The consumer of `queue` (re)started.
    fn consuming(&self, _queue: &str) {}

    /// Every delivery from `queue`, before it is handled (due or not).
    fn received(&self, _queue: &str, _msg: &Incoming) {}
}

/// Called after each settled message (metrics, tests).
pub trait Observer: Send + Sync + 'static {
    fn settled(&self, msg: &Incoming, disposition: &str, settled: &Settled);
}

impl Observer for () {
    fn settled(&self, _: &Incoming, _: &str, _: &Settled) {}
}

pub struct Consumers<H, O = ()> {
    pub broker: Broker,
    pub settler: Settler,
    pub handler: Arc<H>,
    pub observer: Arc<O>,
    pub clock: Arc<dyn Clock>,
    /// The queues to consume, each handled by `handler`.
    pub queues: Vec<String>,
    /// The shops `orderflow pause` holds, when this process follows the control stream: their
    /// messages are parked, not handled, and consuming starts only once the set is known.
    pub paused: Option<Arc<PausedShops>>,
}

/// How long the consumers wait for the control stream before saying so (they keep waiting).
const CATCH_UP_WARNING: Duration = Duration::from_secs(10);

impl<H: Handler, O: Observer> Consumers<H, O> {
    /// Consumes until `stop`: the message in hand is finished and settled, then the loops end.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        if let Some(paused) = &self.paused {
            // Acting before the paused set is known would act on a paused shop's orders after
            // a restart: wait, however long, and say why.
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = paused.caught_up() => break,
                    _ = tokio::time::sleep(CATCH_UP_WARNING) => tracing::error!(
                        queues = ?self.queues,
                        "not consuming yet: the control stream (which shops are paused) has not been read to its end; check the broker connection and that it supports streams (RabbitMQ 3.9 or later)"
                    ),
                }
            }
        }
        let broker = self.broker.clone();
        let queues = self.queues.clone();
        consumer::run(broker, queues, self, stop).await;
    }
}

impl<H: Handler, O: Observer> Consumers<H, O> {
    /// Whether `msg` belongs to a paused shop. The sweep's tick acts on no order: it passes.
    fn is_paused(&self, msg: &Incoming) -> bool {
        let Some(paused) = &self.paused else {
            return false;
        };
        msg.message_kind() != Some(crate::event::Kind::Watch)
            && msg.shop().is_some_and(|shop| paused.is_paused(shop))
    }
}

impl<H: Handler, O: Observer> Consume for Consumers<H, O> {
    fn consuming(&self, queue: &str) {
        self.handler.consuming(queue);
    }

    async fn consume(&self, queue: &str, delivery: Delivery) -> Result<(), ConsumeError> {
        let msg = delivery.message();
        let span = tracing::info_span!(
            "message",
            queue = %queue,
            shop = msg.shop().unwrap_or(""),
            order_id = msg.order_id().map(|o| o.0),
            webhook_id = msg.webhook_id(),
            topic = msg.topic(),
            attempt = msg.attempts() + 1,
        );
        async move {
            let msg = delivery.message();
            self.handler.received(queue, msg);
            let now = self.clock.now();
            // Never early: an early plan would still see the order as not due, cost a
            // snapshot and schedule itself again. A hop lands within a second after.
            let disposition = match msg.due_at() {
                Some(due) if due > now => Disposition::NotYetDue { due },
                _ if self.is_paused(msg) => Disposition::Paused,
                _ => self.handler.handle(msg).await,
            };
            let label = disposition.label();
            match self
                .settler
                .settle(msg, disposition, self.clock.now())
                .await
            {
                Ok(settled) => {
                    let msg = delivery.ack().await?;
                    tracing::info!(disposition = label, ?settled, "settled");
                    self.observer.settled(&msg, label, &settled);
                }
                Err(e) => {
                    // Could not publish what the disposition needs: put the message back
                    // and handle it again later (the delivery limit stops a loop).
                    tracing::warn!(disposition = label, error = %e, "could not settle; requeueing");
                    delivery.requeue().await?;
                }
            }
            Ok(())
        }
        .instrument(span)
        .await
    }
}
