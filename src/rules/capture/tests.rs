use jiff::SignedDuration;

use super::*;
use crate::rules::enums::{FinancialStatus, OrderFulfillmentStatus, RiskRecommendation};
use crate::rules::model::{Payment, Risk};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

const NOW: &str = "2026-11-23T10:00:00Z";
const AUTH: &str = "gid://shopify/OrderTransaction/1";

fn tx(id: &str, kind: &str, status: &str, amount: &str, parent: Option<&str>) -> Transaction {
    Transaction {
        id: id.into(),
        kind: kind.into(),
        status: status.into(),
        amount: amount.parse().unwrap(),
        authorization_expires_at: None,
        parent_id: parent.map(str::to_owned),
        multi_capturable: false,
    }
}

/// An order authorized for 50.00 EUR, expiring in 7 days, risk LOW.
fn authorized() -> Order {
    let mut auth = tx(AUTH, "AUTHORIZATION", "SUCCESS", "50.00", None);
    auth.authorization_expires_at = Some(ts("2026-11-30T10:00:00Z"));
    Order {
        id: "gid://shopify/Order/1".into(),
        name: "#1".into(),
        tags: vec![],
        cancelled: false,
        closed: false,
        closed_at: None,
        fulfillment_status: Some(OrderFulfillmentStatus::Unfulfilled),
        test: false,
        processed_at: ts("2026-11-23T08:00:00Z"),
        paid_at: None,
        financial_status: Some(FinancialStatus::Authorized),
        total_price: "50.00".parse().unwrap(),
        source_name: None,
        shipping_country: None,
        risk: Risk {
            recommendation: RiskRecommendation::Accept,
            assessments: vec![RiskLevel::Low],
        },
        lines: vec![],
        fulfillment_orders: vec![],
        fulfillments: vec![],
        fulfillments_truncated: false,
        decision_metafield: None,
        payment: Payment {
            currency: Some("EUR".into()),
            presentment_currency: Some("EUR".into()),
            transactions: vec![auth],
        },
    }
}

fn policy(capture: CapturePolicy) -> PaymentRules {
    PaymentRules {
        capture,
        expiry_margin: SignedDuration::from_hours(12),
    }
}

const FULFILLED: Facts = Facts {
    fraud_held: false,
    fulfilled: true,
};
const UNFULFILLED: Facts = Facts {
    fraud_held: false,
    fulfilled: false,
};

fn captured(v: &Verdict) -> Vec<Capture> {
    match v {
        Verdict::Capture { captures, .. } => captures.clone(),
        other => panic!("not a capture: {other:?}"),
    }
}

fn full() -> Capture {
    Capture {
        parent_transaction: AUTH.into(),
        amount: "50.00".parse().unwrap(),
        currency: None,
        final_capture: None,
    }
}

#[test]
fn never_leaves_an_authorization_alone_and_no_authorization_is_nothing_to_do() {
    let now = ts(NOW);
    assert_eq!(
        judge(&authorized(), &policy(CapturePolicy::Never), FULFILLED, now),
        Verdict::Off
    );
    let mut paid = authorized();
    paid.payment.transactions = vec![tx("t", "SALE", "SUCCESS", "50.00", None)];
    assert_eq!(
        judge(&paid, &policy(CapturePolicy::OnFulfilment), FULFILLED, now),
        Verdict::NoAuthorization
    );
}

#[test]
fn on_fulfilment_captures_the_whole_authorization_once_fulfilled_and_waits_before() {
    let now = ts(NOW);
    let p = policy(CapturePolicy::OnFulfilment);
    let v = judge(&authorized(), &p, FULFILLED, now);
    assert_eq!(captured(&v), vec![full()]);
    assert!(matches!(&v, Verdict::Capture { rule, .. } if rule == CAPTURE_RULE));
    assert_eq!(
        judge(&authorized(), &p, UNFULFILLED, now),
        Verdict::Wait {
            waits_for: "a fulfilment".into(),
            capture_by: Some(ts("2026-11-29T22:00:00Z")),
            expires_at: Some(ts("2026-11-30T10:00:00Z")),
        },
        "wakes up at expiry - margin"
    );
}

#[test]
fn when_risk_clear_captures_a_low_risk_order_unfulfilled() {
    let v = judge(
        &authorized(),
        &policy(CapturePolicy::WhenRiskClear),
        UNFULFILLED,
        ts(NOW),
    );
    assert_eq!(captured(&v), vec![full()]);
}

#[test]
fn fraud_holds_high_and_pending_risk_block_every_policy() {
    let now = ts(NOW);
    let mut high = authorized();
    high.risk.assessments = vec![RiskLevel::Low, RiskLevel::High];
    let mut pending = authorized();
    pending.risk.assessments = vec![RiskLevel::Pending];
    let held = Facts {
        fraud_held: true,
        fulfilled: true,
    };
    for p in [CapturePolicy::OnFulfilment, CapturePolicy::WhenRiskClear] {
        for (order, facts, why) in [
            (&authorized(), held, "fraud hold"),
            (&high, FULFILLED, "HIGH"),
            (&pending, FULFILLED, "pending"),
        ] {
            match judge(order, &policy(p), facts, now) {
                Verdict::Blocked { reason, expires_at } => {
                    assert!(reason.contains(why), "{reason}");
                    assert_eq!(expires_at, Some(ts("2026-11-30T10:00:00Z")));
                }
                other => panic!("{p:?} {why}: {other:?}"),
            }
        }
    }
}

