//! Dead-letter operations for ops: list, replay (after the cause is fixed) and purge the
//! messages in `<prefix>.dead`, filtered by reason and shop.
//!
//! This is the policy: which letters match, and what list, replay and purge do with each.
//! Reading the queue (count, take, ack the ones acted on, return the rest) is
//! `queue::dead_letter`'s.

use std::borrow::Cow;
use std::collections::HashSet;

use crate::event::route::is_configured;
use crate::event::{
    DeadLetterReason, Destination, Incoming, Kind, Routed, Subject, WebhookMeta, header, route,
};
use crate::id::ShopDomain;
use crate::queue::dead_letter::DeadLetters;
use crate::queue::{Outgoing, Publisher, QueueError};

/// Which dead letters an operation applies to.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub reason: Option<String>,
    pub shop: Option<String>,
    pub limit: Option<usize>,
}

/// One dead letter, as `dlq list` shows it.
#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub message: Incoming,
    /// Our `reason` header, or the broker's own (`delivery_limit`, ...).
    pub reason: String,
    pub dead_lettered_at: Option<jiff::Timestamp>,
}

impl DeadLetter {
    fn from(message: Incoming) -> Self {
        let reason = message
            .header(header::REASON)
            .or_else(|| message.header(header::FIRST_DEATH_REASON))
            .unwrap_or("unknown")
            .to_owned();
        let dead_lettered_at = message
            .header(header::DEAD_LETTERED_AT)
            .or_else(|| message.header(header::RECEIVED_AT))
            .and_then(|t| t.parse().ok());
        Self {
            message,
            reason,
            dead_lettered_at,
        }
    }

