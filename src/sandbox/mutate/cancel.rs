//! `fulfillmentCancel` and a merchant cancelling a fulfilment in the admin: one semantics.
//!
//! It follows Shopify's description of `fulfillmentCancel` (Admin GraphQL 2026-10): the
//! fulfilment becomes `CANCELLED` and its effects on the fulfilment orders are reversed. A
//! fulfilment order that was entirely fulfilled stays closed and a new fulfilment order (same
//! delivery method, `OPEN`, unsubmitted, no holds, new line ids) holds the cancelled items so they
//! can be fulfilled again; on one that was partially fulfilled the remaining quantities go back up
//! by the cancelled items. Where the description is silent the sandbox picks the closest
//! reading: a partially fulfilled one becomes `OPEN` again once nothing of it is fulfilled any
//! more, and stays `IN_PROGRESS` otherwise; the new fulfilment order is at the same (the
//! sandbox's only) location, and the closed one's `totalQuantity` drops by the items moved, so
//! the order's display status counts them once. A cancelled fulfilment cannot be cancelled again (it cannot be
//! undone either). `fulfillmentCancel` has no restock argument: it records a restock, as the
//! admin's cancellation does; the merchant action says which.

use serde_json::{Value, json};

use super::str_arg;
use crate::rules::enums::{
    FulfillmentOrderRequestStatus, FulfillmentOrderStatus, FulfillmentStatus,
};
use crate::sandbox::state::{ShopState, derive};
use crate::sandbox::view;
use crate::shopify::snapshot::{FulfillmentOrder, FulfillmentOrderLineItem, LineItemRef};

/// Why a cancellation is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CancelRefused {
    #[error("Fulfillment {0} does not exist.")]
    NotFound(String),
    #[error("Fulfillment has already been cancelled.")]
    AlreadyCancelled,
}

/// Cancels fulfilment `id`; its view once cancelled, or why not.
pub fn cancel(
    shop: &mut ShopState,
    id: &str,
    restock: bool,
    now: jiff::Timestamp,
) -> Result<Value, CancelRefused> {
    let Some(order_id) = shop
        .orders
        .values()
        .find(|o| o.fulfillments.iter().any(|f| f.id == id))
        .map(|o| o.order.id.clone())
    else {
        return Err(CancelRefused::NotFound(id.to_owned()));
    };
    // New ids first: the order is borrowed below.
    let lines = shop.orders[&order_id]
        .fulfillments
        .iter()
        .find(|f| f.id == id)
        .map(|f| f.lines.clone())
        .unwrap_or_default();
    // Fresh ids first (the order is borrowed below): at most one new fulfilment order and one
    // new line per cancelled line.
    let mut fo_ids: Vec<String> = (0..lines.len())
        .map(|_| shop.new_gid("FulfillmentOrder"))
        .collect();
    let mut line_ids: Vec<String> = (0..lines.len())
        .map(|_| shop.new_gid("FulfillmentOrderLineItem"))
        .collect();
    let Some(stored) = shop.orders.get_mut(&order_id) else {
        return Err(CancelRefused::NotFound(id.to_owned()));
    };
    let Some(f) = stored.fulfillments.iter_mut().find(|f| f.id == id) else {
        return Err(CancelRefused::NotFound(id.to_owned()));
    };
    if f.status == FulfillmentStatus::Cancelled {
        return Err(CancelRefused::AlreadyCancelled);
    }
    f.status = FulfillmentStatus::Cancelled;
    f.restocked = Some(restock);
    f.cancelled_at = Some(now);
    // (closed fulfilment order it replaces, the new one).
    let mut reopened: Vec<(String, FulfillmentOrder)> = Vec::new();
    for l in &lines {
        let Some(fo) = stored
            .order
            .fulfillment_orders
            .iter_mut()
            .find(|fo| fo.id == l.fulfillment_order)
        else {
            continue;
        };
        if fo.status == FulfillmentOrderStatus::Closed {
            // Entirely fulfilled: it stays closed; its cancelled items go to a new one.
            let at = match reopened.iter().position(|(src, _)| *src == fo.id) {
                Some(at) => at,
                None => {
                    reopened.push((
                        fo.id.clone(),
                        FulfillmentOrder {
                            id: fo_ids.pop().unwrap_or_default(),
                            status: FulfillmentOrderStatus::Open,
                            request_status: FulfillmentOrderRequestStatus::Unsubmitted,
                            delivery_method: fo.delivery_method.clone(),
                            fulfill_at: None,
                            fulfill_by: None,
                            fulfillment_holds: Vec::new(),
                            supported_actions: Vec::new(),
                            line_items: Vec::new(),
                        },
                    ));
                    reopened.len() - 1
                }
            };
            // The closed one no longer accounts for the moved items (so the order's display
            // status counts them once, as unfulfilled).
            if let Some(fl) = fo
                .line_items
                .iter_mut()
                .find(|x| x.id == l.fulfillment_order_line_item)
            {
                fl.total_quantity = fl.total_quantity.saturating_sub(l.quantity);
            }
            reopened[at].1.line_items.push(FulfillmentOrderLineItem {
                id: line_ids.pop().unwrap_or_default(),
                total_quantity: l.quantity,
                remaining_quantity: l.quantity,
                line_item: LineItemRef {
                    id: l.line_item.clone(),
                },
            });
        } else {
            if let Some(fl) = fo
                .line_items
                .iter_mut()
                .find(|x| x.id == l.fulfillment_order_line_item)
            {
                fl.remaining_quantity = (fl.remaining_quantity + l.quantity).min(fl.total_quantity);
            }
            if fo.status == FulfillmentOrderStatus::InProgress
                && fo
                    .line_items
                    .iter()
                    .all(|x| x.remaining_quantity == x.total_quantity)
            {
                fo.status = FulfillmentOrderStatus::Open;
            }
        }
    }
    stored
        .order
        .fulfillment_orders
        .extend(reopened.into_iter().map(|(_, fo)| fo));
    derive(&mut stored.order);
    super::touched(stored, now);
    let stored = &*stored;
    Ok(stored
        .fulfillments
        .iter()
        .find(|f| f.id == id)
        .map(|f| view::fulfillment(f, stored))
        .unwrap_or(Value::Null))
}

/// `fulfillmentCancel(id:)`.
pub(super) fn mutation(shop: &mut ShopState, args: &Value, now: jiff::Timestamp) -> Value {
    let id = str_arg(args, "id").unwrap_or_default().to_owned();
    match cancel(shop, &id, true, now) {
        Ok(fulfillment) => json!({
            "__typename": "FulfillmentCancelPayload",
            "fulfillment": fulfillment,
            "userErrors": [],
        }),
        Err(refused) => json!({
            "__typename": "FulfillmentCancelPayload",
            "fulfillment": null,
            "userErrors": [{"__typename": "UserError", "field": ["id"], "message": refused.to_string()}],
        }),
    }
}
