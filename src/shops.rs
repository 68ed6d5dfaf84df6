//! [`Shops`]: the shops this process serves, in memory: the configured `[[shops]]` and, when a
//! `[store]` is set, the shops installed in the token store. Loaded at start and kept current
//! from [`Store::changes`] (LISTEN/NOTIFY), so an install or uninstall on one replica reaches
//! every other within a notification, and the store is never on a webhook's path: the receiver,
//! the worker and the Shopify client only read this map.
//!
//! A shop installed in the store but not configured is served with the global rules in its
//! stored time zone (`auth = "oauth"`); a `[[shops]]` entry still gives its own rules and keys.
//! An uninstalled shop stays known, marked uninstalled, until its row is redacted, so its late
//! messages dead-letter as `unauthorized` rather than `unknown_shop`.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures_util::{Stream, StreamExt as _};
use jiff::tz::TimeZone;
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::calendar::Calendar;
use crate::config::{Config, ShopConfig, defaults};
use crate::event::route::KnownShops;
use crate::id::ShopDomain;
use crate::rules::Rules;
use crate::store::{LazyStore, ShopChange, Store, StoreError, StoredShop};

/// The first wait before re-reading the shops again after a failed re-read; doubled up to the
/// max while the database is down.
const RELOAD_FIRST: Duration = Duration::from_millis(250);
const RELOAD_MAX: Duration = Duration::from_secs(10);

/// A shop as this process knows it.
#[derive(Debug, Clone)]
pub struct KnownShop {
    pub config: Arc<ShopConfig>,
    /// The store says the app was uninstalled from it (its tokens are gone).
    pub uninstalled: bool,
}

/// What the config says: replaced whole by a reload ([`Shops::reconfigure`]), so a shop's
/// standing is computed from one version of it, never a mix.
struct Base {
    configured: HashMap<ShopDomain, Arc<ShopConfig>>,
    global_rules: Arc<Rules>,
}

struct Inner {
    /// Locked after `known` by whoever holds both, so a reload and a store change never
    /// deadlock and never interleave.
    base: RwLock<Arc<Base>>,
    admin_url: Option<String>,
    known: RwLock<HashMap<ShopDomain, KnownShop>>,
    /// Bumped after every change of `known`, for those who act on new shops ([`Shops::changed`]).
    generation: tokio::sync::watch::Sender<u64>,
}

/// The registry of known shops. Cheap to clone; clones share one map.
#[derive(Clone)]
pub struct Shops {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Shops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let known = self.read();
        let mut names: Vec<_> = known.keys().map(ShopDomain::as_str).collect();
        names.sort_unstable();
        f.debug_struct("Shops").field("known", &names).finish()
    }
}

impl KnownShops for Shops {
    fn knows(&self, shop: &ShopDomain) -> bool {
        self.read().contains_key(shop)
    }
}

