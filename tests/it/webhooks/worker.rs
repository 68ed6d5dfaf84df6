//! The working process's subscription check and the receiver's last-received gauge, read from
//! `/metrics`' registry: a shop whose subscription Shopify deleted shows the missing count, and 0
//! once the subscriptions are repaired and the worker restarts.

use std::sync::Arc;
use std::time::Duration;

use orderflow::app::Roles;
use orderflow::clock::ManualClock;
use orderflow::event::subject::SUBSCRIBED_TOPICS;
use orderflow::id::ShopDomain;
use orderflow::sandbox::{Sandbox, SandboxConfig};
use orderflow::shopify::Client;
use orderflow::shopify::subscriptions::topic_enum;
use secrecy::SecretString;

use super::sync::{URI, creates};
use crate::harness::{self, Options, SHOP, TOKEN, TestApp, eventually};

/// The value of `name{shop="…"}` in the app's metrics, once exported.
fn gauge(app: &TestApp, name: &str) -> Option<i64> {
    gauge_of(app, name, SHOP)
}

fn gauge_of(app: &TestApp, name: &str, shop: &str) -> Option<i64> {
    let prefix = format!("{name}{{shop=\"{shop}\"}} ");
    app.metrics.encode().lines().find_map(|l| {
        l.strip_prefix(&prefix)
            .map(|v| v.parse().expect("a number"))
    })
}

