//! Properties of plans over generated orders: applying a plan converges (a settled order plans
//! empty), a manual line is never fulfilled, nothing held is fulfilled, nobody else's hold is
//! released, and nothing is fulfilled beyond what remains.

use proptest::prelude::*;

use super::*;

fn arb_line() -> impl Strategy<Value = LineItem> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::sample::select(vec!["handmade", "made-to-order", "ceramic"]),
        1u32..4,
    )
        .prop_map(|(ships, preorder, tag, quantity)| LineItem {
            requires_shipping: ships,
            preorder,
            quantity,
            ..tagged("Item", tag)
        })
}

fn arb_order() -> impl Strategy<Value = Order> {
    (
        prop::collection::vec((arb_line(), 0usize..3), 1..7),
        prop::sample::select(RiskRecommendation::ALL.to_vec()),
        prop::collection::vec(prop::sample::select(RiskLevel::ALL.to_vec()), 0..3),
        prop::collection::vec(0u8..4, 3),
        0i64..5 * 86_400,
    )
        .prop_map(|(lines, recommendation, levels, fo_kinds, paid_offset)| {
            let mut b = order()
                .paid(
                    &ts("2026-11-20T08:00:00Z")
                        .checked_add(jiff::SignedDuration::from_secs(paid_offset))
                        .unwrap()
                        .to_string(),
                )
                .risk(recommendation, &levels);
            for (n, kind) in fo_kinds.iter().enumerate() {
                let mut f = fo(n as u32 + 1);
                match kind {
                    1 => f.delivery_method = Some(DeliveryMethodType::PickUp),
                    2 => {
                        f.holds.push(hold(800 + n as u32, "warehouse-check", false));
                        f.status = FulfillmentOrderStatus::OnHold;
                    }
                    _ => {}
                }
                b = b.fo(f);
                for (line, _) in lines.iter().filter(|(_, fo)| *fo == n) {
                    b = b.line(line.clone());
                }
            }
            b.build()
        })
}

fn foreign_holds(o: &Order) -> Vec<String> {
    o.fulfillment_orders
        .iter()
        .flat_map(|f| f.foreign_holds().map(|h| h.id.clone()))
        .collect()
}

proptest! {
    #[test]
    fn plans_converge_and_respect_manual_lines_and_other_holds(
        o in arb_order(), hours in 0i64..200,
    ) {
        let rules = shop();
        let now = ts("2026-11-25T08:00:00Z").checked_add(jiff::SignedDuration::from_hours(hours)).unwrap();
        let mut current = o.clone();
        for _ in 0..4 {
            let p = plan(&current, &rules, now);
            if p.is_empty() {
                break;
            }
            for step in p.changes() {
                match &step.action {
                    Action::Fulfill { fulfillment_order, lines, .. } => {
                        let fo = current.fulfillment_orders.iter().find(|f| &f.id == fulfillment_order).unwrap();
                        prop_assert!(fo.holds.is_empty(), "fulfils a held fulfilment order:\n{p}");
                        for l in lines {
                            let decided = p.lines.iter().find(|d| d.fulfillment_order.as_ref() == Some(fulfillment_order)
                                && fo.line_items.iter().any(|i| i.id == l.id && i.line_item_id == d.line_item)).unwrap();
                            prop_assert_eq!(decided.action, FulfilmentAction::Auto, "fulfils a manual line:\n{}", p);
                        }
                    }
                    Action::Release { hold_ids, .. } => {
                        let foreign = foreign_holds(&current);
                        prop_assert!(hold_ids.iter().all(|h| !foreign.contains(h)), "releases someone else's hold:\n{p}");
                    }
                    _ => {}
                }
            }
            current = apply(&current, &p);
        }
        let last = plan(&current, &rules, now);
        prop_assert!(last.is_empty(), "did not settle:\n{last}");
        prop_assert_eq!(foreign_holds(&current), foreign_holds(&o));
    }
}
