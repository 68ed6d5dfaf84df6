//! Changes told to other replicas by LISTEN/NOTIFY, and a lost listener that listens again.

use super::*;

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
    // A reconnection attempt that fails on a busy machine is reported as another transient
    // `Err` ("re-read the installed shops"), and a change made while it listened again may be
    // lost with it, as the registry's re-read covers in production. So the install is made
    // again after each such `Err`; the first change heard must be ours.
    let heard = tokio::time::timeout(2 * DEADLINE, async {
        loop {
            a.install(&shop(), &grant(ACCESS, REFRESH, now()), None, now())
                .await
                .unwrap();
            match tokio::time::timeout(DEADLINE, rx.recv()).await {
                Ok(Some(Ok(change))) => return change,
                Ok(Some(Err(e))) => assert!(e.is_transient(), "{e:?}"),
                Ok(None) => panic!("the stream does not end"),
                Err(_) => panic!("neither the install nor a lost connection was heard"),
            }
        }
    })
    .await
    .expect("the install is heard within the deadline");
    assert_eq!(heard, ShopChange::Installed(shop()));
}
