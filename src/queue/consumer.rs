//! The consume loops: one consumer per queue (prefetch 1, manual acks), each delivery handled to
//! the end and settled before the next. A broker delivery becomes the message contract's
//! `Incoming` once, here, and is settled by value: `ack` or `requeue` consumes it, so a
//! delivery cannot be settled twice. When the connection is lost the loops end, and `run`
//! starts them again on the next session.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use lapin::Acker;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions};
use lapin::types::{AMQPValue, FieldTable};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::connection::{Broker, Session};
use crate::event::Incoming;

/// The broker failed while consuming or settling: the channel is suspect, so the loop ends and
/// starts again on the next session. Shown as the broker's own text.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ConsumeError(#[from] lapin::Error);

impl From<ConsumeError> for super::QueueError {
    fn from(ConsumeError(e): ConsumeError) -> Self {
        super::QueueError::from_lapin(e)
    }
}

/// One message taken from a queue and not settled yet. Dropped unsettled, it goes back to the
/// queue when its channel closes.
#[derive(Debug)]
pub struct Delivery {
    message: Incoming,
    acker: Acker,
}

impl Delivery {
    pub(crate) fn from_lapin(d: lapin::message::Delivery) -> Self {
        let message = incoming(&d);
        Self {
            message,
            acker: d.acker,
        }
    }

    pub fn message(&self) -> &Incoming {
        &self.message
    }

    /// Done with: the broker forgets the message. The message is handed back for the caller's
    /// records (logs, metrics), settled.
    pub async fn ack(self) -> Result<Incoming, ConsumeError> {
        self.acker.ack(BasicAckOptions::default()).await?;
        Ok(self.message)
    }

    /// Not settled: the broker puts the message back and delivers it again (the queue's delivery
    /// limit stops a loop).
    pub async fn requeue(self) -> Result<(), ConsumeError> {
        self.acker
            .nack(BasicNackOptions {
                requeue: true,
                ..Default::default()
            })
            .await?;
        Ok(())
    }
}

/// Handles and settles one delivery. An error ends this consumer's loop (the channel is
/// suspect); it starts again on the next session.
pub trait Consume: Send + Sync + 'static {
    /// The consumer of `queue` (re)started on a new channel: deliveries before this may have
    /// gone to another consumer.
    fn consuming(&self, _queue: &str) {}

    fn consume(
        &self,
        queue: &str,
        delivery: Delivery,
    ) -> impl Future<Output = Result<(), ConsumeError>> + Send;
}

/// Consumes `queues` until `stop`: the delivery in hand is finished and settled, then the loops
/// end. Each queue has its own channel and loop; a failing loop gets the session replaced.
pub async fn run<C: Consume>(
    broker: Broker,
    queues: Vec<String>,
    consumer: Arc<C>,
    stop: CancellationToken,
) {
    loop {
        let session = tokio::select! {
            _ = stop.cancelled() => return,
            s = broker.wait_connected(Duration::from_secs(3600)) => match s {
                Ok(s) => s,
                Err(_) => continue,
            },
        };
        let session_lost = CancellationToken::new();
        // A JoinSet, not loose tasks: if this future is dropped (the app aborts what is left at
        // the end of its grace period), dropping the set aborts every loop with it.
        let mut loops = JoinSet::new();
        for queue in &queues {
            let consumer = consumer.clone();
            let broker = broker.clone();
            let queue = queue.clone();
            let stop = stop.clone();
            let lost = session_lost.clone();
            let session = session.clone();
            loops.spawn(async move {
                let result = consume(&*consumer, &session, &queue, &stop).await;
                if let Err(e) = result {
                    tracing::warn!(queue = %queue, error = %e, "consumer stopped; restarting on the next connection");
                    broker.report_broken(&session);
                }
                lost.cancel();
            });
        }
        // Wait until one loop ends (connection trouble) or we are told to stop.
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = session_lost.cancelled() => {}
        }
        while loops.join_next().await.is_some() {}
        if stop.is_cancelled() {
            return;
        }
        // Let the supervisor notice and replace the session.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn consume<C: Consume>(
    consumer: &C,
    session: &Session,
    queue: &str,
    stop: &CancellationToken,
) -> Result<(), ConsumeError> {
    let channel = session.connection.create_channel().await?;
    // One message at a time per queue: the next waits until this one is settled.
    channel.basic_qos(1, BasicQosOptions::default()).await?;
    let mut deliveries = channel
        .basic_consume(
            queue.into(),
            format!("orderflow-{}", std::process::id()).as_str().into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    consumer.consuming(queue);
    loop {
        let next = tokio::select! {
            _ = stop.cancelled() => break,
            next = deliveries.next() => next,
        };
        let Some(delivery) = next else { break };
        let delivery = Delivery::from_lapin(delivery?);
        consumer.consume(queue, delivery).await?;
    }
    let _ = channel.close(200, "worker stopping".into()).await;
    Ok(())
}

/// The message of a broker delivery, headers as strings. Public for test probes that read a
/// queue directly and want it parsed the way the consumers parse it.
pub fn incoming(d: &lapin::message::Delivery) -> Incoming {
    let headers = d
        .properties
        .headers()
        .as_ref()
        .map(|t| {
            t.inner()
                .iter()
                .map(|(k, v)| (k.as_str().to_owned(), text(v)))
                .collect()
        })
        .unwrap_or_default();
    Incoming {
        headers,
        body: d.data.clone(),
        message_id: d
            .properties
            .message_id()
            .as_ref()
            .map(|s| s.as_str().to_owned()),
        kind: d.properties.kind().as_ref().map(|s| s.as_str().to_owned()),
        redelivered: d.redelivered,
    }
}

fn text(v: &AMQPValue) -> String {
    match v {
        AMQPValue::LongString(s) => String::from_utf8_lossy(s.as_bytes()).into_owned(),
        AMQPValue::ShortString(s) => s.as_str().to_owned(),
        AMQPValue::LongLongInt(i) => i.to_string(),
        AMQPValue::LongInt(i) => i.to_string(),
        AMQPValue::LongUInt(i) => i.to_string(),
        AMQPValue::Timestamp(t) => t.to_string(),
        AMQPValue::Boolean(b) => b.to_string(),
        // x-death and friends: not routed on, kept readable for `dlq list`.
        other => format!("{other:?}"),
    }
}
