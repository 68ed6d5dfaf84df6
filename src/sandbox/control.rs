//! The sandbox's control API, for the CLI, the demo and anyone with curl. Unauthenticated: the
//! sandbox is a test double and must only listen on a local address.
//!
//! | method & path | body | effect |
//! |---|---|---|
//! | `GET /_sandbox/requests` | | `{"count": n, "throttled": t}` Admin API requests received, and THROTTLED answers among them |
//! | `GET /_sandbox/mutations` | | every mutation received: operation, fields, variables, shop, time |
//! | `POST /_sandbox/faults` | `{"fault": {"kind": "http500"}, "times": 3}` | queue faults (`http500`, `http429` + `retry_after_secs`, `throttled`, `delay` + `millis`, `drop`) |
//! | `DELETE /_sandbox/faults` | | clear queued faults |
//! | `PUT /_sandbox/latency` | `{"millis": 50}` | fixed latency per request |
//! | `PUT /_sandbox/bucket` | `{"maximumAvailable": 2000, "restoreRate": 100}` | bucket of every shop (restarts full) |
//! | `GET /_sandbox/shops/{shop}/orders` | | the shop's order GIDs |
//! | `GET /_sandbox/shops/{shop}/orders/{id}` | | the order as an `OrderSnapshot` |
//! | `POST /_sandbox/shops/{shop}/orders/{id}/risk` | `{"recommendation": "ACCEPT", "riskLevels": ["LOW"]}` | change risk as a fraud app would |
//! | `POST /_sandbox/shops/{shop}/fulfillment-orders/{id}/hold` | `{"reason": "OTHER", "handle": null}` | the merchant holds |
//! | `POST /_sandbox/shops/{shop}/fulfillment-orders/{id}/release` | `{"holdIds": [...]}` or `{}` | the merchant releases (all without ids) |
//! | `POST /_sandbox/shops/{shop}/fulfillments/{id}/cancel` | `{"restock": true}` | a person cancels a fulfilment (Shopify's `fulfillmentCancel` semantics; restock recorded); 404 unknown, 422 already cancelled |
//! | `POST /_sandbox/shops/{shop}/revoke` | | uninstall: every token of the shop gets 401 from now on |
//! | `PUT /_sandbox/app` | `{"clientId": "…", "clientSecret": "…", "scopes": "read_orders"}` | configure the app: the OAuth endpoints answer from now on |
//! | `POST /_sandbox/shops/{shop}/session-token` | `{"userId": 42}` | `{"sessionToken": "…"}`, an App Bridge ID token (needs the app) |
//! | `GET /_sandbox/token-requests` | | every token request: grant, shop, outcome, time (never a token) |
//! | `POST /_sandbox/token-faults` | `{"status": 503, "count": 2}` | the next `count` token requests get `status`, nothing applied |
//! | `POST /_sandbox/token-faults/lose-next` | | the next successful grant is applied, then answered 520 without tokens |
//! | `DELETE /_sandbox/token-faults` | | clear the token faults |
//! | `GET /_sandbox/shops/{shop}/webhook-subscriptions` | | the shop's shop-specific subscriptions (see [`super::control_subscriptions`]) |
//! | `DELETE /_sandbox/shops/{shop}/webhook-subscriptions/{id}` | | delete one, as Shopify does after 8 failed deliveries |
//! | `POST /_sandbox/shops/{shop}/orders/{id}/open` | | a person reopens a closed order (`orderOpen`: `closed` false, `closedAt` null); 404 unknown |
//! | `POST /_sandbox/shops/{shop}/orders/{id}/touch` | `{"at": "2026-11-23T10:00:00Z"}` or none | a merchant edit whose webhook is lost: `updatedAt` becomes `at` (default the sandbox clock's now) |
//!
//! `{id}` is the numeric id (the tail of the GID).

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;

