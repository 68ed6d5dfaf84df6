//! The token store: PostgreSQL (sqlx, runtime queries only, so building needs no database),
//! needed only by `auth = "oauth"`. One `shops` row per installed shop (migrations embedded from
//! `migrations/` and applied at [`Store::connect`]) with its granted scopes, time zone and token
//! pair, the tokens encrypted at rest (`cipher.rs`: AES-256-GCM, a nonce per value).
//!
//! Rules it keeps:
//! - a refresh holds the shop's row lock across the call to Shopify and writes the new pair
//!   atomically, keeping the refresh token it used ([`Store::refresh`], `refresh.rs`);
//! - every install, uninstall and redaction is announced with `NOTIFY` in the same transaction,
//!   so other replicas' caches learn of it ([`Store::changes`], `changes.rs`);
//! - no token or key reaches a log, an error or `Debug`: tokens are [`SecretString`]s, rows
//!   hold only ciphertexts, and `Store`'s `Debug` shows neither its URL nor its key.

mod changes;
mod cipher;
mod error;
mod lazy;
mod refresh;
mod row;

use std::fmt;
use std::str::FromStr as _;
use std::time::Duration;

use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub use changes::ShopChange;
pub use error::StoreError;
pub use lazy::{LazyStore, open_store};

use cipher::{Cipher, Column};
use row::{COLUMNS, instant, micros, trusted};

use crate::config::StoreConfig;
use crate::id::ShopDomain;

/// The migrations in `migrations/`, compiled in.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Connections per process: refreshes hold one each for the length of a call to Shopify, and
/// the change listener one more.
const MAX_CONNECTIONS: u32 = 10;
/// How long a query waits for a connection: a database that is down shows as a transient
/// error this soon, instead of hanging the caller.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a grant returned, already turned into instants (`expires_in` → now + `expires_in`).
#[derive(Debug, Clone)]
pub struct TokenGrant {
    pub access_token: SecretString,
    /// `None`: a non-expiring token.
    pub access_expires_at: Option<Timestamp>,
    pub refresh_token: Option<SecretString>,
    pub refresh_expires_at: Option<Timestamp>,
    /// Comma-separated, as Shopify sends `scope`.
    pub scopes: String,
}

/// A shop's row, tokens decrypted. Instants are kept to the microsecond.
#[derive(Debug, Clone)]
pub struct StoredShop {
    pub domain: ShopDomain,
    pub installed_at: Timestamp,
    pub uninstalled_at: Option<Timestamp>,
    pub scopes: String,
    pub time_zone: Option<String>,
    pub access_token: Option<SecretString>,
    pub access_expires_at: Option<Timestamp>,
    pub refresh_token: Option<SecretString>,
    pub refresh_expires_at: Option<Timestamp>,
    /// The refresh token used by the last refresh, kept until its successor is used: Shopify
    /// (2026-08) lets a lost refresh be retried with it.
    pub previous_refresh_token: Option<SecretString>,
    pub last_refresh_at: Option<Timestamp>,
    /// Bumped by every write of the row.
    pub version: i64,
}

