//! What a merchant (or another app) does to the shop behind orderflow's back: new orders, risk
//! changes, holds placed and released by hand, fulfilments cancelled in the admin. Used by the [`super::Sandbox`] handle and the
//! control API.

use secrecy::SecretString;

use super::mutate::cancel::CancelRefused;
use super::state::{ShopState, StoredFulfillment, derive};
use super::{Sandbox, Shared};
use crate::id::ShopDomain;
use crate::rules::enums::{
    FulfillmentHoldReason, FulfillmentOrderStatus, RiskLevel, RiskRecommendation,
};
use crate::shopify::snapshot::{FulfillmentHold, OrderSnapshot, RiskAssessment};

impl Shared {
    pub(super) fn insert_order(&self, shop: &ShopDomain, order: OrderSnapshot) {
        let mut shops = self.lock_shops();
        let state = shops
            .entry(shop.clone())
            .or_insert_with(|| ShopState::new(shop.clone(), SecretString::from(String::new())));
        state.insert(order);
    }

    pub(super) fn order(&self, shop: &ShopDomain, order_gid: &str) -> Option<OrderSnapshot> {
        self.lock_shops()
            .get(shop)?
            .orders
            .get(order_gid)
            .map(|o| o.snapshot())
    }

    pub(super) fn set_risk(
        &self,
        shop: &ShopDomain,
        order_gid: &str,
        recommendation: RiskRecommendation,
        levels: &[RiskLevel],
    ) -> bool {
        let mut shops = self.lock_shops();
        let Some(stored) = shops
            .get_mut(shop)
            .and_then(|s| s.orders.get_mut(order_gid))
        else {
            return false;
        };
        stored.order.risk.recommendation = recommendation;
        stored.order.risk.assessments = levels
            .iter()
            .map(|&risk_level| RiskAssessment { risk_level })
            .collect();
        super::mutate::touched(stored, self.clock.now());
        true
    }

    pub(super) fn release_by_hand(
        &self,
        shop: &ShopDomain,
        fo_id: &str,
        hold_ids: Option<&[String]>,
    ) -> bool {
        let mut shops = self.lock_shops();
        let Some(stored) = shops
            .get_mut(shop)
            .and_then(|s| s.order_of_fulfillment_order_mut(fo_id))
        else {
            return false;
        };
        if let Some(fo) = stored
            .order
            .fulfillment_orders
            .iter_mut()
            .find(|f| f.id == fo_id)
        {
            match hold_ids {
                Some(ids) => fo.fulfillment_holds.retain(|h| !ids.contains(&h.id)),
                None => fo.fulfillment_holds.clear(),
            }
            if fo.fulfillment_holds.is_empty() && fo.status == FulfillmentOrderStatus::OnHold {
                fo.status = FulfillmentOrderStatus::Open;
            }
        }
        derive(&mut stored.order);
        super::mutate::touched(stored, self.clock.now());
        true
    }

    pub(super) fn hold_by_hand(
        &self,
        shop: &ShopDomain,
        fo_id: &str,
        reason: FulfillmentHoldReason,
        handle: Option<&str>,
    ) -> Option<String> {
        let mut shops = self.lock_shops();
        let state = shops.get_mut(shop)?;
        let id = state.new_gid("FulfillmentHold");
        let stored = state.order_of_fulfillment_order_mut(fo_id)?;
        let fo = stored
            .order
            .fulfillment_orders
            .iter_mut()
            .find(|f| f.id == fo_id)?;
        fo.fulfillment_holds.push(FulfillmentHold {
            id: id.clone(),
            handle: handle.map(str::to_owned),
            reason,
            reason_notes: Some("held by the merchant".to_owned()),
            held_by_requesting_app: false,
        });
        fo.status = FulfillmentOrderStatus::OnHold;
        derive(&mut stored.order);
        super::mutate::touched(stored, self.clock.now());
        Some(id)
    }
}

impl Shared {
    /// The shop's shop-specific subscriptions (`WebhookSubscription` JSON), `None` without it.
    pub(super) fn webhook_subscriptions(
        &self,
        shop: &ShopDomain,
    ) -> Option<Vec<serde_json::Value>> {
        Some(self.lock_shops().get(shop)?.webhook_subscriptions.clone())
    }

    /// Removes the subscriptions `drop` picks; how many went.
    pub(super) fn drop_webhook_subscriptions(
        &self,
        shop: &ShopDomain,
        drop: impl Fn(&serde_json::Value) -> bool,
    ) -> usize {
        let mut shops = self.lock_shops();
        let Some(s) = shops.get_mut(shop) else {
            return 0;
        };
        let before = s.webhook_subscriptions.len();
        s.webhook_subscriptions.retain(|sub| !drop(sub));
        before - s.webhook_subscriptions.len()
    }

