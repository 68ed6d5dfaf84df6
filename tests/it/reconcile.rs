//! Reconciliation: the sandbox's `orders(query:)` honours an `updated_at` window and pages;
//! `orderflow reconcile --dry-run` publishes nothing; `orderflow reconcile` wakes exactly the
//! orders in the window on their own partitions, and with workers running an order changed
//! without a webhook reaches the rules' state.

use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use orderflow::event::{PartitionKey, header, partition_of};
use orderflow::id::OrderId;
use orderflow::queue::Names;
use orderflow::rules;
use orderflow::sandbox::{Sandbox, SandboxConfig};
use orderflow::shopify::documents;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::harness::broker::{drain, drain_all};
use crate::harness::e2e::{Shop, start_instant};
use crate::harness::{self, TestApp, eventually};
use crate::shopify::{SHOP, TOKEN, order_gid};

fn at(text: &str) -> Timestamp {
    text.parse().expect("instant")
}

async fn raw_query(sandbox: &Sandbox, token: &str, query: &str, variables: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!(
            "{}/admin/api/2026-10/graphql.json",
            sandbox.base_url()
        ))
        .header("Host", SHOP)
        .header("X-Shopify-Access-Token", token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("sandbox answers");
    assert_eq!(response.status(), 200);
    response.json().await.expect("JSON body")
}

