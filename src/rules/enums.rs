//! Shopify's vocabulary: every Admin GraphQL (2026-10) enum orderflow reads or writes, defined
//! once for the rules, the snapshot, the client and the sandbox. Values are spelt exactly as the
//! schema spells them (a test checks both directions against the vendored SDL).
//!
//! Two ways in, because the two sources deserve different trust:
//! - **config is parsed strictly**: [`parse`](RiskLevel::parse) knows only the schema's values,
//!   so a misspelt value in a config file is an error listing [`valid_values`](RiskLevel::valid_values);
//! - **Shopify's answers are parsed leniently**: serde maps a value a newer API version adds to
//!   `Unknown` instead of failing the whole snapshot. What `Unknown` means for a decision is said
//!   by the methods below and in the rules that decide, always "leave things alone".

use std::fmt;

use serde::{Deserialize, Serialize};

macro_rules! schema_enum {
    ($(#[$meta:meta])* $name:ident = $graphql:literal { $($variant:ident = $text:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant,)+
            /// A value this build does not know (a newer API version). Never read from config.
            #[serde(other, rename = "UNKNOWN")]
            Unknown,
        }

        impl $name {
            /// The GraphQL type this mirrors.
            pub const GRAPHQL_NAME: &'static str = $graphql;
            /// Every value of the schema, in its order (not `Unknown`).
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The schema's spelling (`UNKNOWN` for [`Self::Unknown`]).
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Unknown => "UNKNOWN",
                }
            }

            /// The strict parse, for config: the value spelt exactly as in the schema, and
            /// nothing else (`UNKNOWN` included).
            pub fn parse(text: &str) -> Option<Self> {
                match text {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// The valid spellings, for error messages.
            pub fn valid_values() -> String {
                Self::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>().join(", ")
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

schema_enum! {
    /// `Order.displayFinancialStatus` (there is no `financialStatus` in GraphQL).
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
    /// `OrderRiskSummary.recommendation`: Shopify's summary of every assessment.
    RiskRecommendation = "OrderRiskRecommendationResult" {
        Accept = "ACCEPT",
        Cancel = "CANCEL",
        Investigate = "INVESTIGATE",
        None = "NONE",
    }
}

schema_enum! {
    /// `OrderRiskAssessment.riskLevel`: one provider's verdict. `PENDING` until assessed.
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
    /// `FulfillmentOrder.requestStatus`: where a request to a fulfilment service stands.
    FulfillmentOrderRequestStatus = "FulfillmentOrderRequestStatus" {
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
    /// `DeliveryMethod.methodType` of a fulfilment order.
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
    /// `FulfillmentOrderSupportedAction.action`: what the API allows on a fulfilment order now.
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
    FulfillmentHoldReason = "FulfillmentHoldReason" {
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

schema_enum! {
    /// `Fulfillment.status`. orderflow never cancels a fulfilment, so a `CANCELLED` one was
    /// cancelled by a person (or another app).
    FulfillmentStatus = "FulfillmentStatus" {
        Cancelled = "CANCELLED",
        Error = "ERROR",
        Failure = "FAILURE",
        Open = "OPEN",
        Pending = "PENDING",
        Success = "SUCCESS",
    }
}

schema_enum! {
    /// `Fulfillment.displayStatus`: what the admin shows, the carrier's tracking events
    /// included; `orders cancel-fulfilments` reads from it whether a fulfilment has shipped.
    FulfillmentDisplayStatus = "FulfillmentDisplayStatus" {
        AttemptedDelivery = "ATTEMPTED_DELIVERY",
        Canceled = "CANCELED",
        CarrierPickedUp = "CARRIER_PICKED_UP",
        Confirmed = "CONFIRMED",
        Delayed = "DELAYED",
        Delivered = "DELIVERED",
        Failure = "FAILURE",
        Fulfilled = "FULFILLED",
        InTransit = "IN_TRANSIT",
        LabelPrinted = "LABEL_PRINTED",
        LabelPurchased = "LABEL_PURCHASED",
        LabelVoided = "LABEL_VOIDED",
        MarkedAsFulfilled = "MARKED_AS_FULFILLED",
        NotDelivered = "NOT_DELIVERED",
        OutForDelivery = "OUT_FOR_DELIVERY",
        PickedUp = "PICKED_UP",
        ReadyForPickup = "READY_FOR_PICKUP",
        Submitted = "SUBMITTED",
    }
}

impl RiskLevel {
    /// Still being assessed. A level this build cannot read counts as pending: wait, never
    /// ship on a verdict we do not understand.
    pub fn is_pending(self) -> bool {
        matches!(self, RiskLevel::Pending | RiskLevel::Unknown)
    }
}

impl RiskRecommendation {
    /// The recommendation the fraud rules weigh: one this build cannot read counts as `NONE`
    /// (no recommendation), so it neither releases nor, by itself, holds anything new.
    pub fn or_none(self) -> Self {
        match self {
            RiskRecommendation::Unknown => RiskRecommendation::None,
            known => known,
        }
    }
}

/// Every enum above as (GraphQL name, known values), for the schema test.
pub fn all_enums() -> Vec<(&'static str, Vec<&'static str>)> {
    fn of<E: Copy>(
        name: &'static str,
        all: &[E],
        as_str: fn(E) -> &'static str,
    ) -> (&'static str, Vec<&'static str>) {
        (name, all.iter().map(|v| as_str(*v)).collect())
    }
    macro_rules! each {
        ($($e:ident),+) => { vec![$(of($e::GRAPHQL_NAME, $e::ALL, $e::as_str)),+] };
    }
    each!(
        FinancialStatus,
        OrderFulfillmentStatus,
        RiskRecommendation,
        RiskLevel,
        SellingPlanCategory,
        FulfillmentOrderStatus,
        FulfillmentOrderRequestStatus,
        DeliveryMethodType,
        FulfillmentOrderAction,
        FulfillmentHoldReason,
        FulfillmentStatus,
        FulfillmentDisplayStatus
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_and_misspellings_are_refused() {
        for v in DeliveryMethodType::ALL {
            assert_eq!(DeliveryMethodType::parse(v.as_str()), Some(*v));
        }
        assert_eq!(DeliveryMethodType::parse("PICKUP"), None);
        assert_eq!(RiskLevel::parse("high"), None, "the schema's spelling only");
        assert_eq!(RiskLevel::parse("HIHG"), None);
        assert!(
            RiskLevel::valid_values().contains("HIGH, LOW, MEDIUM"),
            "{}",
            RiskLevel::valid_values()
        );
    }

    #[test]
    fn unknown_is_read_from_answers_but_never_from_config() {
        let read: RiskLevel = serde_json::from_str("\"SOMETHING_NEW\"").unwrap();
        assert_eq!(read, RiskLevel::Unknown);
        assert_eq!(RiskLevel::parse("UNKNOWN"), None);
        assert!(!RiskLevel::valid_values().contains("UNKNOWN"));
        assert!(!RiskLevel::ALL.contains(&RiskLevel::Unknown));
        for v in FulfillmentHoldReason::ALL {
            let text = serde_json::to_string(v).unwrap();
            assert_eq!(
                text,
                format!("\"{v}\""),
                "serde speaks the schema's spelling"
            );
            assert_eq!(
                serde_json::from_str::<FulfillmentHoldReason>(&text).unwrap(),
                *v
            );
        }
    }

    #[test]
    fn an_unknown_value_leaves_things_alone() {
        assert!(RiskLevel::Unknown.is_pending());
        assert!(RiskLevel::Pending.is_pending());
        assert!(!RiskLevel::High.is_pending());
        assert_eq!(
            RiskRecommendation::Unknown.or_none(),
            RiskRecommendation::None
        );
        assert_eq!(
            RiskRecommendation::Cancel.or_none(),
            RiskRecommendation::Cancel
        );
    }
}