use super::mutate::cancel::CancelRefused;
use super::{BucketConfig, Fault, SandboxApp, Shared, lock, session};
use crate::id::ShopDomain;
use crate::rules::enums::{FulfillmentHoldReason, RiskLevel, RiskRecommendation};

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/_sandbox/requests", get(requests))
        .route("/_sandbox/mutations", get(mutations))
        .route("/_sandbox/queries", get(queries))
        .route("/_sandbox/faults", post(add_faults).delete(clear_faults))
        .route("/_sandbox/latency", put(set_latency))
        .route("/_sandbox/bucket", put(set_bucket))
        .route("/_sandbox/shops/{shop}/orders", get(list_orders))
        .route("/_sandbox/shops/{shop}/orders/{id}", get(get_order))
        .route("/_sandbox/shops/{shop}/orders/{id}/risk", post(set_risk))
        .route(
            "/_sandbox/shops/{shop}/fulfillment-orders/{id}/hold",
            post(hold),
        )
        .route(
            "/_sandbox/shops/{shop}/fulfillment-orders/{id}/release",
            post(release),
        )
        .route(
            "/_sandbox/shops/{shop}/fulfillments/{id}/cancel",
            post(cancel_fulfillment),
        )
        .route("/_sandbox/shops/{shop}/revoke", post(revoke))
        .route("/_sandbox/app", put(set_app))
        .route("/_sandbox/shops/{shop}/session-token", post(session_token))
        .route("/_sandbox/token-requests", get(token_requests))
        .route(
            "/_sandbox/token-faults",
            post(fail_tokens).delete(clear_token_faults),
        )
        .route("/_sandbox/token-faults/lose-next", post(lose_next))
}

pub(super) fn not_found(what: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"error": format!("{what} not found")})),
    )
        .into_response()
}

pub(super) fn bad_shop(raw: &str) -> Response {
    let message = match ShopDomain::parse(raw) {
        Ok(_) => "shop not found".to_owned(),
        Err(e) => e.to_string(),
    };
    (StatusCode::BAD_REQUEST, Json(json!({"error": message}))).into_response()
}

async fn requests(State(s): State<Arc<Shared>>) -> Response {
    let load = |n: &std::sync::atomic::AtomicU64| n.load(std::sync::atomic::Ordering::SeqCst);
    Json(json!({"count": load(&s.requests), "throttled": load(&s.throttled)})).into_response()
}

async fn mutations(State(s): State<Arc<Shared>>) -> Response {
    Json(lock(&s.log).clone()).into_response()
}

async fn queries(State(s): State<Arc<Shared>>) -> Response {
    Json(lock(&s.queries).clone()).into_response()
}

#[derive(Deserialize)]
struct FaultsBody {
    fault: Fault,
    #[serde(default = "one")]
    times: usize,
}

fn one() -> usize {
    1
}

async fn add_faults(State(s): State<Arc<Shared>>, Json(body): Json<FaultsBody>) -> Response {
    lock(&s.faults).push(body.fault, body.times);
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_faults(State(s): State<Arc<Shared>>) -> Response {
    lock(&s.faults).clear();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct LatencyBody {
    millis: u64,
}

async fn set_latency(State(s): State<Arc<Shared>>, Json(body): Json<LatencyBody>) -> Response {
    lock(&s.faults).latency = Duration::from_millis(body.millis);
    StatusCode::NO_CONTENT.into_response()
}

async fn set_bucket(State(s): State<Arc<Shared>>, Json(body): Json<BucketConfig>) -> Response {
    if body.maximum_available <= 0.0 || body.restore_rate <= 0.0 {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "both values must be positive"})),
        )
            .into_response();
    }
    *lock(&s.buckets) = (body, Default::default());
    StatusCode::NO_CONTENT.into_response()
}

async fn list_orders(State(s): State<Arc<Shared>>, Path(raw): Path<String>) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    match s.lock_shops().get(&domain) {
        Some(state) => Json(state.orders.keys().cloned().collect::<Vec<_>>()).into_response(),
        None => not_found("shop"),
    }
}

async fn get_order(State(s): State<Arc<Shared>>, Path((raw, id)): Path<(String, u64)>) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    match s.order(&domain, &format!("gid://shopify/Order/{id}")) {
        Some(order) => Json(order).into_response(),
        None => not_found("order"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RiskBody {
    recommendation: RiskRecommendation,
    #[serde(default)]
    risk_levels: Vec<RiskLevel>,
}

async fn set_risk(
    State(s): State<Arc<Shared>>,
    Path((raw, id)): Path<(String, u64)>,
    Json(body): Json<RiskBody>,
) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    if s.set_risk(
        &domain,
        &format!("gid://shopify/Order/{id}"),
        body.recommendation,
        &body.risk_levels,
    ) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found("order")
    }
}

