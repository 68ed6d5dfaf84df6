//! What the simulated shops hold: orders (as [`OrderSnapshot`]s, the fixture format) plus what
//! Shopify keeps beside them (metafields, fulfilments, the app's tokens), and the derived
//! fields Shopify computes (a fulfilment order's supported actions, the order's display
//! fulfilment status).

use std::collections::BTreeMap;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::token::ShopTokens;
use crate::id::ShopDomain;
use crate::rules::enums::{
    FulfillmentOrderAction, FulfillmentOrderStatus, FulfillmentStatus, OrderFulfillmentStatus,
};
use crate::shopify::ops::Metafield;
use crate::shopify::snapshot::{
    Fulfillment, FulfillmentLineItem, FulfillmentOrder, LineItemRef, OrderSnapshot, SupportedAction,
};

/// One fixture file: an [`OrderSnapshot`] plus the shop it belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fixture {
    pub shop: ShopDomain,
    #[serde(flatten)]
    pub order: OrderSnapshot,
}

/// A fulfilment created through `fulfillmentCreate`, and cancelled perhaps since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredFulfillment {
    pub id: String,
    pub order_id: String,
    pub notify_customer: bool,
    /// From the sandbox's clock.
    pub created_at: jiff::Timestamp,
    pub lines: Vec<FulfilledLine>,
    /// `SUCCESS` when created; `CANCELLED` after `fulfillmentCancel` or a merchant's cancellation.
    pub status: FulfillmentStatus,
    /// When cancelled: whether its items went back to stock.
    pub restocked: Option<bool>,
    pub cancelled_at: Option<jiff::Timestamp>,
    /// What the carrier reported since (`None`: still at the shop); set by
    /// [`super::Sandbox::ship_fulfillment`] or the control API.
    pub shipment: Option<Shipment>,
}

/// A carrier's progress on a fulfilment: what `displayStatus`, `inTransitAt`, `deliveredAt` and
/// `trackingInfo` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Shipment {
    pub display_status: crate::rules::enums::FulfillmentDisplayStatus,
    #[serde(default)]
    pub in_transit_at: Option<jiff::Timestamp>,
    #[serde(default)]
    pub delivered_at: Option<jiff::Timestamp>,
    #[serde(default)]
    pub tracking_company: Option<String>,
    #[serde(default)]
    pub tracking_number: Option<String>,
}

/// One line of a fulfilment: where it came from and how many.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfilledLine {
    pub fulfillment_order: String,
    pub fulfillment_order_line_item: String,
    /// The order line (`LineItem`).
    pub line_item: String,
    pub quantity: u32,
}

/// One order and what Shopify keeps beside it.
#[derive(Debug, Clone)]
pub struct StoredOrder {
    pub order: OrderSnapshot,
    /// As Shopify stores them: the client's own [`Metafield`].
    pub metafields: Vec<Metafield>,
    pub fulfillments: Vec<StoredFulfillment>,
    /// `Order.updatedAt`: the creation time when inserted, then whatever a merchant edit
    /// ([`super::Sandbox::touch_order`]) sets.
    pub updated_at: jiff::Timestamp,
}

impl StoredOrder {
    /// The order as a snapshot reads it: with `decision` taken from the stored
    /// `orderflow.decision` metafield once one was set, as the GraphQL answer has it.
    pub fn snapshot(&self) -> OrderSnapshot {
        let mut order = self.order.clone();
        order.updated_at = Some(self.updated_at);
        if let Some(m) = self.metafields.iter().find(|m| {
            m.namespace == crate::rules::decision::METAFIELD_NAMESPACE
                && m.key == crate::rules::decision::METAFIELD_KEY
        }) {
            order.decision = Some(crate::shopify::snapshot::MetafieldValue {
                value: m.value.clone(),
            });
        }
        order.fulfillments = self
            .fulfillments
            .iter()
            .map(|f| Fulfillment {
                id: f.id.clone(),
                status: f.status,
                created_at: Some(f.created_at),
                fulfillment_line_items: f
                    .lines
                    .iter()
                    .map(|l| FulfillmentLineItem {
                        quantity: Some(l.quantity),
                        line_item: LineItemRef {
                            id: l.line_item.clone(),
                        },
                    })
                    .collect(),
            })
            .collect();
        order.fulfillments_truncated = false;
        order
    }
}

