//! `fulfillmentOrdersSetFulfillmentDeadline`, `orderClose` and `orderOpen`, as the Admin API
//! 2026-10 schema and Shopify's reference describe them:
//!
//! - the deadline mutation "sets the latest date and time by which the fulfillment orders need
//!   to be fulfilled" (`FulfillmentOrder.fulfillBy`) on every listed fulfilment order and answers
//!   `success`; its only error code is `FULFILLMENT_ORDERS_NOT_FOUND`, so an unknown id refuses
//!   the whole call and changes nothing;
//! - `orderClose` marks an open order closed ("no further work is required") and sets
//!   `closedAt`; `orderOpen` "opens a closed order" (`closed` false, `closedAt` null). Both
//!   answer the order; an unknown id is a `UserError` on `id`. Closing a closed order or opening
//!   an open one changes nothing (the reference names no refusal for it).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{str_arg, user_error};
use crate::sandbox::state::ShopState;

pub(super) fn set_deadline(shop: &mut ShopState, args: &Value, now: Timestamp) -> Value {
    let ids: Vec<String> = args
        .get("fulfillmentOrderIds")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let deadline = str_arg(args, "fulfillmentDeadline").and_then(|s| s.parse::<Timestamp>().ok());
    let refuse = |message: &str, field: &str| {
        json!({
            "__typename": "FulfillmentOrdersSetFulfillmentDeadlinePayload",
            "success": false,
            "userErrors": [user_error(&[field], message, Some("FULFILLMENT_ORDERS_NOT_FOUND"))],
        })
    };
    let Some(deadline) = deadline else {
        return refuse("Fulfillment deadline is invalid.", "fulfillmentDeadline");
    };
    if ids.is_empty()
        || ids
            .iter()
            .any(|id| shop.order_of_fulfillment_order(id).is_none())
    {
        return refuse(
            "Fulfillment orders could not be found.",
            "fulfillmentOrderIds",
        );
    }
    for id in &ids {
        if let Some(stored) = shop.order_of_fulfillment_order_mut(id)
            && let Some(fo) = stored
                .order
                .fulfillment_orders
                .iter_mut()
                .find(|fo| fo.id == *id)
        {
            fo.fulfill_by = Some(deadline);
            super::touched(stored, now);
        }
    }
    json!({
        "__typename": "FulfillmentOrdersSetFulfillmentDeadlinePayload",
        "success": true,
        "userErrors": [],
    })
}

/// `orderClose` (`close`) or `orderOpen`, by `input.id`.
pub(super) fn close_or_open(
    shop: &mut ShopState,
    args: &Value,
    close: bool,
    now: Timestamp,
) -> Value {
    let typename = if close {
        "OrderClosePayload"
    } else {
        "OrderOpenPayload"
    };
    let id = args
        .get("input")
        .and_then(|i| str_arg(i, "id"))
        .unwrap_or_default()
        .to_owned();
    let Some(stored) = shop.orders.get_mut(&id) else {
        return json!({
            "__typename": typename,
            "order": null,
            "userErrors": [user_error(&["input", "id"], "Order does not exist", None)],
        });
    };
    set_closed(&mut stored.order, close, now);
    stored.updated_at = now;
    json!({
        "__typename": typename,
        "order": crate::sandbox::view::order(stored),
        "userErrors": [],
    })
}

/// Closes (keeping the first `closedAt`) or opens an order.
pub(crate) fn set_closed(
    order: &mut crate::shopify::snapshot::OrderSnapshot,
    close: bool,
    now: Timestamp,
) {
    if close {
        if !order.closed {
            order.closed = true;
            order.closed_at = Some(now);
        }
    } else {
        order.closed = false;
        order.closed_at = None;
    }
}
