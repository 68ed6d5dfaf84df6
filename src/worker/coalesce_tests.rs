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
    judge(&facts(msg)?, &mut memory())
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

fn orders_updated(updated_at: &str) -> Facts {
    Facts {
        triggered_at: Some(at("2026-11-23T10:00:12Z")),
        updated_at: Some(at(updated_at)),
        ..Facts::default()
    }
}

/// A pass: the read saw 10:00:00, the decision metafield stamped 10:00:11, the deadline (no
/// stamp), the tags stamped 10:00:14.
fn pass_with_a_deadline_between_stamps() -> Memory {
    let mut pass = PassEchoes::after_read(Some(at("2026-11-23T10:00:00Z")));
    pass.step(&[Echo::UpdatedAt(at("2026-11-23T10:00:11Z"))], false);
    pass.step(&[], true);
    pass.step(&[Echo::UpdatedAt(at("2026-11-23T10:00:14Z"))], false);
    Memory {
        read_started: at("2026-11-23T10:00:10Z"),
        read_updated_at: Some(at("2026-11-23T10:00:00Z")),
        echoes: pass.finish(),
    }
}

#[test]
fn a_change_without_a_stamp_is_bounded_by_the_stamps_around_it() {
    let memory = pass_with_a_deadline_between_stamps();
    assert_eq!(
        memory.echoes,
        vec![
            Echo::UpdatedAt(at("2026-11-23T10:00:11Z")),
            Echo::Between {
                after: at("2026-11-23T10:00:11Z"),
                before: at("2026-11-23T10:00:14Z"),
                claimed: None,
            },
            Echo::UpdatedAt(at("2026-11-23T10:00:14Z")),
        ]
    );
    // The last change of a pass has no stamp after it: no window, its echo reads.
    let mut last = PassEchoes::after_read(Some(at("2026-11-23T10:00:00Z")));
    last.step(&[Echo::UpdatedAt(at("2026-11-23T10:00:11Z"))], false);
    last.step(&[], true);
    assert_eq!(
        last.finish(),
        vec![Echo::UpdatedAt(at("2026-11-23T10:00:11Z"))]
    );
    // Without the read's stamp there is no lower bound either.
    let mut unbounded = PassEchoes::after_read(None);
    unbounded.step(&[], true);
    unbounded.step(&[Echo::UpdatedAt(at("2026-11-23T10:00:14Z"))], false);
    assert_eq!(
        unbounded.finish(),
        vec![Echo::UpdatedAt(at("2026-11-23T10:00:14Z"))]
    );
}

#[test]
fn one_event_in_the_window_is_the_echo_and_a_second_change_there_reads() {
    let mut memory = pass_with_a_deadline_between_stamps();
    let echo = orders_updated("2026-11-23T10:00:12Z");
    assert_eq!(judge(&echo, &mut memory), Some(Reason::OwnEcho));
    // The same event again (a retry, a second receiver) is the same echo.
    assert_eq!(judge(&echo, &mut memory), Some(Reason::OwnEcho));
    // Another change in the same window: someone else changed the order between our steps.
    let person = orders_updated("2026-11-23T10:00:13Z");
    assert_eq!(judge(&person, &mut memory), None);
    // After the window, nothing of ours.
    let later = orders_updated("2026-11-23T10:00:15Z");
    assert_eq!(judge(&later, &mut memory), None);
}

#[test]
fn a_person_first_in_the_window_is_taken_for_ours_and_our_echo_then_reads() {
    // The order of arrival cannot tell the two apart: whichever comes second reads, and that
    // read sees both changes.
    let mut memory = pass_with_a_deadline_between_stamps();
    let person = orders_updated("2026-11-23T10:00:12Z");
    assert_eq!(judge(&person, &mut memory), Some(Reason::OwnEcho));
    let ours = orders_updated("2026-11-23T10:00:13Z");
    assert_eq!(judge(&ours, &mut memory), None);
}
