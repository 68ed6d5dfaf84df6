//! Which queue a topic belongs to, and the one id routing needs from the body. The payload is
//! otherwise ignored: the worker re-reads the order from Shopify. Pure.

use serde_json::Value;

use super::{DeadLetterReason, Subject, Unusable};
use crate::id::OrderId;

/// What a topic is, before the body is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicClass {
    Order,
    FulfillmentOrder,
    Compliance,
    /// Acknowledged and counted, not queued.
    Other,
}

/// The topics orderflow subscribes to in `topics` (`orderflow webhooks toml` prints exactly
/// these): every order and fulfilment-order topic whose change the rules react to, and the
/// uninstall. `classify` routes other `orders/*`, `fulfillments/*`, `fulfillment_orders/*` and
/// `fulfillment_holds/*` topics too, should a shop be subscribed to them.
pub const SUBSCRIBED_TOPICS: &[&str] = &[
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/edited",
    "orders/risk_assessment_changed",
    "refunds/create",
    "fulfillments/create",
    "fulfillment_orders/placed_on_hold",
    "fulfillment_orders/hold_released",
    "fulfillment_holds/added",
    "fulfillment_holds/released",
    APP_UNINSTALLED,
];

/// Shopify's mandatory privacy topics: declared as `compliance_topics`, never as `topics`.
pub const COMPLIANCE_TOPICS: &[&str] =
    &["customers/data_request", "customers/redact", "shop/redact"];

/// Sent when a merchant uninstalls the app; handled with the compliance topics.
pub const APP_UNINSTALLED: &str = "app/uninstalled";

pub fn classify(topic: &str) -> TopicClass {
    match topic {
        t if t == APP_UNINSTALLED || COMPLIANCE_TOPICS.contains(&t) => TopicClass::Compliance,
        "refunds/create" => TopicClass::Order,
        t if t.starts_with("orders/") || t.starts_with("fulfillments/") => TopicClass::Order,
        t if t.starts_with("fulfillment_orders/") || t.starts_with("fulfillment_holds/") => {
            TopicClass::FulfillmentOrder
        }
        _ => TopicClass::Other,
    }
}

/// Reads the subject of a verified body; `None` for topics orderflow does not queue.
pub fn subject(class: TopicClass, topic: &str, body: &[u8]) -> Option<Subject> {
    match class {
        TopicClass::Compliance => Some(Subject::Compliance),
        TopicClass::Other => None,
        TopicClass::Order | TopicClass::FulfillmentOrder => Some(read_subject(class, topic, body)),
    }
}

fn read_subject(class: TopicClass, topic: &str, body: &[u8]) -> Subject {
    let not_json = |e: serde_json::Error| {
        Subject::Unusable(Unusable {
            reason: DeadLetterReason::NotJson,
            detail: format!("the body is not JSON: {e}"),
        })
    };
    if class == TopicClass::FulfillmentOrder {
        // Small bodies whose id can sit in several places: read the whole tree.
        let json: Value = match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => return not_json(e),
        };
        return match fulfillment_order_gid(&json) {
            Some(gid) => Subject::FulfillmentOrder(gid),
            None => Subject::Unusable(Unusable {
                reason: DeadLetterReason::NoFulfillmentOrderId,
                detail: format!("a {topic} body names no gid://shopify/FulfillmentOrder/…"),
            }),
        };
    }
    // Order bodies are large (often over 100 KB): deserialise only the id fields and skip the
    // rest, which still checks that the whole body is JSON.
    let ids: OrderIds = match serde_json::from_slice(body) {
        Ok(ids) => ids,
        Err(e) => return not_json(e),
    };
    match order_id(topic, ids) {
        Ok(id) => Subject::Order(id),
        Err(detail) => Subject::Unusable(Unusable {
            reason: DeadLetterReason::NoOrderId,
            detail,
        }),
    }
}

/// The fields of an order-topic body that can carry the order id; every other field is skipped.
#[derive(serde::Deserialize)]
struct OrderIds {
    id: Option<Value>,
    order_id: Option<Value>,
    admin_graphql_api_order_id: Option<Value>,
    order_edit: Option<OrderEditIds>,
}

#[derive(serde::Deserialize)]
struct OrderEditIds {
    order_id: Option<Value>,
}

/// The order id of an order topic. `orders/*` carry it as `id` (except `orders/edited`, under
/// `order_edit`); refunds, fulfilments and risk changes as `order_id`, some also as
/// `admin_graphql_api_order_id`.
fn order_id(topic: &str, ids: OrderIds) -> Result<OrderId, String> {
    let (field, value) = match topic {
        "orders/edited" => ("order_id", ids.order_edit.and_then(|e| e.order_id)),
        "orders/risk_assessment_changed" => ("order_id", ids.order_id),
        t if t.starts_with("orders/") => ("id", ids.id),
        _ => ("order_id", ids.order_id),
    };
    match value {
        Some(v) => as_id(&v)
            .map(OrderId)
            .ok_or_else(|| format!("`{field}` in a {topic} body is not a 64-bit integer id: {v}")),
        None => ids
            .admin_graphql_api_order_id
            .as_ref()
            .and_then(Value::as_str)
            .and_then(OrderId::from_gid)
            .ok_or_else(|| format!("a {topic} body has no `{field}`")),
    }
}

/// A u64 id written as a JSON integer or a string of digits. Floats are refused: they have
/// already lost digits past 2^53.
fn as_id(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|&id| id > 0)
}

const FO_PREFIX: &str = "gid://shopify/FulfillmentOrder/";

