//! Whole-order scenarios: what the plan does with lines, ship-by dates and time zones.

use jiff::civil::date;

use super::*;
#[test]
fn digital_line_is_fulfilled_at_once() {
    let o = order().line(digital("E-book")).build();
    let p = plan(&o, &shop(), now());
    assert_eq!(kinds(&p), ["set_decision", "fulfill"], "{p}");
    assert_eq!(fulfilled(&p), [fo_line(1)]);
    assert_eq!(p.lines[0].action_rule, "digital goods");
    assert!(matches!(
        &p.steps[1].action,
        Action::Fulfill {
            notify_customer: true,
            ..
        }
    ));
}

#[test]
fn mixed_order_fulfils_only_the_digital_lines_and_tags_the_rest_manual() {
    let o = order()
        .line(digital("E-book"))
        .line(tagged("Vase", "made-to-order"))
        .build();
    let p = plan(&o, &shop(), now());
    assert_eq!(
        kinds(&p),
        ["set_decision", "fulfill", "set_deadline", "tags_add"],
        "{p}"
    );
    assert_eq!(fulfilled(&p), [fo_line(1)], "partial fulfilment");
    assert_eq!(tags_added(&p), ["orderflow:manual"]);
    assert_eq!(p.lines[1].action_rule, "made to order");
    assert_eq!(p.lines[1].outcome, "left for a person");
}

#[test]
fn preorder_line_is_manual() {
    let o = order()
        .line(LineItem {
            preorder: true,
            ..line("Lamp")
        })
        .build();
    let p = plan(&o, &shop(), now());
    assert_eq!(p.lines[0].action, FulfilmentAction::Manual);
    assert_eq!(p.lines[0].action_rule, "pre-orders wait");
    assert!(fulfilled(&p).is_empty());
}

#[test]
fn local_pickup_is_manual() {
    let o = order()
        .fo(FulfillmentOrder {
            delivery_method: Some(DeliveryMethodType::PickUp),
            ..fo(1)
        })
        .line(line("Chair"))
        .build();
    let p = plan(&o, &shop(), now());
    assert_eq!(p.lines[0].action_rule, "pickups wait");
    assert!(fulfilled(&p).is_empty());
}

#[test]
fn unmatched_line_gets_the_default() {
    let r = rules("[fulfilment]\ndefault = \"manual\"\n");
    let p = plan(&order().line(line("Mug")).build(), &r, now());
    assert_eq!(p.lines[0].action_rule, "fulfilment.default");
    assert_eq!(p.lines[0].action, FulfilmentAction::Manual);
}

#[test]
fn handmade_paid_monday_before_the_cutoff_is_held_until_thursday() {
    let o = order()
        .paid("2026-11-23T11:59:00Z")
        .line(tagged("Mug", "handmade"))
        .build();
    let p = plan(&o, &shop(), ts("2026-11-23T12:00:00Z"));
    assert_eq!(p.ship_by.as_ref().unwrap().date, date(2026, 11, 26));
    let (fo, handle, reason, notes, notify) = hold_step(&p);
    assert_eq!(fo, "gid://shopify/FulfillmentOrder/1");
    assert_eq!(handle, "orderflow-processing");
    assert_eq!(reason, FulfillmentHoldReason::Other);
    assert_eq!(notes, "handmade: ships by Thu 26 Nov");
    assert!(!notify, "a processing hold is routine");
    assert_eq!(
        p.wake_up(),
        Some(ts("2026-11-26T12:00:00Z")),
        "Thursday 13:00 CET"
    );
    assert!(fulfilled(&p).is_empty());
}

#[test]
fn handmade_paid_monday_after_the_cutoff_ships_friday() {
    let o = order()
        .paid("2026-11-23T12:01:00Z")
        .line(tagged("Mug", "handmade"))
        .build();
    let p = plan(&o, &shop(), ts("2026-11-23T12:05:00Z"));
    assert_eq!(p.ship_by.as_ref().unwrap().date, date(2026, 11, 27));
    assert_eq!(hold_step(&p).3, "handmade: ships by Fri 27 Nov");
}

#[test]
fn friday_after_the_cutoff_counts_from_monday() {
    let o = order()
        .paid("2026-11-27T14:00:00Z")
        .line(tagged("Mug", "handmade"))
        .build();
    let p = plan(&o, &shop(), ts("2026-11-27T14:01:00Z"));
    assert_eq!(p.ship_by.as_ref().unwrap().date, date(2026, 12, 3));
}

#[test]
fn christmas_is_skipped() {
    let o = order()
        .paid("2026-12-22T09:00:00Z")
        .line(tagged("Mug", "handmade"))
        .build();
    let p = plan(&o, &shop(), ts("2026-12-22T09:01:00Z"));
    assert_eq!(p.ship_by.as_ref().unwrap().date, date(2026, 12, 28));
}

