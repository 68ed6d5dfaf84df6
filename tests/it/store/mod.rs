//! The token store against the real PostgreSQL, each test in a database of its own: migrations,
//! encryption at rest, install and uninstall seen by another replica, refreshes serialised
//! across processes by the row lock, and changes told by LISTEN/NOTIFY.

mod changes;
pub(crate) mod db;
mod refresh;
mod rows;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretString};
use sqlx::Row as _;
use tokio::sync::oneshot;

use orderflow::id::ShopDomain;
use orderflow::store::{ShopChange, Store, StoreError, StoredShop, TokenGrant};

use crate::harness::eventually;
use db::{KEY, OTHER_KEY, TestDb};

const ACCESS: &str = "shpat_sentinel-access-1f3a";
const REFRESH: &str = "shprt_sentinel-refresh-9b2c";
const NEW_ACCESS: &str = "shpat_sentinel-access-new-77d0";
const NEW_REFRESH: &str = "shprt_sentinel-refresh-new-4e61";
const DEADLINE: Duration = Duration::from_secs(10);

fn shop() -> ShopDomain {
    ShopDomain::parse("acme.myshopify.com").unwrap()
}

fn now() -> Timestamp {
    "2026-12-01T10:00:00Z".parse().unwrap()
}

fn grant(access: &str, refresh: &str, at: Timestamp) -> TokenGrant {
    TokenGrant {
        access_token: SecretString::from(access.to_owned()),
        access_expires_at: Some(at + SignedDuration::from_secs(3600)),
        refresh_token: Some(SecretString::from(refresh.to_owned())),
        refresh_expires_at: Some(at + SignedDuration::from_hours(90 * 24)),
        scopes: "read_orders,write_merchant_managed_fulfillment_orders".to_owned(),
    }
}

fn exposed(s: &Option<SecretString>) -> Option<&str> {
    s.as_ref().map(|s| s.expose_secret())
}

async fn installed_store(db: &TestDb) -> Store {
    let store = Store::connect(&db.config(KEY)).await.expect("connect");
    store
        .install(
            &shop(),
            &grant(ACCESS, REFRESH, now()),
            Some("Europe/Amsterdam"),
            now(),
        )
        .await
        .expect("install");
    store
}

/// Every secret of these tests must be absent from `text`.
fn assert_no_secret(what: &str, text: &str) {
    for secret in [ACCESS, REFRESH, NEW_ACCESS, NEW_REFRESH, KEY, OTHER_KEY] {
        assert!(!text.contains(secret), "{secret} leaked in {what}:\n{text}");
    }
}

/// A refresh closure that asks Shopify only when the row still holds the token it knew to be
/// stale, as a caller of `refresh` does; `calls` counts the requests it would send.
async fn refresh_if_stale(
    row: StoredShop,
    calls: &AtomicU32,
) -> Result<Option<TokenGrant>, String> {
    if exposed(&row.access_token) != Some(ACCESS) {
        return Ok(None);
    }
    calls.fetch_add(1, Ordering::SeqCst);
    Ok(Some(grant(NEW_ACCESS, NEW_REFRESH, now())))
}

/// Ends every connection the stores of this database hold, as a database restart would.
async fn cut_store_connections(observer: &sqlx::PgPool, db: &TestDb) -> u64 {
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = $1 AND application_name = 'orderflow'",
    )
    .bind(&db.name)
    .fetch_all(observer)
    .await
    .unwrap()
    .len() as u64
}
