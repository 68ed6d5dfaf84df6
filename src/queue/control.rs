//! The control stream, as bytes: append an entry (confirmed and routed, like every publish)
//! and read the log from its start, then live. What the entries mean is `event::control`'s.
//!
//! Reading a stream over AMQP 0.9.1 needs a prefetch (`basic.qos`), manual acks (an ack only
//! returns credit: nothing is removed) and the `x-stream-offset` consume argument; `first`
//! starts at the oldest entry the stream keeps.

use futures_util::StreamExt;
use lapin::Consumer;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};

use super::QueueError;
use super::connection::Session;
use super::names::Names;
use super::publisher::{Outgoing, Publisher};

/// How many entries the broker sends ahead of the acks.
const PREFETCH: u16 = 1000;
/// Acks go in batches (`multiple`): one ack per entry costs a frame each and made reading a
/// long log crawl (20,000 entries took over 10 s). Half the prefetch, so credit never runs out.
const ACK_EVERY: u16 = PREFETCH / 2;

/// Appends `body` to the control stream; returns when the broker confirmed it.
pub async fn append(publisher: &Publisher, id: &str, body: &[u8]) -> Result<(), QueueError> {
    let stream = publisher.names().control_stream();
    let outgoing = Outgoing {
        message_id: id,
        kind: "orderflow/control",
        headers: Vec::new(),
        body,
    };
    // The default exchange routes to the queue named by the routing key.
    publisher.publish_raw("", &stream, &outgoing).await?;
    Ok(())
}

/// A reader of the whole control log, on a channel of its own.
pub struct LogReader {
    channel: lapin::Channel,
    deliveries: Consumer,
    /// Entries received since the last ack.
    unacked: u16,
}

impl LogReader {
    /// Starts reading the control stream of `names` from its first entry.
    pub async fn open(session: &Session, names: &Names) -> Result<Self, QueueError> {
        let lapin = QueueError::from_lapin;
        let channel = session.connection.create_channel().await.map_err(lapin)?;
        channel
            .basic_qos(PREFETCH, BasicQosOptions::default())
            .await
            .map_err(lapin)?;
        let mut args = FieldTable::default();
        args.insert(
            ShortString::from("x-stream-offset"),
            AMQPValue::LongString(LongString::from("first")),
        );
        let stream = names.control_stream();
        let deliveries = channel
            .basic_consume(
                stream.as_str().into(),
                format!("orderflow-control-{}", std::process::id())
                    .as_str()
                    .into(),
                BasicConsumeOptions::default(),
                args,
            )
            .await
            .map_err(lapin)?;
        Ok(Self {
            channel,
            deliveries,
            unacked: 0,
        })
    }

    /// The next entry's bytes, waiting for one to be appended; `None` when the channel closed.
    pub async fn next(&mut self) -> Option<Result<Vec<u8>, QueueError>> {
        let delivery = match self.deliveries.next().await? {
            Ok(d) => d,
            Err(e) => return Some(Err(QueueError::from_lapin(e))),
        };
        self.unacked += 1;
        if self.unacked >= ACK_EVERY {
            self.unacked = 0;
            // This entry and every one before it: an ack only returns credit to a stream.
            if let Err(e) = delivery.acker.ack(BasicAckOptions { multiple: true }).await {
                return Some(Err(QueueError::from_lapin(e)));
            }
        }
        Some(Ok(delivery.data))
    }

    pub async fn close(self) {
        let _ = self.channel.close(200, "control log read".into()).await;
    }
}
