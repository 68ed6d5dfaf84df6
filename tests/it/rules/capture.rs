//! `[payment] capture` in the whole plan: the capture comes after the fulfilment it waits for,
//! a capture already made is not planned again, a long processing hold wakes up at the
//! authorization's expiry minus the margin, and fraud blocks it with a word in `explain`.

use jiff::SignedDuration;
use orderflow::rules::Order;
use orderflow::rules::enums::RiskLevel;
use orderflow::rules::model::Transaction;

use super::*;

fn capture_rules(policy: &str) -> Rules {
    rules(&format!("{SHOP}\n[payment]\ncapture = \"{policy}\"\n"))
}

/// `o` with its 50.00 authorized, expiring `expires_in` from now.
fn authorized(mut o: Order, expires_in: SignedDuration) -> Order {
    o.financial_status = Some(orderflow::rules::enums::FinancialStatus::Authorized);
    o.payment.transactions = vec![Transaction {
        id: "gid://shopify/OrderTransaction/1".into(),
        kind: "AUTHORIZATION".into(),
        status: "SUCCESS".into(),
        amount: "50.00".parse().unwrap(),
        authorization_expires_at: Some(now() + expires_in),
        parent_id: None,
        multi_capturable: false,
    }];
    o
}

const WEEK: SignedDuration = SignedDuration::from_hours(7 * 24);

#[test]
fn the_capture_comes_after_the_fulfilment_it_waits_for_and_is_planned_once() {
    let r = capture_rules("on_fulfilment");
    let o = authorized(order().line(digital("E-book")).build(), WEEK);
    let p = plan(&o, &r, now());
    let k = kinds(&p);
    let fulfil = k.iter().position(|k| *k == "fulfill").expect("{p}");
    let capture = k.iter().position(|k| *k == "capture").expect("{p}");
    assert!(fulfil < capture, "{k:?}");
    let text = p.to_string();
    assert!(
        text.contains("Payment: captured by this plan (50.00): the order is fulfilled"),
        "{text}"
    );
    let done = settle(&o, &r, now());
    let again = plan(&done, &r, now());
    assert!(!kinds(&again).contains(&"capture"), "{again}");
    assert!(
        again.to_string().contains("Payment: captured (nothing"),
        "{again}"
    );
    // "never" leaves it alone, and says so.
    let off = plan(&o, &shop(), now());
    assert!(!kinds(&off).contains(&"capture"));
    assert!(
        off.to_string().contains("payment.capture = \"never\""),
        "{off}"
    );
}

#[test]
fn a_processing_hold_longer_than_the_authorization_wakes_up_and_captures_before_it_expires() {
    let r = capture_rules("on_fulfilment");
    let o = authorized(
        order().line(tagged("Bowl", "handmade")).build(),
        SignedDuration::from_hours(36),
    );
    let p = plan(&o, &r, now());
    assert!(
        kinds(&p).contains(&"hold") && !kinds(&p).contains(&"capture"),
        "{p}"
    );
    let due = now() + SignedDuration::from_hours(24);
    assert_eq!(p.wake_up(), Some(due), "expiry - 12 h, before the ship-by");
    let text = p.to_string();
    assert!(text.contains("Payment: waits for a fulfilment"), "{text}");
    assert!(text.contains("(rule payment.expiry_margin)"), "{text}");
    let held = settle(&o, &r, now());
    let then = plan(&held, &r, due);
    assert_eq!(kinds(&then), ["capture", "wake_up"], "{then}");
    assert_eq!(then.steps[0].rule, "payment.expiry_margin");
}

#[test]
fn fraud_blocks_the_capture_and_explain_says_a_person_decides_before_it_expires() {
    let r = capture_rules("when_risk_clear");
    let mut o = authorized(order().line(digital("Watch")).build(), WEEK);
    o.risk.assessments = vec![RiskLevel::High];
    let p = plan(&o, &r, now());
    assert!(
        kinds(&p).contains(&"hold") && !kinds(&p).contains(&"capture"),
        "{p}"
    );
    let text = p.to_string();
    assert!(
        text.contains("Payment: not captured: a fraud hold of orderflow's is on the order; the authorization expires on"),
        "{text}"
    );
    assert!(text.contains("a person decides"), "{text}");
    let held = settle(&o, &r, now());
    let late = plan(&held, &r, now() + WEEK - SignedDuration::from_hours(1));
    assert!(
        !kinds(&late).contains(&"capture"),
        "never under a fraud hold: {late}"
    );
    let expired = plan(&held, &r, now() + WEEK);
    assert!(
        expired
            .to_string()
            .contains("Payment: not captured: the authorization expired on"),
        "{expired}"
    );
}
