//! The grants of the sandbox's token endpoint, over the shops' state: which grant a request
//! asks for, which shop it is for, and what it answers (tokens, or a refusal with the status
//! and OAuth error Shopify sends where SHOPIFY-AUTH.md records one; the others are chosen
//! conservatively from RFC 6749 §5.2 and say so).

use std::collections::BTreeMap;

use axum::http::StatusCode;
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};

use super::SandboxApp;
use super::log::Grant;
use super::session;
use super::state::ShopState;
use super::token::{Issued, mint};
use crate::id::ShopDomain;

pub const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
pub const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
pub const OFFLINE_TOKEN: &str = "urn:shopify:params:oauth:token-type:offline-access-token";
pub const ONLINE_TOKEN: &str = "urn:shopify:params:oauth:token-type:online-access-token";

/// A refused token request: status, OAuth `error`, `error_description`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: &'static str,
}

const fn refuse(status: StatusCode, error: &'static str, description: &'static str) -> Refusal {
    Refusal {
        status,
        error,
        description,
    }
}

/// §3, the body observed after a consumed refresh token [I1]; also answered for unknown and
/// expired refresh tokens, for which nothing else is documented.
pub const INACTIVE_REFRESH_TOKEN: Refusal = refuse(
    StatusCode::UNAUTHORIZED,
    "invalid_request",
    "This request requires an active refresh_token",
);
/// §2: an invalid or expired subject token gets 400 with this body [D2][I2].
pub const INVALID_SUBJECT_TOKEN: Refusal = refuse(
    StatusCode::BAD_REQUEST,
    "invalid_subject_token",
    "Token exchange cannot be performed due to an invalid subject token.",
);
/// A wrong client id or secret: Shopify's answer is not documented; RFC 6749 §5.2 gives 400
/// `invalid_client` when the credentials travel in the body, and a 400 is what a client
/// treats as permanent without mistaking it for a dead refresh token (401).
pub const INVALID_CLIENT: Refusal = refuse(
    StatusCode::BAD_REQUEST,
    "invalid_client",
    "Client authentication failed: wrong client_id or client_secret.",
);
/// An unknown, used or expired code: not documented (§1e); RFC 6749 §5.2's `invalid_grant`.
pub const INVALID_CODE: Refusal = refuse(
    StatusCode::BAD_REQUEST,
    "invalid_grant",
    "The authorization code is unknown, already used or expired.",
);
const UNSUPPORTED: Refusal = refuse(
    StatusCode::BAD_REQUEST,
    "unsupported_grant_type",
    "The grant_type is not supported.",
);
const NO_SHOP: Refusal = refuse(
    StatusCode::BAD_REQUEST,
    "invalid_request",
    "Which shop? Send the shop's domain in the Host header.",
);
const NO_ONLINE: Refusal = refuse(
    StatusCode::BAD_REQUEST,
    "invalid_request",
    "The sandbox does not issue online access tokens.",
);
const EXPIRING_REQUIRED: Refusal = refuse(
    StatusCode::BAD_REQUEST,
    "invalid_request",
    "Migrating an offline access token requires expiring=1.",
);

/// The grant a request's parameters ask for.
pub fn grant_of(params: &BTreeMap<String, String>) -> Grant {
    match params.get("grant_type").map(String::as_str) {
        None if params.contains_key("code") => Grant::AuthorizationCode,
        Some("authorization_code") => Grant::AuthorizationCode,
        Some("refresh_token") => Grant::RefreshToken,
        Some("client_credentials") => Grant::ClientCredentials,
        Some(TOKEN_EXCHANGE) => match params.get("subject_token_type").map(String::as_str) {
            Some(ID_TOKEN) => Grant::TokenExchange,
            Some(OFFLINE_TOKEN) => Grant::Migration,
            _ => Grant::Unsupported,
        },
        _ => Grant::Unsupported,
    }
}

/// One token request, its credentials already checked against the app.
pub struct TokenRequest<'a> {
    pub params: &'a BTreeMap<String, String>,
    /// The shop the `Host` header names (known to the sandbox), if any.
    pub host: Option<&'a ShopDomain>,
    pub app: &'a SandboxApp,
    pub now: Timestamp,
}

impl TokenRequest<'_> {
    fn param(&self, key: &str) -> Option<&str> {
        self.params.get(key).map(String::as_str)
    }

    fn expiring(&self) -> bool {
        self.param("expiring") == Some("1")
    }
}

type Shops = BTreeMap<ShopDomain, ShopState>;

