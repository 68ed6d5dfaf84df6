//! The three handlers. Each check refuses before anything is sent or stored; see the module
//! docs of [`super`] for the order and the answers.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use secrecy::SecretString;
use serde_json::json;

use super::error::{Api, Page, html_headers, page};
use super::{Install, InstallError, fresh, state};
use crate::auth::{query_hmac, session_token};
use crate::id::ShopDomain;

/// The decoded parameters of a raw query.
fn params(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

impl Install {
    /// The checks the install request and the callback share: HMAC first (§1a: before
    /// anything else), then the shop, then the timestamp.
    fn signed_request(
        &self,
        query: &str,
    ) -> Result<(Vec<(String, String)>, ShopDomain), InstallError> {
        query_hmac::verify(query, &self.secrets)?;
        let params = params(query);
        let shop = param(&params, "shop")
            .and_then(|s| ShopDomain::parse(s).ok())
            .ok_or(InstallError::Shop)?;
        if !fresh(param(&params, "timestamp"), self.clock.now()) {
            return Err(InstallError::Stale);
        }
        Ok((params, shop))
    }
}

/// `GET /auth/install`: 302 to the shop's grant screen, the state nonce in a signed cookie.
pub async fn install(State(app): State<Arc<Install>>, RawQuery(query): RawQuery) -> Response {
    let query = query.unwrap_or_default();
    let shop = match app.signed_request(&query) {
        Ok((_, shop)) => shop,
        Err(e) => return Page(e).into_response(),
    };
    let nonce = state::nonce();
    let cookie = state::set_cookie(&nonce, &shop, app.clock.now(), &app.secrets[0]);
    let admin = app
        .admin(&shop)
        .base
        .unwrap_or_else(|| format!("https://{shop}"));
    let authorize = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &app.client_id)
        .append_pair("scope", &app.scopes.join(","))
        .append_pair("redirect_uri", &app.redirect_uri())
        .append_pair("state", &nonce)
        .finish();
    tracing::info!(shop = %shop, "install started: redirecting to the grant screen");
    (
        StatusCode::FOUND,
        [
            (
                header::LOCATION,
                format!("{admin}/admin/oauth/authorize?{authorize}"),
            ),
            (header::SET_COOKIE, cookie),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response()
}

/// `GET /auth/callback`: checks, code exchange, scopes, time zone, store, page.
pub async fn callback(
    State(app): State<Arc<Install>>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    match run_callback(&app, &query.unwrap_or_default(), &headers).await {
        Ok(shop) => (
            StatusCode::OK,
            [(header::SET_COOKIE, state::clear_cookie())],
            html_headers(),
            page(
                "orderflow is installed",
                &format!("orderflow is installed on {shop}."),
            ),
        )
            .into_response(),
        Err(e) => ([(header::SET_COOKIE, state::clear_cookie())], Page(e)).into_response(),
    }
}

async fn run_callback(
    app: &Install,
    query: &str,
    headers: &HeaderMap,
) -> Result<ShopDomain, InstallError> {
    let (params, shop) = app.signed_request(query)?;
    let cookies = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok());
    state::verify(
        param(&params, "state"),
        cookies,
        &shop,
        &app.secrets,
        app.clock.now(),
    )?;
    let code = param(&params, "code")
        .filter(|c| !c.is_empty())
        .map(|c| SecretString::from(c.to_owned()))
        .ok_or(InstallError::NoCode)?;
    // The store first: a code spent while the store is down would be a pair thrown away.
    app.store().await?;
    let lock = app.acquisition(&shop);
    let _held = lock.lock().await;
    let grant = app.grants.exchange_code(&app.admin(&shop), &code).await?;
    app.finish(&shop, grant, "authorization_code").await?;
    Ok(shop)
}

/// `POST /auth/session`: a valid session token; a token exchange if the store has none.
pub async fn session(State(app): State<Arc<Install>>, headers: HeaderMap) -> Response {
    match run_session(&app, &headers).await {
        Ok(shop) => (
            StatusCode::OK,
            axum::Json(json!({"shop": shop.as_str(), "installed": true})),
        )
            .into_response(),
        Err(e) => Api(e).into_response(),
    }
}

async fn run_session(app: &Install, headers: &HeaderMap) -> Result<ShopDomain, InstallError> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().split_once(' '))
        // The scheme is case-insensitive (RFC 9110 §11.1).
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| SecretString::from(t.trim().to_owned()))
        .ok_or(InstallError::NoBearer)?;
    let claims = session_token::validate(&token, &app.client_id, &app.secrets, app.clock.now())?;
    let shop = claims.shop;
    let store = app.store().await?;
    let lock = app.acquisition(&shop);
    let _held = lock.lock().await;
    let holds_token = store
        .shop(&shop)
        .await?
        .is_some_and(|row| row.uninstalled_at.is_none() && row.access_token.is_some());
    if !holds_token {
        let grant = app
            .grants
            .exchange_session_token(&app.admin(&shop), &token)
            .await?;
        app.finish(&shop, grant, "token_exchange").await?;
    }
    Ok(shop)
}
