//! [`Follower`]: what keeps a [`Shops`] registry current from the token store, run on the app's
//! task tracker.

use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use tokio_util::sync::CancellationToken;

use super::{RELOAD_FIRST, RELOAD_MAX, Shops};
use crate::store::{LazyStore, ShopChange, StoreError};

/// What keeps a registry current: the store and its change stream, run by [`Follower::run`].
pub struct Follower {
    pub(super) shops: Shops,
    pub(super) store: LazyStore,
    /// `None`: the store did not answer at start; listening is retried first.
    pub(super) changes: Option<BoxStream<'static, Result<ShopChange, StoreError>>>,
    /// The first read failed, or has to be done again once listening.
    pub(super) stale: bool,
}

impl Follower {
    /// Follows the store's changes until `stop` fires (see [`Shops::follow`]). If the store
    /// did not answer at start, listens first, retrying 250 ms doubling up to 10 s apart.
    pub async fn run(self, stop: CancellationToken) {
        let connected = self.store.connected().cloned();
        let (store, changes, stale) = match (connected, self.changes) {
            (Some(store), Some(changes)) => (store, changes, self.stale),
            _ => {
                let mut wait = RELOAD_FIRST;
                loop {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        () = tokio::time::sleep(wait) => {}
                    }
                    match self.store.store().await {
                        Ok(store) => match store.changes().await {
                            Ok(changes) => break (store.clone(), changes.boxed(), true),
                            Err(e) => {
                                tracing::warn!(error = %e, "cannot listen to the store's changes yet")
                            }
                        },
                        Err(e) => {
                            tracing::warn!(error = %e.describe(), "the token store does not answer yet")
                        }
                    }
                    wait = (wait * 2).min(RELOAD_MAX);
                }
            }
        };
        self.shops.follow(store, changes, stale, stop).await;
    }
}
