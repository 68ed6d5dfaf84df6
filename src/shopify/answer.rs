//! Pure classification of one Admin API answer: what the HTTP status and the GraphQL body mean
//! for the caller (data, retry after a wait, retry with backoff, or give up with which error).

use std::time::Duration;

use serde::Deserialize;

use super::error::{AttemptError, ShopifyError};
use super::throttle::QueryCost;
use crate::id::ShopDomain;

/// The body of an Admin API answer.
#[derive(Debug, Deserialize)]
struct GraphqlResponse {
    #[serde(default)]
    data: Option<serde_json::Value>,
    #[serde(default)]
    errors: Option<serde_json::Value>,
    #[serde(default)]
    extensions: Option<Extensions>,
}

#[derive(Debug, Deserialize)]
struct Extensions {
    cost: Option<QueryCost>,
}

/// What the status alone decides (before the body is read); `None`: read the body.
pub(crate) fn classify_status(
    shop: &ShopDomain,
    operation: &'static str,
    status: u16,
    retry_after: Option<&str>,
) -> Option<AttemptError> {
    match status {
        // 401: token revoked (uninstall); 403: a missing scope. Neither heals by retrying.
        401 | 403 => Some(AttemptError::Fatal(ShopifyError::Unauthorized {
            shop: shop.clone(),
            operation,
            status,
        })),
        429 => {
            let wait = retry_after
                .and_then(|v| v.trim().parse::<f64>().ok())
                .map_or(Duration::from_secs(1), |s| {
                    Duration::from_secs_f64(s.clamp(0.0, 60.0))
                });
            Some(AttemptError::Throttled(Some(wait)))
        }
        402 | 404 | 423 => Some(AttemptError::Fatal(ShopifyError::ShopUnavailable {
            shop: shop.clone(),
            operation,
            status,
        })),
        500..=599 => Some(AttemptError::Retryable(format!("HTTP {status}"))),
        _ => None,
    }
}

/// What a body (after a non-5xx status) means, and the cost Shopify reported with it.
pub(crate) fn classify_body(
    shop: &ShopDomain,
    operation: &'static str,
    status: u16,
    text: &str,
) -> (Result<serde_json::Value, AttemptError>, Option<QueryCost>) {
    let schema_error = |message: String| {
        AttemptError::Fatal(ShopifyError::Schema {
            shop: shop.clone(),
            operation,
            message,
        })
    };
    if !(200..300).contains(&status) {
        let excerpt: String = text.chars().take(300).collect();
        return (Err(schema_error(format!("HTTP {status}: {excerpt}"))), None);
    }
    let parsed: GraphqlResponse = match serde_json::from_str(text) {
        Ok(p) => p,
        // A proxy's error page or a cut body: worth another try.
        Err(e) => {
            return (
                Err(AttemptError::Retryable(format!("unreadable answer: {e}"))),
                None,
            );
        }
    };
    let cost = parsed.extensions.and_then(|e| e.cost);
    if let Some(errors) = parsed
        .errors
        .as_ref()
        .and_then(|e| e.as_array())
        .filter(|e| !e.is_empty())
    {
        let codes: Vec<&str> = errors
            .iter()
            .filter_map(|e| e.pointer("/extensions/code").and_then(|c| c.as_str()))
            .collect();
        let message = errors
            .iter()
            .filter_map(|e| e.get("message").and_then(|m| m.as_str()))
            .collect::<Vec<_>>()
            .join("; ");
        let outcome = if codes.contains(&"THROTTLED") {
            AttemptError::Throttled(None)
        } else if codes.contains(&"MAX_COST_EXCEEDED") {
            AttemptError::Fatal(ShopifyError::MaxCostExceeded {
                shop: shop.clone(),
                operation,
                message,
            })
        } else if codes.contains(&"INTERNAL_SERVER_ERROR") {
            AttemptError::Retryable(message)
        } else if codes.contains(&"ACCESS_DENIED") {
            AttemptError::Fatal(ShopifyError::Unauthorized {
                shop: shop.clone(),
                operation,
                status,
            })
        } else {
            tracing::error!(shop = %shop, operation, %message, "Shopify refused a GraphQL document: a bug in orderflow");
            schema_error(message)
        };
        return (Err(outcome), cost);
    }
    if let Some(c) = &cost {
        tracing::debug!(
            requested = c.requested_query_cost,
            actual = c.actual_query_cost,
            available = c.throttle_status.currently_available,
            "Shopify call done"
        );
    }
    match parsed.data {
        Some(data) => (Ok(data), cost),
        None => (
            Err(schema_error("answer without data or errors".to_owned())),
            cost,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> ShopDomain {
        ShopDomain::parse("acme.myshopify.com").expect("valid")
    }

    #[test]
    fn throttled_comes_with_http_200_and_keeps_the_reported_cost() {
        let body = r#"{"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED"}}],
            "extensions":{"cost":{"requestedQueryCost":691,"actualQueryCost":null,
            "throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":12,"restoreRate":100.0}}}}"#;
        let (result, cost) = classify_body(&shop(), "OrderSnapshot", 200, body);
        assert!(matches!(result, Err(AttemptError::Throttled(None))));
        assert_eq!(
            cost.expect("cost").throttle_status.currently_available,
            12.0
        );
    }

    #[test]
    fn statuses_map_to_their_retry_class() {
        let s = shop();
        assert!(matches!(
            classify_status(&s, "Op", 401, None),
            Some(AttemptError::Fatal(ShopifyError::Unauthorized {
                status: 401,
                ..
            }))
        ));
        assert!(
            matches!(classify_status(&s, "Op", 429, Some("2")), Some(AttemptError::Throttled(Some(d))) if d == Duration::from_secs(2))
        );
        assert!(matches!(
            classify_status(&s, "Op", 503, None),
            Some(AttemptError::Retryable(_))
        ));
        assert!(classify_status(&s, "Op", 200, None).is_none());
        // A frozen, missing or locked shop is a state of the shop, not a bug of ours.
        for status in [402, 404, 423] {
            match classify_status(&s, "Op", status, None) {
                Some(AttemptError::Fatal(e @ ShopifyError::ShopUnavailable { .. })) => {
                    assert_eq!(e.class(), "shop_unavailable");
                    assert!(!e.is_transient());
                }
                other => panic!("{status}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_validation_error_is_a_loud_schema_error_and_not_retried() {
        let body = r#"{"errors":[{"message":"Field 'x' doesn't exist on type 'Order'","locations":[{"line":1,"column":3}]}]}"#;
        let (result, _) = classify_body(&shop(), "OrderSnapshot", 200, body);
        match result {
            Err(AttemptError::Fatal(e @ ShopifyError::Schema { .. })) => assert!(!e.is_transient()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unreadable_body_is_retried() {
        let (result, _) = classify_body(&shop(), "OrderSnapshot", 200, "{\"data\":{");
        assert!(matches!(result, Err(AttemptError::Retryable(_))));
    }
}
