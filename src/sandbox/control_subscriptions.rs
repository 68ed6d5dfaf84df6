//! The control API's merchant actions on subscriptions and lost webhooks (the table is in
//! [`super::control`]): list a shop's shop-specific subscriptions, delete one as Shopify does
//! after 8 consecutive failed deliveries, change an order without its webhook, and reopen a
//! closed order as a person would, so a user
//! of `orderflow sandbox` can do with curl what the tests do with the handle.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::json;

use super::Shared;
use super::control::{bad_shop, not_found};
use crate::id::ShopDomain;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sandbox/shops/{shop}/webhook-subscriptions", get(list))
        .route(
            "/_sandbox/shops/{shop}/webhook-subscriptions/{id}",
            delete(drop_one),
        )
        .route("/_sandbox/shops/{shop}/orders/{id}/touch", post(touch))
        .route("/_sandbox/shops/{shop}/orders/{id}/open", post(reopen))
}

/// A person reopens a closed order in the admin (`orderOpen`'s semantics): 204, 404 unknown.
async fn reopen(State(s): State<Arc<Shared>>, Path((raw, id)): Path<(String, u64)>) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    if s.reopen_order(&domain, &format!("gid://shopify/Order/{id}")) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found("order")
    }
}

async fn list(State(s): State<Arc<Shared>>, Path(raw): Path<String>) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    match s.webhook_subscriptions(&domain) {
        Some(subs) => Json(subs).into_response(),
        None => not_found("shop"),
    }
}

async fn drop_one(State(s): State<Arc<Shared>>, Path((raw, id)): Path<(String, u64)>) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    let gid = format!("gid://shopify/WebhookSubscription/{id}");
    let dropped = s.drop_webhook_subscriptions(&domain, |sub| {
        sub.get("id").and_then(serde_json::Value::as_str) == Some(gid.as_str())
    });
    if dropped > 0 {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found("subscription")
    }
}

#[derive(Deserialize)]
struct TouchBody {
    at: Option<jiff::Timestamp>,
}

async fn touch(
    State(s): State<Arc<Shared>>,
    Path((raw, id)): Path<(String, u64)>,
    body: Bytes,
) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    // The body is optional: none, or `{}`, is now on the sandbox's clock.
    let at = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        match serde_json::from_slice::<TouchBody>(&body) {
            Ok(b) => b.at,
            Err(e) => {
                let error = format!("body: {e} (want {{\"at\": \"2026-11-23T10:00:00Z\"}})");
                return (StatusCode::BAD_REQUEST, Json(json!({"error": error}))).into_response();
            }
        }
    };
    let at = at.unwrap_or_else(|| s.clock.now());
    if s.touch_order(&domain, &format!("gid://shopify/Order/{id}"), at) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found("order")
    }
}
