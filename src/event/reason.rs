//! Why a message is in the dead-letter queue: one enum, one string form each. The string is the
//! `reason` header ops filter on with `dlq list --reason`, so a value never changes spelling.

use std::fmt;

macro_rules! reasons {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)*) => {
        /// A stable dead-letter reason.
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub enum DeadLetterReason {
            $($(#[$doc])* $variant,)*
        }

        impl DeadLetterReason {
            pub const ALL: &[DeadLetterReason] = &[$(DeadLetterReason::$variant,)*];

            /// The `reason` header value.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(DeadLetterReason::$variant => $text,)*
                }
            }
        }
    };
}

reasons! {
    /// The body is not JSON.
    NotJson => "not_json",
    /// An order topic whose body names no usable order id.
    NoOrderId => "no_order_id",
    /// A fulfilment-order topic whose body names no fulfilment order.
    NoFulfillmentOrderId => "no_fulfillment_order_id",
    /// The shop is not in the configuration.
    UnknownShop => "unknown_shop",
    /// The token was refused, or the app was uninstalled.
    Unauthorized => "unauthorized",
    /// A message of a kind without the id it needs.
    Unroutable => "unroutable",
    /// Shopify refused the change twice.
    UserErrors => "user_errors",
    /// Transient failures until the attempts ran out.
    MaxAttempts => "max_attempts",
    /// A compliance topic whose body cannot be acted on.
    UnusableCompliance => "unusable_compliance",
    /// The Shopify client refused to build the request.
    InvalidRequest => "invalid_request",
    /// A transient Shopify failure (normally retried, never dead-lettered directly).
    Transient => "transient",
    /// Shopify answered "not found".
    NotFound => "not_found",
    /// The shop is frozen, closed or otherwise unavailable.
    ShopUnavailable => "shop_unavailable",
    /// Shopify's answer did not match the schema.
    Schema => "schema",
    /// The query costs more than Shopify allows in one request.
    MaxCostExceeded => "max_cost_exceeded",
}

/// Debug is the header value, quoted: logs of a settled message read as they always did.
impl fmt::Debug for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for DeadLetterReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn every_reason_has_its_own_snake_case_string() {
        let texts: HashSet<&str> = DeadLetterReason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(texts.len(), DeadLetterReason::ALL.len());
        for t in texts {
            assert!(t.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{t}");
        }
        assert_eq!(DeadLetterReason::UnknownShop.to_string(), "unknown_shop");
        assert_eq!(
            format!("{:?}", DeadLetterReason::MaxAttempts),
            format!("{:?}", "max_attempts")
        );
    }
}
