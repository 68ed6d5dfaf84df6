//! What became of one message, and how it is settled. The handler returns a `Disposition`; the
//! consumer settles it here: whatever must be published (a wake-up, a retry, a dead letter, a
//! re-route) is published and confirmed FIRST, then the delivery is acked. A crash in between
//! redelivers the message, and handling it again is harmless (the worker is idempotent).

use std::borrow::Cow;
use std::time::Duration;

use jiff::Timestamp;

use crate::event::header::{self, delay as delay_header};
use crate::event::{DeadLetterReason, Destination, Incoming, Kind, PartitionKey, partition_of};
use crate::id::OrderId;
use crate::queue::delay::Tier;
use crate::queue::{Outgoing, Publisher, QueueError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// Handled. Come back at `wake_up`, if any, to plan again.
    Done { wake_up: Option<Timestamp> },
    /// A transient failure: retry after a backoff, or dead-letter after too many attempts.
    Retry { error: String },
    /// Will never succeed as it is: keep it in the dead-letter queue with the reason.
    DeadLetter {
        reason: DeadLetterReason,
        detail: String,
    },
    /// A fulfilment-order event now resolved to its order: send it to the order's partition.
    Reroute { order_id: OrderId },
    /// Came back from a delay before its due time: next hop.
    NotYetDue { due: Timestamp },
    /// The shop is paused (`orderflow pause`): park the message in a short delay tier, no
    /// attempt counted, and look again when it comes back.
    Paused,
}

impl Disposition {
    /// The `disposition` log field and metric label.
    pub fn label(&self) -> &'static str {
        match self {
            Disposition::Done { wake_up: None } => "done",
            Disposition::Done { wake_up: Some(_) } => "done_wake_up",
            Disposition::Retry { .. } => "retry",
            Disposition::DeadLetter { .. } => "dead_letter",
            Disposition::Reroute { .. } => "reroute",
            Disposition::NotYetDue { .. } => "not_yet_due",
            Disposition::Paused => "paused",
        }
    }
}

/// How soon a paused shop's message is looked at again: one 5 s tier, so a `resume` takes
/// effect within seconds while a long pause costs one small publish per message every 5 s.
pub const PAUSED_RECHECK: Duration = Duration::from_secs(5);

/// Everything settling needs besides the message.
#[derive(Clone, Debug)]
pub struct Settler {
    pub publisher: Publisher,
    pub partitions: u16,
    pub max_attempts: u32,
    pub max_delay_hop: Duration,
}

/// What settling did, for logs and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settled {
    Acked,
    Delayed { tier: &'static str },
    DeadLettered { reason: DeadLetterReason },
    Rerouted,
}

impl Settler {
    /// Publishes what `disposition` asks for. The caller acks the delivery when this returns
    /// `Ok`, and requeues it otherwise.
    pub async fn settle(
        &self,
        msg: &Incoming,
        disposition: Disposition,
        now: Timestamp,
    ) -> Result<Settled, QueueError> {
        match disposition {
            Disposition::Done { wake_up: None } => Ok(Settled::Acked),
            Disposition::Done { wake_up: Some(at) } => {
                let mut headers = msg.forwarded_headers();
                headers.push((delay_header::WHY.into(), "wake_up".into()));
                self.delay(msg, headers, at, now, &format!("wake:{at}"))
                    .await
            }
            Disposition::NotYetDue { due } => {
                let headers = carried_delay_headers(msg);
                self.delay(msg, headers, due, now, "hop").await
            }
            Disposition::Paused => {
                let mut headers = carried_delay_headers(msg);
                headers.retain(|(k, _)| k != delay_header::WHY);
                headers.push((delay_header::WHY.into(), "paused".into()));
                let due = now
                    .checked_add(jiff::SignedDuration::try_from(PAUSED_RECHECK).unwrap_or_default())
                    .unwrap_or(now);
                self.delay(msg, headers, due, now, "paused").await
            }
            Disposition::Retry { error } => {
                let attempts = msg.attempts() + 1;
                if attempts >= self.max_attempts {
                    let detail = format!("gave up after {attempts} attempts");
                    return self
                        .dead_letter(
                            msg,
                            DeadLetterReason::MaxAttempts,
                            &detail,
                            attempts,
                            Some(&error),
                            now,
                        )
                        .await;
                }
                let tier = Tier::backoff(attempts - 1);
                let due = now
                    .checked_add(jiff::SignedDuration::try_from(tier.ttl()).unwrap_or_default())
                    .unwrap_or(now);
                let mut headers = msg.forwarded_headers();
                headers.push((delay_header::WHY.into(), "retry".into()));
                headers.push((header::ATTEMPTS.into(), attempts.to_string()));
                headers.push((header::LAST_ERROR.into(), truncate(&error)));
                self.delay(msg, headers, due, now, &format!("retry:{attempts}"))
                    .await
            }
            Disposition::DeadLetter { reason, detail } => {
                self.dead_letter(msg, reason, &detail, msg.attempts(), None, now)
                    .await
            }
            Disposition::Reroute { order_id } => {
                let shop = msg.shop().unwrap_or_default();
                let p = partition_of(shop, PartitionKey::Order(order_id), self.partitions);
                let mut headers = msg.forwarded_headers();
                headers.retain(|(k, _)| k != header::KIND);
                headers.push((header::KIND.into(), Kind::Order.as_str().into()));
                headers.push((header::ORDER_ID.into(), order_id.0.to_string()));
                let id = format!("{}:order", msg.message_id.as_deref().unwrap_or(""));
                let outgoing = Outgoing {
                    message_id: &id,
                    kind: msg.topic(),
                    headers,
                    body: &msg.body,
                };
                self.publisher
                    .publish(Destination::Partition(p), &outgoing)
                    .await?;
                Ok(Settled::Rerouted)
            }
        }
    }

