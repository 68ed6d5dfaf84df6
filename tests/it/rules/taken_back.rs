//! A person cancelling a fulfilment orderflow created: the lines are taken back, left for a
//! person, tagged, recorded and explained; never fulfilled again. And the crash cases the
//! decision's record must survive.

use super::*;
use orderflow::rules::decision::{Decision, Previous};
use orderflow::rules::taken_back::TAKEN_BACK_RULE;

/// Shopify cancelling fulfilment `n` as its documentation says: `CANCELLED`; a fulfilment order
/// it emptied stays closed and a new one holds the lines again; otherwise the quantities go back.
fn cancel(order: &Order, n: usize) -> Order {
    let mut o = order.clone();
    let f = &mut o.fulfillments[n - 1];
    f.status = FulfillmentStatus::Cancelled;
    let lines = f.lines.clone();
    let mut reopened = fo(100 + n as u32);
    for l in lines {
        let fo = o
            .fulfillment_orders
            .iter_mut()
            .find(|fo| {
                fo.line_items
                    .iter()
                    .any(|x| x.line_item_id == l.line_item_id)
            })
            .unwrap();
        if fo.status == FulfillmentOrderStatus::Closed {
            reopened.line_items.push(FulfillmentOrderLineItem {
                id: format!("{}-again", l.line_item_id),
                line_item_id: l.line_item_id.clone(),
                remaining_quantity: l.quantity,
            });
        } else {
            let x = fo
                .line_items
                .iter_mut()
                .find(|x| x.line_item_id == l.line_item_id)
                .unwrap();
            x.remaining_quantity += l.quantity;
        }
    }
    if !reopened.line_items.is_empty() {
        o.fulfillment_orders.push(reopened);
    }
    o
}

fn decision_of(o: &Order) -> Decision {
    match Previous::read(o.decision_metafield.as_deref()) {
        Previous::Found(d) => d,
        other => panic!("no decision: {other:?}"),
    }
}

#[test]
fn a_line_a_person_took_back_is_left_for_a_person_tagged_recorded_and_explained() {
    let o = settle(&order().line(digital("E-book")).build(), &shop(), now());
    assert_eq!(o.fulfillments.len(), 1, "orderflow fulfilled it");
    let d = decision_of(&o);
    assert_eq!(d.fulfilments.len(), 1, "{d:?}");
    assert_eq!(
        d.fulfilments[0].lines[0].line_item,
        "gid://shopify/LineItem/1"
    );

    let taken = cancel(&o, 1);
    let p = plan(&taken, &shop(), now());
    assert!(fulfilled(&p).is_empty(), "the person's decision wins:\n{p}");
    assert_eq!(
        kinds(&p),
        ["set_decision", "set_deadline", "tags_add"],
        "{p}"
    );
    assert_eq!(tags_added(&p), ["orderflow:manual"]);
    assert_eq!(p.lines[0].action_rule, TAKEN_BACK_RULE);
    let open = p
        .lines
        .iter()
        .find(|l| l.remaining > 0)
        .expect("the line again");
    assert!(open.outcome.contains("taken back by a person"), "{p}");
    let text = p.to_string();
    assert!(
        text.contains(
            "a person cancelled orderflow's fulfilment gid://shopify/Fulfillment/1 (E-book)"
        ),
        "{text}"
    );
    let after = apply(&taken, &p);
    let d = decision_of(&after);
    assert_eq!(d.taken_back_by_person.len(), 1);
    assert_eq!(
        d.taken_back_by_person[0].line_item,
        "gid://shopify/LineItem/1"
    );
    assert_eq!(
        d.fulfilments[0].fulfillment.as_deref(),
        Some("gid://shopify/Fulfillment/1"),
        "the id is recorded with the change"
    );
    // Stable: later events change nothing, and the note is not repeated.
    let again = plan(&after, &shop(), ts("2026-11-25T09:00:00Z"));
    assert!(again.is_empty(), "{again}");
    assert!(again.notes.is_empty(), "{:?}", again.notes);
    assert!(
        again.lines.iter().any(|l| l.outcome.contains("taken back")),
        "{again}"
    );
}