#[test]
fn later_payment_starts_the_clock() {
    let o = order()
        .with(|o| o.paid_at = Some(ts("2026-11-24T12:30:00Z")))
        .line(tagged("Mug", "handmade"))
        .build();
    let p = plan(&o, &shop(), ts("2026-11-24T12:31:00Z"));
    assert_eq!(
        p.ship_by.as_ref().unwrap().date,
        date(2026, 11, 30),
        "Tuesday after the cut-off"
    );
}

#[test]
fn amsterdam_spring_forward_weekend_releases_at_1300_summer_time() {
    let r = rules(&SHOP.replace("days = 3", "days = 1"));
    let o = order()
        .paid("2026-03-27T11:30:00Z")
        .line(tagged("Mug", "handmade"))
        .build();
    let p = plan(&o, &r, ts("2026-03-27T11:31:00Z"));
    assert_eq!(p.ship_by.as_ref().unwrap().date, date(2026, 3, 30));
    assert_eq!(p.wake_up(), Some(ts("2026-03-30T11:00:00Z")), "13:00 CEST");
}

#[test]
fn new_york_fall_back_weekend_releases_at_1300_winter_time() {
    let r = rules_in(&SHOP.replace("days = 3", "days = 1"), "America/New_York");
    let o = order()
        .paid("2026-10-30T16:00:00Z")
        .line(tagged("Mug", "handmade"))
        .build();
    let p = plan(&o, &r, ts("2026-10-30T16:01:00Z"));
    assert_eq!(p.ship_by.as_ref().unwrap().date, date(2026, 11, 2));
    assert_eq!(p.wake_up(), Some(ts("2026-11-02T18:00:00Z")), "13:00 EST");
}

#[test]
fn auckland_shop_counts_its_own_monday_while_utc_is_sunday() {
    let r = rules_in(SHOP, "Pacific/Auckland");
    let o = order()
        .paid("2026-11-22T20:00:00Z")
        .line(tagged("Mug", "handmade"))
        .build();
    let p = plan(&o, &r, ts("2026-11-22T20:01:00Z"));
    assert_eq!(
        p.ship_by.as_ref().unwrap().date,
        date(2026, 11, 26),
        "Monday NZ + 3"
    );
    assert_eq!(p.wake_up(), Some(ts("2026-11-26T00:00:00Z")), "13:00 NZDT");
}

#[test]
fn fulfilment_orders_without_create_fulfillment_or_hold_are_left_to_shopify() {
    let o = order()
        .risk(RiskRecommendation::Cancel, &[])
        .line(digital("E-book"))
        .with_fo(|fo| {
            fo.supported_actions = vec![FulfillmentOrderAction::RequestFulfillment];
        })
        .build();
    let p = plan(&o, &shop(), now());
    assert!(!kinds(&p).contains(&"hold"));
    assert!(
        p.notes.iter().any(|n| n.contains("does not offer HOLD")),
        "{:?}",
        p.notes
    );
    let calm = order()
        .line(digital("E-book"))
        .with_fo(|fo| fo.supported_actions = vec![FulfillmentOrderAction::RequestFulfillment])
        .build();
    assert!(fulfilled(&plan(&calm, &shop(), now())).is_empty());
}

#[test]
fn cancelled_closed_and_test_orders_get_an_empty_plan() {
    let base = || order().line(digital("E-book"));
    for (o, why) in [
        (base().with(|o| o.cancelled = true).build(), "cancelled"),
        (base().with(|o| o.closed = true).build(), "closed"),
        (base().with(|o| o.test = true).build(), "test order"),
    ] {
        let p = plan(&o, &shop(), now());
        assert!(p.steps.is_empty(), "{why}: {p}");
        assert!(
            p.skipped.as_deref().unwrap().contains(why),
            "{:?}",
            p.skipped
        );
        assert!(p.to_string().contains("Nothing to do"), "{p}");
    }
    let r = rules(&format!("{SHOP}\n").replace(
        "default = \"manual\"",
        "default = \"manual\"\nskip_test_orders = false",
    ));
    let p = plan(&base().with(|o| o.test = true).build(), &r, now());
    assert_eq!(
        fulfilled(&p),
        [fo_line(1)],
        "test orders count when configured"
    );
}

#[test]
fn an_order_already_as_the_rules_want_it_gets_an_empty_plan() {
    let o = order()
        .paid("2026-11-23T09:00:00Z")
        .line(digital("E-book"))
        .line(tagged("Vase", "made-to-order"))
        .fo(fo(2))
        .line(tagged("Mug", "handmade"))
        .build();
    let settled = settle(&o, &shop(), now());
    let p = plan(&settled, &shop(), now());
    assert!(p.is_empty(), "{p}");
    assert_eq!(
        kinds(&p),
        ["wake_up"],
        "only the wake-up for the handmade ship-by"
    );
    assert!(
        p.to_string()
            .contains("Nothing to do: already as the rules want it."),
        "{p}"
    );
    // A later look, before the ship-by, still changes nothing.
    assert!(plan(&settled, &shop(), ts("2026-11-24T09:00:00Z")).is_empty());
}

