//! The stored entities as GraphQL-shaped JSON trees (`__typename` on every object), which the
//! executor walks. Connections are stored as full arrays; the executor pages them.

use serde_json::{Value, json};

use super::state::{ShopState, StoredFulfillment, StoredOrder};
use crate::rules::enums::FulfillmentStatus;
use crate::shopify::ops::Metafield;
use crate::shopify::snapshot::{
    FulfillmentHold, FulfillmentOrder, LineItem, OrderSnapshot, Transaction,
};

/// An order and everything under it.
pub fn order(stored: &StoredOrder) -> Value {
    let o = &stored.order;
    let money = &o.total_price_set.shop_money;
    let money = json!({
        "__typename": "MoneyV2",
        "amount": money.amount.to_string(),
        "currencyCode": money.currency_code,
    });
    json!({
        "__typename": "Order",
        "id": o.id,
        "legacyResourceId": o.id.rsplit('/').next().unwrap_or_default(),
        "name": o.name,
        "tags": o.tags,
        "cancelledAt": o.cancelled_at,
        "closed": o.closed,
        "closedAt": o.closed_at,
        "test": o.test,
        "displayFinancialStatus": o.display_financial_status,
        "displayFulfillmentStatus": o.display_fulfillment_status,
        "processedAt": o.processed_at,
        "createdAt": o.created_at,
        "updatedAt": stored.updated_at,
        "totalPriceSet": {"__typename": "MoneyBag", "shopMoney": money, "presentmentMoney": money},
        "sourceName": o.source_name,
        "requiresShipping": o.line_items.iter().any(|l| l.requires_shipping),
        "shippingAddress": o.shipping_address.as_ref().map(|a| json!({
            "__typename": "MailingAddress",
            "countryCodeV2": a.country_code_v2,
        })),
        "risk": {
            "__typename": "OrderRiskSummary",
            "recommendation": o.risk.recommendation,
            "assessments": o.risk.assessments.iter().map(|a| json!({
                "__typename": "OrderRiskAssessment",
                "riskLevel": a.risk_level,
                "facts": [],
                "provider": null,
            })).collect::<Vec<_>>(),
        },
        "__metafields": stored.metafields.iter().map(metafield).collect::<Vec<_>>(),
        "currencyCode": shop_currency(o),
        "presentmentCurrencyCode": presentment_currency(o),
        "transactions": o.transactions.iter().map(|t| transaction(t, o)).collect::<Vec<_>>(),
        "lineItems": o.line_items.iter().map(line_item).collect::<Vec<_>>(),
        "fulfillmentOrders": o.fulfillment_orders.iter().map(|fo| fulfillment_order(fo, stored)).collect::<Vec<_>>(),
        "fulfillments": stored.fulfillments.iter().map(|f| fulfillment(f, stored)).collect::<Vec<_>>(),
    })
}

fn shop_currency(o: &OrderSnapshot) -> String {
    o.currency_code
        .clone()
        .unwrap_or_else(|| o.total_price_set.shop_money.currency_code.clone())
}

fn presentment_currency(o: &OrderSnapshot) -> String {
    o.presentment_currency_code
        .clone()
        .unwrap_or_else(|| shop_currency(o))
}

/// A transaction with its parent. The sandbox keeps only the presentment amount; `shopMoney`
/// shows the same amount in the shop's currency (it knows no exchange rate).
pub fn transaction(t: &Transaction, o: &OrderSnapshot) -> Value {
    let amount = t
        .amount_set
        .as_ref()
        .map(|a| a.presentment_money.amount)
        .unwrap_or_default()
        .to_string();
    let money = |currency: String| json!({"__typename": "MoneyV2", "amount": amount, "currencyCode": currency});
    let parent = t.parent_transaction.as_ref().map(|p| {
        let of = o
            .transactions
            .iter()
            .find(|x| x.id.as_deref() == Some(p.id.as_str()));
        json!({
            "__typename": "OrderTransaction",
            "id": p.id,
            "kind": of.map(|x| x.kind.clone()),
            "status": of.map(|x| x.status.clone()),
        })
    });
    json!({
        "__typename": "OrderTransaction",
        "id": t.id,
        "kind": t.kind,
        "status": t.status,
        "processedAt": t.processed_at,
        "createdAt": t.processed_at,
        "amountSet": {
            "__typename": "MoneyBag",
            "shopMoney": money(shop_currency(o)),
            "presentmentMoney": money(presentment_currency(o)),
        },
        "authorizationExpiresAt": t.authorization_expires_at,
        "parentTransaction": parent,
        "multiCapturable": t.multi_capturable,
        "manuallyCapturable": t.kind == "AUTHORIZATION" && t.status == "SUCCESS",
        "test": o.test,
    })
}

