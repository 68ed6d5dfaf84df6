//! Holds: fraud, pending risk, ACCEPT, other apps' holds, and holds a person released.

use super::*;
use orderflow::rules::decision::{Decision, HoldRecord};
use orderflow::rules::plan::FraudVerdict;

#[test]
fn high_risk_is_held_for_fraud_and_nothing_ships() {
    let o = order()
        .risk(RiskRecommendation::Investigate, &[RiskLevel::High])
        .line(digital("E-book"))
        .build();
    let p = plan(&o, &shop(), now());
    assert_eq!(
        kinds(&p),
        ["hold", "set_decision", "set_deadline", "tags_add"],
        "{p}"
    );
    let (_, handle, reason, notes, notify) = hold_step(&p);
    assert_eq!(
        (handle, reason, notify),
        (
            "orderflow-fraud",
            FulfillmentHoldReason::HighRiskOfFraud,
            true
        )
    );
    assert!(notes.contains("HIGH"), "{notes}");
    assert_eq!(tags_added(&p), ["orderflow:fraud-hold"]);
    assert!(matches!(&p.fraud, FraudVerdict::Hold { rule, .. } if rule == "fraud.hold_on_risk"));
}

#[test]
fn fraud_hold_blocks_a_new_processing_hold() {
    let o = order()
        .risk(RiskRecommendation::Cancel, &[RiskLevel::Medium])
        .line(tagged("Mug", "handmade"))
        .build();
    let p = plan(&o, &shop(), now());
    let holds: Vec<_> = p
        .steps
        .iter()
        .filter(|s| matches!(s.action, Action::Hold { .. }))
        .collect();
    assert_eq!(holds.len(), 1, "{p}");
    assert_eq!(hold_step(&p).1, "orderflow-fraud");
}

#[test]
fn investigate_holds_only_when_configured() {
    let o = order()
        .risk(RiskRecommendation::Investigate, &[RiskLevel::Medium])
        .line(digital("E-book"))
        .build();
    assert_eq!(hold_step(&plan(&o, &shop(), now())).1, "orderflow-fraud");
    let lenient = rules(&SHOP.replace("[\"CANCEL\", \"INVESTIGATE\"]", "[\"CANCEL\"]"));
    let p = plan(&o, &lenient, now());
    assert_eq!(kinds(&p), ["set_decision", "fulfill"], "{p}");
}

#[test]
fn pending_risk_decides_nothing_yet_and_wakes_up_later() {
    let o = order()
        .risk(RiskRecommendation::None, &[RiskLevel::Pending])
        .line(digital("E-book"))
        .build();
    let p = plan(&o, &shop(), now());
    assert_eq!(p.fraud, FraudVerdict::Pending);
    assert_eq!(
        kinds(&p),
        ["set_decision", "set_deadline", "wake_up"],
        "{p}"
    );
    assert_eq!(p.wake_up(), Some(ts("2026-11-23T09:35:00Z")));
    assert_eq!(p.lines[0].outcome, "waits for the risk assessment");
}

#[test]
fn pending_risk_is_ignored_when_fraud_rules_are_off() {
    let r = rules(
        "[fulfilment]\ndefault = \"auto\"\n[fraud]\nhold_on_risk = []\nhold_on_recommendation = []\n",
    );
    let o = order()
        .risk(RiskRecommendation::None, &[RiskLevel::Pending])
        .line(line("Mug"))
        .build();
    let p = plan(&o, &r, now());
    assert_eq!(p.fraud, FraudVerdict::Off);
    assert_eq!(fulfilled(&p), [fo_line(1)]);
}

#[test]
fn accept_after_our_fraud_hold_releases_it_and_looks_again() {
    let o = order()
        .risk(RiskRecommendation::Accept, &[RiskLevel::High])
        .line(digital("E-book"))
        .held(hold(7, "orderflow-fraud", true))
        .with(|o| o.tags.push("orderflow:fraud-hold".into()))
        .build();
    let p = plan(&o, &shop(), now());
    assert_eq!(
        kinds(&p),
        [
            "release",
            "set_decision",
            "set_deadline",
            "tags_remove",
            "wake_up"
        ],
        "{p}"
    );
    assert_eq!(released(&p), ["gid://shopify/FulfillmentHold/7"]);
    assert_eq!(p.steps[0].rule, "fraud.release_on_accept");
    assert_eq!(
        p.wake_up(),
        Some(now()),
        "fulfil the freed line on a fresh snapshot"
    );
    let settled = settle(&o, &shop(), now());
    assert_eq!(
        settled.fulfillment_orders[0].status,
        FulfillmentOrderStatus::Closed
    );
}

#[test]
fn accept_keeps_our_fraud_hold_when_release_on_accept_is_off() {
    let r = rules(&SHOP.replace("release_on_accept = true", "release_on_accept = false"));
    let o = order()
        .risk(RiskRecommendation::Accept, &[RiskLevel::Low])
        .line(digital("E-book"))
        .held(hold(7, "orderflow-fraud", true))
        .build();
    let p = plan(&o, &r, now());
    assert!(released(&p).is_empty(), "{p}");
    assert!(fulfilled(&p).is_empty());
}

#[test]
fn our_hold_beside_a_3pl_hold_releases_only_ours() {
    let o = order()
        .risk(RiskRecommendation::Accept, &[])
        .line(digital("E-book"))
        .held(hold(7, "orderflow-fraud", true))
        .held(hold(8, "warehouse-check", false))
        .build();
    let p = plan(&o, &shop(), now());
    assert_eq!(released(&p), ["gid://shopify/FulfillmentHold/7"], "{p}");
    assert!(fulfilled(&p).is_empty(), "still held by the 3PL");
    assert_eq!(p.wake_up(), None, "the 3PL's release will wake us");
}

