//! The sandbox's OAuth endpoints, answering only when an app is configured
//! ([`SandboxConfig::app`](super::SandboxConfig::app) or `PUT /_sandbox/app`; 404 otherwise):
//!
//! - `GET /admin/oauth/authorize?client_id&scope&redirect_uri&state[&grant_options[]=]`
//!   approves at once and answers 302 to
//!   `{redirect_uri}?code&hmac&host&shop&state&timestamp`, signed as SHOPIFY-AUTH.md §1d says;
//! - `POST /admin/oauth/access_token`, form-urlencoded (the docs) or JSON (Shopify's library),
//!   for the grants of [`grant`](super::grant), answered with §1e's JSON shapes, through the
//!   token faults and recorded in the token log.
//!
//! The shop is the one the `Host` header names (port stripped), as for GraphQL; without one,
//! the grant's credential tells it, and `authorize` and client credentials take the sandbox's
//! only shop (which is what `curl -L` against a one-shop sandbox needs).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD_NO_PAD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Map, Value, json};
use sha2::Sha256;

use super::grant::{self, INVALID_CLIENT, Refusal, TokenRequest};
use super::log::{Grant, TokenOutcome, TokenRequestRecord};
use super::session::hex;
use super::token::Issued;
use super::{SandboxApp, Shared, lock};
use crate::id::ShopDomain;

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/admin/oauth/authorize", get(authorize))
        .route("/admin/oauth/access_token", post(access_token))
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        json!({"errors": "Not Found"}).to_string(),
    )
        .into_response()
}

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, message.to_owned()).into_response()
}

/// The shop the `Host` header names: `Ok(None)` without one, `Err` for a shop the sandbox
/// does not hold.
fn host_shop(shared: &Shared, headers: &HeaderMap) -> Result<Option<ShopDomain>, ()> {
    let named = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.split(':').next().unwrap_or(h))
        .and_then(|h| ShopDomain::parse(h).ok());
    match named {
        Some(shop) if !shared.lock_shops().contains_key(&shop) => Err(()),
        named => Ok(named),
    }
}

/// §1d: the sorted `key=value` pairs without `hmac`, joined by `&`, HMAC-SHA256 with the
/// client secret, lower-case hex. Values are signed as they are (decoded): every value the
/// sandbox makes (a hex code, the shop domain, digits, base64 without padding) reads the same
/// encoded or not, except `host`'s `+` and `/`, which Shopify's documentation does not settle.
fn sign(params: &BTreeMap<&str, String>, secret: &SecretString) -> String {
    let message = params
        .iter()
        .filter(|(k, _)| **k != "hmac")
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(message.as_bytes());
    hex(&mac.finalize().into_bytes())
}