    /// Sends `msg` on its next hop towards `due`, no longer than `max_delay_hop`; the queue
    /// picks the tier.
    async fn delay(
        &self,
        msg: &Incoming,
        mut headers: Vec<(Cow<'static, str>, String)>,
        due: Timestamp,
        now: Timestamp,
        id_suffix: &str,
    ) -> Result<Settled, QueueError> {
        let remaining = due
            .duration_since(now)
            .try_into()
            .unwrap_or(Duration::ZERO)
            .min(self.max_delay_hop);
        headers.retain(|(k, _)| k != delay_header::DUE_AT);
        headers.push((delay_header::DUE_AT.into(), due.to_string()));
        let id = hop_id(msg.message_id.as_deref().unwrap_or(""), id_suffix);
        let outgoing = Outgoing {
            message_id: &id,
            kind: msg.topic(),
            headers,
            body: &msg.body,
        };
        // A compliance message goes back to the compliance queue. Without an id the message has
        // no partition of its own: partition 0, as ever.
        let destination = match msg.message_kind() {
            Some(Kind::Compliance) => Destination::Compliance,
            _ => Destination::Partition(msg.partition(self.partitions).unwrap_or(0)),
        };
        let tier = self
            .publisher
            .delay(destination, remaining, &outgoing)
            .await?;
        Ok(Settled::Delayed { tier: tier.name() })
    }

    async fn dead_letter(
        &self,
        msg: &Incoming,
        reason: DeadLetterReason,
        detail: &str,
        attempts: u32,
        last_error: Option<&str>,
        now: Timestamp,
    ) -> Result<Settled, QueueError> {
        let mut headers = msg.forwarded_headers();
        headers.retain(|(k, _)| {
            ![
                header::REASON,
                header::REASON_DETAIL,
                header::DEAD_SHOP,
                header::DEAD_ORDER_ID,
            ]
            .contains(&k.as_ref())
        });
        headers.push((header::REASON.into(), reason.as_str().to_owned()));
        headers.push((header::REASON_DETAIL.into(), truncate(detail)));
        headers.push((header::ATTEMPTS.into(), attempts.to_string()));
        headers.push((
            header::LAST_ERROR.into(),
            truncate(last_error.unwrap_or(detail)),
        ));
        headers.push((
            header::DEAD_SHOP.into(),
            msg.shop().unwrap_or_default().to_owned(),
        ));
        if let Some(order) = msg.order_id() {
            headers.push((header::DEAD_ORDER_ID.into(), order.0.to_string()));
        }
        headers.push((header::DEAD_LETTERED_AT.into(), now.to_string()));
        let id = msg.message_id.clone().unwrap_or_default();
        let outgoing = Outgoing {
            message_id: &id,
            kind: msg.topic(),
            headers,
            body: &msg.body,
        };
        self.publisher.publish(Destination::Dead, &outgoing).await?;
        Ok(Settled::DeadLettered { reason })
    }
}

/// A hop keeps the delay's own headers (why, attempts, last error).
fn carried_delay_headers(msg: &Incoming) -> Vec<(Cow<'static, str>, String)> {
    let mut headers = msg.forwarded_headers();
    for k in [delay_header::WHY, header::ATTEMPTS, header::LAST_ERROR] {
        if let Some(v) = msg.header(k) {
            headers.push((k.into(), v.to_owned()));
        }
    }
    headers
}

/// The id of a message's next hop: a wait of days takes many hops, so a hop marks the id once
/// (`…:hop`) instead of once per hop, which grew it past AMQP's 255 bytes.
fn hop_id(id: &str, suffix: &str) -> String {
    if matches!(suffix, "hop" | "paused") && id.ends_with(&format!(":{suffix}")) {
        return id.to_owned();
    }
    format!("{id}:{suffix}")
}

/// Header values stay short: an error chain can be long, and ops read it in a table.
fn truncate(text: &str) -> String {
    const MAX: usize = 500;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn many_hops_do_not_grow_the_message_id() {
        let mut id = "wh-1:wake:2026-12-10T09:00:00Z".to_owned();
        for _ in 0..1000 {
            id = hop_id(&id, "hop");
        }
        assert_eq!(id, "wh-1:wake:2026-12-10T09:00:00Z:hop");
        assert_eq!(hop_id(&id, "retry:2"), format!("{id}:retry:2"));
        // A long pause parks a message every few seconds: its id is marked once too.
        let mut parked = hop_id(&id, "paused");
        for _ in 0..1000 {
            parked = hop_id(&parked, "paused");
        }
        assert_eq!(parked, format!("{id}:paused"));
    }
}
