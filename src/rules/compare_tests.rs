//! The comparison on orders written by hand, planned for real under two rule sets.

use jiff::Timestamp;
use jiff::civil::date;
use jiff::tz::TimeZone;

use super::*;
use crate::rules::enums::{
    FulfillmentHoldReason, FulfillmentOrderAction, FulfillmentOrderRequestStatus,
    FulfillmentOrderStatus,
};
use crate::rules::matcher::When;
use crate::rules::model::{FulfillmentOrder, FulfillmentOrderLineItem, Hold, LineItem, Risk};
use crate::rules::plan::PROCESSING_HANDLE;
use crate::rules::policy::{FulfilmentRule, ProcessingRule, Rules};

/// Monday 23 November 2026, 09:00 UTC: before the default cut-off.
fn monday() -> Timestamp {
    "2026-11-23T09:00:00Z".parse().unwrap()
}

fn line(n: u32, vendor: &str) -> LineItem {
    LineItem {
        id: format!("gid://shopify/LineItem/{n}"),
        name: format!("line {n}"),
        sku: None,
        vendor: Some(vendor.into()),
        quantity: 1,
        requires_shipping: true,
        gift_card: false,
        product_tags: vec![],
        preorder: false,
    }
}

/// One open fulfilment order holding lines `lines` (line number, remaining), holds `holds`.
fn fo(n: u32, lines: &[(u32, u32)], holds: Vec<Hold>) -> FulfillmentOrder {
    FulfillmentOrder {
        id: format!("gid://shopify/FulfillmentOrder/{n}"),
        status: FulfillmentOrderStatus::Open,
        request_status: FulfillmentOrderRequestStatus::Unsubmitted,
        delivery_method: None,
        holds,
        supported_actions: vec![
            FulfillmentOrderAction::CreateFulfillment,
            FulfillmentOrderAction::Hold,
            FulfillmentOrderAction::ReleaseHold,
        ],
        line_items: lines
            .iter()
            .map(|&(l, remaining)| FulfillmentOrderLineItem {
                id: format!("gid://shopify/FulfillmentOrderLineItem/{l}"),
                line_item_id: format!("gid://shopify/LineItem/{l}"),
                remaining_quantity: remaining,
            })
            .collect(),
        fulfill_by: None,
    }
}

fn order(lines: Vec<LineItem>, fos: Vec<FulfillmentOrder>) -> Order {
    Order {
        id: "gid://shopify/Order/1".into(),
        name: "#1".into(),
        tags: vec![],
        cancelled: false,
        closed: false,
        closed_at: None,
        fulfillment_status: None,
        test: false,
        processed_at: monday(),
        paid_at: None,
        financial_status: None,
        total_price: Default::default(),
        source_name: None,
        shipping_country: None,
        risk: Risk::none(),
        lines,
        fulfillment_orders: fos,
        fulfillments: vec![],
        fulfillments_truncated: false,
        decision_metafield: None,
        payment: Default::default(),
    }
}

fn auto_rules() -> Rules {
    let mut r = Rules::defaults(TimeZone::UTC);
    r.fulfilment.default = FulfilmentAction::Auto;
    r
}

fn vendor(name: &str) -> When {
    When {
        vendor: vec![name.into()],
        ..When::default()
    }
}

fn diff(o: &Order, current: &Rules, candidate: &Rules, now: Timestamp) -> Difference {
    let a = crate::rules::plan(o, current, now);
    let b = crate::rules::plan(o, candidate, now);
    compare(o, &a, &b)
}

#[test]
fn the_same_rules_change_nothing() {
    let o = order(vec![line(1, "Acme")], vec![fo(1, &[(1, 1)], vec![])]);
    let d = diff(&o, &auto_rules(), &auto_rules(), monday());
    assert!(d.is_empty(), "{d:?}");
    assert!(d.kinds().is_empty());
}

#[test]
fn a_line_made_manual_is_reported_with_both_rules_and_a_fulfilled_one_is_not() {
    let o = order(
        vec![line(1, "Acme"), line(2, "Press"), line(3, "Press")],
        vec![fo(1, &[(1, 1), (2, 1), (3, 0)], vec![])],
    );
    let mut candidate = auto_rules();
    candidate.fulfilment.rules.push(FulfilmentRule {
        name: "press by hand".into(),
        when: vendor("Press"),
        action: FulfilmentAction::Manual,
    });
    let d = diff(&o, &auto_rules(), &candidate, monday());
    assert_eq!(
        d.lines,
        [LineChange {
            fulfillment_order: Some("gid://shopify/FulfillmentOrder/1".into()),
            line_item: "gid://shopify/LineItem/2".into(),
            name: "line 2".into(),
            remaining: 1,
            from: FulfilmentAction::Auto,
            to: FulfilmentAction::Manual,
            current_rule: "fulfilment.default".into(),
            candidate_rule: "press by hand".into(),
        }],
        "line 3 has nothing left to fulfil, line 1 is not Press"
    );
    assert!(d.holds.is_empty() && d.ship_by.is_none());
    assert_eq!(d.kinds(), [ChangeKind::LinesToManual]);
    // The other way round is the opposite change.
    let back = diff(&o, &candidate, &auto_rules(), monday());
    assert_eq!(back.lines[0].to, FulfilmentAction::Auto);
    assert_eq!(back.kinds(), [ChangeKind::LinesToAuto]);
}

