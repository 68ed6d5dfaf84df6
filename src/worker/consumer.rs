//! The consume loops: one consumer per partition queue (single active consumer across every
//! replica, prefetch 1, manual acks), each message handled to the end before the next. When the
//! connection is lost the loops end, and `run` starts them again on the next session.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::FieldTable;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::disposition::{Disposition, Settled, Settler};
use crate::clock::Clock;
use crate::event::Incoming;
use crate::queue::consumer::incoming;
use crate::queue::{Broker, Session};

/// Handles one message to the end. Implementations must be idempotent: a message can arrive
/// again after a crash, and other events of the same order may follow it.
pub trait Handler: Send + Sync + 'static {
    fn handle(&self, msg: &Incoming) -> impl Future<Output = Disposition> + Send;
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
}

impl<H: Handler, O: Observer> Consumers<H, O> {
    /// Consumes until `stop`: the message in hand is finished and settled, then the loops end.
    pub async fn run(self: Arc<Self>, stop: CancellationToken) {
        loop {
            let session = tokio::select! {
                _ = stop.cancelled() => return,
                s = self.broker.wait_connected(Duration::from_secs(3600)) => match s {
                    Ok(s) => s,
                    Err(_) => continue,
                },
            };
            let session_lost = CancellationToken::new();
            let loops: Vec<_> = self
                .queues
                .iter()
                .map(|queue| {
                    let me = self.clone();
                    let queue = queue.clone();
                    let stop = stop.clone();
                    let lost = session_lost.clone();
                    let session = session.clone();
                    tokio::spawn(async move {
                        let result = me.consume(&session, &queue, &stop).await;
                        if let Err(e) = result {
                            tracing::warn!(queue = %queue, error = %e, "consumer stopped; restarting on the next connection");
                            me.broker.report_broken(&session);
                        }
                        lost.cancel();
                    })
                })
                .collect();
            // Wait until one loop ends (connection trouble) or we are told to stop.
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = session_lost.cancelled() => {}
            }
            for l in loops {
                let _ = l.await;
            }
            if stop.is_cancelled() {
                return;
            }
            // Let the supervisor notice and replace the session.
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn consume(
        &self,
        session: &Session,
        queue: &str,
        stop: &CancellationToken,
    ) -> Result<(), lapin::Error> {
        let channel = session.connection.create_channel().await?;
        // One message at a time per partition: the next waits until this one is settled.
        channel.basic_qos(1, BasicQosOptions::default()).await?;
        let mut deliveries = channel
            .basic_consume(
                queue.into(),
                format!("orderflow-{}", std::process::id()).as_str().into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await?;
        loop {
            let next = tokio::select! {
                _ = stop.cancelled() => break,
                next = deliveries.next() => next,
            };
            let Some(delivery) = next else { break };
            let delivery = delivery?;
            let msg = incoming(&delivery);
            let span = tracing::info_span!(
                "message",
                queue = %queue,
                shop = msg.shop().unwrap_or(""),
                order_id = msg.order_id().map(|o| o.0),
                webhook_id = msg.webhook_id(),
                topic = msg.topic(),
                attempt = msg.attempts() + 1,
            );
            async {
                let now = self.clock.now();
                // Never early: an early plan would still see the order as not due, cost a
                // snapshot and schedule itself again. A hop lands within a second after.
                let disposition = match msg.due_at() {
                    Some(due) if due > now => Disposition::NotYetDue { due },
                    _ => self.handler.handle(&msg).await,
                };
                let label = disposition.label();
                match self.settler.settle(&msg, disposition, self.clock.now()).await {
                    Ok(settled) => {
                        delivery.ack(BasicAckOptions::default()).await?;
                        tracing::info!(disposition = label, ?settled, "settled");
                        self.observer.settled(&msg, label, &settled);
                    }
                    Err(e) => {
                        // Could not publish what the disposition needs: put the message back
                        // and handle it again later (the delivery limit stops a loop).
                        tracing::warn!(disposition = label, error = %e, "could not settle; requeueing");
                        delivery
                            .nack(BasicNackOptions {
                                requeue: true,
                                ..Default::default()
                            })
                            .await?;
                    }
                }
                Ok::<(), lapin::Error>(())
            }
            .instrument(span)
            .await?;
        }
        let _ = channel.close(200, "worker stopping".into()).await;
        Ok(())
    }
}
