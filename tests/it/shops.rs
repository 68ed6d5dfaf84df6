//! Shops that come and go: a shop installed in the token store is served by running apps
//! without a restart (a replica learns it through NOTIFY); `app/uninstalled` deletes its tokens
//! in the store and its later messages dead-letter as `unauthorized`, also after a restart;
//! `shop/redact` deletes its row; with the database cut off the receiver keeps answering for
//! the shops it knows. Each test has a database of its own on the real PostgreSQL (reached
//! through a TCP proxy where the test cuts it) and its own broker prefix.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use secrecy::SecretString;

use orderflow::app::Roles;
use orderflow::clock::{Clock as _, SystemClock};
use orderflow::id::ShopDomain;
use orderflow::queue::Names;
use orderflow::store::{Store, TokenGrant};

use crate::harness::broker::{Got, drain};
use crate::harness::proxy::Proxy;
use crate::harness::{Options, SHOP, TestApp, eventually, fixture};
use crate::store::db::{KEY, TestDb};

const NEW_SHOP: &str = "newshop.myshopify.com";
const OTHER_SHOP: &str = "latecomer.myshopify.com";
const DEADLINE: Duration = Duration::from_secs(20);

fn domain(s: &str) -> ShopDomain {
    ShopDomain::parse(s).unwrap()
}

fn grant(now: Timestamp) -> TokenGrant {
    TokenGrant {
        access_token: SecretString::from("shpat_shops-sentinel-access".to_owned()),
        access_expires_at: Some(now + SignedDuration::from_secs(3600)),
        refresh_token: Some(SecretString::from(
            "shprt_shops-sentinel-refresh".to_owned(),
        )),
        refresh_expires_at: Some(now + SignedDuration::from_hours(90 * 24)),
        scopes: "read_orders,write_orders".to_owned(),
    }
}

/// `[store]` for the app, at `url`.
fn store_toml(url: &str) -> String {
    format!("[store]\nurl = \"{url}\"\nencryption_key = \"{KEY}\"\n")
}

async fn install(store: &Store, shop: &str) {
    store
        .install(
            &domain(shop),
            &grant(SystemClock.now()),
            Some("America/New_York"),
            SystemClock.now(),
        )
        .await
        .expect("install");
}

