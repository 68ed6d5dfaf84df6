//! `fulfillmentCreate`.

use serde_json::{Value, json};

use super::{line_quantities, str_arg};
use crate::rules::enums::{FulfillmentOrderAction, FulfillmentOrderStatus, FulfillmentStatus};
use crate::sandbox::state::{FulfilledLine, ShopState, StoredFulfillment, derive};
use crate::sandbox::view;

/// `fulfillmentCreate`: only OPEN/IN_PROGRESS fulfilment orders that support CREATE_FULFILLMENT;
/// lowers `remainingQuantity`, never below zero; closes a fulfilment order with nothing left.
pub(in crate::sandbox) fn fulfill(
    shop: &mut ShopState,
    args: &Value,
    now: jiff::Timestamp,
) -> Value {
    let input = &args["fulfillment"];
    let notify_customer = input
        .get("notifyCustomer")
        .and_then(Value::as_bool)
        .unwrap_or(false);
    let groups: Vec<(String, Vec<(String, i64)>)> = input
        .get("lineItemsByFulfillmentOrder")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .map(|g| {
                    let id = str_arg(g, "fulfillmentOrderId")
                        .unwrap_or_default()
                        .to_owned();
                    (id, line_quantities(g.get("fulfillmentOrderLineItems")))
                })
                .collect()
        })
        .unwrap_or_default();
    let refuse = |message: String| {
        json!({
            "__typename": "FulfillmentCreatePayload",
            "fulfillment": null,
            "userErrors": [{"__typename": "UserError", "field": ["fulfillment"], "message": message}],
        })
    };
    if groups.is_empty() {
        return refuse("Line items by fulfillment order must not be empty.".to_owned());
    }
    // Validate everything first: a refused fulfilment changes nothing.
    let mut plan: Vec<(String, Vec<(String, u32)>)> = Vec::new();
    let mut order_id = None;
    // Quantities asked per line across the whole request: a line listed twice must not get
    // past the "no more than remains" check.
    let mut asked: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for (fo_id, lines) in &groups {
        let Some(stored) = shop.order_of_fulfillment_order(fo_id) else {
            return refuse(format!("Fulfillment order {fo_id} does not exist."));
        };
        if order_id.get_or_insert_with(|| stored.order.id.clone()) != &stored.order.id {
            return refuse("All fulfillment orders must belong to the same order.".to_owned());
        }
        let Some(fo) = stored
            .order
            .fulfillment_orders
            .iter()
            .find(|f| &f.id == fo_id)
        else {
            return refuse(format!("Fulfillment order {fo_id} does not exist."));
        };
        if !fo.supports(FulfillmentOrderAction::CreateFulfillment) {
            return refuse(format!(
                "Fulfillment order {fo_id} has an unfulfillable status= {}.",
                fo.status.as_str().to_lowercase()
            ));
        }
        let wanted: Vec<(String, u32)> = if lines.is_empty() {
            fo.line_items
                .iter()
                .filter(|l| l.remaining_quantity > 0)
                .map(|l| (l.id.clone(), l.remaining_quantity))
                .collect()
        } else {
            let mut wanted = Vec::new();
            for (id, qty) in lines {
                let total = asked.entry(id.clone()).or_default();
                *total += *qty as u64;
                match fo.line_items.iter().find(|l| &l.id == id) {
                    Some(l) if *qty > 0 && *total <= l.remaining_quantity as u64 => {
                        wanted.push((id.clone(), *qty as u32))
                    }
                    Some(_) => {
                        return refuse(
                            "Invalid fulfillment order line item quantity requested.".to_owned(),
                        );
                    }
                    None => {
                        return refuse(format!(
                            "Fulfillment order line item {id} does not belong to fulfillment order {fo_id}."
                        ));
                    }
                }
            }
            wanted
        };
        if wanted.is_empty() {
            return refuse(format!(
                "Fulfillment order {fo_id} has nothing left to fulfill."
            ));
        }
        plan.push((fo_id.clone(), wanted));
    }
    let fulfillment_id = shop.new_gid("Fulfillment");
    let Some(order_id) = order_id else {
        return refuse("Line items by fulfillment order must not be empty.".to_owned());
    };
    let Some(stored) = shop.orders.get_mut(&order_id) else {
        return refuse("Order does not exist.".to_owned());
    };
    let mut all_lines: Vec<FulfilledLine> = Vec::new();
    for (fo_id, lines) in plan {
        if let Some(fo) = stored
            .order
            .fulfillment_orders
            .iter_mut()
            .find(|f| f.id == fo_id)
        {
            for (id, qty) in &lines {
                if let Some(l) = fo.line_items.iter_mut().find(|l| &l.id == id) {
                    l.remaining_quantity = l.remaining_quantity.saturating_sub(*qty);
                    all_lines.push(FulfilledLine {
                        fulfillment_order: fo_id.clone(),
                        fulfillment_order_line_item: id.clone(),
                        line_item: l.line_item.id.clone(),
                        quantity: *qty,
                    });
                }
            }
            fo.status = if fo.line_items.iter().all(|l| l.remaining_quantity == 0) {
                FulfillmentOrderStatus::Closed
            } else {
                FulfillmentOrderStatus::InProgress
            };
        }
    }
    let fulfillment = StoredFulfillment {
        id: fulfillment_id.clone(),
        order_id: order_id.clone(),
        notify_customer,
        created_at: now,
        lines: all_lines,
        status: FulfillmentStatus::Success,
        restocked: None,
        cancelled_at: None,
        shipment: None,
    };
    stored.fulfillments.push(fulfillment);
    derive(&mut stored.order);
    super::touched(stored, now);
    let answer = stored
        .fulfillments
        .last()
        .map(|f| view::fulfillment(f, stored));
    json!({
        "__typename": "FulfillmentCreatePayload",
        "fulfillment": answer,
        "userErrors": [],
    })
}
