//! The mutations orderflow sends, with Shopify's semantics as the schema's descriptions and
//! DESIGN.md state them. Each returns its payload as a JSON tree; a refused input changes nothing
//! and answers `userErrors` (with the schema's codes where the payload type has them).

use serde_json::{Value, json};

use super::state::{ShopState, StoredFulfillment, StoredMetafield, derive};
use super::view;
use crate::clock::Clock;
use crate::shopify::snapshot::{
    FulfillmentHold, FulfillmentOrder, FulfillmentOrderAction, FulfillmentOrderLineItem,
    FulfillmentOrderStatus, HoldReason,
};

/// Each app may keep this many holds on one fulfilment order.
pub const MAX_HOLDS_PER_APP: usize = 10;
/// `metafieldsSet` takes at most this many metafields.
pub const MAX_METAFIELDS_PER_SET: usize = 25;

/// Runs the mutation `field` with its (coerced) arguments; `None` if the sandbox lacks it.
pub fn apply(shop: &mut ShopState, field: &str, args: &Value, clock: &dyn Clock) -> Option<Value> {
    let _ = clock;
    Some(match field {
        "fulfillmentOrderHold" => hold(shop, args),
        "fulfillmentOrderReleaseHold" => release(shop, args),
        "fulfillmentCreate" => fulfill(shop, args),
        "tagsAdd" => tags(shop, args, true),
        "tagsRemove" => tags(shop, args, false),
        "metafieldsSet" => metafields_set(shop, args),
        _ => return None,
    })
}

fn user_error(field: &[&str], message: &str, code: Option<&str>) -> Value {
    json!({"field": field, "message": message, "code": code})
}

