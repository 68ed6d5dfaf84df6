//! The Admin API enums orderflow reads, spelled exactly as the schema spells them.
//!
//! Each enum lists every value of the pinned schema version (a test checks both directions
//! against the vendored SDL), plus `Unknown` so a value added by a later API version parses
//! instead of failing the whole snapshot.

use serde::{Deserialize, Serialize};

macro_rules! schema_enum {
    ($(#[$meta:meta])* $name:ident = $graphql:literal { $($variant:ident = $value:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $value)] $variant,)+
            /// A value this build does not know (a newer API version).
            #[serde(other, rename = "UNKNOWN")]
            Unknown,
        }

        impl $name {
            /// The GraphQL type this mirrors.
            pub const GRAPHQL_NAME: &'static str = $graphql;
            /// Every known value with its GraphQL spelling.
            pub const ALL: &'static [(Self, &'static str)] = &[$((Self::$variant, $value),)+];

            /// The GraphQL spelling (`UNKNOWN` for [`Self::Unknown`]).
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $value,)+
                    Self::Unknown => "UNKNOWN",
                }
            }

            /// Parses the GraphQL spelling; unknown values map to [`Self::Unknown`].
            pub fn parse(value: &str) -> Self {
                Self::ALL
                    .iter()
                    .find(|(_, v)| *v == value)
                    .map_or(Self::Unknown, |(e, _)| *e)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

schema_enum! {
    /// `Order.displayFinancialStatus`.
    FinancialStatus = "OrderDisplayFinancialStatus" {
        Authorized = "AUTHORIZED",
        Expired = "EXPIRED",
        Paid = "PAID",
        PartiallyPaid = "PARTIALLY_PAID",
        PartiallyRefunded = "PARTIALLY_REFUNDED",
        Pending = "PENDING",
        Refunded = "REFUNDED",
        Voided = "VOIDED",
    }
}

schema_enum! {
    /// `Order.displayFulfillmentStatus`.
    OrderFulfillmentStatus = "OrderDisplayFulfillmentStatus" {
        Fulfilled = "FULFILLED",
        FulfillmentNotRequired = "FULFILLMENT_NOT_REQUIRED",
        InProgress = "IN_PROGRESS",
        OnHold = "ON_HOLD",
        Open = "OPEN",
        PartiallyFulfilled = "PARTIALLY_FULFILLED",
        PendingFulfillment = "PENDING_FULFILLMENT",
        RequestDeclined = "REQUEST_DECLINED",
        Restocked = "RESTOCKED",
        Scheduled = "SCHEDULED",
        Unfulfilled = "UNFULFILLED",
    }
}

schema_enum! {
    /// `OrderRiskSummary.recommendation`.
    RiskRecommendation = "OrderRiskRecommendationResult" {
        Accept = "ACCEPT",
        Cancel = "CANCEL",
        Investigate = "INVESTIGATE",
        None = "NONE",
    }
}

schema_enum! {
    /// `OrderRiskAssessment.riskLevel`; `PENDING` until assessed.
    RiskLevel = "RiskAssessmentResult" {
        High = "HIGH",
        Low = "LOW",
        Medium = "MEDIUM",
        None = "NONE",
        Pending = "PENDING",
    }
}

schema_enum! {
    /// `SellingPlan.category`; `PRE_ORDER` marks a pre-order line.
    SellingPlanCategory = "SellingPlanCategory" {
        Other = "OTHER",
        PreOrder = "PRE_ORDER",
        Subscription = "SUBSCRIPTION",
        TryBeforeYouBuy = "TRY_BEFORE_YOU_BUY",
    }
}

schema_enum! {
    /// `FulfillmentOrder.status`.
    FulfillmentOrderStatus = "FulfillmentOrderStatus" {
        Cancelled = "CANCELLED",
        Closed = "CLOSED",
        Incomplete = "INCOMPLETE",
        InProgress = "IN_PROGRESS",
        OnHold = "ON_HOLD",
        Open = "OPEN",
        Scheduled = "SCHEDULED",
    }
}

schema_enum! {
    /// `FulfillmentOrder.requestStatus`.
    RequestStatus = "FulfillmentOrderRequestStatus" {
        Accepted = "ACCEPTED",
        CancellationAccepted = "CANCELLATION_ACCEPTED",
        CancellationRejected = "CANCELLATION_REJECTED",
        CancellationRequested = "CANCELLATION_REQUESTED",
        Closed = "CLOSED",
        Rejected = "REJECTED",
        Submitted = "SUBMITTED",
        Unsubmitted = "UNSUBMITTED",
    }
}

schema_enum! {
    /// `DeliveryMethod.methodType`.
    DeliveryMethodType = "DeliveryMethodType" {
        Local = "LOCAL",
        None = "NONE",
        PickupPoint = "PICKUP_POINT",
        PickUp = "PICK_UP",
        Retail = "RETAIL",
        Shipping = "SHIPPING",
    }
}

schema_enum! {
    /// `FulfillmentOrderSupportedAction.action`.
    FulfillmentOrderAction = "FulfillmentOrderAction" {
        CancelFulfillmentOrder = "CANCEL_FULFILLMENT_ORDER",
        CreateFulfillment = "CREATE_FULFILLMENT",
        External = "EXTERNAL",
        Hold = "HOLD",
        MarkAsOpen = "MARK_AS_OPEN",
        Merge = "MERGE",
        Move = "MOVE",
        ReleaseHold = "RELEASE_HOLD",
        ReportProgress = "REPORT_PROGRESS",
        RequestCancellation = "REQUEST_CANCELLATION",
        RequestFulfillment = "REQUEST_FULFILLMENT",
        Split = "SPLIT",
    }
}

schema_enum! {
    /// `FulfillmentHold.reason` and `FulfillmentOrderHoldInput.reason`.
    HoldReason = "FulfillmentHoldReason" {
        AwaitingPayment = "AWAITING_PAYMENT",
        AwaitingReturnItems = "AWAITING_RETURN_ITEMS",
        HighRiskOfFraud = "HIGH_RISK_OF_FRAUD",
        IncorrectAddress = "INCORRECT_ADDRESS",
        InventoryOutOfStock = "INVENTORY_OUT_OF_STOCK",
        OnlineStorePostPurchaseCrossSell = "ONLINE_STORE_POST_PURCHASE_CROSS_SELL",
        Other = "OTHER",
        UnknownDeliveryDate = "UNKNOWN_DELIVERY_DATE",
    }
}

/// Every enum above as (GraphQL name, known values), for the schema test.
pub fn all_enums() -> Vec<(&'static str, Vec<&'static str>)> {
    fn of<E: Copy>(
        name: &'static str,
        all: &[(E, &'static str)],
    ) -> (&'static str, Vec<&'static str>) {
        (name, all.iter().map(|(_, v)| *v).collect())
    }
    vec![
        of(FinancialStatus::GRAPHQL_NAME, FinancialStatus::ALL),
        of(
            OrderFulfillmentStatus::GRAPHQL_NAME,
            OrderFulfillmentStatus::ALL,
        ),
        of(RiskRecommendation::GRAPHQL_NAME, RiskRecommendation::ALL),
        of(RiskLevel::GRAPHQL_NAME, RiskLevel::ALL),
        of(SellingPlanCategory::GRAPHQL_NAME, SellingPlanCategory::ALL),
        of(
            FulfillmentOrderStatus::GRAPHQL_NAME,
            FulfillmentOrderStatus::ALL,
        ),
        of(RequestStatus::GRAPHQL_NAME, RequestStatus::ALL),
        of(DeliveryMethodType::GRAPHQL_NAME, DeliveryMethodType::ALL),
        of(
            FulfillmentOrderAction::GRAPHQL_NAME,
            FulfillmentOrderAction::ALL,
        ),
        of(HoldReason::GRAPHQL_NAME, HoldReason::ALL),
    ]
}
