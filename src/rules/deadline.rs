//! Shopify's own fulfil-by deadline (`FulfillmentOrder.fulfillBy`), kept equal to the ship-by
//! instant orderflow computes (the decision's `ship_by_at`), so the admin and other apps see the
//! same date. Level-triggered like the rest: a fulfilment order whose `fulfillBy` already is
//! that instant gets nothing, so a second pass sends nothing.
//!
//! Set on the order's active fulfilment orders (open, on hold, scheduled, in progress), except
//! those this plan fulfils completely: they close, and a deadline on them would say nothing.

use jiff::Timestamp;

use super::model::Order;
use super::plan::{Action, Step};

/// The rule name the step carries (`explain`, the actions metric).
pub const DEADLINE_RULE: &str = "deadline";

/// The step that sets `at` as the deadline of every fulfilment order that needs it, if any.
/// `fulfils` are this plan's `Fulfill` steps.
pub fn deadline_step(order: &Order, at: Timestamp, fulfils: &[Step]) -> Option<Step> {
    let ids: Vec<String> = order
        .fulfillment_orders
        .iter()
        .filter(|fo| fo.is_active() && fo.fulfill_by != Some(at))
        .filter(|fo| {
            let remaining: u32 = fo.line_items.iter().map(|l| l.remaining_quantity).sum();
            let fulfilled: u32 = fulfils
                .iter()
                .filter_map(|s| match &s.action {
                    Action::Fulfill {
                        fulfillment_order,
                        lines,
                        ..
                    } if *fulfillment_order == fo.id => {
                        Some(lines.iter().map(|l| l.quantity).sum::<u32>())
                    }
                    _ => None,
                })
                .sum();
            fulfilled < remaining
        })
        .map(|fo| fo.id.clone())
        .collect();
    if ids.is_empty() {
        return None;
    }
    Some(Step {
        action: Action::SetDeadline {
            fulfillment_orders: ids,
            at,
        },
        rule: DEADLINE_RULE.to_owned(),
        reason: "Shopify's fulfil-by deadline becomes the order's ship-by, so the admin and other apps see it".to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::enums::{FulfillmentOrderRequestStatus, FulfillmentOrderStatus};
    use crate::rules::model::{FulfillmentOrder, FulfillmentOrderLineItem, Risk};
    use crate::rules::plan::FulfillLine;

    fn fo(
        n: u32,
        status: FulfillmentOrderStatus,
        fulfill_by: Option<Timestamp>,
    ) -> FulfillmentOrder {
        FulfillmentOrder {
            id: format!("gid://shopify/FulfillmentOrder/{n}"),
            status,
            request_status: FulfillmentOrderRequestStatus::Unsubmitted,
            delivery_method: None,
            holds: vec![],
            supported_actions: vec![],
            line_items: vec![FulfillmentOrderLineItem {
                id: format!("gid://shopify/FulfillmentOrderLineItem/{n}"),
                line_item_id: format!("gid://shopify/LineItem/{n}"),
                remaining_quantity: 2,
            }],
            fulfill_by,
        }
    }

    fn order(fos: Vec<FulfillmentOrder>) -> Order {
        Order {
            id: "gid://shopify/Order/1".into(),
            name: "#1".into(),
            tags: vec![],
            cancelled: false,
            closed: false,
            closed_at: None,
            fulfillment_status: None,
            test: false,
            processed_at: "2026-11-23T09:00:00Z".parse().unwrap(),
            paid_at: None,
            financial_status: None,
            total_price: Default::default(),
            source_name: None,
            shipping_country: None,
            risk: Risk::none(),
            lines: vec![],
            fulfillment_orders: fos,
            fulfillments: vec![],
            fulfillments_truncated: false,
            decision_metafield: None,
            payment: Default::default(),
        }
    }

    fn fulfil(n: u32, quantity: u32) -> Step {
        Step {
            action: Action::Fulfill {
                fulfillment_order: format!("gid://shopify/FulfillmentOrder/{n}"),
                lines: vec![FulfillLine {
                    id: format!("gid://shopify/FulfillmentOrderLineItem/{n}"),
                    quantity,
                }],
                notify_customer: false,
            },
            rule: "r".into(),
            reason: "r".into(),
        }
    }

    fn ids(step: Option<Step>) -> Vec<String> {
        match step.map(|s| s.action) {
            Some(Action::SetDeadline {
                fulfillment_orders, ..
            }) => fulfillment_orders,
            None => vec![],
            Some(other) => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_active_fulfilment_orders_whose_deadline_differs_get_one() {
        let at: Timestamp = "2026-11-26T12:00:00Z".parse().unwrap();
        let earlier: Timestamp = "2026-11-25T12:00:00Z".parse().unwrap();
        let o = order(vec![
            fo(1, FulfillmentOrderStatus::Open, None),
            fo(2, FulfillmentOrderStatus::OnHold, Some(earlier)),
            fo(3, FulfillmentOrderStatus::Open, Some(at)),
            fo(4, FulfillmentOrderStatus::Closed, None),
        ]);
        assert_eq!(
            ids(deadline_step(&o, at, &[])),
            [
                "gid://shopify/FulfillmentOrder/1",
                "gid://shopify/FulfillmentOrder/2"
            ]
        );
    }

    #[test]
    fn a_fulfilment_order_this_plan_fulfils_completely_gets_none() {
        let at: Timestamp = "2026-11-26T12:00:00Z".parse().unwrap();
        let o = order(vec![
            fo(1, FulfillmentOrderStatus::Open, None),
            fo(2, FulfillmentOrderStatus::Open, None),
        ]);
        assert_eq!(
            ids(deadline_step(&o, at, &[fulfil(1, 2), fulfil(2, 1)])),
            ["gid://shopify/FulfillmentOrder/2"],
            "FO 2 keeps a line to fulfil"
        );
    }

    #[test]
    fn nothing_when_every_deadline_is_already_set() {
        let at: Timestamp = "2026-11-26T12:00:00Z".parse().unwrap();
        let o = order(vec![fo(1, FulfillmentOrderStatus::Open, Some(at))]);
        assert!(deadline_step(&o, at, &[]).is_none());
    }
}
