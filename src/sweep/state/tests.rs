use proptest::prelude::*;

use super::*;

const MIN: Duration = Duration::from_secs(60);

fn t(s: &str) -> Timestamp {
    s.parse().expect("instant")
}

fn state(entries: &[(&str, &str)]) -> SweepState {
    SweepState {
        version: VERSION,
        shops: entries
            .iter()
            .map(|(s, w)| ((*s).to_owned(), t(w)))
            .collect(),
    }
}

#[test]
fn the_message_is_the_documented_json() {
    let s = state(&[("a.myshopify.com", "2026-11-23T10:00:00Z")]);
    let text = String::from_utf8(s.to_json()).expect("utf-8");
    assert_eq!(
        text,
        r#"{"version":1,"shops":{"a.myshopify.com":"2026-11-23T10:00:00Z"}}"#
    );
    assert_eq!(SweepState::from_json(text.as_bytes()).expect("reads"), s);
    let seed = SweepState::default().to_json();
    assert_eq!(seed, br#"{"version":1,"shops":{}}"#);
}

#[test]
fn refuses_another_version_and_garbage() {
    assert!(matches!(
        SweepState::from_json(br#"{"version":2,"shops":{}}"#),
        Err(StateError::Version(2))
    ));
    assert!(SweepState::from_json(b"nope").is_err());
}

#[test]
fn a_shop_never_swept_is_due_at_once_for_one_interval_plus_the_overlap() {
    let now = t("2026-11-23T10:00:00Z");
    let w = SweepState::default()
        .due("a", now, 10 * MIN, 5 * MIN)
        .expect("due");
    assert_eq!(w.start, now);
    assert_eq!(w.watermark, t("2026-11-23T09:50:00Z"));
    assert_eq!(w.since, t("2026-11-23T09:45:00Z"));
}

#[test]
fn a_shop_is_due_one_interval_after_its_watermark() {
    let s = state(&[("a", "2026-11-23T10:00:00Z")]);
    assert!(
        s.due("a", t("2026-11-23T10:09:59Z"), 10 * MIN, 5 * MIN)
            .is_none()
    );
    let w = s
        .due("a", t("2026-11-23T10:10:00Z"), 10 * MIN, 5 * MIN)
        .expect("due");
    assert_eq!(w.since, t("2026-11-23T09:55:00Z"));
    assert_eq!(
        s.due_at("a", t("2026-11-23T10:01:00Z"), 10 * MIN),
        t("2026-11-23T10:10:00Z")
    );
    // A shop never swept is due at once.
    assert_eq!(
        s.due_at("b", t("2026-11-23T10:01:00Z"), 10 * MIN),
        t("2026-11-23T10:01:00Z")
    );
}

#[test]
fn after_a_sweep_the_watermark_is_its_start_unless_a_merge_lowered_it() {
    let mut s = state(&[("a", "2026-11-23T10:00:00Z")]);
    let w = s
        .due("a", t("2026-11-23T10:10:00Z"), 10 * MIN, 5 * MIN)
        .expect("due");
    let mut lowered = s.clone();
    lowered.merge(&state(&[("a", "2026-11-23T09:00:00Z")]));
    s.swept("a", &w);
    assert_eq!(s.shops["a"], t("2026-11-23T10:10:00Z"));
    lowered.swept("a", &w);
    assert_eq!(lowered.shops["a"], t("2026-11-23T09:00:00Z"));
    let mut fresh = SweepState::default();
    let w = fresh
        .due("b", t("2026-11-23T10:00:00Z"), 10 * MIN, 5 * MIN)
        .expect("due");
    fresh.swept("b", &w);
    assert_eq!(fresh.shops["b"], t("2026-11-23T10:00:00Z"));
}

#[test]
fn judges_each_update_once_across_consecutive_sweeps_leaving_a_minute_of_grace() {
    let first = Window {
        watermark: t("2026-11-23T10:00:00Z"),
        start: t("2026-11-23T10:10:00Z"),
        since: t("2026-11-23T09:55:00Z"),
    };
    let second = Window {
        watermark: first.start,
        start: t("2026-11-23T10:20:00Z"),
        since: t("2026-11-23T10:05:00Z"),
    };
    for (u, by_first, by_second) in [
        ("2026-11-23T09:58:59Z", false, false),
        ("2026-11-23T09:59:00Z", true, false),
        ("2026-11-23T10:08:59Z", true, false),
        ("2026-11-23T10:09:00Z", false, true),
        ("2026-11-23T10:09:30Z", false, true),
        ("2026-11-23T10:19:00Z", false, false),
    ] {
        assert_eq!(first.judges(t(u)), by_first, "{u} by the first");
        assert_eq!(second.judges(t(u)), by_second, "{u} by the second");
    }
}

#[test]
fn an_overlap_shorter_than_the_grace_shortens_the_grace_so_no_update_escapes_judgement() {
    // every = 15s, overlap = 5s: with a minute of grace the update at 10:00:20 would be left to
    // a sweep whose listing starts at 10:00:25, and never judged.
    let first = Window {
        watermark: t("2026-11-23T10:00:15Z"),
        start: t("2026-11-23T10:00:30Z"),
        since: t("2026-11-23T10:00:10Z"),
    };
    let second = Window {
        watermark: first.start,
        start: t("2026-11-23T10:00:45Z"),
        since: t("2026-11-23T10:00:25Z"),
    };
    let u = t("2026-11-23T10:00:26Z");
    assert!(!first.judges(u) && second.judges(u));
    assert!(first.judges(t("2026-11-23T10:00:24Z")));
    for s in 0..60 {
        let u = t("2026-11-23T10:00:10Z")
            .checked_add(SignedDuration::from_secs(s))
            .expect("ts");
        let judged_by = [first, second]
            .iter()
            .filter(|w| w.judges(u) && u >= w.since && u <= w.start)
            .count();
        if u >= t("2026-11-23T10:00:10Z") && u < t("2026-11-23T10:00:40Z") {
            assert_eq!(judged_by, 1, "{u} judged once, inside a listing");
        }
    }
}

fn arb_state() -> impl Strategy<Value = SweepState> {
    prop::collection::btree_map(
        prop::sample::select(vec!["a", "b", "c", "d"]).prop_map(str::to_owned),
        (0i64..10_000).prop_map(|s| Timestamp::from_second(1_800_000_000 + s).expect("ts")),
        0..4,
    )
    .prop_map(|shops| SweepState {
        version: VERSION,
        shops,
    })
}

proptest! {
    #[test]
    fn merge_is_the_minimum_per_shop(a in arb_state(), b in arb_state()) {
        let mut merged = a.clone();
        merged.merge(&b);
        for shop in a.shops.keys().chain(b.shops.keys()) {
            let want = match (a.shops.get(shop), b.shops.get(shop)) {
                (Some(x), Some(y)) => *x.min(y),
                (Some(x), None) | (None, Some(x)) => *x,
                (None, None) => unreachable!("the shop came from one of them"),
            };
            prop_assert_eq!(merged.shops[shop], want);
        }
        prop_assert_eq!(merged.shops.len(), a.shops.keys().chain(b.shops.keys()).collect::<std::collections::BTreeSet<_>>().len());
        // Order and repetition do not matter.
        let mut other = b.clone();
        other.merge(&a);
        other.merge(&a);
        prop_assert_eq!(&merged, &other);
    }
}
