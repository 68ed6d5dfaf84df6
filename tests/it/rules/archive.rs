//! `[archive]` in the whole plan: a finished order is closed, the record comes after the close,
//! a person's reopening wins, and a later close waits for `after` with a wake-up.

use orderflow::rules::Order;
use orderflow::rules::enums::OrderFulfillmentStatus;

use super::*;

fn archive_rules(after: &str) -> Rules {
    rules(&format!(
        "{SHOP}\n[archive]\nwhen_fulfilled = true\nafter = \"{after}\"\n"
    ))
}

/// The digital order, fulfilled by orderflow, as the next snapshot shows it.
fn finished(rules: &Rules) -> Order {
    let o = order().line(digital("E-book")).build();
    let mut done = settle(&o, rules, now());
    done.fulfillment_status = Some(OrderFulfillmentStatus::Fulfilled);
    for f in &mut done.fulfillments {
        f.created_at = Some(now());
    }
    done
}

#[test]
fn a_finished_order_is_closed_then_recorded_and_a_person_reopening_it_wins() {
    let r = archive_rules("0h");
    let done = finished(&r);
    let p = plan(&done, &r, now());
    let k = kinds(&p);
    assert_eq!(&k[k.len() - 2..], ["close", "set_decision"], "{p}");
    assert!(p.to_string().contains("close (archive) the order"), "{p}");
    let closed = apply(&done, &p);
    assert!(closed.closed);
    assert!(plan(&closed, &r, now()).is_empty(), "closed and recorded");
    // A person reopens it.
    let reopened = Order {
        closed: false,
        closed_at: None,
        ..closed
    };
    let p = plan(&reopened, &r, now());
    assert!(!kinds(&p).contains(&"close"), "{p}");
    assert!(
        p.notes
            .iter()
            .any(|n| n.contains("a person reopened the order")),
        "{p}"
    );
}

#[test]
fn a_lost_record_is_restored_from_the_closed_order() {
    let r = archive_rules("0h");
    let done = finished(&r);
    let mut closed = done.clone();
    closed.closed = true;
    closed.closed_at = Some(now());
    let p = plan(&closed, &r, now());
    assert_eq!(kinds(&p), ["set_decision"], "{p}");
    assert!(
        p.to_string().contains("so a reopening is a person's"),
        "{p}"
    );
    let recorded = apply(&closed, &p);
    assert!(plan(&recorded, &r, now()).is_empty());
}

#[test]
fn with_after_the_plan_wakes_up_when_it_has_passed_and_archive_off_changes_nothing() {
    let r = archive_rules("2h");
    let done = finished(&r);
    let p = plan(&done, &r, now());
    assert!(!kinds(&p).contains(&"close"), "{p}");
    assert_eq!(
        p.wake_up(),
        Some(
            now()
                .checked_add(jiff::SignedDuration::from_hours(2))
                .unwrap()
        )
    );
    let later = now()
        .checked_add(jiff::SignedDuration::from_hours(2))
        .unwrap();
    assert!(kinds(&plan(&done, &r, later)).contains(&"close"));
    let off = finished(&shop());
    assert!(plan(&off, &shop(), later).is_empty(), "off by default");
}
