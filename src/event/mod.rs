//! The message contract: what orderflow puts on the queue for one webhook, where it goes, and
//! how every later reader (worker, settler, `dlq`, demo) reads it back. One owner, so receipt,
//! retry and replay cannot drift. Pure: no I/O.
//!
//! The body travels unchanged (so a dead letter can be replayed byte for byte); what a consumer
//! needs to route and act travels in string headers, readable in the broker's management UI.
//! `orderflow-version` lets a later release read messages an older one wrote.

pub mod control;
pub mod header;
pub mod message;
pub mod reason;
pub mod route;
pub mod subject;

use std::borrow::Cow;

use crate::id::OrderId;
pub use message::Incoming;
pub use reason::DeadLetterReason;
pub use route::{Routed, route};

/// Version of the header layout below.
pub const VERSION: &str = "1";

/// What a webhook is about, as far as routing needs to know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// An order topic: partitioned by (shop, order id).
    Order(OrderId),
    /// A `fulfillment_orders/*` or `fulfillment_holds/*` topic: only the fulfilment order's GID
    /// is known. Partitioned by it; the worker resolves the order and re-routes.
    FulfillmentOrder(String),
    /// GDPR and uninstall topics: the compliance queue.
    Compliance,
    /// Signed but unusable: the dead-letter queue, with the reason.
    Unusable(Unusable),
}

/// Why a signed webhook cannot be processed. Kept, never dropped: it goes to the dead-letter
/// queue with this reason so ops can fix the cause and replay it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    /// `not_json`, `no_order_id`, `no_fulfillment_order_id` or `unknown_shop`.
    pub reason: DeadLetterReason,
    pub detail: String,
}

/// The Shopify headers of one delivery, already checked for presence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookMeta {
    pub topic: String,
    pub shop: String,
    pub webhook_id: String,
    pub api_version: Option<String>,
    pub triggered_at: Option<String>,
    pub event_id: Option<String>,
}

/// One queued message: the delivery's metadata, its subject and when it was received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub meta: WebhookMeta,
    pub subject: Subject,
    /// RFC 3339, from the receiver's clock.
    pub received_at: String,
}

/// The `orderflow-kind` header: what a queued message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Order,
    FulfillmentOrder,
    Compliance,
    Unusable,
    /// The sweep's tick on a partition: about no order. The worker settles it at once; its
    /// delivery starts the worker's watch of that partition (missed-webhook evidence).
    Watch,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Order => "order",
            Kind::FulfillmentOrder => "fulfillment_order",
            Kind::Compliance => "compliance",
            Kind::Unusable => "unusable",
            Kind::Watch => "watch",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        [
            Kind::Order,
            Kind::FulfillmentOrder,
            Kind::Compliance,
            Kind::Unusable,
            Kind::Watch,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// What a message is partitioned by, besides its shop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionKey<'a> {
    Order(OrderId),
    /// Before the order is known: the fulfilment order's GID.
    FulfillmentOrder(&'a str),
}

/// Where a message is published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    Partition(u16),
    Compliance,
    Dead,
}

impl Event {
    /// The queue this event belongs on, given the number of partitions.
    pub fn destination(&self, partitions: u16) -> Destination {
        let key = match &self.subject {
            Subject::Order(id) => PartitionKey::Order(*id),
            Subject::FulfillmentOrder(gid) => PartitionKey::FulfillmentOrder(gid),
            Subject::Compliance => return Destination::Compliance,
            Subject::Unusable(_) => return Destination::Dead,
        };
        Destination::Partition(partition_of(&self.meta.shop, key, partitions))
    }

    /// The headers the message carries, in a stable order.
    pub fn headers(&self) -> Vec<(Cow<'static, str>, String)> {
        self.clone().into_headers()
    }

    /// Like [`Event::headers`], moving the event's strings instead of copying them: the
    /// receiver builds one message per delivery and needs the event no more.
    pub fn into_headers(self) -> Vec<(Cow<'static, str>, String)> {
        self.into_static_headers()
            .into_iter()
            .map(|(k, v)| (Cow::Borrowed(k), v))
            .collect()
    }

    #[cfg(test)]
    fn static_headers(&self) -> Vec<(&'static str, String)> {
        self.clone().into_static_headers()
    }