#[test]
fn actions_come_in_the_safe_apply_order() {
    let o = order()
        .paid("2026-11-18T09:00:00Z")
        .line(tagged("Old mug", "handmade"))
        .held(hold(5, "orderflow-processing", true))
        .fo(fo(2))
        .line(tagged("Vase", "made-to-order"))
        .line(digital("E-book"))
        .build();
    // The old mug's ship-by (Mon 23 13:00 CET) has passed: release, then fulfil FO 2's e-book.
    let p = plan(&o, &shop(), ts("2026-11-23T12:30:00Z"));
    assert_eq!(
        kinds(&p),
        [
            "release",
            "set_decision",
            "fulfill",
            "set_deadline",
            "tags_add",
            "wake_up"
        ],
        "{p}"
    );
    let held = order()
        .line(digital("E-book"))
        .fo(fo(2))
        .line(tagged("Mug", "handmade"))
        .held(hold(9, "orderflow-legacy", true))
        .build();
    let p = plan(&held, &shop(), now());
    assert_eq!(
        kinds(&p),
        [
            "release",
            "hold",
            "set_decision",
            "fulfill",
            "set_deadline",
            "wake_up"
        ],
        "{p}"
    );
}

#[test]
fn an_unreadable_decision_is_noted_and_rewritten() {
    let o = order()
        .line(digital("E-book"))
        .with(|o| o.decision_metafield = Some("{oops".into()))
        .build();
    let p = plan(&o, &shop(), now());
    assert!(
        p.notes.iter().any(|n| n.contains("could not be read")),
        "{:?}",
        p.notes
    );
    assert!(kinds(&p).contains(&"set_decision"));
}

#[test]
fn a_300_line_fulfilment_is_split_into_lists_shopify_accepts() {
    let mut b = order();
    for i in 0..300 {
        b = b.line(digital(&format!("Track {i}")));
    }
    let p = plan(&b.build(), &shop(), now());
    let sizes: Vec<usize> = p
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::Fulfill { lines, .. } => Some(lines.len()),
            _ => None,
        })
        .collect();
    assert_eq!(sizes, [250, 50]);
}

#[test]
fn explain_names_the_order_the_rules_and_the_ship_by_day() {
    let o = order()
        .paid("2026-11-23T11:59:00Z")
        .line(digital("E-book"))
        .line(tagged("Mug", "handmade"))
        .build();
    let text = explain(&o, &shop(), ts("2026-11-23T12:00:00Z"));
    for wanted in [
        "Order #1001",
        "Europe/Amsterdam",
        "Ship by: Thu 26 Nov",
        "rule \"handmade\"",
        "E-book ×1: auto (rule \"digital goods\")",
        "held until its ship-by",
        "hold gid://shopify/FulfillmentOrder/1 with orderflow-processing (OTHER): handmade: ships by Thu 26 Nov",
        "Next look: Thu 26 Nov 2026 13:00 CET",
    ] {
        assert!(text.contains(wanted), "missing {wanted:?} in:\n{text}");
    }
}

#[test]
fn plan_serialises_for_json_with_action_types() {
    let o = order()
        .risk(RiskRecommendation::Cancel, &[])
        .line(digital("E-book"))
        .build();
    let json = plan(&o, &shop(), now()).to_json();
    assert!(json.contains("\"type\": \"hold\""), "{json}");
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["steps"][0]["action"]["handle"], "orderflow-fraud");
    assert_eq!(value["steps"][0]["rule"], "fraud.hold_on_recommendation");
    assert!(
        json.contains("\"reason\": \"HIGH_RISK_OF_FRAUD\""),
        "{json}"
    );
    assert!(json.contains("\"state\": \"hold\""), "{json}");
}

#[test]
fn the_deadline_is_set_once_and_a_settled_order_asks_for_nothing_more() {
    let o = order().line(tagged("Mug", "handmade")).build();
    let p = plan(&o, &shop(), now());
    let at = p.ship_by.as_ref().expect("a ship-by").at;
    let step = p
        .steps
        .iter()
        .find(|s| s.action.kind() == "set_deadline")
        .expect("a deadline step");
    assert_eq!(
        step.action,
        Action::SetDeadline {
            fulfillment_orders: vec![fo(1).id],
            at
        }
    );
    assert!(p.to_string().contains("fulfil-by deadline"), "{p}");
    let settled = super::settle(&o, &shop(), now());
    assert_eq!(settled.fulfillment_orders[0].fulfill_by, Some(at));
    let again = plan(&settled, &shop(), now());
    assert!(again.is_empty(), "nothing more to send:\n{again}");
}

#[test]
fn set_deadline_false_leaves_shopify_s_deadline_alone() {
    let r = rules(&SHOP.replace("hold = true", "hold = true\nset_deadline = false"));
    assert!(!r.processing.set_deadline);
    let o = order().line(tagged("Mug", "handmade")).build();
    let p = plan(&o, &r, now());
    assert!(!kinds(&p).contains(&"set_deadline"), "{p}");
}