/// One simulated shop.
#[derive(Debug)]
pub struct ShopState {
    pub domain: ShopDomain,
    /// The app's non-expiring offline token; `None` once revoked (the app was uninstalled) or
    /// migrated to an expiring pair: calls with it get 401.
    pub token: Option<SecretString>,
    /// Every other token the sandbox's OAuth endpoints issued for this shop.
    pub tokens: ShopTokens,
    /// `Shop.ianaTimezone`: "UTC" unless a test sets another.
    pub time_zone: String,
    /// By order GID, in insertion order of ids.
    pub orders: BTreeMap<String, StoredOrder>,
    /// The app's shop-specific webhook subscriptions (`WebhookSubscription` JSON, oldest first),
    /// what `webhookSubscriptions` lists; app-specific (TOML) ones are never listed there.
    pub webhook_subscriptions: Vec<serde_json::Value>,
    next_id: u64,
}

impl ShopState {
    pub fn new(domain: ShopDomain, token: SecretString) -> Self {
        Self {
            domain,
            token: Some(token),
            tokens: ShopTokens::default(),
            time_zone: "UTC".to_owned(),
            orders: BTreeMap::new(),
            webhook_subscriptions: Vec::new(),
            // Ids the sandbox makes up are 64-bit like Shopify's, and never collide with fixtures.
            next_id: 9_100_000_000_000_000_000,
        }
    }

    /// The app is uninstalled: every token of the shop stops working at once.
    pub fn revoke(&mut self) {
        self.token = None;
        self.tokens.revoke_all();
    }

    /// Whether an Admin API call with `token` is accepted at `now`.
    pub fn accepts(&self, token: &str, now: jiff::Timestamp) -> bool {
        self.token
            .as_ref()
            .is_some_and(|t| t.expose_secret() == token)
            || self.tokens.accepts(token, now)
    }

    /// A fresh GID of the given type.
    pub fn new_gid(&mut self, kind: &str) -> String {
        self.next_id += 1;
        format!("gid://shopify/{kind}/{}", self.next_id)
    }

    pub fn insert(&mut self, mut order: OrderSnapshot) {
        derive(&mut order);
        // Every transaction has an id in Shopify; a fixture may leave it out.
        for t in &mut order.transactions {
            if t.id.is_none() {
                t.id = Some(self.new_gid("OrderTransaction"));
            }
        }
        let updated_at = order.created_at;
        // A snapshot's fulfilments become stored ones, each line drawn from the first
        // fulfilment-order line of its order line.
        let fulfillments = std::mem::take(&mut order.fulfillments)
            .into_iter()
            .map(|f| StoredFulfillment {
                order_id: order.id.clone(),
                notify_customer: false,
                created_at: f.created_at.unwrap_or(order.created_at),
                lines: f
                    .fulfillment_line_items
                    .iter()
                    .map(|l| {
                        let from = order.fulfillment_orders.iter().find_map(|fo| {
                            let x = fo
                                .line_items
                                .iter()
                                .find(|x| x.line_item.id == l.line_item.id)?;
                            Some((fo.id.clone(), x.id.clone()))
                        });
                        let (fo, fo_line) = from.unwrap_or_default();
                        FulfilledLine {
                            fulfillment_order: fo,
                            fulfillment_order_line_item: fo_line,
                            line_item: l.line_item.id.clone(),
                            quantity: l.quantity.unwrap_or(0),
                        }
                    })
                    .collect(),
                restocked: None,
                cancelled_at: None,
                shipment: None,
                status: f.status,
                id: f.id,
            })
            .collect();
        order.fulfillments_truncated = false;
        // A snapshot's decision is the metafield Shopify stores.
        let metafields = match order.decision.take() {
            Some(d) => vec![Metafield {
                id: self.new_gid("Metafield"),
                namespace: crate::rules::decision::METAFIELD_NAMESPACE.to_owned(),
                key: crate::rules::decision::METAFIELD_KEY.to_owned(),
                kind: crate::rules::decision::METAFIELD_TYPE.to_owned(),
                value: d.value,
            }],
            None => Vec::new(),
        };
        self.orders.insert(
            order.id.clone(),
            StoredOrder {
                order,
                metafields,
                fulfillments,
                updated_at,
            },
        );
    }

    /// The order holding this fulfilment order.
    pub fn order_of_fulfillment_order(&self, fo_id: &str) -> Option<&StoredOrder> {
        self.orders
            .values()
            .find(|o| o.order.fulfillment_orders.iter().any(|fo| fo.id == fo_id))
    }

    pub fn order_of_fulfillment_order_mut(&mut self, fo_id: &str) -> Option<&mut StoredOrder> {
        self.orders
            .values_mut()
            .find(|o| o.order.fulfillment_orders.iter().any(|fo| fo.id == fo_id))
    }
}

