//! The token store behind oauth mode: [`TokenStore`] for [`Store`] and for [`LazyStore`] (a
//! shop's row becomes [`StoredTokens`], a [`StoreError`] an [`AuthError`] of the same retry
//! class). Until a [`LazyStore`] has connected, every token fetch from it fails transiently, so
//! the worker retries the message later and loses none.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use jiff::Timestamp;

use super::grant::GrantError;
use super::stored::{Refresh, StoredTokens, TokenStore};
use super::tokens::AuthError;
use crate::id::ShopDomain;
use crate::store::{LazyStore, Store, StoreError, StoredShop};

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
            let reason = e.describe();
            AuthError::Store {
                shop: shop.clone(),
                reason,
                transient,
            }
        }
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

impl LazyStore {
    /// As oauth mode's token source ([`Tokens::new`](super::Tokens::new)).
    pub fn token_store(&self) -> Arc<dyn TokenStore> {
        Arc::new(self.clone())
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
        assert!(e.describe().contains("connection reset"));
    }
}
