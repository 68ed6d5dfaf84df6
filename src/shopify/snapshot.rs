//! [`OrderSnapshot`]: everything the rules need to know about one order, read in one go.
//!
//! It is three things at once, so its shape is a contract (documented in
//! `fixtures/orders/README.md`):
//! - what [`crate::shopify::Client::fetch_snapshot`] returns, all pages merged;
//! - the fixture format the sandbox shop loads and `orderflow explain --snapshot` reads;
//! - the input the rules engine converts from.
//!
//! Field names are GraphQL's (camelCase) and objects keep GraphQL's nesting, so a snapshot reads
//! like the query that produced it. Two differences: connections are plain lists holding every
//! page, and a line's `sellingPlan.category` is filled from a second look-up. Ids are GID strings,
//! money is a decimal string, times are RFC 3339.

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The snapshot speaks the core's vocabulary: each enum is read leniently (`Unknown` for a value
/// a newer API adds) and written back with the schema's spelling.
pub use crate::rules::enums::{
    DeliveryMethodType, FinancialStatus, FulfillmentHoldReason, FulfillmentOrderAction,
    FulfillmentOrderRequestStatus, FulfillmentOrderStatus, FulfillmentStatus,
    OrderFulfillmentStatus, RiskLevel, RiskRecommendation, SellingPlanCategory,
};

/// One order as Shopify answers for it (the rules see it as [`crate::rules::model::Order`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderSnapshot {
    /// `gid://shopify/Order/<id>`.
    pub id: String,
    /// The order name shown to the merchant, e.g. `#1001`.
    pub name: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub cancelled_at: Option<Timestamp>,
    #[serde(default)]
    pub closed: bool,
    /// When the order was closed (archived); `null` while open.
    #[serde(default)]
    pub closed_at: Option<Timestamp>,
    #[serde(default)]
    pub test: bool,
    #[serde(default)]
    pub display_financial_status: Option<FinancialStatus>,
    pub display_fulfillment_status: OrderFulfillmentStatus,
    /// When the order was paid/processed: the start of processing time.
    pub processed_at: Timestamp,
    pub created_at: Timestamp,
    /// `Order.updatedAt` when read from Shopify: the instant of the last change this snapshot
    /// reflects, which the worker compares with a webhook's `updated_at` to know the read
    /// already covered it. Fixtures leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    pub total_price_set: MoneyBag,
    /// `Order.currencyCode`: the shop's currency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency_code: Option<String>,
    /// `Order.presentmentCurrencyCode`: the customer's; a capture names it when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presentment_currency_code: Option<String>,
    /// The sales channel, e.g. `web`, `pos`, `shopify_draft_order`.
    #[serde(default)]
    pub source_name: Option<String>,
    /// `null` when nothing ships (digital orders, pickups without an address).
    #[serde(default)]
    pub shipping_address: Option<ShippingAddress>,
    pub risk: Risk,
    /// orderflow's own metafield `orderflow.decision`, as last written (JSON text).
    #[serde(default)]
    pub decision: Option<MetafieldValue>,
    /// The order's payment transactions (the first 20): when it was paid, what is authorized.
    #[serde(default)]
    pub transactions: Vec<Transaction>,
    /// Every line of the order (all pages).
    pub line_items: Vec<LineItem>,
    /// Every fulfilment order of the order (all pages), each with all its lines.
    pub fulfillment_orders: Vec<FulfillmentOrder>,
    /// The order's first fulfilments (`Order.fulfillments` is a list, not paginated), cancelled
    /// ones included, each with all its lines.
    #[serde(default)]
    pub fulfillments: Vec<Fulfillment>,
    /// The list came back full: the order may have more fulfilments than were read.
    #[serde(default)]
    pub fulfillments_truncated: bool,
}

/// `Fulfillment`: what was fulfilled, by anyone, and whether it was cancelled since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fulfillment {
    /// `gid://shopify/Fulfillment/<id>`.
    pub id: String,
    pub status: FulfillmentStatus,
    /// When it was created: the latest one's is when the order became fully fulfilled.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
    /// Every line of the fulfilment (all pages).
    #[serde(default)]
    pub fulfillment_line_items: Vec<FulfillmentLineItem>,
}

/// `FulfillmentLineItem`: an order line and how many of it the fulfilment holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentLineItem {
    /// `null` in the schema's type; read as 0.
    #[serde(default)]
    pub quantity: Option<u32>,
    pub line_item: LineItemRef,
}