/// Recomputes what Shopify derives: supported actions from each fulfilment order's status, the
/// order's display fulfilment status from its fulfilment orders, and its currencies when unset.
pub fn derive(order: &mut OrderSnapshot) {
    // Shopify always answers both currencies; an order written without them has one currency.
    let shop_currency = order
        .currency_code
        .get_or_insert_with(|| order.total_price_set.shop_money.currency_code.clone())
        .clone();
    order.presentment_currency_code.get_or_insert(shop_currency);
    for fo in &mut order.fulfillment_orders {
        fo.supported_actions = supported_actions(fo)
            .into_iter()
            .map(|action| SupportedAction { action })
            .collect();
    }
    // A cancelled order keeps the status it was cancelled with: its closed fulfilment orders
    // say nothing about what was shipped.
    if order.cancelled_at.is_none() {
        order.display_fulfillment_status = display_status(order);
    }
}

fn supported_actions(fo: &FulfillmentOrder) -> Vec<FulfillmentOrderAction> {
    use FulfillmentOrderAction as A;
    let splittable = fo
        .line_items
        .iter()
        .map(|l| l.remaining_quantity)
        .sum::<u32>()
        > 1;
    let mut actions = match fo.status {
        FulfillmentOrderStatus::Open => vec![A::CreateFulfillment, A::Hold, A::Move],
        FulfillmentOrderStatus::InProgress => vec![A::CreateFulfillment, A::Hold],
        FulfillmentOrderStatus::OnHold => vec![A::ReleaseHold, A::Hold, A::Move],
        FulfillmentOrderStatus::Scheduled => vec![A::MarkAsOpen],
        _ => Vec::new(),
    };
    if splittable
        && matches!(
            fo.status,
            FulfillmentOrderStatus::Open | FulfillmentOrderStatus::OnHold
        )
    {
        actions.push(A::Split);
    }
    actions
}

fn display_status(order: &OrderSnapshot) -> OrderFulfillmentStatus {
    let live: Vec<&FulfillmentOrder> = order
        .fulfillment_orders
        .iter()
        .filter(|fo| fo.status != FulfillmentOrderStatus::Cancelled)
        .collect();
    if live.is_empty() {
        return order.display_fulfillment_status;
    }
    let total: u32 = live
        .iter()
        .flat_map(|fo| &fo.line_items)
        .map(|l| l.total_quantity)
        .sum();
    let remaining: u32 = live
        .iter()
        .flat_map(|fo| &fo.line_items)
        .map(|l| l.remaining_quantity)
        .sum();
    if remaining == 0 && total > 0 {
        OrderFulfillmentStatus::Fulfilled
    } else if remaining < total {
        OrderFulfillmentStatus::PartiallyFulfilled
    } else if live
        .iter()
        .any(|fo| fo.status == FulfillmentOrderStatus::OnHold)
    {
        OrderFulfillmentStatus::OnHold
    } else if live
        .iter()
        .all(|fo| fo.status == FulfillmentOrderStatus::Scheduled)
    {
        OrderFulfillmentStatus::Scheduled
    } else if live
        .iter()
        .any(|fo| fo.status == FulfillmentOrderStatus::InProgress)
    {
        OrderFulfillmentStatus::InProgress
    } else {
        OrderFulfillmentStatus::Unfulfilled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored() -> StoredOrder {
        let text = include_str!("../../fixtures/orders/digital.json");
        let fixture: Fixture = serde_json::from_str(text).expect("fixture");
        StoredOrder {
            updated_at: fixture.order.created_at,
            order: fixture.order,
            metafields: Vec::new(),
            fulfillments: Vec::new(),
        }
    }

    #[test]
    fn a_snapshot_reads_the_decision_from_the_stored_metafield() {
        let mut o = stored();
        assert_eq!(o.snapshot().decision, None, "nothing written yet");
        o.metafields.push(Metafield {
            id: "gid://shopify/Metafield/1".into(),
            namespace: "other-app".into(),
            key: "decision".into(),
            kind: "json".into(),
            value: "{}".into(),
        });
        o.metafields.push(Metafield {
            id: "gid://shopify/Metafield/2".into(),
            namespace: "orderflow".into(),
            key: "decision".into(),
            kind: "json".into(),
            value: r#"{"version":1}"#.into(),
        });
        assert_eq!(
            o.snapshot().decision.map(|d| d.value).as_deref(),
            Some(r#"{"version":1}"#)
        );
    }
}
