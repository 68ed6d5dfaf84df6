//! Rows in and out: migrations, the round trip, ciphertext at rest, a wrong key, uninstall and
//! redaction seen by another replica, the database gone and back, secrets kept out of output.

use super::*;

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
    let all = b.all().await.unwrap();
    assert_eq!(
        all.len(),
        1,
        "the uninstalled shop is still listed by all()"
    );
    assert_eq!(all[0].uninstalled_at, Some(later));
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
    // After close, calls fail as transient (a worker shutting down retries the message).
    store.close().await;
    assert!(store.shop(&shop()).await.unwrap_err().is_transient());
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

#[tokio::test]
async fn the_store_works_again_after_its_connections_are_cut() {
    let db = TestDb::create().await;
    let store = installed_store(&db).await;
    let observer = sqlx::PgPool::connect(&db.url).await.unwrap();
    assert!(cut_store_connections(&observer, &db).await > 0);
    let row = store.shop(&shop()).await.expect("a fresh connection");
    assert_eq!(exposed(&row.unwrap().access_token), Some(ACCESS));
}