fn str_arg<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `[{id, quantity}]` from a `FulfillmentOrderLineItemInput` list.
fn line_quantities(v: Option<&Value>) -> Vec<(String, i64)> {
    v.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| Some((str_arg(i, "id")?.to_owned(), i.get("quantity")?.as_i64()?)))
                .collect()
        })
        .unwrap_or_default()
}

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
fn hold(shop: &mut ShopState, args: &Value) -> Value {
    let fo_id = str_arg(args, "id").unwrap_or_default().to_owned();
    let input = &args["fulfillmentHold"];
    let handle = str_arg(input, "handle").unwrap_or_default().to_owned();
    let reason = HoldReason::parse(str_arg(input, "reason").unwrap_or_default());
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
fn release(shop: &mut ShopState, args: &Value) -> Value {
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
    match &hold_ids {
        Some(ids) => fo.fulfillment_holds.retain(|h| !ids.contains(&h.id)),
        None => fo.fulfillment_holds.clear(),
    }
    if fo.fulfillment_holds.is_empty() && fo.status == FulfillmentOrderStatus::OnHold {
        fo.status = FulfillmentOrderStatus::Open;
    }
    derive(&mut stored.order);
    payload(shop, Vec::new(), Some(&fo_id))
}

/// `fulfillmentCreate`: only OPEN/IN_PROGRESS fulfilment orders that support CREATE_FULFILLMENT;
/// lowers `remainingQuantity`, never below zero; closes a fulfilment order with nothing left.
fn fulfill(shop: &mut ShopState, args: &Value) -> Value {
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
                match fo.line_items.iter().find(|l| &l.id == id) {
                    Some(l) if *qty > 0 && (*qty as u64) <= l.remaining_quantity as u64 => {
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
    let mut all_lines = Vec::new();
    for (fo_id, lines) in plan {
        if let Some(fo) = stored
            .order
            .fulfillment_orders
            .iter_mut()
            .find(|f| f.id == fo_id)
        {
            for (id, qty) in &lines {
                if let Some(l) = fo.line_items.iter_mut().find(|l| &l.id == id) {
                    l.remaining_quantity -= qty;
                }
            }
            fo.status = if fo.line_items.iter().all(|l| l.remaining_quantity == 0) {
                FulfillmentOrderStatus::Closed
            } else {
                FulfillmentOrderStatus::InProgress
            };
        }
        all_lines.extend(lines);
    }
    stored.fulfillments.push(StoredFulfillment {
        id: fulfillment_id.clone(),
        order_id: order_id.clone(),
        notify_customer,
        lines: all_lines.clone(),
    });
    derive(&mut stored.order);
    json!({
        "__typename": "FulfillmentCreatePayload",
        "fulfillment": {
            "__typename": "Fulfillment",
            "id": fulfillment_id,
            "status": "SUCCESS",
            "displayStatus": "FULFILLED",
            "totalQuantity": all_lines.iter().map(|(_, q)| q).sum::<u32>(),
            "name": order_id,
            "trackingInfo": [],
        },
        "userErrors": [],
    })
}

/// `tagsAdd` / `tagsRemove` on an order: idempotent.
fn tags(shop: &mut ShopState, args: &Value, add: bool) -> Value {
    let typename = if add {
        "TagsAddPayload"
    } else {
        "TagsRemovePayload"
    };
    let id = str_arg(args, "id").unwrap_or_default().to_owned();
    let tags: Vec<String> = args
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .flat_map(|t| t.split(','))
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let Some(stored) = shop.orders.get_mut(&id) else {
        return json!({
            "__typename": typename,
            "node": null,
            "userErrors": [{"__typename": "UserError", "field": ["id"], "message": "Resource not found."}],
        });
    };
    let order = &mut stored.order;
    if add {
        for tag in tags {
            if !order.tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                order.tags.push(tag);
            }
        }
    } else {
        order
            .tags
            .retain(|t| !tags.iter().any(|r| r.eq_ignore_ascii_case(t)));
    }
    json!({
        "__typename": typename,
        "node": {"__typename": "Order", "id": id},
        "userErrors": [],
    })
}

/// `metafieldsSet`: atomic upsert by (owner, namespace, key).
fn metafields_set(shop: &mut ShopState, args: &Value) -> Value {
    let inputs = args
        .get("metafields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut errors = Vec::new();
    if inputs.len() > MAX_METAFIELDS_PER_SET {
        errors.push(json!({"field": ["metafields"], "message": "Exceeded the maximum metafields input limit of 25.", "code": "LESS_THAN_OR_EQUAL_TO", "elementIndex": null}));
    }
    let namespace_of = |m: &Value| str_arg(m, "namespace").unwrap_or("$app").to_owned();
    for (i, m) in inputs.iter().enumerate() {
        let owner = str_arg(m, "ownerId").unwrap_or_default();
        let key = str_arg(m, "key").unwrap_or_default();
        let err = |field: &str, message: &str, code: &str| json!({"field": ["metafields", i.to_string(), field], "message": message, "code": code, "elementIndex": i});
        let Some(stored) = shop.orders.get(owner) else {
            errors.push(err("ownerId", "Owner does not exist.", "INVALID"));
            continue;
        };
        if str_arg(m, "value").unwrap_or_default().is_empty() {
            errors.push(err("value", "Value can't be blank.", "BLANK"));
        }
        if key.len() < 2 {
            errors.push(err(
                "key",
                "Key is too short (minimum is 2 characters).",
                "TOO_SHORT",
            ));
        }
        let exists = stored
            .metafields
            .iter()
            .any(|s| s.namespace == namespace_of(m) && s.key == key);
        if !exists && str_arg(m, "type").is_none() {
            errors.push(err("type", "Type can't be blank.", "BLANK"));
        }
    }
    if !errors.is_empty() {
        return json!({
            "__typename": "MetafieldsSetPayload",
            "metafields": null,
            "userErrors": errors.into_iter().map(|mut e| { e["__typename"] = json!("MetafieldsSetUserError"); e }).collect::<Vec<_>>(),
        });
    }
    let mut written = Vec::new();
    for m in &inputs {
        let owner = str_arg(m, "ownerId").unwrap_or_default().to_owned();
        let namespace = namespace_of(m);
        let key = str_arg(m, "key").unwrap_or_default().to_owned();
        let new_id = shop.new_gid("Metafield");
        let Some(stored) = shop.orders.get_mut(&owner) else {
            continue;
        };
        let value = str_arg(m, "value").unwrap_or_default().to_owned();
        let kind = str_arg(m, "type").map(str::to_owned);
        let entry = match stored
            .metafields
            .iter_mut()
            .find(|s| s.namespace == namespace && s.key == key)
        {
            Some(existing) => {
                existing.value = value;
                if let Some(kind) = kind {
                    existing.kind = kind;
                }
                existing.clone()
            }
            None => {
                let created = StoredMetafield {
                    id: new_id,
                    namespace,
                    key,
                    kind: kind.unwrap_or_default(),
                    value,
                };
                stored.metafields.push(created.clone());
                created
            }
        };
        written.push(view::metafield(&entry));
    }
    json!({"__typename": "MetafieldsSetPayload", "metafields": written, "userErrors": []})
}