#[derive(Deserialize)]
struct HoldBody {
    reason: FulfillmentHoldReason,
    #[serde(default)]
    handle: Option<String>,
}

async fn hold(
    State(s): State<Arc<Shared>>,
    Path((raw, id)): Path<(String, u64)>,
    Json(body): Json<HoldBody>,
) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    let fo = format!("gid://shopify/FulfillmentOrder/{id}");
    match s.hold_by_hand(&domain, &fo, body.reason, body.handle.as_deref()) {
        Some(hold_id) => Json(json!({"holdId": hold_id})).into_response(),
        None => not_found("fulfillment order"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReleaseBody {
    #[serde(default)]
    hold_ids: Option<Vec<String>>,
}

async fn release(
    State(s): State<Arc<Shared>>,
    Path((raw, id)): Path<(String, u64)>,
    Json(body): Json<ReleaseBody>,
) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    let fo = format!("gid://shopify/FulfillmentOrder/{id}");
    if s.release_by_hand(&domain, &fo, body.hold_ids.as_deref()) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        not_found("fulfillment order")
    }
}

#[derive(Deserialize)]
struct CancelBody {
    restock: bool,
}

/// A person cancels a fulfilment in the admin: 204, 404 for an unknown one, 422 when refused.
async fn cancel_fulfillment(
    State(s): State<Arc<Shared>>,
    Path((raw, id)): Path<(String, u64)>,
    Json(body): Json<CancelBody>,
) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    match s.cancel_fulfillment(
        &domain,
        &format!("gid://shopify/Fulfillment/{id}"),
        body.restock,
    ) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(CancelRefused::NotFound(_)) => not_found("fulfillment"),
        Err(refused) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": refused.to_string()})),
        )
            .into_response(),
    }
}

async fn revoke(State(s): State<Arc<Shared>>, Path(raw): Path<String>) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    match s.lock_shops().get_mut(&domain) {
        Some(state) => {
            state.revoke();
            StatusCode::NO_CONTENT.into_response()
        }
        None => not_found("shop"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AppBody {
    client_id: String,
    client_secret: SecretString,
    #[serde(default)]
    scopes: String,
}

async fn set_app(State(s): State<Arc<Shared>>, Json(body): Json<AppBody>) -> Response {
    *lock(&s.app) = Some(SandboxApp {
        client_id: body.client_id,
        client_secret: body.client_secret,
        scopes: body.scopes,
    });
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionBody {
    user_id: u64,
}

async fn session_token(
    State(s): State<Arc<Shared>>,
    Path(raw): Path<String>,
    Json(body): Json<SessionBody>,
) -> Response {
    let Ok(domain) = ShopDomain::parse(&raw) else {
        return bad_shop(&raw);
    };
    let Some(app) = s.app() else {
        return not_found("app");
    };
    let token = session::mint(
        &domain,
        body.user_id,
        &app.client_id,
        &app.client_secret,
        s.clock.now(),
    );
    Json(json!({"sessionToken": token.expose_secret()})).into_response()
}

async fn token_requests(State(s): State<Arc<Shared>>) -> Response {
    Json(lock(&s.token_log).clone()).into_response()
}

#[derive(Deserialize)]
struct TokenFaultBody {
    status: u16,
    #[serde(default = "one_u32")]
    count: u32,
}

fn one_u32() -> u32 {
    1
}

async fn fail_tokens(State(s): State<Arc<Shared>>, Json(body): Json<TokenFaultBody>) -> Response {
    if StatusCode::from_u16(body.status).is_err() {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"error": "status must be an HTTP status code"})),
        )
            .into_response();
    }
    lock(&s.token_faults).fail(body.count, body.status);
    StatusCode::NO_CONTENT.into_response()
}

async fn lose_next(State(s): State<Arc<Shared>>) -> Response {
    lock(&s.token_faults).lose_next();
    StatusCode::NO_CONTENT.into_response()
}

async fn clear_token_faults(State(s): State<Arc<Shared>>) -> Response {
    lock(&s.token_faults).clear();
    StatusCode::NO_CONTENT.into_response()
}