    pub fn matches(&self, filter: &Filter) -> bool {
        filter.reason.as_deref().is_none_or(|r| r == self.reason)
            && filter
                .shop
                .as_deref()
                .is_none_or(|s| Some(s) == self.message.shop())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DlqError {
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// What to do with each matching dead letter.
enum Action<'a> {
    Keep,
    Replay {
        publisher: &'a Publisher,
        shops: &'a HashSet<ShopDomain>,
        partitions: u16,
    },
    Drop,
}

/// The outcome of a pass over the queue.
#[derive(Debug, Default)]
pub struct Report {
    /// The matching dead letters (all of them for `list`; those acted on otherwise).
    pub matched: Vec<DeadLetter>,
    /// Matching letters that could not be replayed, with why; they stay in the queue.
    pub kept: Vec<(DeadLetter, String)>,
}

pub async fn list(publisher: &Publisher, filter: &Filter) -> Result<Report, DlqError> {
    pass(publisher, filter, Action::Keep, &|_| true).await
}

pub async fn purge(publisher: &Publisher, filter: &Filter) -> Result<Report, DlqError> {
    pass(publisher, filter, Action::Drop, &|_| true).await
}

/// Deletes the dead letters `matches` selects (GDPR redaction of a customer's or a shop's data).
pub async fn purge_where(
    publisher: &Publisher,
    matches: &(dyn Fn(&DeadLetter) -> bool + Sync),
) -> Result<Report, DlqError> {
    pass(publisher, &Filter::default(), Action::Drop, matches).await
}

/// Republishes each matching dead letter where it belongs now: an order event to its order's
/// partition (attempts reset); a webhook that was unusable (unknown shop, ...) through the
/// receiver's routing again, so fixing the config and replaying is enough.
pub async fn replay(
    publisher: &Publisher,
    filter: &Filter,
    shops: &HashSet<ShopDomain>,
    partitions: u16,
) -> Result<Report, DlqError> {
    pass(
        publisher,
        filter,
        Action::Replay {
            publisher,
            shops,
            partitions,
        },
        &|_| true,
    )
    .await
}

async fn pass(
    publisher: &Publisher,
    filter: &Filter,
    action: Action<'_>,
    matches: &(dyn Fn(&DeadLetter) -> bool + Sync),
) -> Result<Report, DlqError> {
    let mut letters = DeadLetters::open(publisher.broker(), publisher.names()).await?;
    let mut report = Report::default();
    let limit = filter.limit.unwrap_or(usize::MAX);
    while let Some(delivery) = letters.next().await? {
        let letter = DeadLetter::from(delivery.message().clone());
        if !letter.matches(filter) || !matches(&letter) || report.matched.len() >= limit {
            continue;
        }
        match &action {
            Action::Keep => report.matched.push(letter),
            Action::Drop => {
                letters.ack(delivery).await?;
                report.matched.push(letter);
            }
            Action::Replay {
                publisher,
                shops,
                partitions,
            } => match republish(publisher, &letter.message, shops, *partitions).await {
                Ok(()) => {
                    letters.ack(delivery).await?;
                    report.matched.push(letter);
                }
                Err(why) => report.kept.push((letter, why)),
            },
        }
    }
    letters.close().await?;
    Ok(report)
}

/// Headers a dead letter carries that must not travel on when it is replayed.
const DEAD_HEADERS: &[&str] = &[
    header::REASON,
    header::REASON_DETAIL,
    header::ATTEMPTS,
    header::LAST_ERROR,
    header::DEAD_SHOP,
    header::DEAD_ORDER_ID,
    header::DEAD_LETTERED_AT,
    header::delay::DUE_AT,
    header::delay::WHY,
];

async fn republish(
    publisher: &Publisher,
    msg: &Incoming,
    shops: &HashSet<ShopDomain>,
    partitions: u16,
) -> Result<(), String> {
    let (destination, mut headers) = match msg.message_kind() {
        Some(kind @ (Kind::Order | Kind::FulfillmentOrder | Kind::Compliance)) => {
            resend(msg, kind, shops, partitions)?
        }
        // A webhook the receiver could not route: route it again with today's config.
        _ => reroute(msg, shops, partitions)?,
    };
    headers.push((header::REPLAYED.into(), "true".into()));
    let id = msg.message_id.clone().unwrap_or_default();
    let outgoing = Outgoing {
        message_id: &id,
        kind: msg.topic(),
        headers,
        body: &msg.body,
    };
    publisher
        .publish(destination, &outgoing)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

type Headers = Vec<(Cow<'static, str>, String)>;

/// A message that was routed once: back to its partition (or the compliance queue), without
/// its dead-letter headers, attempts reset.
fn resend(
    msg: &Incoming,
    kind: Kind,
    shops: &HashSet<ShopDomain>,
    partitions: u16,
) -> Result<(Destination, Headers), String> {
    let shop = msg.shop().unwrap_or_default();
    let destination = match (kind, msg.partition(partitions)) {
        (Kind::Compliance, _) => Destination::Compliance,
        (_, Some(p)) => Destination::Partition(p),
        (_, None) => return Err("no order or fulfillment order id in its headers".into()),
    };
    if destination != Destination::Compliance && !is_configured(shops, shop) {
        return Err(format!("shop `{shop}` is not configured"));
    }
    let mut headers = msg.forwarded_headers();
    headers.retain(|(k, _)| !DEAD_HEADERS.contains(&k.as_ref()));
    Ok((destination, headers))
}

/// A webhook the receiver dead-lettered as unusable: through the receiver's routing again.
fn reroute(
    msg: &Incoming,
    shops: &HashSet<ShopDomain>,
    partitions: u16,
) -> Result<(Destination, Headers), String> {
    let shop = msg.shop().unwrap_or_default();
    let meta = WebhookMeta {
        topic: msg.topic().to_owned(),
        shop: shop.to_owned(),
        webhook_id: msg.webhook_id().to_owned(),
        api_version: msg.header(header::API_VERSION).map(str::to_owned),
        triggered_at: msg.header(header::TRIGGERED_AT).map(str::to_owned),
        event_id: msg.header(header::EVENT_ID).map(str::to_owned),
    };
    let received_at = msg
        .header(header::RECEIVED_AT)
        .unwrap_or_default()
        .to_owned();
    let Some(Routed { event, replaced }) = route(meta, &msg.body, received_at, shops) else {
        return Err(format!("topic `{}` is not handled", msg.topic()));
    };
    // A body that is still broken first: it never changes, whatever the config.
    match (&event.subject, replaced) {
        (_, Some(body)) => Err(format!("still unusable: {}", body.detail)),
        (Subject::Unusable(u), None) if u.reason == DeadLetterReason::UnknownShop => {
            Err(format!("shop `{shop}` is still not configured"))
        }
        (Subject::Unusable(u), None) => Err(format!("still unusable: {}", u.detail)),
        _ => Ok((event.destination(partitions), event.headers())),
    }
}
