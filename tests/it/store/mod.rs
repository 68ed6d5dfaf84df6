//! The token store against the real PostgreSQL, each test in a database of its own: migrations,
//! encryption at rest, install and uninstall seen by another replica, refreshes serialised
//! across processes by the row lock, and changes told by LISTEN/NOTIFY.

mod db;

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

#[tokio::test]
async fn migrations_apply_on_an_empty_database_and_again_idempotently() {
    let db = TestDb::create().await;
    let first = Store::connect(&db.config(KEY))
        .await
        .expect("first connect");
    let second = Store::connect(&db.config(KEY))
        .await
        .expect("second connect");
    let mut conn = db.connection().await;
    let applied: i64 = sqlx::query("SELECT count(*) FROM _sqlx_migrations WHERE success")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(applied, 1, "each migration is applied once");
    assert!(first.installed().await.unwrap().is_empty());
    assert!(second.installed().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_stored_token_pair_round_trips() {
    let db = TestDb::create().await;
    let store = installed_store(&db).await;
    let row = store.shop(&shop()).await.unwrap().expect("the shop's row");
    assert_eq!(row.domain, shop());
    assert_eq!(exposed(&row.access_token), Some(ACCESS));
    assert_eq!(exposed(&row.refresh_token), Some(REFRESH));
    assert!(row.previous_refresh_token.is_none());
    assert_eq!(row.installed_at, now());
    assert_eq!(row.uninstalled_at, None);
    assert_eq!(
        row.access_expires_at,
        Some(now() + SignedDuration::from_secs(3600))
    );
    assert_eq!(
        row.refresh_expires_at,
        Some(now() + SignedDuration::from_hours(90 * 24))
    );
    assert_eq!(
        row.scopes,
        "read_orders,write_merchant_managed_fulfillment_orders"
    );
    assert_eq!(row.time_zone.as_deref(), Some("Europe/Amsterdam"));
    assert_eq!(row.last_refresh_at, None);
    assert_eq!(row.version, 1);
    let all = store.installed().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(exposed(&all[0].access_token), Some(ACCESS));
    let unknown = ShopDomain::parse("other.myshopify.com").unwrap();
    assert!(store.shop(&unknown).await.unwrap().is_none());
}

#[tokio::test]
async fn the_ciphertext_in_the_table_does_not_contain_the_token() {
    let db = TestDb::create().await;
    let _store = installed_store(&db).await;
    let mut conn = db.connection().await;
    let row = sqlx::query("SELECT access_token, refresh_token FROM shops")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    for (column, token) in [("access_token", ACCESS), ("refresh_token", REFRESH)] {
        let sealed: Vec<u8> = row.get(column);
        // nonce (12) || ciphertext || tag (16)
        assert_eq!(sealed.len(), 12 + token.len() + 16, "{column}");
        let found = sealed
            .windows(8)
            .any(|w| token.as_bytes().windows(8).any(|t| t == w));
        assert!(!found, "{column} holds 8 bytes of its token in clear");
    }
    let dump: String = sqlx::query("SELECT shops::text FROM shops")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    assert_no_secret("the row as text", &dump);
}

#[tokio::test]
async fn a_wrong_key_cannot_read_the_tokens_and_says_so_without_a_secret() {
    let db = TestDb::create().await;
    let _store = installed_store(&db).await;
    let other = Store::connect(&db.config(OTHER_KEY))
        .await
        .expect("connect");
    for err in [
        other.shop(&shop()).await.unwrap_err(),
        other.installed().await.unwrap_err(),
    ] {
        assert!(
            matches!(
                err,
                StoreError::Decrypt {
                    column: "access_token",
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(!err.is_transient());
        let shown = format!("{err}\n{err:?}");
        assert!(shown.contains("acme.myshopify.com"), "{shown}");
        assert_no_secret("a decryption error", &shown);
    }
}

#[tokio::test]
async fn uninstall_deletes_the_tokens_and_another_replica_sees_it() {
    let db = TestDb::create().await;
    let a = installed_store(&db).await;
    let b = Store::connect(&db.config(KEY))
        .await
        .expect("second replica");
    assert_eq!(b.installed().await.unwrap().len(), 1);
    let later = now() + SignedDuration::from_mins(5);
    a.uninstall(&shop(), later).await.unwrap();
    let row = b.shop(&shop()).await.unwrap().expect("the row stays");
    assert_eq!(row.uninstalled_at, Some(later));
    assert!(row.access_token.is_none() && row.refresh_token.is_none());
    assert!(row.access_expires_at.is_none() && row.refresh_expires_at.is_none());
    assert!(row.previous_refresh_token.is_none());
    assert!(b.installed().await.unwrap().is_empty());
    let mut conn = db.connection().await;
    let nulls: bool = sqlx::query(
        "SELECT access_token IS NULL AND refresh_token IS NULL AND previous_refresh_token IS NULL FROM shops",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap()
    .get(0);
    assert!(nulls, "the ciphertexts are gone from the table too");

    // Shopify retries the webhook: the first uninstall time stays.
    a.uninstall(&shop(), later + SignedDuration::from_mins(1))
        .await
        .unwrap();
    assert_eq!(
        b.shop(&shop()).await.unwrap().unwrap().uninstalled_at,
        Some(later)
    );

    // An uninstalled shop is not refreshed.
    let calls = AtomicU32::new(0);
    let err = b
        .refresh(&shop(), DEADLINE, later, |row| {
            refresh_if_stale(row, &calls)
        })
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::NotInstalled(_)), "{err:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // Installing again brings it back; the time zone given before is kept.
    a.install(&shop(), &grant(NEW_ACCESS, NEW_REFRESH, later), None, later)
        .await
        .unwrap();
    let row = b.shop(&shop()).await.unwrap().unwrap();
    assert_eq!(row.uninstalled_at, None);
    assert_eq!(row.installed_at, later);
    assert_eq!(exposed(&row.access_token), Some(NEW_ACCESS));
    assert_eq!(row.time_zone.as_deref(), Some("Europe/Amsterdam"));
}

#[tokio::test]
async fn redact_deletes_the_row() {
    let db = TestDb::create().await;
    let store = installed_store(&db).await;
    store.redact(&shop()).await.unwrap();
    assert!(store.shop(&shop()).await.unwrap().is_none());
    let mut conn = db.connection().await;
    let rows: i64 = sqlx::query("SELECT count(*) FROM shops")
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn a_refresh_writes_the_new_pair_and_keeps_the_refresh_token_it_used() {
    let db = TestDb::create().await;
    let store = installed_store(&db).await;
    let at = now() + SignedDuration::from_mins(55);
    let written = store
        .refresh(&shop(), DEADLINE, at, |row| async move {
            assert_eq!(exposed(&row.refresh_token), Some(REFRESH));
            Ok::<_, String>(Some(grant(NEW_ACCESS, NEW_REFRESH, at)))
        })
        .await
        .unwrap()
        .unwrap();
    let row = store.shop(&shop()).await.unwrap().unwrap();
    for r in [&written, &row] {
        assert_eq!(exposed(&r.access_token), Some(NEW_ACCESS));
        assert_eq!(exposed(&r.refresh_token), Some(NEW_REFRESH));
        assert_eq!(exposed(&r.previous_refresh_token), Some(REFRESH));
        assert_eq!(
            r.access_expires_at,
            Some(at + SignedDuration::from_secs(3600))
        );
        assert_eq!(r.last_refresh_at, Some(at));
        assert_eq!(r.version, 2);
    }
    // Using the successor retires the predecessor: the next refresh keeps NEW_REFRESH only.
    let third = "shprt_third";
    let row = store
        .refresh(&shop(), DEADLINE, at, |_| async move {
            Ok::<_, String>(Some(grant("shpat_third", third, at)))
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(exposed(&row.previous_refresh_token), Some(NEW_REFRESH));
    assert_eq!(row.version, 3);
}

#[tokio::test]
async fn a_failing_refresh_leaves_the_old_pair_and_releases_the_lock() {
    let db = TestDb::create().await;
    let store = installed_store(&db).await;
    let outcome = store
        .refresh(&shop(), DEADLINE, now(), |_| async {
            Err::<Option<TokenGrant>, _>("the token endpoint answered 500")
        })
        .await
        .unwrap();
    assert_eq!(outcome.unwrap_err(), "the token endpoint answered 500");
    let row = store.shop(&shop()).await.unwrap().unwrap();
    assert_eq!(exposed(&row.access_token), Some(ACCESS));
    assert_eq!(exposed(&row.refresh_token), Some(REFRESH));
    assert!(row.previous_refresh_token.is_none());
    assert_eq!(row.version, 1);
    // The lock went with the failed call: a refresh with a short timeout gets it at once.
    let calls = AtomicU32::new(0);
    store
        .refresh(&shop(), Duration::from_millis(200), now(), |row| {
            refresh_if_stale(row, &calls)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn two_processes_refreshing_one_shop_ask_shopify_once_and_the_second_waits_for_the_first() {
    let db = TestDb::create().await;
    let a = installed_store(&db).await;
    let b = Store::connect(&db.config(KEY))
        .await
        .expect("second process");
    let calls = Arc::new(AtomicU32::new(0));
    let (entered_tx, entered_rx) = oneshot::channel::<()>();
    let (release_tx, release_rx) = oneshot::channel::<()>();

    let first = tokio::spawn({
        let calls = calls.clone();
        async move {
            a.refresh(&shop(), DEADLINE, now(), |row| async move {
                entered_tx.send(()).unwrap();
                // Shopify is slow to answer: hold the lock until the test says so.
                release_rx.await.unwrap();
                refresh_if_stale(row, &calls).await
            })
            .await
        }
    });
    entered_rx.await.expect("the first refresh holds the lock");

    let seen_version = Arc::new(AtomicU32::new(0));
    let second = tokio::spawn({
        let calls = calls.clone();
        let seen_version = seen_version.clone();
        async move {
            b.refresh(&shop(), DEADLINE, now(), |row| async move {
                seen_version.store(row.version as u32, Ordering::SeqCst);
                refresh_if_stale(row, &calls).await
            })
            .await
        }
    });
    let observer = sqlx::PgPool::connect(&db.url).await.unwrap();
    let name = db.name.clone();
    eventually(DEADLINE, "the second refresh to wait on the row lock", || {
        let observer = observer.clone();
        let name = name.clone();
        async move {
            let waiting: i64 = sqlx::query(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND wait_event_type = 'Lock'",
            )
            .bind(name)
            .fetch_one(&observer)
            .await
            .unwrap()
            .get(0);
            (waiting > 0).then_some(())
        }
    })
    .await;
    assert!(!second.is_finished(), "the second refresh must wait");
    assert_eq!(
        seen_version.load(Ordering::SeqCst),
        0,
        "nor run its closure"
    );

    release_tx.send(()).unwrap();
    let first = first.await.unwrap().unwrap().unwrap();
    let second = second.await.unwrap().unwrap().unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1, "one request to Shopify");
    assert_eq!(
        seen_version.load(Ordering::SeqCst),
        2,
        "the waiter saw the new row"
    );
    for row in [&first, &second] {
        assert_eq!(exposed(&row.access_token), Some(NEW_ACCESS));
        assert_eq!(row.version, 2);
    }
}

#[tokio::test]
async fn a_refresh_lock_held_past_the_timeout_is_a_lock_timeout() {
    let db = TestDb::create().await;
    let store = installed_store(&db).await;
    let mut holder = db.connection().await;
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("SELECT 1 FROM shops WHERE domain = $1 FOR UPDATE")
        .bind(shop().as_str())
        .execute(&mut holder)
        .await
        .unwrap();

    let calls = AtomicU32::new(0);
    let started = Instant::now();
    let err = store
        .refresh(&shop(), Duration::from_millis(300), now(), |row| {
            refresh_if_stale(row, &calls)
        })
        .await
        .unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, StoreError::LockTimeout { .. }), "{err:?}");
    assert!(err.is_transient());
    assert!(
        waited >= Duration::from_millis(300),
        "gave up after {waited:?}"
    );
    assert!(waited < DEADLINE, "waited {waited:?}");
    assert_eq!(
        calls.load(Ordering::SeqCst),
        0,
        "no request without the lock"
    );
    assert_no_secret("a lock timeout", &format!("{err}\n{err:?}"));

    sqlx::query("COMMIT").execute(&mut holder).await.unwrap();
    store
        .refresh(&shop(), Duration::from_millis(300), now(), |row| {
            refresh_if_stale(row, &calls)
        })
        .await
        .unwrap()
        .unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

async fn next_change(
    changes: &mut (impl futures_util::Stream<Item = Result<ShopChange, StoreError>> + Unpin),
) -> Result<ShopChange, StoreError> {
    tokio::time::timeout(DEADLINE, changes.next())
        .await
        .expect("a change within the deadline")
        .expect("the stream does not end")
}

#[tokio::test]
async fn another_store_hears_installs_uninstalls_and_redactions() {
    let db = TestDb::create().await;
    let a = Store::connect(&db.config(KEY)).await.unwrap();
    let b = Store::connect(&db.config(KEY)).await.unwrap();
    let mut changes = Box::pin(b.changes().await.unwrap());
    a.install(&shop(), &grant(ACCESS, REFRESH, now()), None, now())
        .await
        .unwrap();
    assert_eq!(
        next_change(&mut changes).await.unwrap(),
        ShopChange::Installed(shop())
    );
    a.uninstall(&shop(), now()).await.unwrap();
    assert_eq!(
        next_change(&mut changes).await.unwrap(),
        ShopChange::Uninstalled(shop())
    );
    a.redact(&shop()).await.unwrap();
    assert_eq!(
        next_change(&mut changes).await.unwrap(),
        ShopChange::Redacted(shop())
    );
}

#[tokio::test]
async fn the_change_stream_reports_a_lost_connection_and_listens_again() {
    let db = TestDb::create().await;
    let a = Store::connect(&db.config(KEY)).await.unwrap();
    let b = Store::connect(&db.config(KEY)).await.unwrap();
    // Drive the stream on a task of its own, as a cache would, so it listens again by itself.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let changes = b.changes().await.unwrap();
    tokio::spawn(async move {
        let mut changes = Box::pin(changes);
        while let Some(item) = changes.next().await {
            if tx.send(item).is_err() {
                break;
            }
        }
    });
    let observer = sqlx::PgPool::connect(&db.url).await.unwrap();
    let listeners = || {
        let observer = observer.clone();
        let name = db.name.clone();
        async move {
            sqlx::query(
                "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND query LIKE 'LISTEN%'",
            )
            .bind(name)
            .fetch_all(&observer)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<i32, _>(0))
            .collect::<Vec<i32>>()
        }
    };
    let before = eventually(DEADLINE, "the stream to listen", || async {
        let found = listeners().await;
        (!found.is_empty()).then_some(found)
    })
    .await;
    sqlx::query("SELECT pg_terminate_backend(pid) FROM unnest($1::int4[]) AS pid")
        .bind(&before)
        .execute(&observer)
        .await
        .unwrap();
    let err = tokio::time::timeout(DEADLINE, rx.recv())
        .await
        .expect("the loss is reported within the deadline")
        .expect("the stream does not end")
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_no_secret("a lost listener", &format!("{err}\n{err:?}"));
    eventually(DEADLINE, "the stream to listen again", || async {
        let found = listeners().await;
        (!found.is_empty() && found.iter().all(|p| !before.contains(p))).then_some(())
    })
    .await;
    a.install(&shop(), &grant(ACCESS, REFRESH, now()), None, now())
        .await
        .unwrap();
    let heard = tokio::time::timeout(DEADLINE, rx.recv())
        .await
        .expect("the install is heard within the deadline")
        .expect("the stream does not end");
    assert_eq!(heard.unwrap(), ShopChange::Installed(shop()));
}

#[tokio::test]
async fn a_database_that_does_not_answer_is_a_transient_error() {
    let db = TestDb::create().await;
    let mut cfg = db.config(KEY);
    // Nothing listens on port 1.
    cfg.url = SecretString::from("postgres://postgres:db-password@127.0.0.1:1/of".to_owned());
    let err = Store::connect(&cfg).await.unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    let shown = format!("{err}\n{err:?}");
    assert!(!shown.contains("db-password"), "{shown}");
    assert_no_secret("a connection error", &shown);
}

#[tokio::test]
async fn no_token_or_key_appears_in_debug_or_errors() {
    let db = TestDb::create().await;
    let store = installed_store(&db).await;
    let row = store.shop(&shop()).await.unwrap().unwrap();
    let cfg = db.config(KEY);
    let mut shown = format!(
        "{store:?}\n{row:?}\n{cfg:?}\n{:?}",
        grant(NEW_ACCESS, NEW_REFRESH, now())
    );
    let gone = ShopDomain::parse("gone.myshopify.com").unwrap();
    let err = store
        .refresh(&gone, DEADLINE, now(), |_| async { Ok::<_, String>(None) })
        .await
        .unwrap_err();
    shown.push_str(&format!("\n{err}\n{err:?}"));
    let mut bad_key = db.config(KEY);
    bad_key.encryption_key = SecretString::from("c2VudGluZWwtc2hvcnQ=".to_owned());
    let err = Store::connect(&bad_key).await.unwrap_err();
    assert!(matches!(err, StoreError::Key), "{err:?}");
    shown.push_str(&format!("\n{err}\n{err:?}"));
    assert!(!shown.contains("c2VudGluZWwtc2hvcnQ="), "{shown}");
    assert_no_secret("Debug and errors", &shown);
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

#[tokio::test]
async fn the_store_works_again_after_its_connections_are_cut() {
    let db = TestDb::create().await;
    let store = installed_store(&db).await;
    let observer = sqlx::PgPool::connect(&db.url).await.unwrap();
    assert!(cut_store_connections(&observer, &db).await > 0);
    let row = store.shop(&shop()).await.expect("a fresh connection");
    assert_eq!(exposed(&row.unwrap().access_token), Some(ACCESS));
}

#[tokio::test]
async fn a_refresh_whose_write_is_cut_off_is_transient_and_leaves_the_old_pair() {
    let db = TestDb::create().await;
    let store = installed_store(&db).await;
    let observer = sqlx::PgPool::connect(&db.url).await.unwrap();
    let err = store
        .refresh(&shop(), DEADLINE, now(), |_| async {
            // Shopify answered, then the database went away before the write.
            cut_store_connections(&observer, &db).await;
            Ok::<_, String>(Some(grant(NEW_ACCESS, NEW_REFRESH, now())))
        })
        .await
        .unwrap_err();
    assert!(err.is_transient(), "{err:?}");
    assert_no_secret("a cut-off refresh", &format!("{err}\n{err:?}"));
    let row = store.shop(&shop()).await.unwrap().unwrap();
    assert_eq!(exposed(&row.access_token), Some(ACCESS));
    assert_eq!(exposed(&row.refresh_token), Some(REFRESH));
    assert_eq!(row.version, 1);
}