/// Sends a signed webhook for `shop` and returns what the receiver answered (200 always).
async fn send(app: &TestApp, shop: &str, topic: &str, webhook_id: &str) -> String {
    let body = fixture(topic);
    let res = app
        .delivery_with(topic, webhook_id, &body, |h| {
            for (k, v) in h.iter_mut() {
                if *k == "X-Shopify-Shop-Domain" {
                    *v = shop.to_owned();
                }
            }
        })
        .send()
        .await
        .expect("the receiver answers");
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

/// Waits until `app` queues an order webhook of `shop` instead of dead-lettering it, a new
/// webhook id each try (a repeated id would be answered as a duplicate).
async fn wait_served(app: &TestApp, shop: &str, tag: &str) {
    let mut n = 0;
    eventually(DEADLINE, &format!("{shop} served ({tag})"), || {
        n += 1;
        let id = format!("{tag}-{n}");
        async move { (send(app, shop, "orders/create", &id).await == "published").then_some(()) }
    })
    .await;
}

/// Waits for the dead letter of webhook `webhook_id` on `app`'s dead-letter queue.
async fn wait_dead_letter(app: &TestApp, webhook_id: &str) -> Got {
    let queue = Names::new(&app.prefix).dead_queue();
    eventually(
        DEADLINE,
        &format!("the dead letter of {webhook_id}"),
        || {
            let queue = queue.clone();
            async move {
                drain(&queue)
                    .await
                    .into_iter()
                    .find(|g| g.header("X-Shopify-Webhook-Id") == Some(webhook_id))
            }
        },
    )
    .await
}

#[tokio::test]
async fn a_shop_installed_in_the_store_is_served_without_restart_by_every_replica() {
    let db = TestDb::create().await;
    let toml = store_toml(&db.url);
    let app = TestApp::spawn_with(
        "installed",
        Options {
            extra_toml: toml.clone(),
            ..Options::default()
        },
    )
    .await;
    let replica = TestApp::spawn_with(
        "installed",
        Options {
            extra_toml: toml,
            prefix: Some(app.prefix.clone()),
            ..Options::default()
        },
    )
    .await;
    assert_eq!(
        send(&app, NEW_SHOP, "orders/create", "before").await,
        "dead_lettered",
        "unknown before the install"
    );
    let store = Store::connect(&db.config(KEY)).await.expect("connect");
    install(&store, NEW_SHOP).await;
    wait_served(&app, NEW_SHOP, "first").await;
    wait_served(&replica, NEW_SHOP, "replica").await;
    assert_eq!(
        send(&replica, SHOP, "orders/create", "configured").await,
        "published",
        "configured shops are still served"
    );
    store.close().await;
    replica.stop().await;
    app.stop().await;
}

#[tokio::test]
async fn an_uninstall_deletes_the_tokens_dead_letters_later_messages_and_survives_a_restart() {
    let db = TestDb::create().await;
    let store = Store::connect(&db.config(KEY)).await.expect("connect");
    install(&store, NEW_SHOP).await;
    let opts = || Options {
        extra_toml: store_toml(&db.url),
        roles: Some(Roles::ALL),
        ..Options::default()
    };
    let app = TestApp::spawn_with("uninstall", opts()).await;
    // Only the messages after the uninstall are looked at.
    assert_eq!(
        send(&app, NEW_SHOP, "app/uninstalled", "uninstall").await,
        "published"
    );
    let row = eventually(DEADLINE, "the uninstall in the store", || {
        let store = store.clone();
        async move {
            store
                .shop(&domain(NEW_SHOP))
                .await
                .unwrap()
                .filter(|r| r.uninstalled_at.is_some())
        }
    })
    .await;
    assert!(row.access_token.is_none(), "access token deleted");
    assert!(row.refresh_token.is_none(), "refresh token deleted");
    assert!(row.previous_refresh_token.is_none());
    assert_eq!(
        send(&app, NEW_SHOP, "orders/create", "after").await,
        "published"
    );
    let dead = wait_dead_letter(&app, "after").await;
    assert_eq!(dead.header("shop"), Some(NEW_SHOP));
    assert_eq!(dead.header("reason"), Some("unauthorized"));
    app.stop().await;

    // A new process on the same store knows the shop is uninstalled.
    let restarted = TestApp::spawn_with("uninstall-restart", opts()).await;
    assert_eq!(
        send(&restarted, NEW_SHOP, "orders/create", "restarted").await,
        "published",
        "still known: its messages are the worker's to refuse"
    );
    let dead = wait_dead_letter(&restarted, "restarted").await;
    assert_eq!(dead.header("reason"), Some("unauthorized"));
    let logs = crate::harness::logs::captured();
    for token in [
        "shpat_shops-sentinel-access",
        "shprt_shops-sentinel-refresh",
    ] {
        assert!(!logs.contains(token), "{token} in the logs");
    }
    store.close().await;
    restarted.stop().await;
}

#[tokio::test]
async fn shop_redact_deletes_the_shops_row_and_the_shop_is_unknown_again() {
    let db = TestDb::create().await;
    let store = Store::connect(&db.config(KEY)).await.expect("connect");
    install(&store, NEW_SHOP).await;
    let app = TestApp::spawn_with(
        "redact",
        Options {
            extra_toml: store_toml(&db.url),
            roles: Some(Roles::ALL),
            ..Options::default()
        },
    )
    .await;
    assert_eq!(
        send(&app, NEW_SHOP, "shop/redact", "redact").await,
        "published"
    );
    eventually(DEADLINE, "the row deleted", || {
        let store = store.clone();
        async move {
            store
                .shop(&domain(NEW_SHOP))
                .await
                .unwrap()
                .is_none()
                .then_some(())
        }
    })
    .await;
    let mut n = 0;
    eventually(DEADLINE, "the shop forgotten by the receiver", || {
        n += 1;
        let id = format!("after-redact-{n}");
        let app = &app;
        async move {
            (send(app, NEW_SHOP, "orders/create", &id).await == "dead_lettered").then_some(())
        }
    })
    .await;
    store.close().await;
    app.stop().await;
}

#[tokio::test]
async fn with_the_database_cut_off_the_receiver_keeps_answering_for_the_shops_it_knows() {
    let db = TestDb::create().await;
    let proxy = Proxy::start("127.0.0.1:5432".parse().unwrap()).await;
    let proxied = format!("postgres://postgres@{}/{}", proxy.addr, db.name);
    let store = Store::connect(&db.config(KEY)).await.expect("connect");
    install(&store, NEW_SHOP).await;
    let app = TestApp::spawn_with(
        "dbdown",
        Options {
            extra_toml: store_toml(&proxied),
            ..Options::default()
        },
    )
    .await;
    wait_served(&app, NEW_SHOP, "up").await;
    proxy.cut();
    for (i, shop) in [NEW_SHOP, SHOP, NEW_SHOP].into_iter().enumerate() {
        assert_eq!(
            send(&app, shop, "orders/create", &format!("down-{i}")).await,
            "published",
            "{shop} answered from memory while the database is cut off"
        );
    }
    // Back: the app listens again and catches up with what it missed.
    install(&store, OTHER_SHOP).await;
    proxy.restore();
    wait_served(&app, OTHER_SHOP, "back").await;
    store.close().await;
    app.stop().await;
}

#[tokio::test]
async fn an_uninstall_while_the_database_is_cut_off_holds_here_at_once_and_reaches_the_store_once_it_is_back()
 {
    let db = TestDb::create().await;
    let proxy = Proxy::start("127.0.0.1:5432".parse().unwrap()).await;
    let proxied = format!("postgres://postgres@{}/{}", proxy.addr, db.name);
    let store = Store::connect(&db.config(KEY)).await.expect("connect");
    install(&store, NEW_SHOP).await;
    let app = TestApp::spawn_with(
        "uninstall-dbdown",
        Options {
            extra_toml: store_toml(&proxied),
            roles: Some(Roles::ALL),
            ..Options::default()
        },
    )
    .await;
    proxy.cut();
    assert_eq!(
        send(&app, NEW_SHOP, "app/uninstalled", "uninstall").await,
        "published"
    );
    assert_eq!(
        send(&app, NEW_SHOP, "orders/create", "after").await,
        "published"
    );
    let dead = wait_dead_letter(&app, "after").await;
    assert_eq!(
        dead.header("reason"),
        Some("unauthorized"),
        "marked here at once"
    );
    proxy.restore();
    let row = eventually(
        Duration::from_secs(40),
        "the uninstall retried into the store",
        || {
            let store = store.clone();
            async move {
                store
                    .shop(&domain(NEW_SHOP))
                    .await
                    .unwrap()
                    .filter(|r| r.uninstalled_at.is_some())
            }
        },
    )
    .await;
    assert!(
        row.access_token.is_none(),
        "tokens deleted once the store is back"
    );
    store.close().await;
    app.stop().await;
}