/// `MoneyBag`: the shop-currency amount is what rules compare.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MoneyBag {
    pub shop_money: Money,
}

/// `MoneyV2`: an exact decimal amount (a string on the wire, never a float).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Money {
    pub amount: Decimal,
    /// ISO 4217, e.g. `EUR`.
    pub currency_code: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShippingAddress {
    /// ISO 3166-1 alpha-2 (`CountryCode`), e.g. `NL`.
    #[serde(default)]
    pub country_code_v2: Option<String>,
}

/// `OrderRiskSummary`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Risk {
    pub recommendation: RiskRecommendation,
    #[serde(default)]
    pub assessments: Vec<RiskAssessment>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RiskAssessment {
    pub risk_level: RiskLevel,
}

/// `OrderTransaction`: when money was taken, and what is left to capture of an authorization.
/// Kind and status stay strings (see [`crate::rules::model::TransactionKind`]). Every field but
/// those three is optional, so a fixture or the report's page that reads fewer still parses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    /// `gid://shopify/OrderTransaction/<id>`: what `orderCapture` names as the parent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub kind: String,
    pub status: String,
    #[serde(default)]
    pub processed_at: Option<Timestamp>,
    /// The amount in the customer's currency (`presentmentMoney`): what a capture sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_set: Option<PresentmentBag>,
    /// When an authorization can no longer be captured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorization_expires_at: Option<Timestamp>,
    /// The authorization a capture or void belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_transaction: Option<TransactionRef>,
    /// Can be captured more than once.
    #[serde(default)]
    pub multi_capturable: bool,
}

/// A `MoneyBag` read for its presentment amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PresentmentBag {
    pub presentment_money: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionRef {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetafieldValue {
    pub value: String,
}

/// `LineItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineItem {
    /// `gid://shopify/LineItem/<id>`.
    pub id: String,
    /// The line's title as the merchant sees it (product and variant).
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    pub quantity: u32,
    pub requires_shipping: bool,
    #[serde(default)]
    pub is_gift_card: bool,
    /// `null` when the product was deleted.
    #[serde(default)]
    pub product: Option<Product>,
    #[serde(default)]
    pub selling_plan: Option<LineSellingPlan>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `LineItemSellingPlan`, plus the plan's category looked up by `sellingPlanId`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineSellingPlan {
    /// `gid://shopify/SellingPlan/<id>`; `null` when the plan was deleted.
    #[serde(default)]
    pub selling_plan_id: Option<String>,
    /// Not part of `LineItemSellingPlan`: resolved with `node(id:)` on the `SellingPlan`.
    #[serde(default)]
    pub category: Option<SellingPlanCategory>,
}

/// `FulfillmentOrder`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentOrder {
    /// `gid://shopify/FulfillmentOrder/<id>`.
    pub id: String,
    pub status: FulfillmentOrderStatus,
    pub request_status: FulfillmentOrderRequestStatus,
    #[serde(default)]
    pub delivery_method: Option<DeliveryMethod>,
    /// When a SCHEDULED fulfilment order becomes OPEN.
    #[serde(default)]
    pub fulfill_at: Option<Timestamp>,
    /// Shopify's deadline for it (`fulfillBy`): orderflow sets it to the order's ship-by.
    #[serde(default)]
    pub fulfill_by: Option<Timestamp>,
    /// Every hold, ours and everyone else's; ours have an `orderflow-` handle.
    #[serde(default)]
    pub fulfillment_holds: Vec<FulfillmentHold>,
    #[serde(default)]
    pub supported_actions: Vec<SupportedAction>,
    /// Every line of this fulfilment order (all pages).
    pub line_items: Vec<FulfillmentOrderLineItem>,
}

