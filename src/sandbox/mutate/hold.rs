//! `fulfillmentOrderHold` and `fulfillmentOrderReleaseHold`.

use serde_json::{Value, json};

use super::{MAX_HOLDS_PER_APP, line_quantities, str_arg, user_error};
use crate::rules::enums::{FulfillmentHoldReason, FulfillmentOrderAction, FulfillmentOrderStatus};
use crate::sandbox::state::{ShopState, derive};
use crate::sandbox::view;
use crate::shopify::snapshot::{FulfillmentHold, FulfillmentOrder, FulfillmentOrderLineItem};

fn hold_payload(
    shop: &ShopState,
    errors: Vec<Value>,
    hold: Option<&FulfillmentHold>,
    fo_id: Option<&str>,
    remaining_id: Option<&str>,
) -> Value {
    let fo = |id: Option<&str>| id.and_then(|id| view::node(shop, id));
    json!({
        "__typename": "FulfillmentOrderHoldPayload",
        "fulfillmentHold": hold.map(view::hold),
        "fulfillmentOrder": fo(fo_id),
        "remainingFulfillmentOrder": fo(remaining_id),
        "userErrors": errors.into_iter().map(|mut e| { e["__typename"] = json!("FulfillmentOrderHoldUserError"); e }).collect::<Vec<_>>(),
    })
}

/// `fulfillmentOrderHold`: the fulfilment order goes ON_HOLD; holding some lines splits it.
pub(super) fn hold(shop: &mut ShopState, args: &Value, now: jiff::Timestamp) -> Value {
    let fo_id = str_arg(args, "id").unwrap_or_default().to_owned();
    let input = &args["fulfillmentHold"];
    let handle = str_arg(input, "handle").unwrap_or_default().to_owned();
    // Read as Shopify's answers are: a value this build cannot name is kept as `UNKNOWN`.
    let reason = FulfillmentHoldReason::parse(str_arg(input, "reason").unwrap_or_default())
        .unwrap_or(FulfillmentHoldReason::Unknown);
    let reason_notes = str_arg(input, "reasonNotes").map(str::to_owned);
    let lines = line_quantities(input.get("fulfillmentOrderLineItems"));
    let refuse = |shop: &ShopState, field: &[&str], message: &str, code: &str| {
        hold_payload(
            shop,
            vec![user_error(field, message, Some(code))],
            None,
            None,
            None,
        )
    };

    let Some(fo) = shop
        .order_of_fulfillment_order(&fo_id)
        .and_then(|o| o.order.fulfillment_orders.iter().find(|f| f.id == fo_id))
        .cloned()
    else {
        return refuse(
            shop,
            &["id"],
            "Fulfillment order does not exist.",
            "FULFILLMENT_ORDER_NOT_FOUND",
        );
    };
    if !fo.supports(FulfillmentOrderAction::Hold) {
        let message = format!(
            "The fulfillment order's status ({}) does not allow a hold.",
            fo.status
        );
        return hold_payload(
            shop,
            vec![user_error(&["id"], &message, None)],
            None,
            None,
            None,
        );
    }
    let ours: Vec<&FulfillmentHold> = fo
        .fulfillment_holds
        .iter()
        .filter(|h| h.held_by_requesting_app)
        .collect();
    if !handle.is_empty()
        && ours
            .iter()
            .any(|h| h.handle.as_deref() == Some(handle.as_str()))
    {
        return refuse(
            shop,
            &["fulfillmentHold", "handle"],
            "The handle provided for the fulfillment hold is already in use by this app for another hold on this fulfillment order.",
            "DUPLICATE_FULFILLMENT_HOLD_HANDLE",
        );
    }
    if ours.len() >= MAX_HOLDS_PER_APP {
        return refuse(
            shop,
            &["id"],
            "The maximum number of fulfillment holds for this fulfillment order has been reached for this app. An app can only have up to 10 holds on a single fulfillment order at any one time.",
            "FULFILLMENT_ORDER_HOLD_LIMIT_REACHED",
        );
    }
    // Partial hold: validate the lines, then decide whether it splits.
    let mut held: Vec<(String, u32)> = Vec::new();
    for (i, (id, qty)) in lines.iter().enumerate() {
        let index = i.to_string();
        let field = [
            "fulfillmentHold",
            "fulfillmentOrderLineItems",
            index.as_str(),
            "quantity",
        ];
        if held.iter().any(|(h, _)| h == id) {
            return refuse(
                shop,
                &field[..3],
                "Fulfillment order line items must be unique.",
                "DUPLICATED_FULFILLMENT_ORDER_LINE_ITEMS",
            );
        }
        if *qty <= 0 {
            return refuse(
                shop,
                &field,
                "Quantity must be greater than zero.",
                "GREATER_THAN_ZERO",
            );
        }
        match fo.line_items.iter().find(|l| &l.id == id) {
            Some(l) if (*qty as u64) <= l.remaining_quantity as u64 => {
                held.push((id.clone(), *qty as u32))
            }
            _ => {
                return refuse(
                    shop,
                    &field,
                    "The line item quantity is invalid.",
                    "INVALID_LINE_ITEM_QUANTITY",
                );
            }
        }
    }
    let whole = held.is_empty()
        || fo.line_items.iter().all(|l| {
            l.remaining_quantity == 0
                || held
                    .iter()
                    .any(|(id, q)| id == &l.id && *q == l.remaining_quantity)
        });
    if !whole && fo.status != FulfillmentOrderStatus::Open {
        return refuse(
            shop,
            &["id"],
            "The fulfillment order cannot be split.",
            "FULFILLMENT_ORDER_NOT_SPLITTABLE",
        );
    }

    let hold_id = shop.new_gid("FulfillmentHold");
    let remaining_id = (!whole).then(|| shop.new_gid("FulfillmentOrder"));
    let mut fresh_line_ids: Vec<String> = Vec::new();
    if !whole {
        for _ in 0..fo.line_items.len() {
            fresh_line_ids.push(shop.new_gid("FulfillmentOrderLineItem"));
        }
    }
    let hold = FulfillmentHold {
        id: hold_id,
        handle: (!handle.is_empty()).then_some(handle),
        reason,
        reason_notes,
        held_by_requesting_app: true,
    };
    let Some(stored) = shop.order_of_fulfillment_order_mut(&fo_id) else {
        return refuse(
            shop,
            &["id"],
            "Fulfillment order does not exist.",
            "FULFILLMENT_ORDER_NOT_FOUND",
        );
    };
    let Some(index) = stored
        .order
        .fulfillment_orders
        .iter()
        .position(|f| f.id == fo_id)
    else {
        return refuse(
            shop,
            &["id"],
            "Fulfillment order does not exist.",
            "FULFILLMENT_ORDER_NOT_FOUND",
        );
    };
    if let Some(remaining_id) = &remaining_id {
        let fo = &mut stored.order.fulfillment_orders[index];
        let mut rest = Vec::new();
        for (line, fresh_id) in fo.line_items.iter_mut().zip(&fresh_line_ids) {
            let kept = held
                .iter()
                .find(|(id, _)| id == &line.id)
                .map_or(0, |(_, q)| *q);
            let moved = line.remaining_quantity - kept;
            if moved > 0 {
                rest.push(FulfillmentOrderLineItem {
                    id: fresh_id.clone(),
                    total_quantity: moved,
                    remaining_quantity: moved,
                    line_item: line.line_item.clone(),
                });
            }
            line.total_quantity -= moved;
            line.remaining_quantity = kept;
        }
        fo.line_items.retain(|l| l.total_quantity > 0);
        let remaining = FulfillmentOrder {
            id: remaining_id.clone(),
            status: FulfillmentOrderStatus::Open,
            request_status: fo.request_status,
            delivery_method: fo.delivery_method.clone(),
            fulfill_at: fo.fulfill_at,
            // A split keeps the deadline of the fulfilment order it came from.
            fulfill_by: fo.fulfill_by,
            fulfillment_holds: Vec::new(),
            supported_actions: Vec::new(),
            line_items: rest,
        };
        stored.order.fulfillment_orders.insert(index + 1, remaining);
    }
    let fo = &mut stored.order.fulfillment_orders[index];
    fo.fulfillment_holds.push(hold.clone());
    fo.status = FulfillmentOrderStatus::OnHold;
    derive(&mut stored.order);
    super::touched(stored, now);
    hold_payload(
        shop,
        Vec::new(),
        Some(&hold),
        Some(&fo_id),
        remaining_id.as_deref(),
    )
}