#[test]
fn a_blocked_order_is_not_captured_even_when_the_authorization_is_about_to_expire() {
    let mut high = authorized();
    high.risk.assessments = vec![RiskLevel::High];
    let late = ts("2026-11-30T09:00:00Z");
    assert!(matches!(
        judge(
            &high,
            &policy(CapturePolicy::OnFulfilment),
            UNFULFILLED,
            late
        ),
        Verdict::Blocked { .. }
    ));
}

#[test]
fn an_unfulfilled_order_is_captured_at_expiry_minus_margin() {
    let p = policy(CapturePolicy::OnFulfilment);
    let before = ts("2026-11-29T21:59:59Z");
    assert!(matches!(
        judge(&authorized(), &p, UNFULFILLED, before),
        Verdict::Wait { .. }
    ));
    let due = ts("2026-11-29T22:00:00Z");
    let v = judge(&authorized(), &p, UNFULFILLED, due);
    assert_eq!(captured(&v), vec![full()]);
    assert!(matches!(&v, Verdict::Capture { rule, .. } if rule == EXPIRY_RULE));
}

#[test]
fn an_expired_authorization_is_not_captured() {
    let at = ts("2026-11-30T10:00:00Z");
    for p in [CapturePolicy::OnFulfilment, CapturePolicy::WhenRiskClear] {
        assert_eq!(
            judge(&authorized(), &policy(p), FULFILLED, at),
            Verdict::Expired { at }
        );
    }
}

#[test]
fn a_partial_capture_of_a_multi_capturable_authorization_leaves_the_rest_as_final() {
    let mut o = authorized();
    o.payment.transactions[0].multi_capturable = true;
    o.payment
        .transactions
        .push(tx("c1", "CAPTURE", "SUCCESS", "20.00", Some(AUTH)));
    o.payment
        .transactions
        .push(tx("c2", "CAPTURE", "FAILURE", "30.00", Some(AUTH)));
    let v = judge(&o, &policy(CapturePolicy::OnFulfilment), FULFILLED, ts(NOW));
    assert_eq!(
        captured(&v),
        vec![Capture {
            amount: "30.00".parse().unwrap(),
            final_capture: Some(true),
            ..full()
        }],
        "a failed capture counts for nothing"
    );
}

#[test]
fn a_capture_done_or_in_flight_is_never_sent_again() {
    for status in ["SUCCESS", "PENDING", "AWAITING_RESPONSE"] {
        let mut o = authorized();
        o.payment
            .transactions
            .push(tx("c1", "CAPTURE", status, "50.00", Some(AUTH)));
        assert_eq!(
            judge(&o, &policy(CapturePolicy::OnFulfilment), FULFILLED, ts(NOW)),
            Verdict::Captured,
            "{status}"
        );
    }
    // One capture uses up an authorization that is not multi-capturable, whatever its amount.
    let mut o = authorized();
    o.payment
        .transactions
        .push(tx("c1", "CAPTURE", "SUCCESS", "10.00", Some(AUTH)));
    assert_eq!(
        judge(&o, &policy(CapturePolicy::OnFulfilment), FULFILLED, ts(NOW)),
        Verdict::Captured
    );
    let mut voided = authorized();
    voided
        .payment
        .transactions
        .push(tx("v1", "VOID", "SUCCESS", "50.00", Some(AUTH)));
    assert_eq!(
        judge(
            &voided,
            &policy(CapturePolicy::OnFulfilment),
            FULFILLED,
            ts(NOW)
        ),
        Verdict::Captured
    );
}

#[test]
fn a_multi_currency_order_is_captured_in_its_presentment_currency() {
    let mut o = authorized();
    o.payment.presentment_currency = Some("USD".into());
    let v = judge(&o, &policy(CapturePolicy::OnFulfilment), FULFILLED, ts(NOW));
    assert_eq!(
        captured(&v),
        vec![Capture {
            currency: Some("USD".into()),
            ..full()
        }]
    );
}

#[test]
fn a_hold_longer_than_the_period_minus_the_margin_outlasts_it() {
    let week = SignedDuration::from_hours(7 * 24);
    let margin = SignedDuration::from_hours(12);
    assert!(outlasts(SignedDuration::from_hours(7 * 24), week, margin));
    assert!(!outlasts(SignedDuration::from_hours(6 * 24), week, margin));
}

#[test]
fn check_warns_of_a_processing_rule_that_outlasts_the_usual_authorization() {
    use crate::rules::matcher::When;
    use crate::rules::policy::{ProcessingRule, Rules};
    let mut rules = Rules::default();
    rules.processing.rules = vec![
        ProcessingRule {
            name: "handmade".into(),
            when: When::default(),
            days: 3,
        },
        ProcessingRule {
            name: "made to order".into(),
            when: When::default(),
            days: 6,
        },
    ];
    assert!(expiry_warnings(&rules).is_empty(), "capture = never");
    rules.payment = policy(CapturePolicy::OnFulfilment);
    let warnings = expiry_warnings(&rules);
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    let w = &warnings[0];
    for names in [
        "processing.rule \"made to order\"",
        "payment.expiry_margin",
        "payment.capture",
    ] {
        assert!(w.contains(names), "{w}");
    }
    // Six business days from just after a Friday cut-off end on the second Monday after.
    assert!(longest_hold(&rules.processing.calendar, 6) > SignedDuration::from_hours(9 * 24));
    assert!(longest_hold(&rules.processing.calendar, 3) < SignedDuration::from_hours(6 * 24 + 12));
}