/// A fulfilment, cancelled or not, with its lines.
pub fn fulfillment(f: &StoredFulfillment, stored: &StoredOrder) -> Value {
    let o = &stored.order;
    let cancelled = f.status == FulfillmentStatus::Cancelled;
    json!({
        "__typename": "Fulfillment",
        "id": f.id,
        "legacyResourceId": f.id.rsplit('/').next().unwrap_or_default(),
        "name": format!("{}-F", o.name),
        "status": f.status,
        "displayStatus": match (&f.shipment, cancelled) {
            (_, true) => json!("CANCELED"),
            (Some(s), false) => json!(s.display_status),
            (None, false) => json!("FULFILLED"),
        },
        "inTransitAt": f.shipment.as_ref().and_then(|s| s.in_transit_at),
        "deliveredAt": f.shipment.as_ref().and_then(|s| s.delivered_at),
        "createdAt": f.created_at,
        "updatedAt": f.cancelled_at.unwrap_or(f.created_at),
        "requiresShipping": true,
        "totalQuantity": f.lines.iter().map(|l| l.quantity).sum::<u32>(),
        "trackingInfo": f.shipment.iter()
            .filter(|s| s.tracking_number.is_some())
            .map(|s| json!({
                "__typename": "FulfillmentTrackingInfo",
                "company": s.tracking_company,
                "number": s.tracking_number,
                "url": null,
            }))
            .collect::<Vec<_>>(),
        // The fulfilment orders it fulfilled, each once, in line order (id only: what a
        // fulfilment's `fulfillmentOrders` is read for).
        "fulfillmentOrders": f.lines.iter().fold(Vec::<&str>::new(), |mut ids, l| {
            if !ids.contains(&l.fulfillment_order.as_str()) {
                ids.push(&l.fulfillment_order);
            }
            ids
        }).into_iter().map(|id| json!({"__typename": "FulfillmentOrder", "id": id})).collect::<Vec<_>>(),
        "fulfillmentLineItems": f.lines.iter().enumerate().map(|(i, l)| json!({
            "__typename": "FulfillmentLineItem",
            "id": format!("gid://shopify/FulfillmentLineItem/{}{i}", f.id.rsplit('/').next().unwrap_or_default()),
            "quantity": l.quantity,
            "lineItem": o.line_item(&l.line_item).map(line_item)
                .unwrap_or_else(|| json!({"__typename": "LineItem", "id": l.line_item})),
        })).collect::<Vec<_>>(),
        "order": {"__typename": "Order", "id": o.id, "name": o.name, "updatedAt": stored.updated_at},
    })
}

pub fn metafield(m: &Metafield) -> Value {
    json!({
        "__typename": "Metafield",
        "id": m.id,
        "namespace": m.namespace,
        "key": m.key,
        "type": m.kind,
        "value": m.value,
    })
}

pub fn line_item(l: &LineItem) -> Value {
    json!({
        "__typename": "LineItem",
        "id": l.id,
        "sku": l.sku,
        "vendor": l.vendor,
        "quantity": l.quantity,
        "currentQuantity": l.quantity,
        "requiresShipping": l.requires_shipping,
        "isGiftCard": l.is_gift_card,
        "name": l.name.clone().or_else(|| l.sku.clone()).unwrap_or_default(),
        "title": l.sku.clone().unwrap_or_default(),
        "product": l.product.as_ref().map(|p| json!({"__typename": "Product", "tags": p.tags})),
        "sellingPlan": l.selling_plan.as_ref().map(|p| json!({
            "__typename": "LineItemSellingPlan",
            "sellingPlanId": p.selling_plan_id,
            "name": p.category.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        })),
    })
}