fn names_of(page: &Value) -> Vec<String> {
    page["data"]["orders"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["name"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn the_orders_query_honours_the_updated_at_window_sorts_by_update_and_pages() {
    let h = crate::shopify::harness().await;
    // #1003 last, #1001 first: the sort is by updatedAt, not by id or creation.
    for (n, when) in [
        (3, "2026-11-23T10:00:00Z"),
        (2, "2026-11-23T10:30:00Z"),
        (1, "2026-11-23T11:00:00Z"),
        (4, "2026-11-23T11:00:01Z"),
    ] {
        assert!(h.sandbox.touch_order(&h.shop, &order_gid(n), at(when)));
    }
    assert!(
        !h.sandbox
            .touch_order(&h.shop, "gid://shopify/Order/1", at("2026-11-23T10:00:00Z"))
    );
    let found = h
        .client
        .orders_updated(
            &h.shop,
            at("2026-11-23T10:00:00Z"),
            at("2026-11-23T11:00:00Z"),
        )
        .await
        .expect("orders");
    let names: Vec<_> = found.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(
        names,
        ["#1003", "#1002", "#1001"],
        "both ends included, oldest first"
    );
    assert_eq!(found[0].id, OrderId(820_982_911_946_154_511));
    assert_eq!(found[2].updated_at, at("2026-11-23T11:00:00Z"));

    // Strict comparators leave the ends out.
    let page = raw_query(
        &h.sandbox,
        TOKEN,
        documents::ORDERS_UPDATED_PAGE.text(),
        json!({"query": "updated_at:>'2026-11-23T10:00:00Z' AND updated_at:<'2026-11-23T11:00:01Z'"}),
    )
    .await;
    assert_eq!(names_of(&page), ["#1002", "#1001"]);
    let requested = page["extensions"]["cost"]["requestedQueryCost"]
        .as_u64()
        .expect("requested cost");
    assert!(requested < 1000, "requested {requested}");

    // Pages of two with cursors: every order of the window once, in order.
    let paged = "query P($q: String!, $after: String) { orders(first: 2, after: $after, query: $q, sortKey: UPDATED_AT) { pageInfo { hasNextPage endCursor } nodes { name updatedAt } } }";
    let window = "updated_at:>='2026-11-23T10:00:00Z' AND updated_at:<='2026-11-23T11:00:01Z'";
    let one = raw_query(&h.sandbox, TOKEN, paged, json!({"q": window})).await;
    assert_eq!(names_of(&one), ["#1003", "#1002"]);
    assert_eq!(one["data"]["orders"]["pageInfo"]["hasNextPage"], true);
    let cursor = one["data"]["orders"]["pageInfo"]["endCursor"].clone();
    let two = raw_query(
        &h.sandbox,
        TOKEN,
        paged,
        json!({"q": window, "after": cursor}),
    )
    .await;
    assert_eq!(names_of(&two), ["#1001", "#1004"]);
    assert_eq!(two["data"]["orders"]["pageInfo"]["hasNextPage"], false);
    assert_eq!(
        two["data"]["orders"]["nodes"][1]["updatedAt"],
        "2026-11-23T11:00:01Z"
    );

    // A filter the sandbox does not model is an error, never silently ignored.
    let refused = raw_query(
        &h.sandbox,
        TOKEN,
        paged,
        json!({"q": "financial_status:paid"}),
    )
    .await;
    assert!(refused["errors"].is_array(), "{refused}");
}

#[tokio::test]
async fn the_client_pages_through_more_orders_than_one_page_holds() {
    let h = crate::shopify::harness().await;
    let template = Shop::fixture("digital");
    let when = at("2026-11-23T10:00:00Z");
    for i in 0..260u64 {
        let mut order = template.clone();
        order.id = format!("gid://shopify/Order/{}", 7_000_000 + i);
        order.name = format!("#B{i}");
        h.sandbox.insert_order(&h.shop, order.clone());
        assert!(h.sandbox.touch_order(&h.shop, &order.id, when));
    }
    let before = h.sandbox.request_count();
    let found = h
        .client
        .orders_updated(&h.shop, when, when)
        .await
        .expect("orders");
    assert_eq!(found.len(), 260);
    let ids: Vec<u64> = found.iter().map(|o| o.id.0).collect();
    assert_eq!(
        ids,
        (0..260).map(|i| 7_000_000 + i).collect::<Vec<_>>(),
        "each once, by id on a tie"
    );
    assert_eq!(
        h.sandbox.request_count() - before,
        2,
        "two pages of at most 250"
    );
}

/// A config file for the `orderflow` binary: the harness app's queues and the sandbox shop.
fn config_file(dir: &Path, prefix: &str, sandbox: &Sandbox) -> PathBuf {
    let path = dir.join("orderflow.toml");
    std::fs::write(
        &path,
        format!(
            r#"
[amqp]
url = "{url}"
prefix = "{prefix}"
partitions = 4
[shopify]
client_secrets = ["{secret}"]
[[shops]]
domain = "{SHOP}"
access_token = "{token}"
timezone = "Europe/Amsterdam"
admin_api_url = "{admin}"
"#,
            url = harness::AMQP_URL,
            secret = harness::SECRET_NEW,
            token = harness::TOKEN,
            admin = sandbox.base_url(),
        ),
    )
    .expect("config written");
    path
}

/// Runs the binary without blocking the runtime the in-process sandbox answers on.
async fn reconcile(config: &Path, args: &[&str]) -> (i32, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .arg("reconcile")
        .arg("--config")
        .arg(config)
        .args(args)
        .env_remove("ORDERFLOW_CONFIG")
        .output()
        .await
        .expect("orderflow runs");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), format!("{stdout}{stderr}"))
}

async fn sandbox_with_fixtures() -> Sandbox {
    let sandbox = Sandbox::start(SandboxConfig::default())
        .await
        .expect("sandbox starts");
    sandbox
        .load_fixtures(
            &crate::shopify::fixtures_dir(),
            &SecretString::from(harness::TOKEN.to_owned()),
        )
        .expect("fixtures load");
    sandbox
}

#[tokio::test]
async fn dry_run_lists_the_window_and_publishes_nothing_then_reconcile_wakes_exactly_it() {
    let app = TestApp::spawn("reconcile").await;
    let sandbox = sandbox_with_fixtures().await;
    let shop = crate::shopify::shop();
    for (n, when) in [
        (1, "2026-11-23T10:00:00Z"),
        (5, "2026-11-23T10:05:00Z"),
        (6, "2026-11-23T12:00:00Z"),
    ] {
        assert!(sandbox.touch_order(&shop, &order_gid(n), at(when)));
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(dir.path(), &app.prefix, &sandbox);
    let window = [
        "--since",
        "2026-11-23T10:00:00Z",
        "--until",
        "2026-11-23T11:00:00Z",
    ];

    let (code, out) = reconcile(
        &config,
        &[&["--shop", "all", "--dry-run"][..], &window].concat(),
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("#1001") && out.contains("#1005"), "{out}");
    assert!(!out.contains("#1006"), "outside the window: {out}");
    assert!(
        out.contains("found 2 order(s)") && out.contains("woke none"),
        "{out}"
    );
    assert!(
        drain_all(&app.prefix, app.partitions).await.is_empty(),
        "a dry run publishes nothing"
    );

    let (code, out) = reconcile(&config, &[&["--shop", SHOP][..], &window].concat()).await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("found 2 order(s)") && out.contains("woke 2"),
        "{out}"
    );
    let names = Names::new(&app.prefix);
    let mut woken = Vec::new();
    for p in 0..app.partitions {
        for got in drain(&names.partition_queue(p)).await {
            let id: u64 = got
                .header(header::ORDER_ID)
                .expect("order id")
                .parse()
                .expect("number");
            assert_eq!(
                p,
                partition_of(SHOP, PartitionKey::Order(OrderId(id)), app.partitions),
                "order {id} on its own partition"
            );
            assert_eq!(got.header(header::KIND), Some("order"));
            assert_eq!(got.header(header::SHOP), Some(SHOP));
            woken.push(id);
        }
    }
    woken.sort();
    assert_eq!(woken, [820_982_911_946_154_509, 820_982_911_946_154_513]);
    assert!(drain(&names.dead_queue()).await.is_empty());

    let (code, out) = reconcile(
        &config,
        &[
            "--shop",
            "other.myshopify.com",
            "--since",
            "2026-11-23T10:00:00Z",
        ],
    )
    .await;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("configured shops are"), "{out}");
    app.stop().await;
    sandbox.shutdown().await;
}

