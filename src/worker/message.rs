//! One delivery as the worker sees it: headers as strings, the body, and the few facts the
//! worker routes on. Parsing the AMQP delivery happens once, here.

use std::collections::BTreeMap;

use jiff::Timestamp;
use lapin::message::Delivery;
use lapin::types::AMQPValue;

use crate::event::header;
use crate::id::OrderId;

/// Headers orderflow adds when a message is delayed (a retry or a wake-up).
pub mod delay_header {
    /// RFC 3339: the message is not handled before this instant (by the worker's clock).
    pub const DUE_AT: &str = "orderflow-due-at";
    /// Why it was delayed: `retry` or `wake_up`.
    pub const WHY: &str = "orderflow-delayed-for";
}

#[derive(Debug, Clone)]
pub struct Incoming {
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
    pub message_id: Option<String>,
    pub kind: Option<String>,
    pub redelivered: bool,
}

impl Incoming {
    pub fn from_delivery(d: &Delivery) -> Self {
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
        Self {
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

    /// `order`, `fulfillment_order`, `compliance` or `unusable`.
    pub fn event_kind(&self) -> Option<&str> {
        self.header(header::KIND)
    }

    /// How many times handling has failed transiently so far.
    pub fn attempts(&self) -> u32 {
        self.header(header::ATTEMPTS)
            .and_then(|a| a.parse().ok())
            .unwrap_or(0)
    }

    pub fn due_at(&self) -> Option<Timestamp> {
        self.header(delay_header::DUE_AT)?.parse().ok()
    }

    /// The headers to carry forward when this message is published again, without the
    /// per-hop ones the caller sets anew.
    pub fn forwarded_headers(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .filter(|(k, _)| {
                !k.starts_with("x-")
                    && ![
                        delay_header::DUE_AT,
                        delay_header::WHY,
                        header::ATTEMPTS,
                        header::LAST_ERROR,
                    ]
                    .contains(&k.as_str())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
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
