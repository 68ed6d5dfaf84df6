//! The order as the rules see it: a plain Rust model, independent of the GraphQL response it is
//! built from (the `shopify` module converts its snapshot into this), so the rules can be tested
//! and benchmarked with orders written by hand. Ids are Shopify GIDs as strings: the rules only
//! compare and echo them.

use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::enums::{
    DeliveryMethodType, FinancialStatus, FulfillmentHoldReason, FulfillmentOrderAction,
    FulfillmentOrderRequestStatus, FulfillmentOrderStatus, FulfillmentStatus,
    OrderFulfillmentStatus, RiskLevel, RiskRecommendation,
};

/// Every hold handle orderflow places starts with this; holds without it are never touched.
pub const HOLD_HANDLE_PREFIX: &str = "orderflow-";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// `gid://shopify/Order/<n>`.
    pub id: String,
    /// What the merchant calls it, e.g. `#1042`.
    pub name: String,
    pub tags: Vec<String>,
    pub cancelled: bool,
    pub closed: bool,
    /// `Order.closedAt`: when it was closed (archived), if it is.
    #[serde(default)]
    pub closed_at: Option<Timestamp>,
    pub test: bool,
    pub processed_at: Timestamp,
    /// When the order was paid, if that was after it was created. `None` means the processing
    /// clock starts at `processed_at` (paid at checkout, or payment collected later such as cash
    /// on delivery: gating on payment is Shopify's `AWAITING_PAYMENT` hold, which we leave alone).
    pub paid_at: Option<Timestamp>,
    pub financial_status: Option<FinancialStatus>,
    /// `Order.displayFulfillmentStatus`: FULFILLED is one condition of archiving.
    #[serde(default)]
    pub fulfillment_status: Option<OrderFulfillmentStatus>,
    pub total_price: Decimal,
    pub source_name: Option<String>,
    /// ISO 3166-1 alpha-2 code of the shipping address, upper-case.
    pub shipping_country: Option<String>,
    pub risk: Risk,
    pub lines: Vec<LineItem>,
    pub fulfillment_orders: Vec<FulfillmentOrder>,
    /// The order's fulfilments (`Order.fulfillments`), cancelled ones included: how the rules
    /// see that a person took back a fulfilment orderflow created.
    #[serde(default)]
    pub fulfillments: Vec<Fulfillment>,
    /// The snapshot read only the first fulfilments of the order (the list is not paginated):
    /// a fulfilment of ours that is not listed may exist, cancelled or not.
    #[serde(default)]
    pub fulfillments_truncated: bool,
    /// The raw value of orderflow's decision metafield: absent, ours, or anything a person or
    /// another app wrote there. Parsed leniently by [`super::decision`].
    pub decision_metafield: Option<String>,
    /// The order's currencies and payment transactions: what is left to capture
    /// ([`super::capture`]).
    #[serde(default)]
    pub payment: Payment,
}

/// The order's money as capturing needs it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Payment {
    /// `Order.currencyCode`: the shop's currency.
    pub currency: Option<String>,
    /// `Order.presentmentCurrencyCode`: the customer's, which captures are made in.
    pub presentment_currency: Option<String>,
    /// The order's transactions (the snapshot reads the first 20).
    pub transactions: Vec<Transaction>,
}

/// `OrderTransaction`. Kind and status stay the schema's strings (see [`TransactionKind`]): the
/// rules look for a few values and treat every other as "not that".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    /// `gid://shopify/OrderTransaction/<n>`: what a capture names as its parent.
    pub id: String,
    pub kind: String,
    pub status: String,
    /// `amountSet.presentmentMoney.amount`: in the customer's currency.
    pub amount: Decimal,
    /// When an authorization stops being capturable.
    pub authorization_expires_at: Option<Timestamp>,
    /// The authorization a capture or void belongs to.
    pub parent_id: Option<String>,
    /// Can be captured more than once (Shopify Payments on Plus).
    pub multi_capturable: bool,
}

/// The `OrderTransactionKind` and `OrderTransactionStatus` values the rules read. Not a
/// [`super::enums`] enum: the status enum has a real `UNKNOWN` value, which the lenient
/// `Unknown` of those enums would swallow.
pub struct TransactionKind;

impl TransactionKind {
    pub const AUTHORIZATION: &'static str = "AUTHORIZATION";
    pub const CAPTURE: &'static str = "CAPTURE";
    pub const VOID: &'static str = "VOID";
    pub const SUCCESS: &'static str = "SUCCESS";
    pub const PENDING: &'static str = "PENDING";
    pub const AWAITING_RESPONSE: &'static str = "AWAITING_RESPONSE";
}