    fn into_static_headers(self) -> Vec<(&'static str, String)> {
        let m = self.meta;
        let dead_shop = matches!(self.subject, Subject::Unusable(_)).then(|| m.shop.clone());
        let mut h = Vec::with_capacity(13);
        h.extend([
            (header::VERSION, VERSION.to_owned()),
            (header::TOPIC, m.topic),
            (header::SHOP, m.shop),
            (header::WEBHOOK_ID, m.webhook_id),
            (header::RECEIVED_AT, self.received_at),
        ]);
        let optional = [
            (header::API_VERSION, m.api_version),
            (header::TRIGGERED_AT, m.triggered_at),
            (header::EVENT_ID, m.event_id),
        ];
        h.extend(optional.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))));
        match self.subject {
            Subject::Order(id) => {
                h.push((header::KIND, Kind::Order.as_str().to_owned()));
                h.push((header::ORDER_ID, id.0.to_string()));
            }
            Subject::FulfillmentOrder(gid) => {
                h.push((header::KIND, Kind::FulfillmentOrder.as_str().to_owned()));
                h.push((header::FULFILLMENT_ORDER_ID, gid));
            }
            Subject::Compliance => h.push((header::KIND, Kind::Compliance.as_str().to_owned())),
            Subject::Unusable(u) => {
                h.push((header::KIND, Kind::Unusable.as_str().to_owned()));
                h.push((header::REASON, u.reason.as_str().to_owned()));
                h.push((header::REASON_DETAIL, u.detail));
                h.extend(dead_shop.map(|shop| (header::DEAD_SHOP, shop)));
                h.push((header::ATTEMPTS, "0".to_owned()));
            }
        }
        h
    }
}

/// The partition of a message of `shop`: the one place the rule is applied, at receipt, at
/// every re-route and retry, and at replay.
pub fn partition_of(shop: &str, key: PartitionKey<'_>, partitions: u16) -> u16 {
    match key {
        PartitionKey::Order(id) => partition(shop, &id.0.to_string(), partitions),
        PartitionKey::FulfillmentOrder(gid) => partition(shop, gid, partitions),
    }
}

/// The partition of `(shop, key)`: FNV-1a 64, stable across processes, releases and
/// architectures, so every receiver replica routes one order to the same queue.
pub fn partition(shop: &str, key: &str, partitions: u16) -> u16 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for byte in shop.bytes().chain([0u8]).chain(key.bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(PRIME);
    }
    (hash % u64::from(partitions.max(1))) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> WebhookMeta {
        WebhookMeta {
            topic: "orders/create".into(),
            shop: "acme.myshopify.com".into(),
            webhook_id: "w-1".into(),
            api_version: Some("2026-10".into()),
            triggered_at: None,
            event_id: None,
        }
    }

    #[test]
    fn partition_is_stable_and_in_range() {
        // Pinned values: a change here re-routes every order in flight during an upgrade.
        assert_eq!(partition("acme.myshopify.com", "820982911946154508", 8), 2);
        assert_eq!(partition("acme.myshopify.com", "820982911946154509", 8), 5);
        for i in 0..1000u64 {
            assert!(partition("s.myshopify.com", &i.to_string(), 5) < 5);
        }
    }

    #[test]
    fn partitions_spread_orders() {
        let mut counts = [0u32; 8];
        for i in 0..8000u64 {
            counts[partition("acme.myshopify.com", &(1_000_000 + i).to_string(), 8) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn order_event_routes_to_its_partition_and_carries_headers() {
        let e = Event {
            meta: meta(),
            subject: Subject::Order(OrderId(820_982_911_946_154_508)),
            received_at: "2026-11-23T10:00:00Z".into(),
        };
        assert_eq!(e.destination(8), Destination::Partition(2));
        let h = e.static_headers();
        assert!(h.contains(&(header::ORDER_ID, "820982911946154508".into())));
        assert!(h.contains(&(header::API_VERSION, "2026-10".into())));
        assert!(!h.iter().any(|(k, _)| *k == header::EVENT_ID));
    }

    #[test]
    fn unusable_event_goes_to_dead_letter_with_reason() {
        let e = Event {
            meta: meta(),
            subject: Subject::Unusable(Unusable {
                reason: DeadLetterReason::NotJson,
                detail: "x".into(),
            }),
            received_at: "t".into(),
        };
        assert_eq!(e.destination(8), Destination::Dead);
        assert!(
            e.static_headers()
                .contains(&(header::REASON, "not_json".into()))
        );
    }
}
