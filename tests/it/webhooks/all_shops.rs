//! `--shop all` and installed shops: with a token store, `check`, `sync` and `reconcile` reach
//! every configured shop and every shop installed in the store (not uninstalled), and an
//! installed shop the config does not list works by name.

use jiff::SignedDuration;
use orderflow::clock::{Clock, SystemClock};
use orderflow::event::subject::SUBSCRIBED_TOPICS;
use orderflow::id::ShopDomain;
use orderflow::store::{Store, TokenGrant};
use secrecy::SecretString;

use super::sync::{URI, creates, orderflow};
use crate::harness::db::{KEY, TestDb};
use crate::shopify::{SHOP, TOKEN};

const GAMMA: &str = "gamma.myshopify.com";
const GAMMA_TOKEN: &str = "shpat_SENTINEL_GAMMA_SUBS_51c2";
const DELTA: &str = "delta.myshopify.com";

fn grant(token: &str) -> TokenGrant {
    TokenGrant {
        access_token: SecretString::from(token.to_owned()),
        access_expires_at: None,
        refresh_token: None,
        refresh_expires_at: None,
        scopes: "read_orders,write_orders".into(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn all_covers_configured_and_installed_shops_and_an_installed_one_works_by_name() {
    let h = crate::shopify::harness().await;
    let gamma = ShopDomain::parse(GAMMA).unwrap();
    let delta = ShopDomain::parse(DELTA).unwrap();
    h.sandbox
        .add_shop(gamma.clone(), SecretString::from(GAMMA_TOKEN.to_owned()));
    h.sandbox
        .add_shop(delta.clone(), SecretString::from("shpat_delta".to_owned()));
    let db = TestDb::create().await;
    let store = Store::connect(&db.config(KEY)).await.expect("store");
    let now = SystemClock.now();
    store
        .install(&gamma, &grant(GAMMA_TOKEN), None, now)
        .await
        .expect("install gamma");
    store
        .install(&delta, &grant("shpat_delta"), None, now)
        .await
        .expect("install delta");
    store
        .uninstall(&delta, now + SignedDuration::from_secs(1))
        .await
        .expect("uninstall delta");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("orderflow.toml");
    std::fs::write(
        &path,
        format!(
            "[shopify]\nclient_secrets = [\"x\"]\nauth = \"oauth\"\nclient_id = \"cid\"\n\
             app_url = \"https://orderflow.example.com\"\nadmin_url = \"{admin}\"\n\
             [store]\nurl = \"{db}\"\nencryption_key = \"{KEY}\"\n\
             [[shops]]\ndomain = \"{SHOP}\"\nauth = \"static\"\naccess_token = \"{TOKEN}\"\n\
             timezone = \"UTC\"\n",
            admin = h.sandbox.base_url(),
            db = db.url,
        ),
    )
    .unwrap();

    let run = orderflow(&path, &["webhooks", "check", "--shop", "all"]).await;
    assert_eq!(run.code, Some(1), "{run}");
    for shop in [SHOP, GAMMA] {
        assert!(
            run.line(Some(shop), "orders/create").ends_with("missing"),
            "prefixed by shop: {run}"
        );
    }
    assert!(!run.stdout.contains(DELTA), "uninstalled: left out: {run}");

    let run = orderflow(&path, &["webhooks", "sync", "--shop", "all"]).await;
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.line(Some(GAMMA), "app/uninstalled")
            .ends_with("created"),
        "{run}"
    );
    assert_eq!(
        creates(&h.sandbox).len(),
        2 * SUBSCRIBED_TOPICS.len(),
        "{run}"
    );
    for shop in [&h.shop, &gamma] {
        let subs = h.sandbox.webhook_subscriptions(shop);
        assert_eq!(subs.len(), SUBSCRIBED_TOPICS.len(), "{shop}");
        assert!(subs.iter().all(|s| s["uri"] == URI));
    }
    assert!(h.sandbox.webhook_subscriptions(&delta).is_empty());

    // The installed shop by name, for check and reconcile.
    let run = orderflow(&path, &["webhooks", "check", "--shop", GAMMA]).await;
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.line(None, "orders/paid").ends_with(" ok"), "{run}");
    let since = (SystemClock.now() - SignedDuration::from_hours(1)).to_string();
    let run = orderflow(
        &path,
        &["reconcile", "--shop", GAMMA, "--since", &since, "--dry-run"],
    )
    .await;
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stdout.contains("found 0 order(s)"), "{run}");
    let run = orderflow(&path, &["webhooks", "sync", "--shop", DELTA]).await;
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.stderr.contains("uninstalled"), "{run}");
    for out in [&run.stdout, &run.stderr] {
        assert!(!out.contains(GAMMA_TOKEN), "no token in the output");
    }
}