impl Shops {
    /// The configured shops, and with a `store` every shop it holds, with what keeps them
    /// current. Listens before it reads, so a change between the two is not missed. A store
    /// that does not answer does not stop the app: the configured shops are served, and the
    /// follower catches up with the store once it answers.
    pub async fn open(config: &Config, lazy: Option<&LazyStore>) -> (Self, Option<Follower>) {
        let shops = Self::configured(config);
        let Some(lazy) = lazy else {
            return (shops, None);
        };
        let Some(store) = lazy.connected() else {
            // Not connected at start: the follower connects, listens and reads once it can.
            let follower = Follower {
                shops: shops.clone(),
                store: lazy.clone(),
                changes: None,
                stale: true,
            };
            return (shops, Some(follower));
        };
        let changes = match store.changes().await {
            Ok(changes) => Some(changes.boxed()),
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen to the store's changes: serving the configured shops until it answers");
                None
            }
        };
        let stale = match shops.reload(store).await {
            Ok(()) => false,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the installed shops: serving the configured ones until the store answers");
                true
            }
        };
        let follower = Follower {
            shops: shops.clone(),
            store: lazy.clone(),
            changes,
            stale,
        };
        (shops, Some(follower))
    }

    /// The configured shops only (no store).
    pub fn configured(config: &Config) -> Self {
        let configured: HashMap<_, _> = config
            .shops
            .iter()
            .map(|s| (s.domain.clone(), Arc::new(s.clone())))
            .collect();
        let known = configured
            .iter()
            .map(|(d, c)| {
                let shop = KnownShop {
                    config: c.clone(),
                    uninstalled: false,
                };
                (d.clone(), shop)
            })
            .collect();
        Self {
            inner: Arc::new(Inner {
                base: RwLock::new(Arc::new(Base {
                    configured,
                    global_rules: config.global_rules.clone(),
                })),
                admin_url: config.auth.admin_url.clone(),
                known: RwLock::new(known),
                generation: tokio::sync::watch::Sender::new(0),
            }),
        }
    }

    /// The shop, if it is known (uninstalled ones included).
    pub fn get(&self, shop: &ShopDomain) -> Option<KnownShop> {
        self.read().get(shop).cloned()
    }

    /// Every known shop that is not uninstalled (configured and installed), sorted: what
    /// `--shop all`, the worker's subscription check and the sweep go through.
    pub fn active_domains(&self) -> Vec<ShopDomain> {
        let mut domains: Vec<_> = self
            .read()
            .iter()
            .filter(|(_, k)| !k.uninstalled)
            .map(|(d, _)| d.clone())
            .collect();
        domains.sort();
        domains
    }

    /// A receiver that sees a new value after each change of the map (a shop installed,
    /// uninstalled or re-read), so a task can act on a new shop at once instead of polling.
    pub fn changed(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.generation.subscribe()
    }

    fn bump(&self) {
        self.inner.generation.send_modify(|g| *g += 1);
    }

    /// The shop, if it is known and not uninstalled.
    pub fn active(&self, shop: &ShopDomain) -> Option<Arc<ShopConfig>> {
        self.get(shop).filter(|k| !k.uninstalled).map(|k| k.config)
    }

    /// Replaces what the store said with `rows` (every row, uninstalled ones included). A
    /// configured shop without a row keeps the uninstall this process saw, as in [`Shops::set`].
    pub fn load(&self, rows: &[StoredShop]) {
        let mut known = self.inner.known.write().unwrap_or_else(|p| p.into_inner());
        let base = self.base();
        let mut next: HashMap<_, _> = base
            .configured
            .keys()
            .filter_map(|d| {
                let mut k = self.standing(&base, d, None)?;
                k.uninstalled = known.get(d).is_some_and(|old| old.uninstalled);
                Some((d.clone(), k))
            })
            .collect();
        for row in rows {
            if let Some(k) = self.standing(&base, &row.domain, Some(row)) {
                next.insert(row.domain.clone(), k);
            }
        }
        *known = next;
        drop(known);
        self.bump();
    }

    /// `app/uninstalled` seen by this process: its later messages dead-letter at once. The
    /// store (when there is one) is told too, and tells the other replicas.
    pub fn mark_uninstalled(&self, shop: &ShopDomain) {
        let mut known = self.inner.known.write().unwrap_or_else(|p| p.into_inner());
        if let Some(k) = known.get_mut(shop) {
            k.uninstalled = true;
        }
    }

    /// Sets one shop from its row (`None`: the store has none). A configured shop without a
    /// row (a static token) keeps the uninstall this process saw: only an install clears it.
    pub fn set(&self, shop: &ShopDomain, row: Option<&StoredShop>) {
        let mut known = self.inner.known.write().unwrap_or_else(|p| p.into_inner());
        let mut standing = self.standing(&self.base(), shop, row);
        if row.is_none()
            && let (Some(new), Some(old)) = (standing.as_mut(), known.get(shop))
        {
            new.uninstalled = old.uninstalled;
        }
        match standing {
            Some(k) => known.insert(shop.clone(), k),
            None => known.remove(shop),
        };
        drop(known);
        self.bump();
    }

    /// Reads every row of the store into the map.
    pub async fn reload(&self, store: &Store) -> Result<(), StoreError> {
        let rows = store.all().await?;
        self.load(&rows);
        tracing::info!(shops = self.read().len(), "known shops read from the store");
        Ok(())
    }

    /// Keeps the map current from `changes` (a [`Store::changes`] stream opened before the
    /// first [`Shops::reload`], so nothing falls between them; `stale` if that read failed or
    /// came first) until `stop` fires. Each change
    /// re-reads that shop's row; a lost notification (an `Err` item) or a failed read re-reads
    /// every row, retried 250 ms doubling up to 10 s apart, so a missed change is caught up
    /// soon after the database answers again.
    /// Meanwhile the map keeps what it knew: the receiver keeps answering for those shops.
    pub async fn follow(
        self,
        store: Store,
        changes: impl Stream<Item = Result<ShopChange, StoreError>> + Send,
        stale: bool,
        stop: CancellationToken,
    ) {
        let mut changes = std::pin::pin!(changes);
        // Some while the map may have missed a change: the wait before the next full re-read.
        // The stream says when notifications were lost, not when they are back, so re-reads
        // are retried on a timer until one succeeds.
        let mut retry: Option<Duration> = stale.then_some(RELOAD_FIRST);
        loop {
            let due = async {
                match retry {
                    Some(wait) => tokio::time::sleep(wait).await,
                    None => std::future::pending().await,
                }
            };
            let item = tokio::select! {
                () = stop.cancelled() => return,
                () = due => {
                    retry = self.catch_up(&store, retry).await;
                    continue;
                }
                item = changes.next() => item,
            };
            let Some(item) = item else { return };
            let shop = match item {
                Ok(
                    ShopChange::Installed(s) | ShopChange::Uninstalled(s) | ShopChange::Redacted(s),
                ) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "lost the store's change notifications: re-reading every shop");
                    retry = self.catch_up(&store, retry).await;
                    continue;
                }
            };
            if retry.is_some() {
                retry = self.catch_up(&store, retry).await;
                continue;
            }
            match store.shop(&shop).await {
                Ok(row) => {
                    self.set(&shop, row.as_ref());
                    tracing::info!(shop = %shop, uninstalled = ?self.get(&shop).map(|k| k.uninstalled), "shop changed in the store");
                }
                Err(e) => {
                    tracing::warn!(shop = %shop, error = %e, "cannot read a changed shop; re-reading every shop soon");
                    retry = Some(RELOAD_FIRST);
                }
            }
        }
    }

    /// One full re-read; the wait before the next attempt if it failed.
    async fn catch_up(&self, store: &Store, retry: Option<Duration>) -> Option<Duration> {
        match self.reload(store).await {
            Ok(()) => None,
            Err(e) => {
                tracing::warn!(error = %e, "cannot re-read the shops yet; serving the ones known");
                Some(retry.map_or(RELOAD_FIRST, |w| (w * 2).min(RELOAD_MAX)))
            }
        }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<ShopDomain, KnownShop>> {
        self.inner.known.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The config's version in force.
    fn base(&self) -> Arc<Base> {
        self.inner
            .base
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// What a shop is, from its configuration and its row.
    fn standing(
        &self,
        base: &Base,
        shop: &ShopDomain,
        row: Option<&StoredShop>,
    ) -> Option<KnownShop> {
        let configured = base.configured.get(shop);
        let config = match (configured, row) {
            (Some(c), _) => c.clone(),
            (None, Some(row)) => Arc::new(self.installed_config(&base.global_rules, row)),
            (None, None) => return None,
        };
        Some(KnownShop {
            config,
            uninstalled: row.is_some_and(|r| r.uninstalled_at.is_some()),
        })
    }

    /// The configuration of a shop the config does not list: the global rules in the zone the
    /// store has for it, its tokens from the store, its admin at `shopify.admin_url` or
    /// `https://{shop}`. A missing or unknown zone is UTC, the default of a configured shop.
    fn installed_config(&self, global_rules: &Rules, row: &StoredShop) -> ShopConfig {
        let name = row.time_zone.as_deref().unwrap_or(defaults::TIMEZONE);
        let (timezone, timezone_name) = match TimeZone::get(name) {
            Ok(tz) => (tz, name.to_owned()),
            Err(_) => {
                tracing::warn!(shop = %row.domain, zone = name, "stored time zone is not an IANA zone: using UTC");
                (TimeZone::UTC, defaults::TIMEZONE.to_owned())
            }
        };
        ShopConfig {
            domain: row.domain.clone(),
            // oauth mode: the token is the store's, never a configured one.
            access_token: SecretString::from(String::new()),
            rules: Arc::new(in_zone(global_rules, timezone.clone())),
            timezone,
            timezone_name,
            admin_api_url: self.inner.admin_url.clone(),
            dry_run: false,
        }
    }
}

/// `rules` with their calendar in `zone`.
fn in_zone(rules: &Rules, zone: TimeZone) -> Rules {
    let mut rules = rules.clone();
    let cal = &rules.processing.calendar;
    // The days come from a calendar that was built, so they are not empty.
    if let Ok(c) = Calendar::new(
        zone,
        cal.cutoff(),
        &cal.business_days(),
        cal.holidays().collect::<Vec<_>>(),
    ) {
        rules.processing.calendar = c;
    }
    rules
}

mod follower;
mod reconfigure;
pub use follower::Follower;

#[cfg(test)]
mod tests;