#[test]
fn a_partial_cancellation_leaves_only_the_cancelled_lines_for_a_person() {
    let o = order()
        .line(digital("E-book"))
        .fo(fo(2))
        .line(digital("Audio book"))
        .build();
    let o = settle(&o, &shop(), now());
    assert_eq!(
        o.fulfillments.len(),
        2,
        "one fulfilment per fulfilment order"
    );
    let taken = cancel(&o, 2);
    let p = plan(&taken, &shop(), now());
    assert!(fulfilled(&p).is_empty(), "{p}");
    let by_name = |n: &str| p.lines.iter().find(|l| l.name == n).unwrap();
    assert_eq!(by_name("Audio book").action_rule, TAKEN_BACK_RULE);
    assert_eq!(by_name("E-book").action_rule, "digital goods");
    let after = settle(&taken, &shop(), now());
    let d = decision_of(&after);
    assert_eq!(
        d.taken_back_by_person
            .iter()
            .map(|t| t.line_item.as_str())
            .collect::<Vec<_>>(),
        ["gid://shopify/LineItem/2"]
    );
}

#[test]
fn the_other_lines_of_the_order_are_still_handled_normally() {
    // The e-book ships at once; the handmade mug (auto, 3 business days) waits on a processing
    // hold. A person cancels the e-book's fulfilment; at the mug's ship-by only the mug ships.
    let rules = rules(&SHOP.replace("hold = true", "hold = false"));
    let o = order()
        .line(digital("E-book"))
        .line(tagged("Mug", "handmade"))
        .build();
    let o = settle(&o, &rules, now());
    assert_eq!(o.fulfillments.len(), 1);
    let taken = cancel(&o, 1);
    let later = ts("2026-11-26T12:30:00Z");
    let p = plan(&taken, &rules, later);
    assert_eq!(fulfilled(&p), [fo_line(2)], "only the mug:\n{p}");
    let done = settle(&taken, &rules, later);
    assert_eq!(done.fulfillments.len(), 2);
    assert!(plan(&done, &rules, later).is_empty());
}

#[test]
fn a_create_that_never_happened_is_fulfilled_again_not_taken_back() {
    let o = order().line(digital("E-book")).build();
    let p = plan(&o, &shop(), now());
    assert_eq!(kinds(&p), ["set_decision", "fulfill"], "{p}");
    // The decision (with its record) was written, then the worker died before the create.
    let Action::SetDecision { decision } = &p.steps[0].action else {
        panic!("decision first");
    };
    let crashed = Order {
        decision_metafield: Some(decision.to_json()),
        payment: Default::default(),
        ..o.clone()
    };
    let retry = plan(&crashed, &shop(), now());
    assert_eq!(fulfilled(&retry), [fo_line(1)], "{retry}");
    assert!(retry.lines[0].outcome == "fulfilled now", "{retry}");
    assert!(retry.notes.is_empty(), "{:?}", retry.notes);
    // Applied, it records exactly one fulfilment of ours.
    let done = apply(&crashed, &retry);
    assert_eq!(decision_of(&done).fulfilments.len(), 1);
    assert!(plan(&done, &shop(), now()).is_empty());
}

#[test]
fn an_unlisted_fulfilment_of_ours_with_its_lines_open_again_is_left_for_a_person() {
    let o = settle(&order().line(digital("E-book")).build(), &shop(), now());
    let mut taken = cancel(&o, 1);
    // More fulfilments than the snapshot reads: ours is not among them.
    taken.fulfillments.clear();
    taken.fulfillments_truncated = true;
    let p = plan(&taken, &shop(), now());
    assert!(fulfilled(&p).is_empty(), "{p}");
    assert_eq!(p.lines[0].action_rule, TAKEN_BACK_RULE);
}

#[test]
fn a_cancelled_fulfilment_that_was_never_ours_is_not_a_take_back() {
    // A person fulfilled the sofa by hand and cancelled it; orderflow never recorded it, so the
    // sofa is judged by the rules as before (here: auto, so it ships).
    let mut o = order().line(line("Sofa")).build();
    o.fulfillments.push(Fulfillment {
        id: "gid://shopify/Fulfillment/77".into(),
        status: FulfillmentStatus::Cancelled,
        lines: vec![FulfillmentLine {
            line_item_id: "gid://shopify/LineItem/1".into(),
            quantity: 1,
        }],
        created_at: None,
    });
    let p = plan(&o, &shop(), now());
    assert_eq!(p.lines[0].action_rule, "everything else ships", "{p}");
    assert_eq!(fulfilled(&p), [fo_line(1)]);
}
