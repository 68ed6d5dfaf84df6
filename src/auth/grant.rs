//! The token endpoint: `POST {admin}/admin/oauth/access_token`, one function per grant orderflow
//! uses, each answer turned into a [`TokenGrant`] with instants from the injected clock.
//!
//! Requests are form-urlencoded with `Accept: application/json`, as Shopify's pages show them
//! (facts sheet §1e, §2, §3b, §3e, §4). Fields sent are exactly the documented ones. Answers
//! read: `access_token`, `scope`, `expires_in`, `refresh_token`, `refresh_token_expires_in`;
//! any other field is ignored.
//!
//! Errors: Shopify documents no error list for these calls. Conservatively, a network failure,
//! a timeout, 408, 429 and every 5xx (520 included: the grant may have been applied with the
//! answer lost) are transient; any other status is permanent. A [`GrantError`] carries the
//! shop, the grant, the status and Shopify's OAuth `error` code when it is a plain code; never
//! a token, a secret or the rest of the body.

use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use reqwest::header::{ACCEPT, HOST};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::TokenGrant;
use crate::clock::Clock;
use crate::id::ShopDomain;

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ID_TOKEN: &str = "urn:ietf:params:oauth:token-type:id_token";
const OFFLINE_TOKEN: &str = "urn:shopify:params:oauth:token-type:offline-access-token";

/// Where a shop's admin lives: `https://{shop}`, or a base URL standing in for it (the sandbox
/// and tests; `shopify.admin_url` or the shop's `admin_api_url`), then called with the shop in
/// the `Host` header as the real host would be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admin {
    pub shop: ShopDomain,
    pub base: Option<String>,
}