    pub(super) fn touch_order(
        &self,
        shop: &ShopDomain,
        order_gid: &str,
        at: jiff::Timestamp,
    ) -> bool {
        match self
            .lock_shops()
            .get_mut(shop)
            .and_then(|s| s.orders.get_mut(order_gid))
        {
            Some(order) => {
                order.updated_at = at;
                true
            }
            None => false,
        }
    }

    /// A person reopens a closed order in the admin (`orderOpen`); whether the order exists.
    pub(super) fn reopen_order(&self, shop: &ShopDomain, order_gid: &str) -> bool {
        let now = self.clock.now();
        match self
            .lock_shops()
            .get_mut(shop)
            .and_then(|s| s.orders.get_mut(order_gid))
        {
            Some(stored) => {
                super::mutate::close::set_closed(&mut stored.order, false, now);
                stored.updated_at = now;
                true
            }
            None => false,
        }
    }

    /// A person cancels fulfilment `id` in the admin, restocking its items or not (Shopify's
    /// semantics: [`super::mutate::cancel`]).
    pub(super) fn cancel_fulfillment(
        &self,
        shop: &ShopDomain,
        id: &str,
        restock: bool,
    ) -> Result<(), CancelRefused> {
        let now = self.clock.now();
        let mut shops = self.lock_shops();
        let state = shops
            .get_mut(shop)
            .ok_or_else(|| CancelRefused::NotFound(id.to_owned()))?;
        super::mutate::cancel::cancel(state, id, restock, now).map(|_| ())
    }

    pub(super) fn fulfillments(
        &self,
        shop: &ShopDomain,
        order_gid: &str,
    ) -> Vec<StoredFulfillment> {
        self.lock_shops()
            .get(shop)
            .and_then(|s| s.orders.get(order_gid))
            .map(|o| o.fulfillments.clone())
            .unwrap_or_default()
    }
}

/// The same, on the [`Sandbox`] handle: what tests use to act behind orderflow's back.
impl Sandbox {
    /// A merchant edits an order in the admin and its webhook is lost: the order's `updatedAt`
    /// becomes `at`, and nothing is delivered. Returns whether the order exists.
    pub fn touch_order(&self, shop: &ShopDomain, order_gid: &str, at: jiff::Timestamp) -> bool {
        self.shared.touch_order(shop, order_gid, at)
    }

    /// A person reopens a closed order in the admin, as `orderOpen` does; whether it exists.
    pub fn reopen_order(&self, shop: &ShopDomain, order_gid: &str) -> bool {
        self.shared.reopen_order(shop, order_gid)
    }

    /// The shop's shop-specific subscriptions, oldest first (`id`, `topic`, `uri`, ...).
    pub fn webhook_subscriptions(&self, shop: &ShopDomain) -> Vec<serde_json::Value> {
        self.shared.webhook_subscriptions(shop).unwrap_or_default()
    }

    /// Shopify deletes a subscription after 8 consecutive failed deliveries: this deletes the
    /// shop's subscriptions to `topic` (the enum value, e.g. `ORDERS_PAID`), without telling
    /// the app. Returns how many there were.
    pub fn drop_webhook_subscription(&self, shop: &ShopDomain, topic: &str) -> usize {
        self.shared.drop_webhook_subscriptions(shop, |s| {
            s.get("topic").and_then(serde_json::Value::as_str) == Some(topic)
        })
    }

    /// The same for one subscription by its GID; whether it existed.
    pub fn drop_webhook_subscription_id(&self, shop: &ShopDomain, gid: &str) -> bool {
        self.shared.drop_webhook_subscriptions(shop, |s| {
            s.get("id").and_then(serde_json::Value::as_str) == Some(gid)
        }) > 0
    }

    /// A person cancels a fulfilment in the admin (`restock`: its items go back to stock).
    /// Refused for an unknown or already cancelled fulfilment.
    pub fn cancel_fulfillment(
        &self,
        shop: &ShopDomain,
        fulfillment_gid: &str,
        restock: bool,
    ) -> Result<(), CancelRefused> {
        self.shared
            .cancel_fulfillment(shop, fulfillment_gid, restock)
    }

    /// The order's fulfilments, oldest first, cancelled ones included.
    pub fn fulfillments(&self, shop: &ShopDomain, order_gid: &str) -> Vec<StoredFulfillment> {
        self.shared.fulfillments(shop, order_gid)
    }

    /// Subscribes the app to `topic` (the enum value, e.g. `ORDERS_CREATE`) at `uri` for one
    /// shop, as `webhookSubscriptionCreate` would; the subscription's GID, `None` without the shop.
    pub fn add_webhook_subscription(
        &self,
        shop: &ShopDomain,
        topic: &str,
        uri: &str,
    ) -> Option<String> {
        let mut shops = self.shared.lock_shops();
        let s = shops.get_mut(shop)?;
        let id = s.new_gid("WebhookSubscription");
        s.webhook_subscriptions.push(serde_json::json!({
            "__typename": "WebhookSubscription", "id": id, "topic": topic, "uri": uri,
        }));
        Some(id)
    }
}
