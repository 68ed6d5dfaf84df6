use std::collections::BTreeMap;

use super::*;

fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

fn webhook(topic: &str, triggered: &str, body: &str) -> Incoming {
    let mut headers = BTreeMap::new();
    headers.insert(header::TOPIC.to_owned(), topic.to_owned());
    headers.insert(header::TRIGGERED_AT.to_owned(), triggered.to_owned());
    headers.insert(header::KIND.to_owned(), "order".to_owned());
    headers.insert(header::ORDER_ID.to_owned(), "7".to_owned());
    Incoming {
        headers,
        body: body.as_bytes().to_vec(),
        message_id: None,
        kind: None,
        redelivered: false,
    }
}

fn memory() -> Memory {
    Memory {
        read_started: at("2026-11-23T10:00:10Z"),
        read_updated_at: Some(at("2026-11-23T10:00:00Z")),
        echoes: vec![
            Echo::UpdatedAt(at("2026-11-23T10:00:11Z")),
            Echo::Fulfillment("gid://shopify/Fulfillment/5".into()),
            Echo::HoldPlaced("gid://shopify/FulfillmentHold/9".into()),
        ],
    }
}

fn judged(msg: &Incoming) -> Option<Reason> {
    judge(&facts(msg)?, &memory())
}

#[test]
fn an_update_the_read_saw_is_covered_and_a_later_one_is_not() {
    let seen = webhook(
        "orders/paid",
        "2026-11-23T10:00:09Z",
        r#"{"id":7,"updated_at":"2026-11-23T05:00:00-05:00"}"#,
    );
    assert_eq!(judged(&seen), Some(Reason::CoveredByRead));
    let later = webhook(
        "orders/updated",
        "2026-11-23T10:00:09Z",
        r#"{"id":7,"updated_at":"2026-11-23T10:00:01Z"}"#,
    );
    assert_eq!(judged(&later), None);
}

#[test]
fn the_trigger_time_covers_only_beyond_the_skew_margin() {
    // refunds/create: its body's updated_at is not the order's, so only the trigger time counts.
    let early = webhook(
        "refunds/create",
        "2026-11-23T10:00:05Z",
        r#"{"updated_at":"2026-11-23T09:00:00Z"}"#,
    );
    assert_eq!(judged(&early), Some(Reason::CoveredByRead));
    let within = webhook("refunds/create", "2026-11-23T10:00:05.001Z", "{}");
    assert_eq!(judged(&within), None);
}

#[test]
fn echoes_are_recognised_by_what_the_mutation_answered() {
    let tags = webhook(
        "orders/updated",
        "2026-11-23T10:00:11Z",
        r#"{"updated_at":"2026-11-23T10:00:11Z"}"#,
    );
    assert_eq!(judged(&tags), Some(Reason::OwnEcho));
    let fulfilment = webhook(
        "fulfillments/create",
        "2026-11-23T10:00:11Z",
        r#"{"admin_graphql_api_id":"gid://shopify/Fulfillment/5"}"#,
    );
    assert_eq!(judged(&fulfilment), Some(Reason::OwnEcho));
    let someone_elses = webhook(
        "fulfillments/create",
        "2026-11-23T10:00:11Z",
        r#"{"admin_graphql_api_id":"gid://shopify/Fulfillment/6"}"#,
    );
    assert_eq!(judged(&someone_elses), None);
    let hold = webhook(
        "fulfillment_orders/placed_on_hold",
        "2026-11-23T10:00:11Z",
        r#"{"created_fulfillment_hold":{"id":"gid://shopify/FulfillmentHold/9"}}"#,
    );
    assert_eq!(judged(&hold), Some(Reason::OwnEcho));
}

#[test]
fn only_webhooks_are_candidates() {
    let base = webhook(
        "orders/paid",
        "2026-11-23T09:00:00Z",
        r#"{"updated_at":"2026-11-23T09:00:00Z"}"#,
    );
    assert!(candidate(&base));
    let with = |k: &str, v: &str| {
        let mut m = base.clone();
        m.headers.insert(k.to_owned(), v.to_owned());
        m
    };
    for msg in [
        with(header::delay::WHY, "wake_up"),
        with(header::delay::WHY, "retry"),
        with(header::delay::DUE_AT, "2026-11-23T09:00:00Z"),
        with(header::ATTEMPTS, "1"),
        with(header::REPLAYED, "true"),
        with(header::TOPIC, "orderflow/sweep"),
        with(header::TOPIC, "orderflow/reevaluate"),
        Incoming {
            redelivered: true,
            ..base.clone()
        },
    ] {
        assert!(!candidate(&msg), "{:?}", msg.headers);
        assert_eq!(judged(&msg), None);
    }
}

#[test]
fn the_memory_is_bounded_forgets_and_keeps_recent_echoes() {
    let c = Coalescer::new(1);
    let msg = webhook(
        "orders/paid",
        "2026-11-23T09:00:00Z",
        r#"{"updated_at":"2026-11-23T09:00:00Z"}"#,
    );
    c.remember(
        "a.myshopify.com",
        7,
        at("2026-11-23T10:00:10Z"),
        None,
        vec![],
    );
    assert_eq!(
        c.covered("a.myshopify.com", 7, &msg),
        Some(Reason::CoveredByRead)
    );
    c.remember(
        "a.myshopify.com",
        8,
        at("2026-11-23T10:00:10Z"),
        None,
        vec![],
    );
    assert_eq!(c.covered("a.myshopify.com", 7, &msg), None, "evicted");
    c.forget("a.myshopify.com", 8);
    assert_eq!(c.covered("a.myshopify.com", 8, &msg), None, "forgotten");
    let many: Vec<Echo> = (0..MAX_ECHOES as i64 + 3)
        .map(|s| Echo::UpdatedAt(Timestamp::from_second(1_800_000_000 + s).expect("ts")))
        .collect();
    c.remember("a.myshopify.com", 7, at("2026-11-23T10:00:10Z"), None, many);
    let mut inner = c.lock();
    let kept = &inner
        .orders
        .get(&("a.myshopify.com".to_owned(), 7))
        .expect("kept")
        .echoes;
    assert_eq!(kept.len(), MAX_ECHOES);
    assert_eq!(
        kept[0],
        Echo::UpdatedAt(Timestamp::from_second(1_800_000_003).expect("ts"))
    );
}
