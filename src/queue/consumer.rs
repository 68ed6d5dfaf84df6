//! Reading from the broker: a delivery is turned into the message contract's `Incoming` once,
//! here.

use lapin::types::AMQPValue;

use crate::event::Incoming;

/// The message of a broker delivery, headers as strings.
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
