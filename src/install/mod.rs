//! The install routes of `auth = "oauth"`, on the receiver's listener (facts sheet §1, §2):
//!
//! - `GET /auth/install?shop&timestamp&hmac…` (Shopify's request to the App URL): the query
//!   HMAC, the shop and the timestamp checked, then 302 to the shop's grant screen
//!   `{admin}/admin/oauth/authorize` with `client_id`, `scope`, `redirect_uri`
//!   (`{app_url}/auth/callback`) and a fresh `state` nonce, also in a signed short-lived cookie
//!   ([`state`]); no `grant_options[]`: an offline token.
//! - `GET /auth/callback?code&hmac&host&shop&state&timestamp`: the HMAC, the shop, the
//!   timestamp and the state against the cookie checked, else 400 and nothing stored; the code
//!   exchanged for an expiring offline pair (`expiring=1`); the granted scopes checked (write
//!   implies read), else 400 naming the missing ones and nothing stored; the shop's time zone
//!   read; the shop stored ([`Store::install`]); a short page.
//! - `POST /auth/session` with `Authorization: Bearer <session token>` (an embedded frontend):
//!   the token validated; if the store holds no token for its shop, one acquired by token
//!   exchange (expiring offline) and stored as an install; `{"shop": …, "installed": true}`.
//!
//! Mounted only when `shopify.auth = "oauth"` (404 otherwise). orderflow is the one owner of a
//! shop's tokens: each acquisition retires the shop's older refresh tokens (§3a), so a
//! frontend must never acquire its own. Acquisitions of one shop are serialised within the
//! process (a second `/auth/session` waits and finds the first one's token); across replicas
//! two first calls at the same instant could both exchange, and the later write wins.
//!
//! The store is opened on first use (or handed in with [`Install::with_store`]), so a
//! database that is down at start-up does not stop the receiver: the routes answer 503 until
//! it answers. Not handled: `embedded=1` on the install request (Shopify asks apps to escape
//! the admin's iframe first; how, for a server-side redirect, is not in the facts sheet).
//! Never logged: the code, the tokens, the cookie.

mod check;
mod error;
mod routes;
pub mod state;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use secrecy::SecretString;

pub use check::{MAX_SKEW_SECONDS, fresh, missing_scopes};
pub use error::InstallError;

use crate::auth::{Admin, Grants, LazyStore, TokenGrant};
use crate::clock::Clock;
use crate::config::{AuthMode, Config};
use crate::id::ShopDomain;
use crate::shopify::shop::{ShopAccess, time_zone};
use crate::store::{self, Store};

/// What the install routes share.
pub struct Install {
    client_id: String,
    /// Every configured client secret (current first): HMACs and session tokens are checked
    /// against each; the first signs the cookie and authenticates grants.
    secrets: Vec<SecretString>,
    scopes: Vec<String>,
    app_url: String,
    /// `shopify.admin_url`, standing in for every shop's `https://{shop}`.
    admin_url: Option<String>,
    /// A configured shop's own `admin_api_url`, which wins over `admin_url`.
    shop_admins: HashMap<ShopDomain, String>,
    api_version: String,
    grants: Grants,
    http: reqwest::Client,
    /// Opened on first use, shared with the app's token source when the app hands it in.
    store: Option<LazyStore>,
    clock: Arc<dyn Clock>,
    /// One acquisition per shop at a time in this process.
    acquiring: Mutex<HashMap<ShopDomain, Arc<tokio::sync::Mutex<()>>>>,
}

impl std::fmt::Debug for Install {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Install")
            .field("client_id", &self.client_id)
            .field("app_url", &self.app_url)
            .finish_non_exhaustive()
    }
}

/// The install routes for `config`: empty (every path 404) unless `shopify.auth = "oauth"`.
pub fn router(
    config: &Config,
    clock: Arc<dyn Clock>,
    store: Option<LazyStore>,
) -> Result<Router, reqwest::Error> {
    Ok(match Install::new(config, clock)? {
        Some(install) => Arc::new(install.with_store(store)).router(),
        None => Router::new(),
    })
}

