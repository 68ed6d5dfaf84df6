//! Reading the dead-letter queue in passes: count the ready letters, take that many (manual
//! acks, all in flight at once), let the caller ack the ones it acted on, then close the
//! channel so every other letter goes back to the queue untouched, and wait until the broker
//! counts them back. What to do with each letter is `dlq`'s policy; this is only the mechanics.

use std::time::Duration;

use futures_util::StreamExt;
use lapin::options::{BasicConsumeOptions, BasicQosOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Consumer};

use super::admin::ready;
use super::consumer::Delivery;
use super::{Broker, Names, QueueError, Session};

/// One pass over the dead-letter queue.
pub struct DeadLetters {
    session: Session,
    queue: String,
    channel: Channel,
    deliveries: Option<Consumer>,
    count: usize,
    taken: usize,
    acked: usize,
}

const CONNECT_WAIT: Duration = Duration::from_secs(10);
/// A counted letter that does not arrive within this is taken as gone (another reader).
const NEXT_WAIT: Duration = Duration::from_secs(5);
const RECOUNT_WAIT: Duration = Duration::from_secs(10);

impl DeadLetters {
    /// Starts a pass over the letters ready now.
    pub async fn open(broker: &Broker, names: &Names) -> Result<Self, QueueError> {
        let lapin = QueueError::from_lapin;
        let session = broker.wait_connected(CONNECT_WAIT).await?;
        let queue = names.dead_queue();
        let channel = session.connection.create_channel().await.map_err(lapin)?;
        let count = ready(&channel, &queue).await?;
        let mut deliveries = None;
        if count > 0 {
            // Every counted letter in flight at once: the ones not acted on must all stay
            // unacked until the channel closes, so none is seen twice in one pass.
            channel
                .basic_qos(
                    count.min(u16::MAX as usize) as u16,
                    BasicQosOptions::default(),
                )
                .await
                .map_err(lapin)?;
            deliveries = Some(
                channel
                    .basic_consume(
                        queue.as_str().into(),
                        "orderflow-dlq".into(),
                        BasicConsumeOptions::default(),
                        FieldTable::default(),
                    )
                    .await
                    .map_err(lapin)?,
            );
        }
        Ok(Self {
            session,
            queue,
            channel,
            deliveries,
            count,
            taken: 0,
            acked: 0,
        })
    }

    /// The next letter of this pass; `None` once as many as were counted have been taken.
    pub async fn next(&mut self) -> Result<Option<Delivery>, QueueError> {
        let Some(deliveries) = self.deliveries.as_mut() else {
            return Ok(None);
        };
        if self.taken >= self.count {
            return Ok(None);
        }
        let Ok(Some(delivery)) = tokio::time::timeout(NEXT_WAIT, deliveries.next()).await else {
            return Ok(None);
        };
        let delivery = delivery.map_err(QueueError::from_lapin)?;
        self.taken += 1;
        Ok(Some(Delivery::from_lapin(delivery)))
    }

    /// Removes `letter` from the queue for good.
    pub async fn ack(&mut self, letter: Delivery) -> Result<(), QueueError> {
        letter.ack().await?;
        self.acked += 1;
        Ok(())
    }

    /// Ends the pass: every letter taken and not acked goes back to the queue.
    pub async fn close(self) -> Result<(), QueueError> {
        if self.deliveries.is_none() {
            let _ = self.channel.close(200, "dlq pass done".into()).await;
            return Ok(());
        }
        // Closing the channel returns every unacked message to the queue. A quorum queue
        // counts them back a moment later; wait for that, so the next pass (or `dlq list`
        // right after a replay) sees every letter that stayed.
        self.channel
            .close(200, "dlq pass done".into())
            .await
            .map_err(QueueError::from_lapin)?;
        let remaining = self.taken - self.acked;
        let counter = self
            .session
            .connection
            .create_channel()
            .await
            .map_err(QueueError::from_lapin)?;
        let deadline = tokio::time::Instant::now() + RECOUNT_WAIT;
        loop {
            let ready = ready(&counter, &self.queue).await?;
            if ready >= remaining || tokio::time::Instant::now() >= deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let _ = counter.close(200, "counted".into()).await;
        Ok(())
    }
}