#[test]
fn a_hold_that_looks_ours_but_is_not_by_us_is_left_alone() {
    let o = order()
        .line(digital("E-book"))
        .held(hold(7, "orderflow-fraud", false))
        .build();
    let p = plan(&o, &shop(), now());
    assert!(released(&p).is_empty(), "{p}");
    assert!(fulfilled(&p).is_empty());
    assert!(
        p.lines[0].outcome.contains("held by someone else"),
        "{}",
        p.lines[0].outcome
    );
}

#[test]
fn foreign_hold_means_no_new_hold_either() {
    let o = order()
        .risk(RiskRecommendation::Cancel, &[RiskLevel::High])
        .line(digital("E-book"))
        .held(hold(8, "warehouse-check", false))
        .build();
    let p = plan(&o, &shop(), now());
    assert!(!kinds(&p).contains(&"hold"), "{p}");
    assert!(
        p.notes.iter().any(|n| n.contains("held by someone else")),
        "{:?}",
        p.notes
    );
}

fn decision_with_hold(fo: &str, handle: &str, rule: &str) -> String {
    Decision {
        version: 1,
        ship_by: None,
        ship_by_at: None,
        holds: vec![HoldRecord {
            fulfillment_order: fo.into(),
            handle: handle.into(),
            rule: rule.into(),
        }],
        released_by_person: vec![],
        rules: vec![],
        planned_at: ts("2026-11-23T09:00:00Z"),
        fulfilments: vec![],
        taken_back_by_person: vec![],
        closed_by_orderflow_at: None,
    }
    .to_json()
}

#[test]
fn a_fraud_hold_a_person_released_is_not_placed_again() {
    let o = order()
        .risk(RiskRecommendation::Investigate, &[RiskLevel::High])
        .line(digital("E-book"))
        .with(|o| {
            o.decision_metafield = Some(decision_with_hold(
                "gid://shopify/FulfillmentOrder/1",
                "orderflow-fraud",
                "fraud.hold_on_risk",
            ))
        })
        .build();
    let p = plan(&o, &shop(), now());
    assert!(!kinds(&p).contains(&"hold"), "{p}");
    assert_eq!(
        fulfilled(&p),
        [fo_line(1)],
        "the person's release means it may ship"
    );
    let d = p
        .steps
        .iter()
        .find_map(|s| match &s.action {
            Action::SetDecision { decision } => Some(decision.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(d.released_by_person.len(), 1);
    assert!(d.holds.is_empty());
    assert!(
        p.notes.iter().any(|n| n.contains("person's decision wins")),
        "{:?}",
        p.notes
    );
    let settled = settle(&o, &shop(), now());
    assert!(plan(&settled, &shop(), now()).is_empty());
}

#[test]
fn a_processing_hold_a_person_released_stays_released_but_auto_lines_still_wait() {
    let paid = "2026-11-23T09:00:00Z";
    let o = order()
        .paid(paid)
        .line(tagged("Mug", "handmade"))
        .with(|o| {
            o.decision_metafield = Some(decision_with_hold(
                "gid://shopify/FulfillmentOrder/1",
                "orderflow-processing",
                "handmade",
            ))
        })
        .build();
    let p = plan(&o, &shop(), now());
    assert!(!kinds(&p).contains(&"hold"), "{p}");
    assert!(fulfilled(&p).is_empty());
    assert_eq!(p.wake_up(), Some(ts("2026-11-26T12:00:00Z")));
}

#[test]
fn processing_hold_is_released_at_ship_by_and_the_line_then_ships() {
    let o = order()
        .line(tagged("Mug", "handmade"))
        .held(hold(5, "orderflow-processing", true))
        .build();
    let at = ts("2026-11-26T12:00:00Z");
    let before = plan(&o, &shop(), ts("2026-11-26T11:59:59Z"));
    assert!(released(&before).is_empty(), "{before}");
    let p = plan(&o, &shop(), at);
    assert_eq!(released(&p), ["gid://shopify/FulfillmentHold/5"], "{p}");
    assert_eq!(p.wake_up(), Some(at));
    let next = plan(&apply(&o, &p), &shop(), at);
    assert_eq!(fulfilled(&next), [fo_line(1)], "{next}");
}

#[test]
fn without_hold_a_handmade_auto_line_waits_for_ship_by_unheld() {
    let r = rules(&SHOP.replace("hold = true", "hold = false"));
    let o = order().line(tagged("Mug", "handmade")).build();
    let p = plan(&o, &r, now());
    assert_eq!(
        kinds(&p),
        ["set_decision", "set_deadline", "wake_up"],
        "{p}"
    );
    assert_eq!(p.wake_up(), Some(ts("2026-11-26T12:00:00Z")));
    let later = plan(&o, &r, ts("2026-11-26T12:00:00Z"));
    assert_eq!(fulfilled(&later), [fo_line(1)]);
}

#[test]
fn an_unknown_hold_of_ours_is_released() {
    let o = order()
        .line(line("Mug"))
        .held(hold(3, "orderflow-legacy", true))
        .build();
    let p = plan(&o, &shop(), now());
    assert_eq!(released(&p), ["gid://shopify/FulfillmentHold/3"]);
}
