//! A person's fulfilment and a carrier's progress, behind orderflow's back: a merchant fulfils
//! an order in the admin (`fulfillmentCreate`'s semantics, absent from the mutation log, which
//! holds only what orderflow sends), and a carrier reports a fulfilment picked up, in transit or
//! delivered (`displayStatus`, `inTransitAt`, `deliveredAt`, `trackingInfo`). On the handle for
//! tests and on the control API for curl.
//!
//! Shopify's description of `fulfillmentCancel` sets no condition on where the parcel is, so
//! the sandbox cancels a shipped fulfilment too (its display status becomes `CANCELED`);
//! refusing shipped ones is orderflow's own choice (`orders cancel-fulfilments`).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::control::{bad_shop, not_found};
use super::state::{Shipment, derive};
use super::{Sandbox, Shared};
use crate::id::ShopDomain;
use crate::rules::enums::FulfillmentOrderAction;

impl Shared {
    fn fulfill_by_hand(&self, shop: &ShopDomain, order_gid: &str) -> Option<String> {
        let now = self.clock.now();
        let mut shops = self.lock_shops();
        let state = shops.get_mut(shop)?;
        let stored = state.orders.get(order_gid)?;
        let groups: Vec<_> = stored
            .order
            .fulfillment_orders
            .iter()
            .filter(|fo| fo.supports(FulfillmentOrderAction::CreateFulfillment))
            .filter(|fo| fo.line_items.iter().any(|l| l.remaining_quantity > 0))
            .map(|fo| json!({"fulfillmentOrderId": fo.id}))
            .collect();
        let args = json!({"fulfillment": {"lineItemsByFulfillmentOrder": groups, "notifyCustomer": false}});
        let answer = super::mutate::fulfill::fulfill(state, &args, now);
        answer["fulfillment"]["id"].as_str().map(str::to_owned)
    }

    fn ship_fulfillment(
        &self,
        shop: &ShopDomain,
        fulfillment_gid: &str,
        shipment: Shipment,
    ) -> bool {
        let mut shops = self.lock_shops();
        let Some(stored) = shops.get_mut(shop).and_then(|s| {
            s.orders
                .values_mut()
                .find(|o| o.fulfillments.iter().any(|f| f.id == fulfillment_gid))
        }) else {
            return false;
        };
        if let Some(f) = stored
            .fulfillments
            .iter_mut()
            .find(|f| f.id == fulfillment_gid)
        {
            f.shipment = Some(shipment);
        }
        derive(&mut stored.order);
        true
    }
}

impl Sandbox {
    /// A person fulfils everything that remains of the order in the admin; the new
    /// fulfilment's GID, `None` for an unknown order or nothing to fulfil.
    pub fn fulfill_by_hand(&self, shop: &ShopDomain, order_gid: &str) -> Option<String> {
        self.shared.fulfill_by_hand(shop, order_gid)
    }

    /// The carrier reports `shipment` for a fulfilment; whether it exists.
    pub fn ship_fulfillment(
        &self,
        shop: &ShopDomain,
        fulfillment_gid: &str,
        shipment: Shipment,
    ) -> bool {
        self.shared
            .ship_fulfillment(shop, fulfillment_gid, shipment)
    }
}

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sandbox/shops/{shop}/orders/{id}/fulfill", post(fulfill))
        .route(
            "/_sandbox/shops/{shop}/fulfillments/{id}/shipment",
            post(ship),
        )
}

/// A person fulfils the order: 200 with the fulfilment's id, 404 when there is nothing to fulfil.
async fn fulfill(State(s): State<Arc<Shared>>, Path((raw, id)): Path<(String, u64)>) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    match s.fulfill_by_hand(&domain, &format!("gid://shopify/Order/{id}")) {
        Some(id) => Json(json!({"fulfillment": id})).into_response(),
        None => not_found("order with something to fulfil"),
    }
}

/// The carrier's report (`{"displayStatus": "IN_TRANSIT", "inTransitAt": "…", "trackingNumber": "…"}`): 204, 404 unknown.
async fn ship(
    State(s): State<Arc<Shared>>,
    Path((raw, id)): Path<(String, u64)>,
    Json(body): Json<Shipment>,
) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    if s.ship_fulfillment(&domain, &format!("gid://shopify/Fulfillment/{id}"), body) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found("fulfillment")
    }
}
