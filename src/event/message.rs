//! A queued message as a consumer reads it: headers as strings, the body, and the few facts
//! routing and settling need, read from the headers by name. Pure: the broker's delivery is
//! turned into this once, in `queue::consumer`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use jiff::Timestamp;

use super::{Kind, PartitionKey, header, partition_of};
use crate::id::OrderId;

#[derive(Debug, Clone)]
pub struct Incoming {
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    pub message_id: Option<String>,
    pub kind: Option<String>,
    pub redelivered: bool,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub fn shop(&self) -> Option<&str> {
        self.header(header::SHOP)
    }

    pub fn topic(&self) -> &str {
        self.header(header::TOPIC).unwrap_or("")
    }

    pub fn webhook_id(&self) -> &str {
        self.header(header::WEBHOOK_ID).unwrap_or("")
    }

    pub fn order_id(&self) -> Option<OrderId> {
        self.header(header::ORDER_ID)?.parse().ok().map(OrderId)
    }

    pub fn fulfillment_order_id(&self) -> Option<&str> {
        self.header(header::FULFILLMENT_ORDER_ID)
    }

    /// The `orderflow-kind` header as written: `order`, `fulfillment_order`, `compliance` or
    /// `unusable` (or whatever an older or foreign writer put there).
    pub fn event_kind(&self) -> Option<&str> {
        self.header(header::KIND)
    }

    /// The `orderflow-kind` header, when it is one orderflow writes.
    pub fn message_kind(&self) -> Option<Kind> {
        self.event_kind().and_then(Kind::parse)
    }

    /// How many times handling has failed transiently so far.
    pub fn attempts(&self) -> u32 {
        self.header(header::ATTEMPTS)
            .and_then(|a| a.parse().ok())
            .unwrap_or(0)
    }

    pub fn due_at(&self) -> Option<Timestamp> {
        self.header(header::delay::DUE_AT)?.parse().ok()
    }

    /// What this message is partitioned by: its order when known, else its fulfilment order.
    pub fn partition_key(&self) -> Option<PartitionKey<'_>> {
        match (self.order_id(), self.fulfillment_order_id()) {
            (Some(order), _) => Some(PartitionKey::Order(order)),
            (None, Some(gid)) => Some(PartitionKey::FulfillmentOrder(gid)),
            (None, None) => None,
        }
    }

    /// The partition this message belongs to, from its own headers; `None` without an id.
    pub fn partition(&self, partitions: u16) -> Option<u16> {
        let shop = self.shop().unwrap_or_default();
        Some(partition_of(shop, self.partition_key()?, partitions))
    }

    /// The headers to carry forward when this message is published again, without the
    /// broker's (`x-…`) and the per-hop ones the caller sets anew.
    pub fn forwarded_headers(&self) -> Vec<(Cow<'static, str>, String)> {
        self.headers
            .iter()
            .filter(|(k, _)| {
                !k.starts_with("x-")
                    && ![
                        header::delay::DUE_AT,
                        header::delay::WHY,
                        header::ATTEMPTS,
                        header::LAST_ERROR,
                    ]
                    .contains(&k.as_str())
            })
            .map(|(k, v)| (Cow::Owned(k.clone()), v.clone()))
            .collect()
    }
}
