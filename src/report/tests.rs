use super::*;
use crate::rules::decision::{Decision, FulfilmentRecord, HoldKey, HoldRecord, VERSION};

fn at(h: i64) -> Timestamp {
    Timestamp::from_second(1_795_000_000 + h * 3600).expect("instant")
}

fn decision() -> Decision {
    Decision {
        version: VERSION,
        ship_by: None,
        ship_by_at: Some(at(48)),
        holds: Vec::new(),
        released_by_person: Vec::new(),
        rules: vec!["handmade".to_owned()],
        planned_at: at(0),
        fulfilments: Vec::new(),
        taken_back_by_person: Vec::new(),
        closed_by_orderflow_at: None,
    }
}

fn record(id: Option<&str>, rule: &str) -> FulfilmentRecord {
    FulfilmentRecord {
        fulfillment_order: "gid://shopify/FulfillmentOrder/1".to_owned(),
        fulfillment: id.map(str::to_owned),
        lines: Vec::new(),
        rule: rule.to_owned(),
    }
}

fn order(n: u64, fulfilled_at: Option<i64>, decision: Option<Decision>) -> PlacedOrder {
    PlacedOrder {
        id: n,
        name: format!("#{n}"),
        placed: at(0),
        paid: at(0),
        cancelled: false,
        fully_fulfilled: fulfilled_at.is_some(),
        fulfillments: fulfilled_at
            .map(|h| Fulfilment {
                id: format!("gid://shopify/Fulfillment/{n}"),
                created_at: at(h),
                cancelled: false,
            })
            .into_iter()
            .collect(),
        decision,
    }
}

#[test]
fn a_recorded_fulfilment_is_orderflows_and_files_its_time_under_its_rule() {
    let mut d = decision();
    d.fulfilments = vec![record(Some("gid://shopify/Fulfillment/1"), "digital goods")];
    let r = build("s", at(0), at(100), &[order(1, Some(2), Some(d))]);
    assert_eq!(r.fulfilled_by_orderflow, 1);
    assert_eq!(r.orders[0].by, Some(By::Orderflow));
    assert_eq!(r.orders[0].rule.as_deref(), Some("digital goods"));
    assert_eq!(
        r.paid_to_fulfilled_by_rule["digital goods"].max_seconds,
        Some(7200)
    );
    assert_eq!(r.on_time, 1);
}

#[test]
fn a_record_without_an_id_claims_one_unrecorded_fulfilment() {
    let mut d = decision();
    d.fulfilments = vec![record(None, "digital goods")];
    let r = build("s", at(0), at(100), &[order(1, Some(2), Some(d))]);
    assert_eq!(r.orders[0].by, Some(By::Orderflow));
}

#[test]
fn an_unrecorded_fulfilment_is_a_persons_and_late_past_the_ship_by() {
    let r = build("s", at(0), at(100), &[order(1, Some(50), Some(decision()))]);
    assert_eq!(r.fulfilled_by_person, 1);
    assert_eq!(r.orders[0].rule.as_deref(), Some("handmade"));
    assert_eq!(r.late, 1);
    assert_eq!(r.orders[0].late_by_seconds, Some(2 * 3600));
    assert!(r.late_open.is_empty(), "fulfilled, so not open");
}

#[test]
fn an_open_order_past_its_ship_by_is_listed_late_as_of_the_window_end() {
    let r = build("s", at(0), at(60), &[order(1, None, Some(decision()))]);
    assert_eq!(r.late_open.len(), 1);
    assert_eq!(r.late_open[0].late_by_seconds, 12 * 3600);
    assert_eq!(r.fulfilled, 0);
    assert_eq!(r.fulfilment_rate, Some(0.0));
    let early = build("s", at(0), at(10), &[order(1, None, Some(decision()))]);
    assert!(early.late_open.is_empty());
}

#[test]
fn cancelled_orders_leave_the_rate_and_the_late_list() {
    let mut o = order(2, None, Some(decision()));
    o.cancelled = true;
    let r = build("s", at(0), at(100), &[order(1, Some(1), None), o]);
    assert_eq!((r.placed, r.cancelled, r.fulfilled), (2, 1, 1));
    assert_eq!(r.fulfilment_rate, Some(1.0));
    assert!(r.late_open.is_empty());
    assert_eq!(r.without_ship_by, 1);
    assert_eq!(r.paid_to_fulfilled_by_rule[NO_RULE].count, 1);
}

#[test]
fn a_cancelled_fulfilment_does_not_fulfil() {
    let mut o = order(1, Some(1), None);
    o.fulfillments[0].cancelled = true;
    o.fully_fulfilled = false;
    let r = build("s", at(0), at(100), &[o]);
    assert_eq!(r.fulfilled, 0);
    assert_eq!(r.orders[0].by, None);
}

#[test]
fn holds_are_counted_by_handle_on_and_released() {
    let mut d = decision();
    d.holds = vec![HoldRecord {
        fulfillment_order: "fo".to_owned(),
        handle: "orderflow-processing".to_owned(),
        rule: "handmade".to_owned(),
    }];
    d.released_by_person = vec![HoldKey {
        fulfillment_order: "fo".to_owned(),
        handle: "orderflow-fraud".to_owned(),
    }];
    let r = build("s", at(0), at(10), &[order(1, None, Some(d))]);
    assert_eq!(r.holds["orderflow-processing"].on, 1);
    assert_eq!(r.holds["orderflow-fraud"].released_by_person, 1);
    assert_eq!(
        r.orders[0].holds,
        ["orderflow-processing", "released:orderflow-fraud"]
    );
}

#[test]
fn one_of_ours_and_one_by_hand_is_both() {
    let mut d = decision();
    d.fulfilments = vec![record(Some("gid://shopify/Fulfillment/1"), "r")];
    let mut o = order(1, Some(3), Some(d));
    o.fulfillments.push(Fulfilment {
        id: "gid://shopify/Fulfillment/99".to_owned(),
        created_at: at(5),
        cancelled: false,
    });
    let r = build("s", at(0), at(10), &[o]);
    assert_eq!(r.fulfilled_by_both, 1);
    assert_eq!(r.orders[0].fulfilled, Some(at(5)), "the last fulfilment");
}

#[test]
fn an_empty_window_has_no_rate_and_no_times() {
    let r = build("s", at(0), at(1), &[]);
    assert_eq!(r.placed, 0);
    assert_eq!(r.fulfilment_rate, None);
    assert_eq!(r.paid_to_fulfilled.p50_seconds, None);
    assert!(r.paid_to_fulfilled_by_rule.is_empty());
}

#[test]
fn paid_later_counts_from_the_payment() {
    let mut o = order(1, Some(30), None);
    o.paid = at(29);
    let r = build("s", at(0), at(100), &[o]);
    assert_eq!(r.paid_to_fulfilled.max_seconds, Some(3600));
}
