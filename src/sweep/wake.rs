//! One order wake-up, published to the order's own partition exactly as the receiver publishes
//! an order webhook, so the worker handles it with the same per-order serialisation and
//! idempotence. Shared by `orderflow reconcile`, `orderflow orders reevaluate`, `release-holds` and `cancel-fulfilments`, and the periodic sweep; only the topic (and the
//! sweep's judging header) tells them apart.

use jiff::Timestamp;

use crate::event::{Destination, Event, Kind, Subject, VERSION, WebhookMeta, header};
use crate::queue::{Outgoing, Publisher, QueueError};
use crate::shopify::orders::UpdatedOrder;

/// The topic `orderflow reconcile`'s wake-ups carry (AMQP `type` and the topic header).
pub const RECONCILE_TOPIC: &str = "orderflow/reconcile";
/// The topic `orderflow orders reevaluate`'s wake-ups carry.
pub const REEVALUATE_TOPIC: &str = "orderflow/reevaluate";
/// The topic `orderflow orders release-holds`'s wake-ups carry, after it released holds.
pub const RELEASE_HOLDS_TOPIC: &str = "orderflow/release-holds";
/// The topic `orderflow orders cancel-fulfilments`'s wake-ups carry, after it cancelled.
pub const CANCEL_FULFILMENTS_TOPIC: &str = "orderflow/cancel-fulfilments";
/// The topic the periodic sweep's wake-ups carry.
pub const SWEEP_TOPIC: &str = "orderflow/sweep";
/// The topic of the sweep's ticks on every partition.
pub const WATCH_TOPIC: &str = "orderflow/watch";

/// Who woke an order, and what the worker should judge.
#[derive(Debug, Clone, Copy)]
pub struct Waker<'a> {
    /// `RECONCILE_TOPIC` or `SWEEP_TOPIC`: not a Shopify topic, it tells a reader of the
    /// queue or the logs where the message came from.
    pub topic: &'a str,
    pub partitions: u16,
    /// The receive time stamped on the message.
    pub now: Timestamp,
}

/// Publishes `order`'s wake-up to its partition, confirmed. `judge`: the sweep asks the worker
/// to count the order as missed unless a webhook announced this update.
pub async fn wake(
    publisher: &Publisher,
    waker: Waker<'_>,
    shop: &str,
    order: &UpdatedOrder,
    judge: bool,
) -> Result<(), QueueError> {
    // The same order in the same state gets the same id, whichever run woke it.
    let source = waker.topic.trim_start_matches("orderflow/");
    let id = format!("{source}:{shop}:{}:{}", order.id.0, order.updated_at);
    let event = Event {
        meta: WebhookMeta {
            topic: waker.topic.to_owned(),
            shop: shop.to_owned(),
            webhook_id: id.clone(),
            api_version: None,
            triggered_at: Some(order.updated_at.to_string()),
            event_id: None,
        },
        subject: Subject::Order(order.id),
        received_at: waker.now.to_string(),
    };
    let body = serde_json::json!({
        "id": order.id.0,
        "admin_graphql_api_id": format!("gid://shopify/Order/{}", order.id.0),
        "name": order.name,
        "updated_at": order.updated_at.to_string(),
    })
    .to_string();
    let mut headers = event.headers();
    if judge {
        headers.push((
            header::SWEPT_UPDATED_AT.into(),
            order.updated_at.to_string(),
        ));
    }
    let outgoing = Outgoing {
        message_id: &id,
        kind: waker.topic,
        headers,
        body: body.as_bytes(),
    };
    publisher
        .publish(event.destination(waker.partitions), &outgoing)
        .await
        .map(|_| ())
}

/// Publishes one tick to every partition, confirmed. A worker judges a sweep's wake-up only if
/// it was already watching the order's partition before the update, and it starts watching at
/// its first delivery there; on a quiet partition that could be never. Ticks, one per partition
/// per sweep, make sure every active worker starts watching within one interval.
pub async fn tick(
    publisher: &Publisher,
    partitions: u16,
    now: Timestamp,
) -> Result<(), QueueError> {
    for p in 0..partitions {
        let id = format!("watch:{now}:{p}");
        let outgoing = Outgoing {
            message_id: &id,
            kind: WATCH_TOPIC,
            headers: vec![
                (header::VERSION.into(), VERSION.to_owned()),
                (header::TOPIC.into(), WATCH_TOPIC.to_owned()),
                (header::KIND.into(), Kind::Watch.as_str().to_owned()),
                (header::RECEIVED_AT.into(), now.to_string()),
            ],
            body: b"{}",
        };
        publisher
            .publish(Destination::Partition(p), &outgoing)
            .await?;
    }
    Ok(())
}