async fn authorize(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    let Some(app) = shared.app() else {
        return not_found();
    };
    let param = |key: &str| {
        query
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    if param("client_id") != Some(app.client_id.as_str()) {
        return bad_request("Oauth error invalid_request: the client_id is not this app's.");
    }
    if query
        .iter()
        .any(|(k, v)| k == "grant_options[]" && v == "per-user")
    {
        return bad_request("The sandbox does not issue online access tokens (per-user).");
    }
    let Some(redirect) = param("redirect_uri")
        .and_then(|r| reqwest::Url::parse(r).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
    else {
        return bad_request("Oauth error invalid_request: redirect_uri must be an absolute URL.");
    };
    let shop = match host_shop(&shared, &headers) {
        Err(()) => return not_found(),
        Ok(Some(shop)) => shop,
        Ok(None) => match grant::only_shop(&shared.lock_shops()) {
            Some(shop) => shop,
            None => return bad_request("Which shop? Send the shop's domain in the Host header."),
        },
    };
    let scope = param("scope").map_or_else(|| app.scopes.clone(), str::to_owned);
    let now = shared.clock.now();
    let code = {
        let mut shops = shared.lock_shops();
        let Some(state) = shops.get_mut(&shop) else {
            return not_found();
        };
        state.tokens.issue_code(&scope, now)
    };
    let mut params = BTreeMap::from([
        ("code", code.expose_secret().to_owned()),
        ("host", STANDARD_NO_PAD.encode(format!("{shop}/admin"))),
        ("shop", shop.to_string()),
        ("timestamp", now.as_second().to_string()),
    ]);
    if let Some(state) = param("state") {
        params.insert("state", state.to_owned());
    }
    let hmac = sign(&params, &app.client_secret);
    params.insert("hmac", hmac);
    let mut location = redirect;
    location.query_pairs_mut().extend_pairs(params.iter());
    (
        StatusCode::FOUND,
        [(header::LOCATION, location.to_string())],
    )
        .into_response()
}

/// The body's parameters: JSON (values that are not strings as their JSON text) or a form.
async fn params_of(request: Request) -> Option<BTreeMap<String, String>> {
    let json = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if json {
        let Json(map) = Json::<Map<String, Value>>::from_request(request, &())
            .await
            .ok()?;
        Some(
            map.into_iter()
                .map(|(k, v)| match v {
                    Value::String(s) => (k, s),
                    other => (k, other.to_string()),
                })
                .collect(),
        )
    } else {
        let Form(pairs) = Form::<Vec<(String, String)>>::from_request(request, &())
            .await
            .ok()?;
        Some(pairs.into_iter().collect())
    }
}

fn json_answer(status: StatusCode, body: Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn refusal(r: Refusal) -> Response {
    json_answer(
        r.status,
        json!({"error": r.error, "error_description": r.description}),
    )
}

/// §1e's shapes: `access_token, scope[, expires_in][, refresh_token, refresh_token_expires_in]`.
fn tokens(issued: &Issued) -> Response {
    let mut body = Map::new();
    body.insert(
        "access_token".into(),
        issued.access_token.expose_secret().into(),
    );
    body.insert("scope".into(), issued.scope.clone().into());
    if let Some(expires_in) = issued.expires_in {
        body.insert("expires_in".into(), expires_in.into());
    }
    if let Some((refresh, expires_in)) = &issued.refresh {
        body.insert("refresh_token".into(), refresh.expose_secret().into());
        body.insert("refresh_token_expires_in".into(), (*expires_in).into());
    }
    json_answer(StatusCode::OK, Value::Object(body))
}

async fn access_token(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let Some(app) = shared.app() else {
        return not_found();
    };
    let host = match host_shop(&shared, request.headers()) {
        Ok(host) => host,
        Err(()) => return not_found(),
    };
    let now = shared.clock.now();
    let log = |grant: Grant, shop: Option<ShopDomain>, outcome: TokenOutcome| {
        lock(&shared.token_log).push(TokenRequestRecord {
            grant,
            shop,
            outcome,
            at: now,
        });
    };
    let Some(params) = params_of(request).await else {
        let bad = Refusal {
            status: StatusCode::BAD_REQUEST,
            error: "invalid_request",
            description: "The body must be form-urlencoded or JSON.",
        };
        log(Grant::Unsupported, host, refused(&bad));
        return refusal(bad);
    };
    let kind = grant::grant_of(&params);
    if let Some(status) = lock(&shared.token_faults).next_failure() {
        log(kind, host, TokenOutcome::Injected { status });
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let reason = status.canonical_reason().unwrap_or("Sandbox fault");
        return json_answer(status, json!({"errors": reason}));
    }
    if !authenticates(&params, &app) {
        log(kind, host, refused(&INVALID_CLIENT));
        return refusal(INVALID_CLIENT);
    }
    let request = TokenRequest {
        params: &params,
        host: host.as_ref(),
        app: &app,
        now,
    };
    let (shop, answer) = grant::run(kind, &mut shared.lock_shops(), &request);
    match answer {
        Err(r) => {
            log(kind, shop, refused(&r));
            refusal(r)
        }
        Ok(_) if lock(&shared.token_faults).take_lost() => {
            log(kind, shop, TokenOutcome::Lost);
            // Cloudflare's "unknown error": the grant happened, the tokens never arrive (§3, [I1]).
            (
                StatusCode::from_u16(520).unwrap_or(StatusCode::BAD_GATEWAY),
                "",
            )
                .into_response()
        }
        Ok(issued) => {
            let expiring = issued.expires_in.is_some();
            log(kind, shop, TokenOutcome::Issued { expiring });
            tokens(&issued)
        }
    }
}

fn refused(r: &Refusal) -> TokenOutcome {
    TokenOutcome::Refused {
        status: r.status.as_u16(),
        error: r.error.to_owned(),
    }
}

fn authenticates(params: &BTreeMap<String, String>, app: &SandboxApp) -> bool {
    params.get("client_id") == Some(&app.client_id)
        && params
            .get("client_secret")
            .is_some_and(|s| s == app.client_secret.expose_secret())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_shopifys_documented_example() {
        // The example of Shopify's OAuth guide: secret "hush".
        let params = BTreeMap::from([
            ("code", "0907a61c0c8d55e99db179b68161bc00".to_owned()),
            ("shop", "some-shop.myshopify.com".to_owned()),
            ("timestamp", "1337178173".to_owned()),
        ]);
        assert_eq!(
            sign(&params, &SecretString::from("hush")),
            "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20"
        );
    }
}
