//! `orderflow webhooks check` and `sync` as a user runs them, against the sandbox: a subscription
//! Shopify deleted (after 8 failed deliveries) fails the check, `sync` creates exactly it, a
//! second `sync` creates nothing, and a subscription to another address is left alone.

use std::path::{Path, PathBuf};

use orderflow::event::subject::SUBSCRIBED_TOPICS;
use orderflow::sandbox::Sandbox;
use orderflow::shopify::subscriptions::topic_enum;

use crate::shopify::{SHOP, TOKEN};

pub const URI: &str = "https://orderflow.example.com/webhooks";
const OLD: &str = "https://old.example/hooks";

fn config(dir: &Path, sandbox: &Sandbox) -> PathBuf {
    let path = dir.join("orderflow.toml");
    std::fs::write(
        &path,
        format!(
            "[shopify]\nclient_secrets = [\"x\"]\napp_url = \"https://orderflow.example.com\"\n\
             [[shops]]\ndomain = \"{SHOP}\"\naccess_token = \"{TOKEN}\"\nadmin_api_url = \"{}\"\n\
             timezone = \"UTC\"\n",
            sandbox.base_url()
        ),
    )
    .unwrap();
    path
}

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The line of `topic` (the first word, after the shop when `shop` is given).
    pub fn line(&self, shop: Option<&str>, topic: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| {
                let mut words = l.split_whitespace();
                shop.is_none_or(|s| words.next() == Some(s)) && words.next() == Some(topic)
            })
            .unwrap_or_else(|| panic!("no line for {topic}: {}", self.stdout))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {:?}\n{}{}", self.code, self.stdout, self.stderr)
    }
}

/// Runs the binary without blocking the runtime the in-process sandbox answers on.
pub async fn orderflow(config: &Path, args: &[&str]) -> Run {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .args(args)
        .arg("--config")
        .arg(config)
        .output()
        .await
        .unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The `webhookSubscriptionCreate` mutations the sandbox received: (topic, uri) each.
pub fn creates(sandbox: &Sandbox) -> Vec<(String, String)> {
    sandbox
        .mutations()
        .into_iter()
        .filter(|m| m.fields == ["webhookSubscriptionCreate"])
        .map(|m| {
            assert_eq!(
                m.operation_name.as_deref(),
                Some("WebhookSubscriptionCreate")
            );
            (
                m.variables["topic"].as_str().unwrap().to_owned(),
                m.variables["uri"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn check_fails_on_a_subscription_shopify_deleted_and_sync_repairs_it_once() {
    let h = crate::shopify::harness().await;
    for t in SUBSCRIBED_TOPICS {
        h.sandbox
            .add_webhook_subscription(&h.shop, &topic_enum(t), URI)
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &h.sandbox);
    let check = ["webhooks", "check", "--shop", SHOP];
    let sync = ["webhooks", "sync", "--shop", SHOP];
    let run = orderflow(&path, &check).await;
    assert_eq!(run.code, Some(0), "{run}");

    // Shopify gives up on the subscription after 8 failed deliveries and deletes it.
    assert_eq!(
        h.sandbox.drop_webhook_subscription(&h.shop, "ORDERS_PAID"),
        1
    );
    let run = orderflow(&path, &check).await;
    assert_eq!(run.code, Some(1), "{run}");
    assert!(run.line(None, "orders/paid").ends_with("missing"), "{run}");
    assert!(
        run.stderr.contains("orderflow webhooks sync --shop"),
        "{run}"
    );

    let run = orderflow(&path, &sync).await;
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.line(None, "orders/paid").ends_with("created"), "{run}");
    assert!(run.line(None, "orders/create").ends_with(" ok"), "{run}");
    assert!(run.stdout.contains("created 1"), "{run}");
    assert_eq!(
        creates(&h.sandbox),
        [("ORDERS_PAID".to_owned(), URI.to_owned())],
        "exactly the missing topic, to orderflow"
    );

    // Idempotent: the second run sends no mutation.
    let run = orderflow(&path, &sync).await;
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stdout.contains("nothing to create"), "{run}");
    assert_eq!(creates(&h.sandbox).len(), 1, "{run}");
    let run = orderflow(&path, &check).await;
    assert_eq!(run.code, Some(0), "{run}");
}

#[tokio::test(flavor = "multi_thread")]
async fn sync_subscribes_every_topic_beside_other_addresses_and_deletes_nothing() {
    let h = crate::shopify::harness().await;
    let old = h
        .sandbox
        .add_webhook_subscription(&h.shop, "ORDERS_CREATE", OLD)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &h.sandbox);
    let run = orderflow(&path, &["webhooks", "check", "--shop", "all"]).await;
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.line(None, "orders/create")
            .contains("elsewhere: https://old.example/hooks"),
        "one shop: no prefix: {run}"
    );

    let run = orderflow(&path, &["webhooks", "sync", "--shop", "all"]).await;
    assert_eq!(run.code, Some(0), "{run}");
    assert!(
        run.line(None, "orders/create")
            .contains("created (beside https://old.example/hooks"),
        "{run}"
    );
    let mut created: Vec<String> = creates(&h.sandbox).into_iter().map(|(t, _)| t).collect();
    created.sort();
    let mut want: Vec<String> = SUBSCRIBED_TOPICS.iter().map(|t| topic_enum(t)).collect();
    want.sort();
    assert_eq!(created, want, "one per topic");
    let subs = h.sandbox.webhook_subscriptions(&h.shop);
    assert_eq!(subs.len(), SUBSCRIBED_TOPICS.len() + 1, "{subs:?}");
    assert!(
        subs.iter()
            .any(|s| s["id"] == old.as_str() && s["uri"] == OLD),
        "the other address is left alone"
    );
    let run = orderflow(&path, &["webhooks", "check", "--shop", SHOP]).await;
    assert_eq!(run.code, Some(0), "{run}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_shop_is_named_with_the_known_ones() {
    let h = crate::shopify::harness().await;
    let dir = tempfile::tempdir().unwrap();
    let path = config(dir.path(), &h.sandbox);
    let run = orderflow(
        &path,
        &["webhooks", "sync", "--shop", "other.myshopify.com"],
    )
    .await;
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr
            .contains("configured shops are acme.myshopify.com"),
        "{run}"
    );
    assert!(creates(&h.sandbox).is_empty());
}