fn example_rules() -> std::sync::Arc<rules::Rules> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/example.toml"),
    )
    .expect("example config");
    let config = orderflow::config::Config::from_toml(
        &text,
        Path::new("example.toml"),
        &orderflow::config::Env::default(),
    )
    .expect("example config is valid");
    config.shops[0].rules.clone()
}

#[tokio::test]
async fn an_order_changed_without_a_webhook_reaches_the_rules_state_after_reconcile() {
    let shop = Shop::start("reconcilee2e").await;
    let rules = example_rules();
    let planned = |order: &orderflow::shopify::OrderSnapshot| {
        rules::plan(&order.to_rules_order(), &rules, start_instant())
            .changes()
            .count()
    };
    let want = planned(&Shop::fixture("digital"));
    assert!(want > 0, "the digital order needs work");
    let gid = Shop::fixture("digital").id;
    assert!(
        shop.sandbox
            .touch_order(&shop.shop, &gid, at("2026-11-23T08:55:00Z"))
    );
    assert!(
        shop.mutations_of("digital").is_empty(),
        "no webhook, nothing done"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let config = config_file(dir.path(), &shop.app.prefix, &shop.sandbox);
    let (code, out) = reconcile(
        &config,
        &[
            "--shop",
            SHOP,
            "--since",
            "2026-11-23T08:50:00Z",
            "--until",
            "2026-11-23T09:00:00Z",
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("found 1 order(s)") && out.contains("woke 1"),
        "{out}"
    );
    shop.wait_mutations("digital", want).await;
    shop.wait_settled(1).await;
    eventually(
        Duration::from_secs(20),
        "the digital order as the rules want it",
        || async { (planned(&shop.snapshot("digital").await) == 0).then_some(()) },
    )
    .await;
    assert_eq!(
        shop.mutations_of("digital").len(),
        want,
        "each planned mutation once"
    );
    for other in ["mixed", "handmade", "high-risk"] {
        assert!(
            shop.mutations_of(other).is_empty(),
            "{other} was outside the window"
        );
    }
    shop.stop().await;
}