#[test]
fn a_longer_lead_time_with_holds_places_a_hold_and_moves_the_ship_by_date() {
    let o = order(vec![line(1, "Klei")], vec![fo(1, &[(1, 1)], vec![])]);
    let mut current = auto_rules();
    current.processing.hold = true;
    let mut candidate = current.clone();
    candidate.processing.rules.push(ProcessingRule {
        name: "handmade".into(),
        when: vendor("Klei"),
        days: 3,
    });
    let d = diff(&o, &current, &candidate, monday());
    assert_eq!(
        d.holds,
        [HoldChange {
            fulfillment_order: "gid://shopify/FulfillmentOrder/1".into(),
            handle: PROCESSING_HANDLE.into(),
            change: HoldEffect::Placed,
            current_rule: None,
            candidate_rule: Some("handmade".into()),
        }]
    );
    let s = d.ship_by.as_ref().expect("ship-by moves");
    assert_eq!(s.from, Some(date(2026, 11, 23)));
    assert_eq!(s.to, Some(date(2026, 11, 26)), "three business days on");
    assert_eq!(s.current_rule.as_deref(), Some("processing.default_days"));
    assert_eq!(s.candidate_rule.as_deref(), Some("handmade"));
    assert!(s.is_later());
    assert_eq!(
        d.kinds(),
        [ChangeKind::HoldsPlaced, ChangeKind::ShipByLater]
    );
}

#[test]
fn a_hold_already_on_the_order_that_the_candidate_does_not_want_is_released() {
    // Today's rules placed the processing hold already: their plan has no hold step, the
    // candidate's releases it. Compared by state, that is a release.
    let held = Hold {
        id: "gid://shopify/FulfillmentHold/9".into(),
        handle: Some(PROCESSING_HANDLE.into()),
        reason: FulfillmentHoldReason::Other,
        held_by_us: true,
    };
    let mut f = fo(1, &[(1, 1)], vec![held]);
    f.status = FulfillmentOrderStatus::OnHold;
    let o = order(vec![line(1, "Klei")], vec![f]);
    let mut current = auto_rules();
    current.processing.hold = true;
    current.processing.default_days = 3;
    let mut candidate = current.clone();
    candidate.processing.hold = false;
    let a = crate::rules::plan(&o, &current, monday());
    assert!(
        !a.steps
            .iter()
            .any(|s| matches!(s.action, Action::Hold { .. })),
        "already held: {a:?}"
    );
    let d = diff(&o, &current, &candidate, monday());
    assert_eq!(d.holds.len(), 1, "{d:?}");
    assert_eq!(d.holds[0].change, HoldEffect::Released);
    assert_eq!(d.holds[0].handle, PROCESSING_HANDLE);
    assert!(d.holds[0].candidate_rule.is_some(), "the release's rule");
    assert!(d.ship_by.is_none(), "same lead time");
    assert_eq!(d.kinds(), [ChangeKind::HoldsReleased]);
}

#[test]
fn a_candidate_that_plans_test_orders_says_so() {
    let mut o = order(vec![line(1, "Acme")], vec![fo(1, &[(1, 1)], vec![])]);
    o.test = true;
    let mut candidate = auto_rules();
    candidate.fulfilment.skip_test_orders = false;
    let d = diff(&o, &auto_rules(), &candidate, monday());
    let s = d.skipped.as_ref().expect("skipped changes");
    assert!(s.current.is_some() && s.candidate.is_none());
    assert!(d.kinds().contains(&ChangeKind::Skipped));
}

#[test]
fn the_summary_counts_orders_read_changed_and_by_kind() {
    let mut s = Summary::new();
    s.add(&Difference::default());
    let o = order(
        vec![line(1, "Press"), line(2, "Press")],
        vec![fo(1, &[(1, 1), (2, 1)], vec![])],
    );
    let mut candidate = auto_rules();
    candidate.fulfilment.rules.push(FulfilmentRule {
        name: "press by hand".into(),
        when: vendor("Press"),
        action: FulfilmentAction::Manual,
    });
    let d = diff(&o, &auto_rules(), &candidate, monday());
    assert_eq!(d.lines.len(), 2);
    s.add(&d);
    assert_eq!(s.orders_read, 2);
    assert_eq!(s.orders_changed, 1);
    assert_eq!(s.changed_by_kind["lines_to_manual"], 1, "orders, not lines");
    assert_eq!(s.changed_by_kind["holds_placed"], 0);
    assert_eq!(s.changed_by_kind.len(), ChangeKind::ALL.len());
}