async fn worker(name: &str, sandbox: &Sandbox, extra: &str) -> TestApp {
    TestApp::spawn_with(
        name,
        Options {
            roles: Some(Roles::WORK),
            admin_api_url: Some(sandbox.base_url()),
            shopify_toml: "app_url = \"https://orderflow.example.com\"".to_owned(),
            extra_toml: extra.to_owned(),
            ..Default::default()
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_worker_exports_the_missing_topics_at_start_and_zero_after_a_sync() {
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let shop = ShopDomain::parse(SHOP).unwrap();
    sandbox.add_shop(shop.clone(), SecretString::from(TOKEN.to_owned()));
    for t in SUBSCRIBED_TOPICS {
        sandbox
            .add_webhook_subscription(&shop, &topic_enum(t), URI)
            .unwrap();
    }
    // Shopify deleted two after failed deliveries.
    assert_eq!(sandbox.drop_webhook_subscription(&shop, "ORDERS_PAID"), 1);
    assert_eq!(
        sandbox.drop_webhook_subscription(&shop, "FULFILLMENTS_CREATE"),
        1
    );

    let app = worker("subscheck", &sandbox, "").await;
    let missing = eventually(Duration::from_secs(10), "the start check", || async {
        gauge(&app, "orderflow_webhook_subscriptions_missing")
    })
    .await;
    assert_eq!(missing, 2);
    assert!(creates(&sandbox).is_empty(), "the check only reads");
    app.stop().await;

    // Repaired (as `webhooks sync` does), then the worker restarts.
    let config = harness::test_config(
        "unused",
        &Options {
            admin_api_url: Some(sandbox.base_url()),
            ..Default::default()
        },
    );
    let client = Client::new(&config.shopify, &config.shops).unwrap();
    for topic in ["orders/paid", "fulfillments/create"] {
        client
            .create_webhook_subscription(&shop, topic, URI)
            .await
            .expect("created");
    }
    let app = worker("subscheck2", &sandbox, "").await;
    let missing = eventually(Duration::from_secs(10), "the start check", || async {
        gauge(&app, "orderflow_webhook_subscriptions_missing")
    })
    .await;
    assert_eq!(missing, 0);
    app.stop().await;
    sandbox.shutdown().await;
}

#[tokio::test]
async fn the_receiver_records_when_each_shops_last_verified_webhook_arrived() {
    let at: jiff::Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
    let clock = ManualClock::new(at);
    let app = TestApp::spawn_with(
        "lastreceived",
        Options {
            clock: Some(Arc::new(clock.clone())),
            ..Default::default()
        },
    )
    .await;
    app.broker
        .wait_connected(Duration::from_secs(10))
        .await
        .unwrap();
    let body = harness::fixture("orders/create");
    let forged = app
        .delivery_with("orders/create", "w-forged", &body, |h| {
            h.retain(|(k, _)| *k != "X-Shopify-Hmac-Sha256");
            h.push(("X-Shopify-Hmac-Sha256", "bm9wZQ==".to_owned()));
        })
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 401);
    assert_eq!(
        gauge(&app, "orderflow_webhook_last_received_timestamp_seconds"),
        None,
        "an unsigned delivery proves nothing"
    );
    let ok = app
        .delivery("orders/create", "w-1", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        gauge(&app, "orderflow_webhook_last_received_timestamp_seconds"),
        Some(at.as_second())
    );
    clock.advance(jiff::SignedDuration::from_secs(90));
    let ok = app
        .delivery("orders/updated", "w-2", &harness::fixture("orders/updated"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(
        gauge(&app, "orderflow_webhook_last_received_timestamp_seconds"),
        Some(at.as_second() + 90)
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shop_installed_while_the_worker_runs_is_checked_at_once() {
    use orderflow::clock::{Clock, SystemClock};
    use orderflow::store::{Store, TokenGrant};

    use crate::harness::db::{KEY, TestDb};

    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let acme = ShopDomain::parse(SHOP).unwrap();
    sandbox.add_shop(acme.clone(), SecretString::from(TOKEN.to_owned()));
    for t in SUBSCRIBED_TOPICS {
        sandbox
            .add_webhook_subscription(&acme, &topic_enum(t), URI)
            .unwrap();
    }
    let gamma = ShopDomain::parse("gamma.myshopify.com").unwrap();
    let gamma_token = "shpat_SENTINEL_GAMMA_WORKER_77aa";
    sandbox.add_shop(gamma.clone(), SecretString::from(gamma_token.to_owned()));
    sandbox
        .add_webhook_subscription(&gamma, "ORDERS_CREATE", URI)
        .unwrap();
    let db = TestDb::create().await;
    let app = TestApp::spawn_with(
        "subscheckinstall",
        Options {
            roles: Some(Roles::WORK),
            admin_api_url: Some(sandbox.base_url()),
            shopify_toml: format!(
                "auth = \"oauth\"\nclient_id = \"cid\"\napp_url = \"https://orderflow.example.com\"\n\
                 admin_url = \"{}\"",
                sandbox.base_url()
            ),
            shop_toml: "auth = \"static\"".to_owned(),
            extra_toml: format!("[store]\nurl = \"{}\"\nencryption_key = \"{KEY}\"\n", db.url),
            ..Default::default()
        },
    )
    .await;
    let missing = eventually(Duration::from_secs(10), "acme's start check", || async {
        gauge(&app, "orderflow_webhook_subscriptions_missing")
    })
    .await;
    assert_eq!(missing, 0);
    let name = "orderflow_webhook_subscriptions_missing";
    assert_eq!(
        gauge_of(&app, name, gamma.as_str()),
        None,
        "not installed yet"
    );

    let store = Store::connect(&db.config(KEY)).await.expect("store");
    let grant = TokenGrant {
        access_token: SecretString::from(gamma_token.to_owned()),
        access_expires_at: None,
        refresh_token: None,
        refresh_expires_at: None,
        scopes: "read_orders,write_orders".into(),
    };
    store
        .install(&gamma, &grant, None, SystemClock.now())
        .await
        .expect("install gamma");
    // Well within the 30 s round: the install itself triggers the check.
    let missing = eventually(
        Duration::from_secs(10),
        "gamma's check after its install",
        || async { gauge_of(&app, name, gamma.as_str()) },
    )
    .await;
    assert_eq!(
        missing as usize,
        SUBSCRIBED_TOPICS.len() - 1,
        "all but orders/create"
    );
    app.stop().await;
    sandbox.shutdown().await;
}
