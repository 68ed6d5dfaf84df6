//! Publishing that is finished only when the broker has confirmed AND routed the message, within
//! a time budget. A nack, a return (unroutable) or a timeout is an error, never a success.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use lapin::options::BasicPublishOptions;
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{BasicProperties, Confirmation};

use super::QueueError;
use super::connection::Broker;
use super::delay::Tier;
use super::names::{Names, key};
use crate::clock::{Clock, SystemClock};
use crate::event::Destination;

/// One message to publish; where it goes is an argument of the publish.
#[derive(Debug, Clone)]
pub struct Outgoing<'a> {
    /// Deduplication key for consumers; the webhook id.
    pub message_id: &'a str,
    /// AMQP `type`: the topic.
    pub kind: &'a str,
    pub headers: Vec<(Cow<'static, str>, String)>,
    pub body: &'a [u8],
}

#[derive(Clone)]
pub struct Publisher {
    broker: Broker,
    names: Names,
    budget: Duration,
    /// Stamps each message's AMQP `timestamp`.
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Publisher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Publisher")
            .field("broker", &self.broker)
            .field("names", &self.names)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

/// Delivery mode 2: the broker writes the message to disk.
const PERSISTENT: u8 = 2;

impl Publisher {
    /// A publisher that stamps messages with the system clock.
    pub fn new(broker: Broker, names: Names, budget: Duration) -> Self {
        Self {
            broker,
            names,
            budget,
            clock: Arc::new(SystemClock),
        }
    }

    /// Stamps messages with `clock` instead (the app's, so tests can drive it).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    pub fn names(&self) -> &Names {
        &self.names
    }

    /// Publishes to `destination` and waits for the confirm. Returns how long the confirm took.
    pub async fn publish(
        &self,
        destination: Destination,
        msg: &Outgoing<'_>,
    ) -> Result<Duration, QueueError> {
        let (exchange, routing_key) = self.route(destination);
        self.publish_raw(&exchange, &routing_key, msg).await
    }

    /// Publishes `msg` on its way back to `destination` (its partition, or the compliance
    /// queue) after a delay of `remaining`: to the longest tier that does not overshoot, or the
    /// shortest when less than that remains (the consumer sends a message that came back early
    /// on its next hop). The message keeps the destination's routing key through the tier's
    /// fanout exchange. Returns the tier used.
    pub async fn delay(
        &self,
        destination: Destination,
        remaining: Duration,
        msg: &Outgoing<'_>,
    ) -> Result<Tier, QueueError> {
        let tier = Tier::next_hop(remaining).unwrap_or(Tier::shortest());
        let exchange = self.names.delay_exchange(tier);
        let (_, routing_key) = self.route(destination);
        self.publish_raw(&exchange, &routing_key, msg).await?;
        Ok(tier)
    }

    pub(super) async fn publish_raw(
        &self,
        exchange: &str,
        routing_key: &str,
        msg: &Outgoing<'_>,
    ) -> Result<Duration, QueueError> {
        let session = self.broker.session().ok_or(QueueError::Unavailable)?;
        let started = Instant::now();
        let mut headers = FieldTable::default();
        for (k, v) in &msg.headers {
            headers.insert(
                ShortString::from(k.as_ref()),
                AMQPValue::LongString(LongString::from(v.as_str())),
            );
        }
        let properties = BasicProperties::default()
            .with_delivery_mode(PERSISTENT)
            .with_content_type("application/json".into())
            .with_message_id(short_id(msg.message_id).into())
            .with_type(msg.kind.into())
            // Whole seconds since the epoch; 0 before it.
            .with_timestamp(u64::try_from(self.clock.now().as_second()).unwrap_or(0))
            .with_headers(headers);
        let confirmed = async {
            let confirm = session
                .publish_channel
                .basic_publish(
                    exchange.into(),
                    routing_key.into(),
                    // Mandatory: an unroutable message comes back instead of vanishing.
                    BasicPublishOptions {
                        mandatory: true,
                        ..Default::default()
                    },
                    msg.body,
                    properties,
                )
                .await?;
            confirm.await
        };
        let outcome = tokio::time::timeout(self.budget, confirmed).await;
        match outcome {
            Err(_) => Err(QueueError::ConfirmTimeout(self.budget)),
            Ok(Err(e)) => {
                self.broker.report_broken(&session);
                Err(QueueError::from_lapin(e))
            }
            Ok(Ok(Confirmation::Ack(None))) => Ok(started.elapsed()),
            Ok(Ok(Confirmation::Ack(Some(returned)))) => Err(QueueError::Unroutable(
                returned.reply_text.as_str().to_owned(),
            )),
            Ok(Ok(Confirmation::Nack(_))) => Err(QueueError::Nacked),
            Ok(Ok(Confirmation::NotRequested)) => {
                Err(QueueError::Broker("channel is not in confirm mode".into()))
            }
        }
    }

    fn route(&self, destination: Destination) -> (String, String) {
        let exchange = self.names.events_exchange();
        let routing_key = match destination {
            Destination::Partition(p) => key::partition(p),
            Destination::Compliance => key::COMPLIANCE.to_owned(),
            Destination::Dead => key::DEAD.to_owned(),
        };
        (exchange, routing_key)
    }
}

/// AMQP's `message_id` is a short string (at most 255 bytes): a longer id would panic in the
/// client, so it is cut on a character boundary (ids are for tracing, not for routing).
fn short_id(id: &str) -> &str {
    const MAX: usize = 255;
    if id.len() <= MAX {
        return id;
    }
    let mut end = MAX;
    while !id.is_char_boundary(end) {
        end -= 1;
    }
    &id[..end]
}

#[cfg(test)]
mod short_id_tests {
    #[test]
    fn an_id_longer_than_amqp_allows_is_cut_on_a_character_boundary() {
        let long = "é".repeat(200);
        let cut = super::short_id(&long);
        assert!(cut.len() <= 255 && long.starts_with(cut));
        assert_eq!(super::short_id("wh-1"), "wh-1");
    }
}