/// The fulfilment order a `fulfillment_orders/*` or `fulfillment_holds/*` body is about: the
/// `fulfillment_order`, else the `original_fulfillment_order`, else the first one named anywhere.
fn fulfillment_order_gid(json: &Value) -> Option<String> {
    ["fulfillment_order", "original_fulfillment_order"]
        .iter()
        .find_map(|k| json.get(k)?.get("id")?.as_str())
        .filter(|id| id.starts_with(FO_PREFIX))
        .map(str::to_owned)
        .or_else(|| first_fulfillment_order(json))
}

fn first_fulfillment_order(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if s.starts_with(FO_PREFIX) => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(first_fulfillment_order),
        Value::Object(map) => map.values().find_map(first_fulfillment_order),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(topic: &str, body: &str) -> Subject {
        subject(classify(topic), topic, body.as_bytes()).expect("an order topic")
    }

    #[test]
    fn classifies_topics() {
        assert_eq!(classify("orders/create"), TopicClass::Order);
        assert_eq!(classify("refunds/create"), TopicClass::Order);
        assert_eq!(classify("fulfillments/update"), TopicClass::Order);
        assert_eq!(
            classify("fulfillment_orders/placed_on_hold"),
            TopicClass::FulfillmentOrder
        );
        assert_eq!(
            classify("fulfillment_holds/added"),
            TopicClass::FulfillmentOrder
        );
        for c in [
            "customers/data_request",
            "customers/redact",
            "shop/redact",
            "app/uninstalled",
        ] {
            assert_eq!(classify(c), TopicClass::Compliance);
        }
        assert_eq!(classify("products/update"), TopicClass::Other);
    }

    #[test]
    fn every_subscribed_topic_is_routed() {
        for t in SUBSCRIBED_TOPICS {
            assert_ne!(classify(t), TopicClass::Other, "{t}");
            assert!(
                !COMPLIANCE_TOPICS.contains(t),
                "{t} belongs in compliance_topics"
            );
        }
        for t in COMPLIANCE_TOPICS {
            assert_eq!(classify(t), TopicClass::Compliance, "{t}");
        }
    }

    #[test]
    fn order_ids_keep_all_64_bits() {
        assert_eq!(
            order("orders/create", r#"{"id":820982911946154508}"#),
            Subject::Order(OrderId(820_982_911_946_154_508))
        );
        assert_eq!(
            order("orders/create", r#"{"id":"18446744073709551615"}"#),
            Subject::Order(OrderId(u64::MAX))
        );
    }

    #[test]
    fn order_id_comes_from_the_field_each_topic_uses() {
        let refund = r#"{"id":890088186047892319,"order_id":820982911946154508}"#;
        assert_eq!(
            order("refunds/create", refund),
            Subject::Order(OrderId(820_982_911_946_154_508))
        );
        assert_eq!(
            order("fulfillments/create", refund),
            Subject::Order(OrderId(820_982_911_946_154_508))
        );
        assert_eq!(
            order(
                "orders/edited",
                r#"{"order_edit":{"id":1,"order_id":820982911946154508}}"#
            ),
            Subject::Order(OrderId(820_982_911_946_154_508))
        );
        // A null id falls back to the GID twin; with neither, the body is unusable.
        assert_eq!(
            order(
                "orders/risk_assessment_changed",
                r#"{"order_id":null,"admin_graphql_api_order_id":"gid://shopify/Order/42"}"#
            ),
            Subject::Order(OrderId(42))
        );
        assert_eq!(
            order(
                "orders/risk_assessment_changed",
                r#"{"order_id":null,"admin_graphql_api_order_id":null}"#
            ),
            Subject::Unusable(Unusable {
                reason: DeadLetterReason::NoOrderId,
                detail: "a orders/risk_assessment_changed body has no `order_id`".into()
            })
        );
        assert_eq!(
            order(
                "orders/risk_assessment_changed",
                r#"{"admin_graphql_api_order_id":"gid://shopify/Order/42"}"#
            ),
            Subject::Order(OrderId(42))
        );
    }

    #[test]
    fn floats_and_missing_ids_are_unusable() {
        for body in [r#"{"id":8.2e17}"#, r#"{"id":-1}"#, r##"{"name":"#1001"}"##] {
            match order("orders/create", body) {
                Subject::Unusable(u) => assert_eq!(u.reason, DeadLetterReason::NoOrderId, "{body}"),
                other => panic!("{body}: {other:?}"),
            }
        }
    }

    #[test]
    fn non_json_is_unusable_with_reason() {
        match order("orders/create", "<xml/>") {
            Subject::Unusable(u) => assert_eq!(u.reason, DeadLetterReason::NotJson),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn fulfillment_order_gid_is_found_in_each_body_shape() {
        let cases = [
            (
                "fulfillment_orders/placed_on_hold",
                r#"{"fulfillment_order":{"id":"gid://shopify/FulfillmentOrder/1","status":"on_hold"}}"#,
            ),
            (
                "fulfillment_orders/moved",
                r#"{"original_fulfillment_order":{"id":"gid://shopify/FulfillmentOrder/1"}}"#,
            ),
            (
                "fulfillment_orders/merged",
                r#"{"merge_intents":[{"fulfillment_order_id":"gid://shopify/FulfillmentOrder/1"}]}"#,
            ),
            (
                "fulfillment_holds/added",
                r#"{"fulfillment_order":{"id":"gid://shopify/FulfillmentOrder/1"},"fulfillment_hold":{"id":"gid://shopify/FulfillmentHold/9"}}"#,
            ),
        ];
        for (topic, body) in cases {
            assert_eq!(
                order(topic, body),
                Subject::FulfillmentOrder("gid://shopify/FulfillmentOrder/1".into()),
                "{topic}"
            );
        }
        match order("fulfillment_orders/split", r#"{"x":1}"#) {
            Subject::Unusable(u) => assert_eq!(u.reason, DeadLetterReason::NoFulfillmentOrderId),
            other => panic!("{other:?}"),
        }
    }
}