impl Install {
    /// `None` unless the app's mode is oauth (with the client ID, a secret and the app URL
    /// that config validation requires of it).
    pub fn new(config: &Config, clock: Arc<dyn Clock>) -> Result<Option<Self>, reqwest::Error> {
        let auth = &config.auth;
        let (Some(client_id), Some(app_url), Some(secret)) = (
            auth.client_id.clone(),
            auth.app_url.clone(),
            config.shopify.client_secrets.first().cloned(),
        ) else {
            return Ok(None);
        };
        if auth.mode != AuthMode::OAuth {
            return Ok(None);
        }
        let grants = Grants::new(client_id.clone(), secret, clock.clone())?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("orderflow/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Some(Self {
            client_id,
            secrets: config.shopify.client_secrets.clone(),
            scopes: auth.scopes.clone(),
            app_url,
            admin_url: auth.admin_url.clone(),
            shop_admins: config
                .shops
                .iter()
                .filter_map(|s| Some((s.domain.clone(), s.admin_api_url.clone()?)))
                .collect(),
            api_version: config.shopify.api_version.clone(),
            grants,
            http,
            store: config.store.clone().map(LazyStore::new),
            clock,
            acquiring: Mutex::new(HashMap::new()),
        }))
    }

    /// Shares the store the app opened (one pool per process) instead of one of its own; with
    /// `None` it keeps its own, opened on first use.
    pub fn with_store(self, store: Option<LazyStore>) -> Self {
        match store {
            Some(store) => Self {
                store: Some(store),
                ..self
            },
            None => self,
        }
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/auth/install", get(routes::install))
            .route("/auth/callback", get(routes::callback))
            .route("/auth/session", post(routes::session))
            .with_state(self)
    }

    /// The shop's admin: its own `admin_api_url`, else `shopify.admin_url`, else `https://{shop}`.
    fn admin(&self, shop: &ShopDomain) -> Admin {
        Admin {
            shop: shop.clone(),
            base: self
                .shop_admins
                .get(shop)
                .or(self.admin_url.as_ref())
                .map(|b| b.trim_end_matches('/').to_owned()),
        }
    }

    fn redirect_uri(&self) -> String {
        format!("{}/auth/callback", self.app_url)
    }

    async fn store(&self) -> Result<&Store, InstallError> {
        let store = self.store.as_ref().ok_or(InstallError::NoStore)?;
        Ok(store.store().await?)
    }

    /// The per-shop acquisition lock.
    fn acquisition(&self, shop: &ShopDomain) -> Arc<tokio::sync::Mutex<()>> {
        let mut locks = self.acquiring.lock().unwrap_or_else(|p| p.into_inner());
        locks.entry(shop.clone()).or_default().clone()
    }

    /// After a grant: the scopes checked, the time zone read, the shop stored.
    ///
    /// A time zone that cannot be read (Shopify down, throttled past the retries, a name the
    /// time-zone database does not know) does not
    /// fail the install: the acquisition has already retired the shop's older refresh
    /// tokens, so throwing the new pair away would leave the shop with none. The shop is
    /// stored with its time zone unknown (a reinstall keeps an earlier one) and a warning.
    async fn finish(
        &self,
        shop: &ShopDomain,
        grant: TokenGrant,
        via: &'static str,
    ) -> Result<(), InstallError> {
        let missing = missing_scopes(&self.scopes, &grant.scopes);
        if !missing.is_empty() {
            return Err(InstallError::Scopes(missing));
        }
        let store = self.store().await?;
        let admin = self.admin(shop);
        let access = ShopAccess {
            http: &self.http,
            shop,
            base: admin.base.as_deref(),
            api_version: &self.api_version,
            token: &grant.access_token,
        };
        let zone = match time_zone(&access).await {
            // Kept only if orderflow can count business days in it, as for `[[shops]] timezone`.
            Ok(zone) if jiff::tz::TimeZone::get(&zone).is_ok() => Some(zone),
            Ok(zone) => {
                tracing::warn!(shop = %shop, time_zone = %zone, "installing without the shop's time zone: not a known IANA name");
                None
            }
            Err(e) => {
                tracing::warn!(shop = %shop, error = %e, "installing without the shop's time zone");
                None
            }
        };
        let grant = store_grant(grant);
        store
            .install(shop, &grant, zone.as_deref(), self.clock.now())
            .await?;
        tracing::info!(shop = %shop, via, time_zone = zone.as_deref().unwrap_or(""), "shop installed");
        Ok(())
    }
}

/// The grant as the store records it (the same fields).
fn store_grant(g: TokenGrant) -> store::TokenGrant {
    store::TokenGrant {
        access_token: g.access_token,
        access_expires_at: g.access_expires_at,
        refresh_token: g.refresh_token,
        refresh_expires_at: g.refresh_expires_at,
        scopes: g.scopes,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::clock::SystemClock;
    use crate::config::Env;

    fn config(auth: &str) -> Config {
        let text = format!(
            r#"
[shopify]
client_secrets = ["sentinel-install-secret"]
auth = "{auth}"
client_id = "cid"
app_url = "https://orderflow.example.com/"
[store]
url = "postgres://postgres:sentinel-db-password@127.0.0.1:5432/x"
encryption_key = "c2VudGluZWwta2V5LWFhYWFhYWFhYWFhYWFhYWFhYWE="
[[shops]]
domain = "acme.myshopify.com"
access_token = "shpat_sentinel"
auth = "static"
"#
        );
        Config::from_toml(&text, Path::new("t.toml"), &Env::default()).expect("valid")
    }

    #[test]
    fn only_oauth_mounts_the_routes_and_debug_shows_no_secret() {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        for mode in ["static", "client_credentials"] {
            assert!(
                Install::new(&config(mode), clock.clone())
                    .unwrap()
                    .is_none(),
                "{mode}"
            );
        }
        let install = Install::new(&config("oauth"), clock)
            .unwrap()
            .expect("oauth");
        assert_eq!(
            install.redirect_uri(),
            "https://orderflow.example.com/auth/callback"
        );
        let shown = format!("{install:?}");
        assert!(!shown.contains("sentinel"), "{shown}");
        let shop = ShopDomain::parse("other.myshopify.com").unwrap();
        assert_eq!(
            install.admin(&shop).base,
            None,
            "https://{{shop}} without admin_url"
        );
    }
}
