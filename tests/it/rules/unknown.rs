//! Values a newer API version adds (`Unknown`): the rules leave things alone, exactly as they
//! did when the adapter replaced each with a known value (the pairs below).

use super::*;
use orderflow::rules::plan::FraudVerdict;

/// The decisions of two plans agree: the same steps, verdict, ship-by and line actions. (Notes
/// and outcomes may differ: they print the value as read.)
fn assert_same_decisions(unknown: &Order, known: &Order, rules: &Rules) {
    let (a, b) = (plan(unknown, rules, now()), plan(known, rules, now()));
    assert_eq!(kinds(&a), kinds(&b), "{a}\n---\n{b}");
    assert_eq!(a.fraud, b.fraud);
    assert_eq!(a.ship_by, b.ship_by);
    assert_eq!(a.wake_up(), b.wake_up());
    let actions = |p: &Plan| -> Vec<(FulfilmentAction, String)> {
        p.lines
            .iter()
            .map(|l| (l.action, l.action_rule.clone()))
            .collect()
    };
    assert_eq!(actions(&a), actions(&b));
}

#[test]
fn an_unknown_risk_level_waits_like_a_pending_one() {
    let with = |level| {
        order()
            .risk(RiskRecommendation::None, &[level])
            .line(digital("E-book"))
            .build()
    };
    let p = plan(&with(RiskLevel::Unknown), &shop(), now());
    assert_eq!(p.fraud, FraudVerdict::Pending);
    assert_same_decisions(
        &with(RiskLevel::Unknown),
        &with(RiskLevel::Pending),
        &shop(),
    );
}

#[test]
fn an_unknown_recommendation_counts_as_none() {
    let with = |recommendation| {
        order()
            .risk(recommendation, &[])
            .line(digital("E-book"))
            .build()
    };
    let (unknown, none) = (
        with(RiskRecommendation::Unknown),
        with(RiskRecommendation::None),
    );
    assert_same_decisions(&unknown, &none, &shop());
    let on_none = rules(&SHOP.replace("[\"CANCEL\", \"INVESTIGATE\"]", "[\"NONE\"]"));
    let p = plan(&unknown, &on_none, now());
    assert!(
        matches!(&p.fraud, FraudVerdict::Hold { reason, .. } if reason == "Shopify recommends NONE"),
        "{p}"
    );
    assert_same_decisions(&unknown, &none, &on_none);
}

#[test]
fn an_unknown_fulfillment_order_status_is_left_alone_like_incomplete() {
    let with = |status| {
        order()
            .line(line("Mug"))
            .with_fo(|fo| fo.status = status)
            .build()
    };
    let unknown = with(FulfillmentOrderStatus::Unknown);
    assert!(!unknown.fulfillment_orders[0].is_active());
    assert!(fulfilled(&plan(&unknown, &shop(), now())).is_empty());
    assert_same_decisions(&unknown, &with(FulfillmentOrderStatus::Incomplete), &shop());
}

#[test]
fn an_unknown_request_status_is_never_fulfilled_like_closed() {
    let with = |request_status| {
        order()
            .line(digital("E-book"))
            .with_fo(|fo| fo.request_status = request_status)
            .build()
    };
    let unknown = with(FulfillmentOrderRequestStatus::Unknown);
    assert!(fulfilled(&plan(&unknown, &shop(), now())).is_empty());
    assert_same_decisions(
        &unknown,
        &with(FulfillmentOrderRequestStatus::Closed),
        &shop(),
    );
}

#[test]
fn an_unknown_delivery_method_matches_no_delivery_rule_like_none() {
    let r = rules(&SHOP.replace("[\"PICK_UP\"]", "[\"PICK_UP\", \"SHIPPING\", \"NONE\"]"));
    let with = |method| {
        order()
            .line(line("Chair"))
            .with_fo(|fo| fo.delivery_method = method)
            .build()
    };
    let unknown = with(Some(DeliveryMethodType::Unknown));
    assert_eq!(
        plan(&unknown, &r, now()).lines[0].action_rule,
        "everything else ships"
    );
    assert_same_decisions(&unknown, &with(None), &r);
}

#[test]
fn a_foreign_hold_with_an_unknown_reason_is_left_alone_like_other() {
    let with = |reason| {
        order()
            .line(digital("E-book"))
            .held(Hold {
                reason,
                ..hold(3, "other-app", false)
            })
            .build()
    };
    let unknown = with(FulfillmentHoldReason::Unknown);
    assert!(fulfilled(&plan(&unknown, &shop(), now())).is_empty());
    assert_same_decisions(&unknown, &with(FulfillmentHoldReason::Other), &shop());
}