/// A handle on the token store; clones share one connection pool.
#[derive(Clone)]
pub struct Store {
    pool: PgPool,
    cipher: Cipher,
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Store")
            .field("connections", &self.pool.size())
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Connects to `[store] url` and applies the embedded migrations (sqlx takes an advisory
    /// lock for that, so replicas starting together apply them once).
    pub async fn connect(cfg: &StoreConfig) -> Result<Self, StoreError> {
        let cipher = Cipher::new(&cfg.encryption_key)?;
        let options =
            PgConnectOptions::from_str(cfg.url.expose_secret())?.application_name("orderflow");
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        Ok(Self { pool, cipher })
    }

    /// Records an install (the code grant, a token exchange or a migration): inserts the shop
    /// or replaces its tokens and scopes, clears `uninstalled_at`, and announces it. The new
    /// acquisition retires any older refresh token at Shopify, so the previous refresh token
    /// is cleared too. A `time_zone` of `None` keeps the one already stored.
    pub async fn install(
        &self,
        shop: &ShopDomain,
        grant: &TokenGrant,
        time_zone: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let access = self
            .cipher
            .seal(shop, Column::Access, &grant.access_token)?;
        let refresh = self.seal_optional(shop, Column::Refresh, grant.refresh_token.as_ref())?;
        let sql = format!(
            "INSERT INTO shops (domain, installed_at, uninstalled_at, scopes, time_zone, \
                 access_token, access_expires_at, refresh_token, refresh_expires_at, \
                 previous_refresh_token, last_refresh_at, version) \
             VALUES ($1, {}, NULL, $3, $4, $5, {}, $7, {}, NULL, NULL, 1) \
             ON CONFLICT (domain) DO UPDATE SET \
                 installed_at = EXCLUDED.installed_at, uninstalled_at = NULL, \
                 scopes = EXCLUDED.scopes, \
                 time_zone = COALESCE(EXCLUDED.time_zone, shops.time_zone), \
                 access_token = EXCLUDED.access_token, \
                 access_expires_at = EXCLUDED.access_expires_at, \
                 refresh_token = EXCLUDED.refresh_token, \
                 refresh_expires_at = EXCLUDED.refresh_expires_at, \
                 previous_refresh_token = NULL, last_refresh_at = NULL, \
                 version = shops.version + 1",
            instant(2),
            instant(6),
            instant(8)
        );
        let mut tx = self.pool.begin().await?;
        sqlx::query(trusted(sql))
            .bind(shop.as_str())
            .bind(now.as_microsecond())
            .bind(&grant.scopes)
            .bind(time_zone)
            .bind(access)
            .bind(micros(grant.access_expires_at))
            .bind(refresh)
            .bind(micros(grant.refresh_expires_at))
            .execute(&mut *tx)
            .await?;
        changes::notify(&mut tx, &ShopChange::Installed(shop.clone())).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The shop's row, installed or not; `None` if the store never heard of it (or it was
    /// redacted).
    pub async fn shop(&self, shop: &ShopDomain) -> Result<Option<StoredShop>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM shops WHERE domain = $1");
        let row = sqlx::query(trusted(sql))
            .bind(shop.as_str())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| row::decode(&r, &self.cipher)).transpose()
    }

    /// Every shop not uninstalled, by domain.
    pub async fn installed(&self) -> Result<Vec<StoredShop>, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM shops WHERE uninstalled_at IS NULL ORDER BY domain");
        let rows = sqlx::query(trusted(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(|r| row::decode(r, &self.cipher)).collect()
    }

    /// Every row, uninstalled shops included, by domain (for `tokens status`).
    pub async fn all(&self) -> Result<Vec<StoredShop>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM shops ORDER BY domain");
        let rows = sqlx::query(trusted(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(|r| row::decode(r, &self.cipher)).collect()
    }

    /// Closes the pool, waiting for the connections in use to be returned (at shutdown).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// `app/uninstalled`: deletes the shop's tokens, sets `uninstalled_at` (the first time
    /// only, so Shopify's retries of the webhook do not move it) and announces it. A shop the
    /// store does not hold has nothing to delete; the uninstall is still announced, so caches
    /// that learnt the shop some other way drop it. Waits for a refresh in progress to finish,
    /// so its new tokens are deleted too.
    pub async fn uninstall(&self, shop: &ShopDomain, now: Timestamp) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE shops SET uninstalled_at = COALESCE(uninstalled_at, {}), \
                 access_token = NULL, access_expires_at = NULL, \
                 refresh_token = NULL, refresh_expires_at = NULL, \
                 previous_refresh_token = NULL, version = version + 1 \
             WHERE domain = $1",
            instant(2)
        );
        let mut tx = self.pool.begin().await?;
        sqlx::query(trusted(sql))
            .bind(shop.as_str())
            .bind(now.as_microsecond())
            .execute(&mut *tx)
            .await?;
        changes::notify(&mut tx, &ShopChange::Uninstalled(shop.clone())).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `shop/redact`: deletes the shop's row and announces it.
    pub async fn redact(&self, shop: &ShopDomain) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM shops WHERE domain = $1")
            .bind(shop.as_str())
            .execute(&mut *tx)
            .await?;
        changes::notify(&mut tx, &ShopChange::Redacted(shop.clone())).await?;
        tx.commit().await?;
        Ok(())
    }

    fn seal_optional(
        &self,
        shop: &ShopDomain,
        column: Column,
        plain: Option<&SecretString>,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        plain.map(|p| self.cipher.seal(shop, column, p)).transpose()
    }
}