impl FulfillmentOrder {
    /// Whether Shopify currently allows `action` on this fulfilment order.
    pub fn supports(&self, action: FulfillmentOrderAction) -> bool {
        self.supported_actions.iter().any(|a| a.action == action)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryMethod {
    pub method_type: DeliveryMethodType,
}

/// `FulfillmentHold`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentHold {
    /// `gid://shopify/FulfillmentHold/<id>`: what `fulfillmentOrderReleaseHold(holdIds:)` takes.
    pub id: String,
    /// Unique per app per fulfilment order; orderflow's start with `orderflow-`.
    #[serde(default)]
    pub handle: Option<String>,
    pub reason: FulfillmentHoldReason,
    #[serde(default)]
    pub reason_notes: Option<String>,
    /// True when the app asking (orderflow) placed the hold.
    #[serde(default)]
    pub held_by_requesting_app: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupportedAction {
    pub action: FulfillmentOrderAction,
}

/// `FulfillmentOrderLineItem`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FulfillmentOrderLineItem {
    /// `gid://shopify/FulfillmentOrderLineItem/<id>`: what fulfilment and hold inputs take.
    pub id: String,
    pub total_quantity: u32,
    /// Still to fulfil; `fulfillmentCreate` lowers it.
    pub remaining_quantity: u32,
    /// The order line it belongs to (`LineItem.id`).
    pub line_item: LineItemRef,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItemRef {
    pub id: String,
}

impl OrderSnapshot {
    /// The numeric order id, from the GID.
    pub fn order_id(&self) -> Option<crate::id::OrderId> {
        crate::id::OrderId::from_gid(&self.id)
    }

    /// The line with this GID.
    pub fn line_item(&self, id: &str) -> Option<&LineItem> {
        self.line_items.iter().find(|l| l.id == id)
    }

    /// Whether the line's selling plan is a pre-order.
    pub fn is_preorder(line: &LineItem) -> bool {
        line.selling_plan
            .as_ref()
            .is_some_and(|p| p.category == Some(SellingPlanCategory::PreOrder))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r##"{
      "id": "gid://shopify/Order/820982911946154508",
      "name": "#1001",
      "tags": ["vip"],
      "cancelledAt": null,
      "closed": false,
      "test": false,
      "displayFinancialStatus": "PAID",
      "displayFulfillmentStatus": "UNFULFILLED",
      "processedAt": "2026-11-20T10:15:00Z",
      "createdAt": "2026-11-20T10:14:58Z",
      "totalPriceSet": {"shopMoney": {"amount": "199.90", "currencyCode": "EUR"}},
      "sourceName": "web",
      "shippingAddress": {"countryCodeV2": "NL"},
      "risk": {"recommendation": "ACCEPT", "assessments": [{"riskLevel": "LOW"}]},
      "decision": null,
      "lineItems": [{
        "id": "gid://shopify/LineItem/866550311766439020",
        "sku": "MUG-1", "vendor": "Acme", "quantity": 2, "requiresShipping": true,
        "isGiftCard": false, "product": {"tags": ["handmade"]},
        "sellingPlan": {"sellingPlanId": "gid://shopify/SellingPlan/1", "category": "PRE_ORDER"}
      }],
      "fulfillmentOrders": [{
        "id": "gid://shopify/FulfillmentOrder/1046000778",
        "status": "OPEN", "requestStatus": "UNSUBMITTED",
        "deliveryMethod": {"methodType": "SHIPPING"}, "fulfillAt": null,
        "fulfillmentHolds": [],
        "supportedActions": [{"action": "CREATE_FULFILLMENT"}, {"action": "HOLD"}],
        "lineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/1", "totalQuantity": 2,
          "remainingQuantity": 2, "lineItem": {"id": "gid://shopify/LineItem/866550311766439020"}}]
      }]
    }"##;

    #[test]
    fn snapshot_round_trips_with_exact_money_and_64_bit_ids() {
        let snapshot: OrderSnapshot = serde_json::from_str(SAMPLE).expect("sample parses");
        assert_eq!(
            snapshot.order_id(),
            Some(crate::id::OrderId(820_982_911_946_154_508))
        );
        assert_eq!(
            snapshot.total_price_set.shop_money.amount.to_string(),
            "199.90"
        );
        assert!(OrderSnapshot::is_preorder(&snapshot.line_items[0]));
        assert!(snapshot.fulfillment_orders[0].supports(FulfillmentOrderAction::CreateFulfillment));
        let text = serde_json::to_string(&snapshot).expect("serialises");
        assert!(
            text.contains(r#""amount":"199.90""#),
            "money stays a string: {text}"
        );
        let again: OrderSnapshot = serde_json::from_str(&text).expect("re-parses");
        assert_eq!(again, snapshot);
    }

    #[test]
    fn unknown_enum_value_from_a_newer_api_parses_as_unknown() {
        let text = SAMPLE.replace(r#""status": "OPEN""#, r#""status": "SOMETHING_NEW""#);
        let snapshot: OrderSnapshot = serde_json::from_str(&text).expect("parses");
        assert_eq!(
            snapshot.fulfillment_orders[0].status,
            FulfillmentOrderStatus::Unknown
        );
    }
}
