//! [`Tokens`]: each configured shop's current Admin API token, per process, in the shop's mode.
//!
//! - `static`: the configured token, always.
//! - `client_credentials`: a token per shop kept in memory, fetched on first use, renewed
//!   [`RENEW_MARGIN`] before its 24 hours run out and after Shopify refused it (`rejected`).
//! - `oauth`: the shop's expiring offline token from the token store ([`TokenStore`]), renewed
//!   the same way through the store's locked refresh, so one process refreshes a shop at a time
//!   and the others use what it wrote.
//!
//! A shop the config does not list, installed in the store since, is an oauth shop (the app's
//! registry of shops decides which shops are called at all).
//!
//! One renewal at a time per shop: concurrent callers wait for it and share its token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretString};

use super::grant::{Admin, GrantError, Grants};
use super::stored::{self, TokenStore};
use crate::clock::Clock;
use crate::config::{AuthMode, Config, ShopConfig};
use crate::id::ShopDomain;

/// How long before its expiry a token is renewed. Shopify's Express package refreshes within 5
/// minutes of expiry (facts sheet §3d); a request in flight then never carries a token that
/// expires on the way.
pub const RENEW_MARGIN: SignedDuration = SignedDuration::from_mins(5);

/// How long a process waits for another one's refresh of the same shop.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("shop `{0}` is not configured: no token source")]
    UnknownShop(ShopDomain),
    #[error(transparent)]
    Grant(#[from] GrantError),
    #[error("the token store failed for {shop}: {reason}")]
    Store {
        shop: ShopDomain,
        reason: String,
        transient: bool,
    },
    #[error("{0} has no stored token: install the app on the shop")]
    NotInstalled(ShopDomain),
    #[error("{0} uses auth = \"oauth\", which needs the token store ([store])")]
    NoStore(ShopDomain),
    #[error("auth = \"{0}\" needs shopify.client_id and a client secret")]
    NoCredentials(&'static str),
    #[error("cannot build the HTTP client for the token endpoint: {0}")]
    Http(reqwest::Error),
}

impl AuthError {
    /// Worth trying again later.
    pub fn is_transient(&self) -> bool {
        match self {
            AuthError::Grant(g) => g.is_transient(),
            AuthError::Store { transient, .. } => *transient,
            _ => false,
        }
    }
}

/// Whether a token expiring at `expires_at` (None: never) is to be renewed at `now`.
pub(super) fn renewal_due(expires_at: Option<Timestamp>, now: Timestamp) -> bool {
    expires_at.is_some_and(|e| now >= e.checked_sub(RENEW_MARGIN).unwrap_or(e))
}

/// A renewable token held in memory.
struct Held {
    token: SecretString,
    expires_at: Option<Timestamp>,
    rejected: bool,
}

impl Held {
    fn fresh(&self, now: Timestamp) -> Option<SecretString> {
        (!self.rejected && !renewal_due(self.expires_at, now)).then(|| self.token.clone())
    }
}

struct Slot {
    admin: Admin,
    held: Mutex<Option<Held>>,
    /// Held across a renewal: one request per shop at a time.
    gate: tokio::sync::Mutex<()>,
}

impl Slot {
    fn fresh(&self, now: Timestamp) -> Option<SecretString> {
        self.lock().as_ref().and_then(|h| h.fresh(now))
    }

    fn rejected_token(&self) -> Option<SecretString> {
        self.lock()
            .as_ref()
            .filter(|h| h.rejected)
            .map(|h| h.token.clone())
    }

    fn hold(&self, token: SecretString, expires_at: Option<Timestamp>) {
        *self.lock() = Some(Held {
            token,
            expires_at,
            rejected: false,
        });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Held>> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }
}

enum Source {
    Static(SecretString),
    ClientCredentials(Slot),
    OAuth(Slot),
}

struct Inner {
    shops: HashMap<ShopDomain, Source>,
    grants: Option<Grants>,
    store: Option<Arc<dyn TokenStore>>,
    /// Oauth slots of shops not in the config, made at their first use.
    installed: Mutex<HashMap<ShopDomain, Arc<Slot>>>,
    /// `shopify.admin_url`, the admin of those shops (else `https://{shop}`).
    admin_url: Option<String>,
    clock: Arc<dyn Clock>,
}

/// Each configured shop's token source. Cheap to clone; clones share tokens and renewals.
#[derive(Clone)]
pub struct Tokens {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let modes: HashMap<&str, &str> = self
            .inner
            .shops
            .iter()
            .map(|(shop, source)| (shop.as_str(), mode_of(source).as_str()))
            .collect();
        f.debug_struct("Tokens")
            .field("shops", &modes)
            .finish_non_exhaustive()
    }
}

