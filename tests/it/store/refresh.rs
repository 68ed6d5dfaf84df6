//! Refreshes: the new pair written with the refresh token it used, failures and cut-off writes
//! leaving the old pair, and one refresh per shop at a time across processes.

use super::*;

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
