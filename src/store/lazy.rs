//! [`LazyStore`]: the token store as a process opens it, without waiting for the database.
//!
//! A database that is down when orderflow starts must not stop the receiver from serving:
//! [`LazyStore`] connects (and applies the migrations) on first use, and again on each later
//! use until a connection succeeds. [`open_store`] is how a process opens it.

use std::sync::Arc;

use tokio::sync::OnceCell;

use super::{Store, StoreError};
use crate::config::{Config, StoreConfig};

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

    /// The store if a connection was made.
    pub fn connected(&self) -> Option<&Store> {
        self.store.get()
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
        Ok(Err(e)) => e.describe(),
        Err(_) => format!("no answer within {STORE_CONNECT_BUDGET:?}"),
    };
    tracing::warn!(
        error = %failure,
        "the token store is unreachable at start-up; it is tried again on first use"
    );
    Some(store)
}