fn mode_of(source: &Source) -> AuthMode {
    match source {
        Source::Static(_) => AuthMode::Static,
        Source::ClientCredentials(_) => AuthMode::ClientCredentials,
        Source::OAuth(_) => AuthMode::OAuth,
    }
}

impl Tokens {
    /// Static tokens only: each shop's configured `access_token`.
    pub fn configured(shops: &[ShopConfig], clock: Arc<dyn Clock>) -> Self {
        let shops = shops
            .iter()
            .map(|s| (s.domain.clone(), Source::Static(s.access_token.clone())))
            .collect();
        Self {
            inner: Arc::new(Inner {
                shops,
                grants: None,
                store: None,
                installed: Mutex::new(HashMap::new()),
                admin_url: None,
                clock,
            }),
        }
    }

    /// Every configured shop in its mode. `store` backs oauth mode; without it an oauth shop is
    /// refused here, at start-up, rather than at its first message.
    pub fn new(
        config: &Config,
        clock: Arc<dyn Clock>,
        store: Option<Arc<dyn TokenStore>>,
    ) -> Result<Self, AuthError> {
        let renewing = config
            .shops
            .iter()
            .map(|s| config.auth.mode_of(&s.domain))
            .find(|m| m.renews());
        let id = config.auth.client_id.clone();
        let secret = config.shopify.client_secrets.first().cloned();
        let grants = match (renewing, id, secret) {
            (Some(_), Some(id), Some(secret)) => {
                Some(Grants::new(id, secret, clock.clone()).map_err(AuthError::Http)?)
            }
            (Some(mode), _, _) => return Err(AuthError::NoCredentials(mode.as_str())),
            // Installed shops' tokens are refreshed with the app's credentials too.
            (None, Some(id), Some(secret)) if store.is_some() => {
                Some(Grants::new(id, secret, clock.clone()).map_err(AuthError::Http)?)
            }
            (None, _, _) => None,
        };
        let mut shops = HashMap::new();
        for s in &config.shops {
            let slot = || Slot {
                admin: Admin {
                    shop: s.domain.clone(),
                    base: s.admin_api_url.clone(),
                },
                held: Mutex::new(None),
                gate: tokio::sync::Mutex::new(()),
            };
            let source = match config.auth.mode_of(&s.domain) {
                AuthMode::Static => Source::Static(s.access_token.clone()),
                AuthMode::ClientCredentials => Source::ClientCredentials(slot()),
                AuthMode::OAuth if store.is_none() => {
                    return Err(AuthError::NoStore(s.domain.clone()));
                }
                AuthMode::OAuth => Source::OAuth(slot()),
            };
            shops.insert(s.domain.clone(), source);
        }
        Ok(Self {
            inner: Arc::new(Inner {
                shops,
                grants,
                store,
                installed: Mutex::new(HashMap::new()),
                admin_url: config.auth.admin_url.clone(),
                clock,
            }),
        })
    }

    /// The shop's mode, if it is configured or was served as installed.
    pub fn mode(&self, shop: &ShopDomain) -> Option<AuthMode> {
        self.inner.shops.get(shop).map(mode_of).or_else(|| {
            self.installed_slots()
                .contains_key(shop)
                .then_some(AuthMode::OAuth)
        })
    }