/// `Order.risk`: the summary recommendation and each provider's level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Risk {
    pub recommendation: RiskRecommendation,
    pub assessments: Vec<RiskLevel>,
}

impl Risk {
    /// An order no provider has assessed, or whose assessment is done and unremarkable.
    pub fn none() -> Self {
        Self {
            recommendation: RiskRecommendation::None,
            assessments: Vec::new(),
        }
    }

    /// Some provider is still assessing (or said something this build cannot read). An order
    /// without assessments is not pending: nothing says one will ever come (POS and draft
    /// orders), and waiting forever is worse.
    pub fn is_pending(&self) -> bool {
        self.assessments.iter().any(|l| l.is_pending())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    /// `gid://shopify/LineItem/<n>`.
    pub id: String,
    /// The title the merchant sees, for `explain`.
    pub name: String,
    pub sku: Option<String>,
    pub vendor: Option<String>,
    pub quantity: u32,
    pub requires_shipping: bool,
    pub gift_card: bool,
    pub product_tags: Vec<String>,
    /// The line's selling plan has category `PRE_ORDER`.
    pub preorder: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfillmentOrder {
    /// `gid://shopify/FulfillmentOrder/<n>`.
    pub id: String,
    pub status: FulfillmentOrderStatus,
    pub request_status: FulfillmentOrderRequestStatus,
    pub delivery_method: Option<DeliveryMethodType>,
    pub holds: Vec<Hold>,
    pub supported_actions: Vec<FulfillmentOrderAction>,
    pub line_items: Vec<FulfillmentOrderLineItem>,
    /// `FulfillmentOrder.fulfillBy`: Shopify's deadline for it, which orderflow sets to the
    /// order's ship-by instant (see [`super::deadline`]).
    #[serde(default)]
    pub fulfill_by: Option<Timestamp>,
}

impl FulfillmentOrder {
    pub fn supports(&self, action: FulfillmentOrderAction) -> bool {
        self.supported_actions.contains(&action)
    }

    /// Still to be fulfilled by someone: not closed, cancelled or merely a shell. A status this
    /// build cannot read is not active, so nothing is done to it.
    pub fn is_active(&self) -> bool {
        matches!(
            self.status,
            FulfillmentOrderStatus::Open
                | FulfillmentOrderStatus::OnHold
                | FulfillmentOrderStatus::Scheduled
                | FulfillmentOrderStatus::InProgress
        )
    }

    pub fn our_holds(&self) -> impl Iterator<Item = &Hold> {
        self.holds.iter().filter(|h| h.is_ours())
    }

    pub fn foreign_holds(&self) -> impl Iterator<Item = &Hold> {
        self.holds.iter().filter(|h| !h.is_ours())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hold {
    /// `gid://shopify/FulfillmentHold/<n>`.
    pub id: String,
    pub handle: Option<String>,
    pub reason: FulfillmentHoldReason,
    /// `heldByRequestingApp`: placed with our own token.
    pub held_by_us: bool,
}

impl Hold {
    /// Ours means both placed by this app and carrying our handle prefix: a person's hold or
    /// another app's is never released, even if its handle happens to look like ours.
    pub fn is_ours(&self) -> bool {
        self.held_by_us
            && self
                .handle
                .as_deref()
                .is_some_and(|h| h.starts_with(HOLD_HANDLE_PREFIX))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfillmentOrderLineItem {
    /// `gid://shopify/FulfillmentOrderLineItem/<n>`: what `fulfillmentCreate` takes.
    pub id: String,
    /// The order line it belongs to.
    pub line_item_id: String,
    pub remaining_quantity: u32,
}

/// One fulfilment of the order (`Fulfillment`), by any app or person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fulfillment {
    /// `gid://shopify/Fulfillment/<n>`.
    pub id: String,
    pub status: FulfillmentStatus,
    /// Which order lines it fulfilled, and how many of each.
    pub lines: Vec<FulfillmentLine>,
    /// When it was created (`Fulfillment.createdAt`), if read.
    #[serde(default)]
    pub created_at: Option<Timestamp>,
}

impl Fulfillment {
    /// Cancelled: its lines went back to be fulfilled again. A status this build cannot read
    /// is not cancelled (nothing is concluded from it).
    pub fn is_cancelled(&self) -> bool {
        self.status == FulfillmentStatus::Cancelled
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FulfillmentLine {
    /// `gid://shopify/LineItem/<n>`: the order line, which a cancellation keeps (the
    /// fulfilment-order line may be replaced by one in a new fulfilment order).
    pub line_item_id: String,
    pub quantity: u32,
}