pub fn hold(h: &FulfillmentHold) -> Value {
    json!({
        "__typename": "FulfillmentHold",
        "id": h.id,
        "handle": h.handle,
        "reason": h.reason,
        "reasonNotes": h.reason_notes,
        "displayReason": h.reason.as_str(),
        "heldByRequestingApp": h.held_by_requesting_app,
    })
}

pub fn fulfillment_order(fo: &FulfillmentOrder, stored: &StoredOrder) -> Value {
    let o = &stored.order;
    json!({
        "__typename": "FulfillmentOrder",
        "id": fo.id,
        "status": fo.status,
        "requestStatus": fo.request_status,
        "deliveryMethod": fo.delivery_method.as_ref().map(|d| json!({
            "__typename": "DeliveryMethod",
            "id": format!("{}/DeliveryMethod", fo.id),
            "methodType": d.method_type,
        })),
        "fulfillAt": fo.fulfill_at,
        "fulfillBy": fo.fulfill_by,
        "fulfillmentHolds": fo.fulfillment_holds.iter().map(hold).collect::<Vec<_>>(),
        "supportedActions": fo.supported_actions.iter().map(|a| json!({
            "__typename": "FulfillmentOrderSupportedAction",
            "action": a.action,
            "externalUrl": null,
        })).collect::<Vec<_>>(),
        "lineItems": fo.line_items.iter().map(|l| {
            let line = o.line_item(&l.line_item.id).map(line_item)
                .unwrap_or_else(|| json!({"__typename": "LineItem", "id": l.line_item.id}));
            json!({
                "__typename": "FulfillmentOrderLineItem",
                "id": l.id,
                "totalQuantity": l.total_quantity,
                "remainingQuantity": l.remaining_quantity,
                "lineItem": line,
            })
        }).collect::<Vec<_>>(),
        "orderId": o.id,
        "orderName": o.name,
        "orderProcessedAt": o.processed_at,
        "order": {"__typename": "Order", "id": o.id, "name": o.name, "updatedAt": stored.updated_at},
    })
}

/// Any object with an id, as the `node`/`nodes` root fields find it.
pub fn node(shop: &ShopState, id: &str) -> Option<Value> {
    let kind = id.strip_prefix("gid://shopify/")?.split('/').next()?;
    match kind {
        "Order" => shop.orders.get(id).map(order),
        "FulfillmentOrder" => {
            let stored = shop.order_of_fulfillment_order(id)?;
            let fo = stored
                .order
                .fulfillment_orders
                .iter()
                .find(|fo| fo.id == id)?;
            Some(fulfillment_order(fo, stored))
        }
        "Fulfillment" => shop.orders.values().find_map(|o| {
            o.fulfillments
                .iter()
                .find(|f| f.id == id)
                .map(|f| fulfillment(f, o))
        }),
        "LineItem" => shop
            .orders
            .values()
            .find_map(|o| o.order.line_item(id))
            .map(line_item),
        "FulfillmentHold" => shop.orders.values().find_map(|o| {
            o.order
                .fulfillment_orders
                .iter()
                .flat_map(|fo| &fo.fulfillment_holds)
                .find(|h| h.id == id)
                .map(hold)
        }),
        "SellingPlan" => shop.orders.values().find_map(|o| {
            o.order.line_items.iter().find_map(|l| {
                let plan = l.selling_plan.as_ref()?;
                (plan.selling_plan_id.as_deref() == Some(id)).then(|| {
                    json!({
                        "__typename": "SellingPlan",
                        "id": id,
                        "category": plan.category,
                        "name": plan.category.map(|c| c.as_str().to_owned()).unwrap_or_default(),
                    })
                })
            })
        }),
        "Metafield" => shop
            .orders
            .values()
            .find_map(|o| o.metafields.iter().find(|m| m.id == id).map(metafield)),
        _ => None,
    }
}
