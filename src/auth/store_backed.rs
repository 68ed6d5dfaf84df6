//! The token store behind oauth mode: [`TokenStore`] for [`Store`] (a shop's row becomes
//! [`StoredTokens`], a [`StoreError`] an [`AuthError`] of the same retry class), and
//! [`LazyStore`], the store a process opens without waiting for the database.
//!
//! A database that is down when orderflow starts must not stop the receiver from serving:
//! [`LazyStore`] connects (and applies the migrations) on first use, and again on each later
//! use until a connection succeeds. Until then every token fetch fails transiently, so the
//! worker retries the message later and loses none. [`open_store`] is how a process opens it.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use jiff::Timestamp;
use tokio::sync::OnceCell;

use super::grant::GrantError;
use super::stored::{Refresh, StoredTokens, TokenStore};
use super::tokens::AuthError;
use crate::config::{Config, StoreConfig};
use crate::id::ShopDomain;
use crate::store::{Store, StoreError, StoredShop};

/// What oauth mode needs of a shop's row.
fn tokens_of(row: StoredShop) -> StoredTokens {
    StoredTokens {
        access_token: row.access_token,
        access_expires_at: row.access_expires_at,
        refresh_token: row.refresh_token,
        previous_refresh_token: row.previous_refresh_token,
    }
}

/// A store failure as oauth mode reports it: a shop that is not installed (or was uninstalled)
/// is [`AuthError::NotInstalled`], which the worker dead-letters as `unauthorized`; everything
/// else keeps the store's retry class. The reason is the store's message and its source (the
/// store never hands the database a plaintext token, so neither holds one).
pub fn auth_error(shop: &ShopDomain, e: StoreError) -> AuthError {
    match e {
        StoreError::NotInstalled(s) => AuthError::NotInstalled(s),
        e => {
            let transient = e.is_transient();
            let reason = describe(&e);
            AuthError::Store {
                shop: shop.clone(),
                reason,
                transient,
            }
        }
    }
}

/// The store's message and the database's reason under it, for logs and errors. A
/// configuration error's text is left out: it is about the URL, which may hold a password.
fn describe(e: &StoreError) -> String {
    match e {
        StoreError::Database(sqlx::Error::Configuration(_)) => e.to_string(),
        e => match std::error::Error::source(e) {
            Some(source) => format!("{e}: {source}"),
            None => e.to_string(),
        },
    }
}

impl TokenStore for Store {
    fn refresh<'a>(
        &'a self,
        shop: &'a ShopDomain,
        lock_timeout: Duration,
        now: Timestamp,
        refresh: Refresh,
    ) -> BoxFuture<'a, Result<Result<StoredTokens, GrantError>, AuthError>> {
        Box::pin(async move {
            let outcome = Store::refresh(self, shop, lock_timeout, now, move |row| {
                refresh(tokens_of(row))
            })
            .await
            .map_err(|e| auth_error(shop, e))?;
            Ok(outcome.map(tokens_of))
        })
    }
}

/// The token store, connected on first use. Cheap to clone; clones share one connection.
#[derive(Clone)]
pub struct LazyStore {
    config: StoreConfig,
    store: Arc<OnceCell<Store>>,
}

impl std::fmt::Debug for LazyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LazyStore")
            .field("url", &self.config.redacted_url())
            .field("connected", &self.store.initialized())
            .finish_non_exhaustive()
    }
}

impl LazyStore {
    /// Nothing is sent until the first use.
    pub fn new(config: StoreConfig) -> Self {
        Self {
            config,
            store: Arc::new(OnceCell::new()),
        }
    }

    /// The store, connecting (and migrating) first if no earlier call managed to. Concurrent
    /// callers share one attempt; a failed attempt is made again by the next caller.
    pub async fn store(&self) -> Result<&Store, StoreError> {
        self.store
            .get_or_try_init(|| async {
                let store = Store::connect(&self.config).await?;
                tracing::info!(url = %self.config.redacted_url(), "token store connected");
                Ok(store)
            })
            .await
    }

    /// As oauth mode's token source ([`Tokens::new`](super::Tokens::new)).
    pub fn token_store(&self) -> Arc<dyn TokenStore> {
        Arc::new(self.clone())
    }

    /// The store if a connection was made.
    pub fn connected(&self) -> Option<&Store> {
        self.store.get()
    }
}

impl TokenStore for LazyStore {
    fn refresh<'a>(
        &'a self,
        shop: &'a ShopDomain,
        lock_timeout: Duration,
        now: Timestamp,
        refresh: Refresh,
    ) -> BoxFuture<'a, Result<Result<StoredTokens, GrantError>, AuthError>> {
        Box::pin(async move {
            let store = self.store().await.map_err(|e| auth_error(shop, e))?;
            TokenStore::refresh(store, shop, lock_timeout, now, refresh).await
        })
    }
}

/// How long start-up waits for the token store before going on without it.
const STORE_CONNECT_BUDGET: std::time::Duration = std::time::Duration::from_secs(3);

/// The token store when `[store]` is set, else `None` (the demo, `static` and
/// `client_credentials` configs never touch PostgreSQL). One connection (and the migrations) is
/// tried here within [`STORE_CONNECT_BUDGET`]; a database that is down does not stop the
/// process from starting: the store connects on its next use instead, and until it does every
/// token fetch from it is transient (the worker retries the message). Webhooks never wait on
/// it.
pub async fn open_store(config: &Config) -> Option<LazyStore> {
    let store = LazyStore::new(config.store.clone()?);
    let failure = match tokio::time::timeout(STORE_CONNECT_BUDGET, store.store()).await {
        Ok(Ok(_)) => return Some(store),
        Ok(Err(e)) => describe(&e),
        Err(_) => format!("no answer within {STORE_CONNECT_BUDGET:?}"),
    };
    tracing::warn!(
        error = %failure,
        "the token store is unreachable at start-up; it is tried again on first use"
    );
    Some(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> ShopDomain {
        ShopDomain::parse("acme.myshopify.com").unwrap()
    }

    #[test]
    fn not_installed_is_permanent_and_a_lock_timeout_transient() {
        let e = auth_error(&shop(), StoreError::NotInstalled(shop()));
        assert!(matches!(e, AuthError::NotInstalled(_)));
        assert!(!e.is_transient());
        let e = auth_error(
            &shop(),
            StoreError::LockTimeout {
                shop: shop(),
                waited: Duration::from_secs(10),
            },
        );
        assert!(e.is_transient(), "{e}");
        let e = auth_error(&shop(), StoreError::Database(sqlx::Error::PoolTimedOut));
        assert!(e.is_transient(), "{e}");
        let e = auth_error(&shop(), StoreError::Key);
        assert!(!e.is_transient(), "{e}");
    }

    #[test]
    fn a_configuration_error_is_told_without_its_text_which_may_quote_the_url() {
        let e = StoreError::Database(sqlx::Error::Configuration(Box::from(
            "bad url postgres://of:db-sentinel-password@db/of",
        )));
        let shown = format!("{}", auth_error(&shop(), e));
        assert!(!shown.contains("db-sentinel-password"), "{shown}");
        let e = StoreError::Database(sqlx::Error::Protocol("connection reset".into()));
        assert!(describe(&e).contains("connection reset"));
    }
}
