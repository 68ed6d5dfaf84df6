//! [`ShopifyError`]: what can go wrong talking to the Admin API, classified so the worker knows
//! whether to retry later (transient), dead-letter (permanent) or page someone (a schema bug).
//!
//! No variant ever carries the access token; messages quote Shopify's text, which never holds it.

use std::time::Duration;

use crate::event::DeadLetterReason;
use crate::id::ShopDomain;

/// One entry of a mutation payload's `userErrors`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct UserError {
    /// The input path Shopify blames, e.g. `["fulfillmentHold", "handle"]`.
    #[serde(default)]
    pub field: Option<Vec<String>>,
    pub message: String,
    /// The error code, on payloads whose error type has one (e.g. `DUPLICATE_FULFILLMENT_HOLD_HANDLE`).
    #[serde(default)]
    pub code: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ShopifyError {
    /// The shop is not in the configuration: nothing was sent.
    #[error("shop `{0}` is not configured: orderflow only calls configured shops")]
    UnknownShop(String),

    /// A request orderflow must not send (e.g. a release without hold ids): nothing was sent.
    #[error("{operation} not sent: {reason}")]
    InvalidRequest {
        operation: &'static str,
        reason: &'static str,
    },

    /// Network errors, timeouts, 5xx, THROTTLED that outlasted every retry.
    #[error(
        "transient Shopify failure for {shop} ({operation}) after {attempts} attempt(s): {reason}"
    )]
    Transient {
        shop: ShopDomain,
        operation: &'static str,
        attempts: u32,
        reason: String,
    },

    /// 401/403: the token is revoked (the app was uninstalled) or lacks a scope.
    #[error("Shopify refused the access token for {shop} ({operation}): HTTP {status}")]
    Unauthorized {
        shop: ShopDomain,
        operation: &'static str,
        status: u16,
    },

    /// The resource does not exist (the query answered `null`).
    #[error("{what} not found in {shop}")]
    NotFound { shop: ShopDomain, what: String },

    /// The shop itself cannot be used: 404 (no such shop, or closed), 402 (frozen for an unpaid
    /// bill), 423 (locked). A state of the shop, not of one order, and no retry heals it soon.
    #[error("shop {shop} is unavailable ({operation}): HTTP {status}")]
    ShopUnavailable {
        shop: ShopDomain,
        operation: &'static str,
        status: u16,
    },

    /// The mutation ran and Shopify said no: permanent for this input.
    #[error("{operation} refused by {shop}: {}", describe(.errors))]
    UserErrors {
        shop: ShopDomain,
        operation: &'static str,
        errors: Vec<UserError>,
    },

    /// Shopify (or the sandbox) rejected the document itself, or answered a shape we cannot read:
    /// a bug in orderflow, never retried.
    #[error("GraphQL error from {shop} ({operation}), a bug in orderflow: {message}")]
    Schema {
        shop: ShopDomain,
        operation: &'static str,
        message: String,
    },

    /// The query's requested cost passes Shopify's per-query cap: a bug in the document.
    #[error("{operation} requests too much for one query ({shop}): {message}")]
    MaxCostExceeded {
        shop: ShopDomain,
        operation: &'static str,
        message: String,
    },
}

fn describe(errors: &[UserError]) -> String {
    errors
        .iter()
        .map(|e| match &e.code {
            Some(code) => format!("{} ({code})", e.message),
            None => e.message.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl ShopifyError {
    /// Worth retrying later (through the delay tiers): the same request may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, ShopifyError::Transient { .. })
    }

    /// The codes of a `UserErrors`, for matching (`DUPLICATE_FULFILLMENT_HOLD_HANDLE`…).
    pub fn user_error_codes(&self) -> Vec<&str> {
        match self {
            ShopifyError::UserErrors { errors, .. } => {
                errors.iter().filter_map(|e| e.code.as_deref()).collect()
            }
            _ => Vec::new(),
        }
    }

    /// A short stable label for metrics and logs: the dead-letter reason's string, so a
    /// dead letter and the metric of the error that caused it read the same.
    pub fn class(&self) -> &'static str {
        self.reason().as_str()
    }

    /// The dead-letter reason of a message that fails with this error, when it is dead-lettered.
    pub fn reason(&self) -> DeadLetterReason {
        match self {
            ShopifyError::UnknownShop(_) => DeadLetterReason::UnknownShop,
            ShopifyError::InvalidRequest { .. } => DeadLetterReason::InvalidRequest,
            ShopifyError::Transient { .. } => DeadLetterReason::Transient,
            ShopifyError::Unauthorized { .. } => DeadLetterReason::Unauthorized,
            ShopifyError::NotFound { .. } => DeadLetterReason::NotFound,
            ShopifyError::ShopUnavailable { .. } => DeadLetterReason::ShopUnavailable,
            ShopifyError::UserErrors { .. } => DeadLetterReason::UserErrors,
            ShopifyError::Schema { .. } => DeadLetterReason::Schema,
            ShopifyError::MaxCostExceeded { .. } => DeadLetterReason::MaxCostExceeded,
        }
    }
}

/// Why one attempt failed, before retries decide; internal to the client.
#[derive(Debug)]
pub(crate) enum AttemptError {
    /// Retry after this long (THROTTLED, 429 Retry-After).
    Throttled(Option<Duration>),
    /// Retry with backoff (network, timeout, 5xx).
    Retryable(String),
    /// Give up now.
    Fatal(ShopifyError),
}

/// A network error as a retry reason.
pub(super) fn network_reason(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "connection dropped while reading the answer"
    } else {
        "request failed"
    };
    // Without the URL: it is the shop's endpoint, already in the span.
    format!("{kind}: {}", e.without_url())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_keeps_its_reason_string() {
        let shop = ShopDomain::parse("acme.myshopify.com").unwrap();
        let op = "order_snapshot";
        let errors = [
            ShopifyError::UnknownShop(shop.as_str().into()),
            ShopifyError::InvalidRequest {
                operation: op,
                reason: "r",
            },
            ShopifyError::Transient {
                shop: shop.clone(),
                operation: op,
                attempts: 1,
                reason: "r".into(),
            },
            ShopifyError::Unauthorized {
                shop: shop.clone(),
                operation: op,
                status: 401,
            },
            ShopifyError::NotFound {
                shop: shop.clone(),
                what: "order".into(),
            },
            ShopifyError::ShopUnavailable {
                shop: shop.clone(),
                operation: op,
                status: 402,
            },
            ShopifyError::UserErrors {
                shop: shop.clone(),
                operation: op,
                errors: Vec::new(),
            },
            ShopifyError::Schema {
                shop: shop.clone(),
                operation: op,
                message: "m".into(),
            },
            ShopifyError::MaxCostExceeded {
                shop,
                operation: op,
                message: "m".into(),
            },
        ];
        // The strings ops filter dead letters on (`dlq list --reason`): they never change.
        let expected = [
            "unknown_shop",
            "invalid_request",
            "transient",
            "unauthorized",
            "not_found",
            "shop_unavailable",
            "user_errors",
            "schema",
            "max_cost_exceeded",
        ];
        assert_eq!(errors.len(), expected.len());
        for (e, want) in errors.iter().zip(expected) {
            assert_eq!(e.reason().as_str(), want, "{e}");
            assert_eq!(e.class(), want, "{e}");
        }
    }
}