impl Admin {
    fn token_url(&self) -> String {
        match &self.base {
            Some(base) => format!("{}/admin/oauth/access_token", base.trim_end_matches('/')),
            None => format!("https://{}/admin/oauth/access_token", self.shop),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("{grant} grant for {shop} failed: {reason}")]
    Network {
        shop: ShopDomain,
        grant: &'static str,
        reason: String,
    },
    #[error("{grant} grant for {shop} refused: HTTP {status}{}", code.as_ref().map(|c| format!(" ({c})")).unwrap_or_default())]
    Status {
        shop: ShopDomain,
        grant: &'static str,
        status: u16,
        /// Shopify's OAuth `error` field (e.g. `invalid_subject_token`), when it is a plain code.
        code: Option<String>,
    },
    #[error("{grant} grant for {shop}: unreadable answer: {reason}")]
    Answer {
        shop: ShopDomain,
        grant: &'static str,
        reason: String,
    },
}

impl GrantError {
    /// Worth trying again later: the same request may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            GrantError::Network { .. } => true,
            GrantError::Status { status, .. } => matches!(status, 408 | 429 | 500..=599),
            GrantError::Answer { .. } => false,
        }
    }

    /// The HTTP status Shopify answered, if it answered.
    pub fn status(&self) -> Option<u16> {
        match self {
            GrantError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// The token endpoint's answer, as documented. Not `Debug`: it holds tokens.
#[derive(Deserialize)]
struct Answer {
    access_token: SecretString,
    #[serde(default)]
    scope: String,
    expires_in: Option<i64>,
    refresh_token: Option<SecretString>,
    refresh_token_expires_in: Option<i64>,
}

#[derive(Deserialize)]
struct ErrorAnswer {
    error: Option<String>,
}

/// The app's credentials and an HTTP client for the token endpoint. Cheap to clone.
#[derive(Clone)]
pub struct Grants {
    http: reqwest::Client,
    client_id: String,
    client_secret: SecretString,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Grants {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Grants")
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Grants {
    pub fn new(
        client_id: String,
        client_secret: SecretString,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, reqwest::Error> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("orderflow/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self {
            http,
            client_id,
            client_secret,
            clock,
        })
    }

    /// Authorization code → an expiring offline token pair (`expiring=1`), §1e.
    pub async fn exchange_code(
        &self,
        admin: &Admin,
        code: &SecretString,
    ) -> Result<TokenGrant, GrantError> {
        self.post(
            admin,
            "authorization_code",
            &[("code", code.expose_secret()), ("expiring", "1")],
        )
        .await
    }

    /// A refresh token → a new pair (the refresh token rotates), §3b.
    pub async fn refresh(
        &self,
        admin: &Admin,
        refresh_token: &SecretString,
    ) -> Result<TokenGrant, GrantError> {
        self.post(
            admin,
            "refresh_token",
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.expose_secret()),
            ],
        )
        .await
    }

    /// Client credentials → a 24-hour token, no refresh token, §4.
    pub async fn client_credentials(&self, admin: &Admin) -> Result<TokenGrant, GrantError> {
        self.post(
            admin,
            "client_credentials",
            &[("grant_type", "client_credentials")],
        )
        .await
    }

    /// An App Bridge session token → an expiring offline token pair, §2.
    pub async fn exchange_session_token(
        &self,
        admin: &Admin,
        session_token: &SecretString,
    ) -> Result<TokenGrant, GrantError> {
        self.post(
            admin,
            "token_exchange",
            &[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", session_token.expose_secret()),
                ("subject_token_type", ID_TOKEN),
                ("requested_token_type", OFFLINE_TOKEN),
                ("expiring", "1"),
            ],
        )
        .await
    }

    /// A non-expiring offline token → an expiring pair, without a user (§3e). Shopify revokes
    /// the old token on success and answers a retry with the same pair for 7 days.
    pub async fn migrate_offline_token(
        &self,
        admin: &Admin,
        offline_token: &SecretString,
    ) -> Result<TokenGrant, GrantError> {
        self.post(
            admin,
            "token_migration",
            &[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", offline_token.expose_secret()),
                ("subject_token_type", OFFLINE_TOKEN),
                ("requested_token_type", OFFLINE_TOKEN),
                ("expiring", "1"),
            ],
        )
        .await
    }

    async fn post(
        &self,
        admin: &Admin,
        grant: &'static str,
        fields: &[(&str, &str)],
    ) -> Result<TokenGrant, GrantError> {
        let shop = &admin.shop;
        let mut form: Vec<(&str, &str)> = vec![
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
        ];
        form.extend_from_slice(fields);
        let mut request = self
            .http
            .post(admin.token_url())
            .header(ACCEPT, "application/json")
            .form(&form);
        if admin.base.is_some() {
            request = request.header(HOST, shop.as_str());
        }
        let network = |e: reqwest::Error| GrantError::Network {
            shop: shop.clone(),
            grant,
            // The URL names only the shop's admin; the secrets are in the body, never shown.
            reason: e.without_url().to_string(),
        };
        let response = request.send().await.map_err(network)?;
        let status = response.status().as_u16();
        let body = response.bytes().await.map_err(network)?;
        if !(200..300).contains(&status) {
            let code = serde_json::from_slice::<ErrorAnswer>(&body)
                .ok()
                .and_then(|e| e.error)
                .filter(|c| c.len() <= 64 && c.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
            tracing::warn!(shop = %shop, grant, status, code = code.as_deref().unwrap_or(""), "token request refused");
            return Err(GrantError::Status {
                shop: shop.clone(),
                grant,
                status,
                code,
            });
        }
        let answer: Answer = serde_json::from_slice(&body).map_err(|e| GrantError::Answer {
            shop: shop.clone(),
            grant,
            // Only where: serde's message could quote a value, and a value may be a token.
            reason: format!(
                "not the documented JSON shape ({:?} at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
        })?;
        let now = self.clock.now();
        let at = |seconds: Option<i64>| {
            seconds.and_then(|s| now.checked_add(SignedDuration::from_secs(s)).ok())
        };
        Ok(TokenGrant {
            access_token: answer.access_token,
            access_expires_at: at(answer.expires_in),
            refresh_token: answer.refresh_token,
            refresh_expires_at: at(answer.refresh_token_expires_in),
            scopes: answer.scope,
        })
    }
}