    fn installed_slots(&self) -> std::sync::MutexGuard<'_, HashMap<ShopDomain, Arc<Slot>>> {
        self.inner
            .installed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// The oauth slot of a shop the config does not list; with no store there is none.
    fn installed_slot(&self, shop: &ShopDomain) -> Result<Arc<Slot>, AuthError> {
        if self.inner.store.is_none() {
            return Err(AuthError::UnknownShop(shop.clone()));
        }
        let mut slots = self.installed_slots();
        let slot = slots.entry(shop.clone()).or_insert_with(|| {
            Arc::new(Slot {
                admin: Admin {
                    shop: shop.clone(),
                    base: self.inner.admin_url.clone(),
                },
                held: Mutex::new(None),
                gate: tokio::sync::Mutex::new(()),
            })
        });
        Ok(slot.clone())
    }

    /// Whether a refused token of this shop can be renewed (every mode but `static`).
    pub fn renews(&self, shop: &ShopDomain) -> bool {
        self.mode(shop).is_some_and(AuthMode::renews)
    }

    /// The token to send for `shop` now, renewed first if it is about to expire or was refused.
    pub async fn access_token(&self, shop: &ShopDomain) -> Result<SecretString, AuthError> {
        let installed;
        let (slot, stored) = match self.inner.shops.get(shop) {
            Some(Source::Static(token)) => return Ok(token.clone()),
            Some(Source::ClientCredentials(slot)) => (slot, false),
            Some(Source::OAuth(slot)) => (slot, true),
            None => {
                installed = self.installed_slot(shop)?;
                (&*installed, true)
            }
        };
        let mode = if stored {
            AuthMode::OAuth
        } else {
            AuthMode::ClientCredentials
        };
        if let Some(token) = slot.fresh(self.inner.clock.now()) {
            return Ok(token);
        }
        let _renewing = slot.gate.lock().await;
        // Whoever held the gate before may have renewed it already.
        if let Some(token) = slot.fresh(self.inner.clock.now()) {
            return Ok(token);
        }
        let grants = self
            .inner
            .grants
            .as_ref()
            .ok_or(AuthError::NoCredentials(mode.as_str()))?;
        if stored {
            return self.refresh_stored(shop, slot, grants).await;
        }
        let grant = grants.client_credentials(&slot.admin).await?;
        tracing::info!(shop = %shop, "client-credentials token obtained");
        slot.hold(grant.access_token.clone(), grant.access_expires_at);
        Ok(grant.access_token)
    }

    /// Shopify answered 401 to `token`: renew it before its next use. A token already replaced
    /// is left alone, so concurrent refusals of one token cause one renewal.
    pub fn rejected(&self, shop: &ShopDomain, token: &SecretString) {
        let installed = self.installed_slots().get(shop).cloned();
        let slot = match self.inner.shops.get(shop) {
            Some(Source::ClientCredentials(slot) | Source::OAuth(slot)) => Some(slot),
            Some(Source::Static(_)) => None,
            None => installed.as_deref(),
        };
        if let Some(slot) = slot
            && let Some(held) = slot.lock().as_mut()
            && held.token.expose_secret() == token.expose_secret()
        {
            held.rejected = true;
        }
    }

    async fn refresh_stored(
        &self,
        shop: &ShopDomain,
        slot: &Slot,
        grants: &Grants,
    ) -> Result<SecretString, AuthError> {
        let store = self
            .inner
            .store
            .as_ref()
            .ok_or_else(|| AuthError::NoStore(shop.clone()))?;
        let refresh = stored::refresh(
            grants.clone(),
            slot.admin.clone(),
            self.inner.clock.clone(),
            slot.rejected_token(),
        );
        let now = self.inner.clock.now();
        let row = store.refresh(shop, LOCK_TIMEOUT, now, refresh).await??;
        let token = row
            .access_token
            .ok_or_else(|| AuthError::NotInstalled(shop.clone()))?;
        slot.hold(token.clone(), row.access_expires_at);
        Ok(token)
    }
}

#[cfg(test)]
mod tests;