/// `fulfillmentOrderReleaseHold`: releases the listed holds (all of them without `holdIds`);
/// the fulfilment order reopens when its last hold goes.
pub(super) fn release(shop: &mut ShopState, args: &Value, now: jiff::Timestamp) -> Value {
    let fo_id = str_arg(args, "id").unwrap_or_default().to_owned();
    let hold_ids: Option<Vec<String>> = args.get("holdIds").and_then(Value::as_array).map(|ids| {
        ids.iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    });
    let payload = |shop: &ShopState, errors: Vec<Value>, fo: Option<&str>| {
        json!({
            "__typename": "FulfillmentOrderReleaseHoldPayload",
            "fulfillmentOrder": fo.and_then(|id| view::node(shop, id)),
            "userErrors": errors.into_iter().map(|mut e| { e["__typename"] = json!("FulfillmentOrderReleaseHoldUserError"); e }).collect::<Vec<_>>(),
        })
    };
    let Some(stored) = shop.order_of_fulfillment_order_mut(&fo_id) else {
        let e = user_error(
            &["id"],
            "Fulfillment order does not exist.",
            Some("FULFILLMENT_ORDER_NOT_FOUND"),
        );
        return payload(shop, vec![e], None);
    };
    let Some(fo) = stored
        .order
        .fulfillment_orders
        .iter_mut()
        .find(|f| f.id == fo_id)
    else {
        return payload(shop, Vec::new(), None);
    };
    if let Some(ids) = &hold_ids
        && let Some(unknown) = ids
            .iter()
            .find(|id| !fo.fulfillment_holds.iter().any(|h| &h.id == *id))
    {
        let message =
            format!("Fulfillment hold {unknown} does not exist on this fulfillment order.");
        let e = user_error(&["holdIds"], &message, None);
        return payload(shop, vec![e], Some(&fo_id));
    }
    // Shopify refuses to let an app release a hold another app or a person placed.
    if let Some(ids) = &hold_ids
        && let Some(foreign) = fo
            .fulfillment_holds
            .iter()
            .find(|h| ids.contains(&h.id) && !h.held_by_requesting_app)
    {
        let message = format!(
            "The app doesn't have access to release the fulfillment hold {}.",
            foreign.id
        );
        let e = user_error(&["holdIds"], &message, Some("INVALID_ACCESS"));
        return payload(shop, vec![e], Some(&fo_id));
    }
    match &hold_ids {
        Some(ids) => fo.fulfillment_holds.retain(|h| !ids.contains(&h.id)),
        None => fo.fulfillment_holds.clear(),
    }
    if fo.fulfillment_holds.is_empty() && fo.status == FulfillmentOrderStatus::OnHold {
        fo.status = FulfillmentOrderStatus::Open;
    }
    derive(&mut stored.order);
    super::touched(stored, now);
    payload(shop, Vec::new(), Some(&fo_id))
}
