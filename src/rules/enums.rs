//! The Shopify enum values the rules speak, spelt exactly as the Admin GraphQL schema (2026-10)
//! spells them. One macro gives each enum the same surface: `ALL` (listed in config errors),
//! `as_str`, `parse`, and serde as the schema's string, so a misspelt value in a config file or a
//! snapshot is refused instead of silently meaning something else.

use std::fmt;

macro_rules! schema_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in the schema's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value spelt exactly as in the schema.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
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

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "`{text}` is not a {}: use one of {}",
                        stringify!($name),
                        Self::valid_values()
                    ))
                })
            }
        }
    };
}

schema_enum!(
    /// `FulfillmentHoldReason`.
    FulfillmentHoldReason {
        AwaitingPayment = "AWAITING_PAYMENT",
        AwaitingReturnItems = "AWAITING_RETURN_ITEMS",
        HighRiskOfFraud = "HIGH_RISK_OF_FRAUD",
        IncorrectAddress = "INCORRECT_ADDRESS",
        InventoryOutOfStock = "INVENTORY_OUT_OF_STOCK",
        OnlineStorePostPurchaseCrossSell = "ONLINE_STORE_POST_PURCHASE_CROSS_SELL",
        Other = "OTHER",
        UnknownDeliveryDate = "UNKNOWN_DELIVERY_DATE",
    }
);

schema_enum!(
    /// `RiskAssessmentResult`: one provider's verdict. `PENDING` until assessed.
    RiskLevel {
        High = "HIGH",
        Low = "LOW",
        Medium = "MEDIUM",
        None = "NONE",
        Pending = "PENDING",
    }
);

schema_enum!(
    /// `OrderRiskRecommendationResult`: Shopify's summary of every assessment.
    RiskRecommendation {
        Accept = "ACCEPT",
        Cancel = "CANCEL",
        Investigate = "INVESTIGATE",
        None = "NONE",
    }
);

schema_enum!(
    /// `DeliveryMethodType` of a fulfilment order.
    DeliveryMethodType {
        Local = "LOCAL",
        None = "NONE",
        PickupPoint = "PICKUP_POINT",
        PickUp = "PICK_UP",
        Retail = "RETAIL",
        Shipping = "SHIPPING",
    }
);

schema_enum!(
    /// `FulfillmentOrderStatus`.
    FulfillmentOrderStatus {
        Cancelled = "CANCELLED",
        Closed = "CLOSED",
        Incomplete = "INCOMPLETE",
        InProgress = "IN_PROGRESS",
        OnHold = "ON_HOLD",
        Open = "OPEN",
        Scheduled = "SCHEDULED",
    }
);

schema_enum!(
    /// `FulfillmentOrderRequestStatus`: where a request to a fulfilment service stands.
    FulfillmentOrderRequestStatus {
        Accepted = "ACCEPTED",
        CancellationAccepted = "CANCELLATION_ACCEPTED",
        CancellationRejected = "CANCELLATION_REJECTED",
        CancellationRequested = "CANCELLATION_REQUESTED",
        Closed = "CLOSED",
        Rejected = "REJECTED",
        Submitted = "SUBMITTED",
        Unsubmitted = "UNSUBMITTED",
    }
);

schema_enum!(
    /// `FulfillmentOrderAction`: what the API allows on a fulfilment order right now.
    FulfillmentOrderAction {
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
);

schema_enum!(
    /// `OrderDisplayFinancialStatus` (there is no `financialStatus` in GraphQL).
    FinancialStatus {
        Authorized = "AUTHORIZED",
        Expired = "EXPIRED",
        Paid = "PAID",
        PartiallyPaid = "PARTIALLY_PAID",
        PartiallyRefunded = "PARTIALLY_REFUNDED",
        Pending = "PENDING",
        Refunded = "REFUNDED",
        Voided = "VOIDED",
    }
);

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
        let err = serde_json::from_str::<RiskLevel>("\"HIHG\"").unwrap_err();
        assert!(err.to_string().contains("HIGH, LOW, MEDIUM"), "{err}");
    }
}