/// Runs `grant`: the shop it was for (when known) and its answer.
pub fn run(
    grant: Grant,
    shops: &mut Shops,
    request: &TokenRequest<'_>,
) -> (Option<ShopDomain>, Result<Issued, Refusal>) {
    match grant {
        Grant::AuthorizationCode => {
            let code = request.param("code").unwrap_or_default();
            let Some(shop) = owner(shops, request.host, |s| s.tokens.has_code(code)) else {
                return (request.host.cloned(), Err(INVALID_CODE));
            };
            let state = shops.get_mut(&shop).expect("found above");
            let Some(scope) = state.tokens.take_code(code, request.now) else {
                return (Some(shop), Err(INVALID_CODE));
            };
            let issued = acquire(state, &scope, request.expiring(), request.now);
            (Some(shop), Ok(issued))
        }
        Grant::RefreshToken => {
            let token = request.param("refresh_token").unwrap_or_default();
            let Some(shop) = owner(shops, request.host, |s| s.tokens.has_refresh_token(token))
            else {
                return (request.host.cloned(), Err(INACTIVE_REFRESH_TOKEN));
            };
            let state = shops.get_mut(&shop).expect("found above");
            let issued = state.tokens.refresh(token, request.now);
            (Some(shop), issued.ok_or(INACTIVE_REFRESH_TOKEN))
        }
        Grant::ClientCredentials => {
            let Some(shop) = request.host.cloned().or_else(|| only_shop(shops)) else {
                return (None, Err(NO_SHOP));
            };
            let state = shops.get_mut(&shop).expect("a known shop");
            let issued = state
                .tokens
                .client_credentials(&request.app.scopes, request.now);
            (Some(shop), Ok(issued))
        }
        Grant::TokenExchange => token_exchange(shops, request),
        Grant::Migration => migrate(shops, request),
        Grant::Unsupported => (request.host.cloned(), Err(UNSUPPORTED)),
    }
}

/// The shop whose state `owns` the request's credential. Each grant finds its shop so; a
/// `Host` header naming another shop fails the credential, as one shop's token is nothing to
/// another.
fn owner(
    shops: &Shops,
    host: Option<&ShopDomain>,
    owns: impl Fn(&ShopState) -> bool,
) -> Option<ShopDomain> {
    let shop = shops.values().find(|s| owns(s))?.domain.clone();
    host.is_none_or(|h| *h == shop).then_some(shop)
}

/// The shop when the sandbox holds exactly one.
pub fn only_shop(shops: &Shops) -> Option<ShopDomain> {
    let mut keys = shops.keys();
    let first = keys.next()?.clone();
    keys.next().is_none().then_some(first)
}

/// An acquisition by code or session token: an expiring pair (`expiring=1`), else the shop's
/// non-expiring token, the same one on every re-authorization (§3a), minted if it has none.
fn acquire(state: &mut ShopState, scope: &str, expiring: bool, now: Timestamp) -> Issued {
    if expiring {
        return state.tokens.acquire(scope, now).1;
    }
    let token = state.token.get_or_insert_with(|| mint("shpat_")).clone();
    Issued {
        access_token: token,
        scope: scope.to_owned(),
        expires_in: None,
        refresh: None,
    }
}

/// What the shop granted the app: the last authorization's scope, else the app's configured
/// scopes (a managed install grants those).
fn granted(state: &ShopState, app: &SandboxApp) -> String {
    state
        .tokens
        .granted_scope
        .clone()
        .unwrap_or_else(|| app.scopes.clone())
}

/// §2: a session token for an offline token (online tokens are not simulated).
fn token_exchange(
    shops: &mut Shops,
    request: &TokenRequest<'_>,
) -> (Option<ShopDomain>, Result<Issued, Refusal>) {
    let host = request.host.cloned();
    match request.param("requested_token_type") {
        None | Some(OFFLINE_TOKEN) => {}
        Some(ONLINE_TOKEN) => return (host, Err(NO_ONLINE)),
        Some(_) => return (host, Err(UNSUPPORTED)),
    }
    let subject = request.param("subject_token").unwrap_or_default();
    let verified = session::verify(
        subject,
        &request.app.client_id,
        &request.app.client_secret,
        request.host,
        request.now,
    );
    let Ok((shop, _)) = verified else {
        return (host, Err(INVALID_SUBJECT_TOKEN));
    };
    let Some(state) = shops.get_mut(&shop) else {
        return (Some(shop), Err(INVALID_SUBJECT_TOKEN));
    };
    let scope = granted(state, request.app);
    let issued = acquire(state, &scope, request.expiring(), request.now);
    (Some(shop), Ok(issued))
}

/// §3e: a non-expiring offline token for an expiring pair; the original is revoked, and a
/// retry with it within 7 days recovers the same pair.
fn migrate(
    shops: &mut Shops,
    request: &TokenRequest<'_>,
) -> (Option<ShopDomain>, Result<Issued, Refusal>) {
    if !request.expiring() {
        return (request.host.cloned(), Err(EXPIRING_REQUIRED));
    }
    if !matches!(
        request.param("requested_token_type"),
        None | Some(OFFLINE_TOKEN)
    ) {
        return (request.host.cloned(), Err(UNSUPPORTED));
    }
    let subject = request.param("subject_token").unwrap_or_default();
    let now = request.now;
    for shop in shops.values_mut() {
        if request.host.is_none_or(|h| *h == shop.domain)
            && let Some(issued) = shop.tokens.recover_migration(subject, now)
        {
            return (Some(shop.domain.clone()), Ok(issued));
        }
    }
    let is_static = |s: &ShopState| {
        s.token
            .as_ref()
            .is_some_and(|t| !subject.is_empty() && t.expose_secret() == subject)
    };
    let Some(shop) = owner(shops, request.host, is_static) else {
        return (request.host.cloned(), Err(INVALID_SUBJECT_TOKEN));
    };
    let state = shops.get_mut(&shop).expect("found above");
    let scope = granted(state, request.app);
    let original = state.token.take().unwrap_or_else(|| SecretString::from(""));
    let issued = state.tokens.migrate(&original, &scope, now);
    (Some(shop), Ok(issued))
}
