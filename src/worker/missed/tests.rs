use std::collections::BTreeMap;

use super::*;

fn t(s: &str) -> Timestamp {
    s.parse().expect("instant")
}

fn msg(topic: &str, extra: &[(&str, &str)]) -> Incoming {
    let mut headers: BTreeMap<String, String> = [
        (header::TOPIC, topic),
        (header::SHOP, "a.myshopify.com"),
        (header::KIND, "order"),
        (header::ORDER_ID, "7"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    for (k, v) in extra {
        headers.insert((*k).to_owned(), (*v).to_owned());
    }
    Incoming {
        headers,
        body: br##"{"id":7,"name":"#1007"}"##.to_vec(),
        message_id: None,
        kind: Some(topic.to_owned()),
        redelivered: false,
    }
}

#[test]
fn the_rule() {
    let u = t("2026-11-23T10:00:00Z");
    let before = Some(t("2026-11-23T09:00:00Z"));
    assert_eq!(verdict(u, before, None), Verdict::Missed);
    assert_eq!(
        verdict(u, before, Some(t("2026-11-23T09:59:58Z"))),
        Verdict::Announced
    );
    assert_eq!(
        verdict(u, before, Some(t("2026-11-23T09:59:57Z"))),
        Verdict::Missed
    );
    assert_eq!(
        verdict(u, Some(t("2026-11-23T10:00:01Z")), None),
        Verdict::Unknown
    );
    assert_eq!(verdict(u, None, None), Verdict::Unknown);
}

#[test]
fn judges_sweep_wake_ups_against_the_webhooks_seen() {
    let w = Witness::default();
    w.consuming("q");
    let start = t("2026-11-23T09:00:00Z");
    // The first delivery starts the watch.
    let webhook = msg(
        "orders/updated",
        &[(header::TRIGGERED_AT, "2026-11-23T10:00:00Z")],
    );
    assert_eq!(w.received("q", &webhook, start), None);
    let swept = |u: &str| msg("orderflow/sweep", &[(header::SWEPT_UPDATED_AT, u)]);
    let judged = w
        .received("q", &swept("2026-11-23T10:00:01Z"), start)
        .expect("judged");
    assert_eq!(judged.verdict, Verdict::Announced);
    assert_eq!((judged.order_id, judged.name.as_str()), (7, "#1007"));
    let judged = w
        .received("q", &swept("2026-11-23T10:05:00Z"), start)
        .expect("judged");
    assert_eq!(judged.verdict, Verdict::Missed);
    // Orderflow's own wake-ups and a sweep wake-up's delayed copy are neither.
    let own = msg(
        "orders/updated",
        &[
            (header::TRIGGERED_AT, "2026-11-23T10:06:00Z"),
            (header::delay::WHY, "wake_up"),
        ],
    );
    assert_eq!(w.received("q", &own, start), None);
    let copy = msg(
        "orderflow/sweep",
        &[
            (header::SWEPT_UPDATED_AT, "2026-11-23T10:05:00Z"),
            (header::delay::WHY, "wake_up"),
        ],
    );
    assert_eq!(w.received("q", &copy, start), None);
    let judged = w
        .received("q", &swept("2026-11-23T10:05:30Z"), start)
        .expect("judged");
    assert_eq!(
        judged.verdict,
        Verdict::Missed,
        "the wake_up copy is no webhook"
    );
    // Without the header a sweep wake-up is not judged.
    assert_eq!(w.received("q", &msg("orderflow/sweep", &[]), start), None);
}

#[test]
fn a_restarted_consumer_cannot_tell_until_it_watched_before_the_update() {
    let w = Witness::default();
    w.consuming("q");
    let swept = msg(
        "orderflow/sweep",
        &[(header::SWEPT_UPDATED_AT, "2026-11-23T10:00:00Z")],
    );
    let judged = w
        .received("q", &swept, t("2026-11-23T10:01:00Z"))
        .expect("judged");
    assert_eq!(judged.verdict, Verdict::Unknown);
    w.consuming("q");
    let later = msg(
        "orderflow/sweep",
        &[(header::SWEPT_UPDATED_AT, "2026-11-23T10:30:00Z")],
    );
    let judged = w
        .received("q", &later, t("2026-11-23T10:31:00Z"))
        .expect("judged");
    assert_eq!(
        judged.verdict,
        Verdict::Unknown,
        "the watch restarted at 10:31"
    );
    let again = msg(
        "orderflow/sweep",
        &[(header::SWEPT_UPDATED_AT, "2026-11-23T10:30:30Z")],
    );
    let judged = w
        .received("q", &again, t("2026-11-23T10:32:00Z"))
        .expect("judged");
    assert_eq!(judged.verdict, Verdict::Unknown, "still since 10:31");
}

#[test]
fn one_update_is_judged_once_however_often_sweeps_wake_its_order() {
    let w = Witness::default();
    w.consuming("q");
    let start = t("2026-11-23T09:00:00Z");
    let other = msg(
        "orders/updated",
        &[(header::TRIGGERED_AT, "2026-11-23T08:00:00Z")],
    );
    assert_eq!(w.received("q", &other, start), None);
    let swept = |u: &str| msg("orderflow/sweep", &[(header::SWEPT_UPDATED_AT, u)]);
    let first = w.received("q", &swept("2026-11-23T10:00:00Z"), start);
    assert_eq!(first.map(|j| j.verdict), Some(Verdict::Missed));
    // A retried sweep, or one from a lowered watermark, wakes it again for the same update.
    assert_eq!(w.received("q", &swept("2026-11-23T10:00:00Z"), start), None);
    assert_eq!(w.received("q", &swept("2026-11-23T09:59:00Z"), start), None);
    // A later update of the order is judged again.
    let later = w.received("q", &swept("2026-11-23T10:20:00Z"), start);
    assert_eq!(later.map(|j| j.verdict), Some(Verdict::Missed));
}
