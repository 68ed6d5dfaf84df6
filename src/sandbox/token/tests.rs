//! The token rules on a manual timeline: expiry, rotation and its retry window, acquisitions,
//! single-use codes, migration recovery, and a `Debug` without tokens.

use super::*;

fn at(s: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + s).expect("instant")
}

fn refresh_of(i: &Issued) -> String {
    i.refresh
        .as_ref()
        .expect("pair")
        .0
        .expose_secret()
        .to_owned()
}

#[test]
fn access_tokens_expire_on_the_clock_and_old_ones_live_out_their_hour() {
    let mut t = ShopTokens::default();
    let (_, first) = t.acquire("read_orders", at(0));
    let a1 = first.access_token.expose_secret().to_owned();
    let second = t.refresh(&refresh_of(&first), at(10)).expect("rotates");
    assert!(
        t.accepts(&a1, at(3_599)),
        "the old access token lives out its hour"
    );
    assert!(!t.accepts(&a1, at(3_600)));
    assert!(t.accepts(second.access_token.expose_secret(), at(3_609)));
    assert!(!t.accepts("shpat_unknown", at(1)));
}

#[test]
fn the_previous_refresh_token_retries_until_the_new_one_is_used() {
    let mut t = ShopTokens::default();
    let (_, p1) = t.acquire("s", at(0));
    let p2 = t.refresh(&refresh_of(&p1), at(1)).expect("rotates");
    let p3 = t.refresh(&refresh_of(&p1), at(2)).expect("retry allowed");
    assert!(
        t.refresh(&refresh_of(&p2), at(3)).is_none(),
        "the lost pair is retired"
    );
    let _p4 = t
        .refresh(&refresh_of(&p3), at(4))
        .expect("the replacement is used");
    assert!(
        t.refresh(&refresh_of(&p1), at(5)).is_none(),
        "now the predecessor is dead"
    );
    assert!(
        t.refresh(&refresh_of(&p3), at(6)).is_some(),
        "p3 itself may be retried"
    );
}

#[test]
fn a_retry_window_closes_after_30_days_and_a_refresh_token_after_90() {
    let mut t = ShopTokens::default();
    let (_, p1) = t.acquire("s", at(0));
    let _p2 = t.refresh(&refresh_of(&p1), at(0)).expect("rotates");
    assert!(t.refresh(&refresh_of(&p1), at(RETRY_WINDOW_SECS)).is_none());
    let (_, q) = t.acquire("s", at(0));
    assert!(t.refresh(&refresh_of(&q), at(REFRESH_SECS)).is_none());
}

#[test]
fn an_acquisition_kills_older_refresh_tokens_at_once() {
    let mut t = ShopTokens::default();
    let (_, p1) = t.acquire("s", at(0));
    let (_, _p2) = t.acquire("s", at(1));
    assert!(t.refresh(&refresh_of(&p1), at(2)).is_none());
    assert!(t.accepts(p1.access_token.expose_secret(), at(2)));
}

#[test]
fn a_code_works_once_and_within_ten_minutes() {
    let mut t = ShopTokens::default();
    let c = t.issue_code("read_orders", at(0));
    assert_eq!(
        t.take_code(c.expose_secret(), at(1)).as_deref(),
        Some("read_orders")
    );
    assert_eq!(t.take_code(c.expose_secret(), at(2)), None);
    let late = t.issue_code("read_orders", at(0));
    assert_eq!(t.take_code(late.expose_secret(), at(CODE_SECS)), None);
}

#[test]
fn a_migration_is_recovered_with_the_same_pair_until_it_is_refreshed() {
    let mut t = ShopTokens::default();
    let original = SecretString::from("shpat_legacy");
    let first = t.migrate(&original, "s", at(0));
    let again = t
        .recover_migration("shpat_legacy", at(7_200))
        .expect("recovered");
    assert_eq!(
        again.access_token.expose_secret(),
        first.access_token.expose_secret()
    );
    assert_eq!(refresh_of(&again), refresh_of(&first));
    assert!(t.accepts(first.access_token.expose_secret(), at(7_200 + 3_599)));
    assert_eq!(
        again.refresh.as_ref().map(|r| r.1),
        Some(REFRESH_SECS - 7_200)
    );
    t.refresh(&refresh_of(&first), at(7_300)).expect("refresh");
    assert!(t.recover_migration("shpat_legacy", at(7_301)).is_none());
}

#[test]
fn debug_shows_no_token() {
    let mut t = ShopTokens::default();
    let (_, p) = t.acquire("s", at(0));
    let shown = format!("{t:?}");
    assert!(!shown.contains(p.access_token.expose_secret()), "{shown}");
    assert!(!shown.contains(&refresh_of(&p)), "{shown}");
}
