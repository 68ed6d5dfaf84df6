//! `orderflow reconcile` over 500 orders under a small cost bucket: every order is woken on its
//! own partition and the sandbox never answers THROTTLED, because the client waits for room
//! instead of being refused. Prints the points per order and orders per second it measured.

use std::time::Instant;

use jiff::Timestamp;
use orderflow::event::{PartitionKey, header, partition_of};
use orderflow::id::OrderId;
use orderflow::sandbox::{BucketConfig, Sandbox, SandboxConfig};
use orderflow::shopify::documents;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::harness::broker::drain;
use crate::harness::e2e::Shop;
use crate::harness::{self, TestApp};
use crate::shopify::SHOP;

const ORDERS: u64 = 500;
/// Points restored per second: Shopify's standard 100 would let two pages through at once.
const RESTORE: f64 = 50.0;

/// The requested cost of one `OrdersUpdatedPage`, as the sandbox computes it.
async fn page_cost(sandbox: &Sandbox) -> f64 {
    let doc = documents::ORDERS_UPDATED_PAGE;
    let answer: Value = reqwest::Client::new()
        .post(format!(
            "{}/admin/api/2026-10/graphql.json",
            sandbox.base_url()
        ))
        .header("Host", SHOP)
        .header("X-Shopify-Access-Token", harness::TOKEN)
        .json(&json!({"query": doc.text(), "variables": {"query": "updated_at:>='2026-01-01T00:00:00Z'"}}))
        .send()
        .await
        .expect("sandbox answers")
        .json()
        .await
        .expect("JSON");
    answer["extensions"]["cost"]["requestedQueryCost"]
        .as_f64()
        .expect("a requested cost")
}

#[tokio::test(flavor = "multi_thread")]
async fn reconciling_500_orders_stays_under_the_bucket_and_wakes_each_once() {
    let app = TestApp::spawn("reconcile500").await;
    let sandbox = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let shop = crate::shopify::shop();
    sandbox.add_shop(shop.clone(), SecretString::from(harness::TOKEN.to_owned()));
    let template = Shop::fixture("digital");
    let since: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
    for i in 0..ORDERS {
        let mut order = template.clone();
        order.id = format!("gid://shopify/Order/{}", 9_000_000 + i);
        order.name = format!("#R{i}");
        sandbox.insert_order(&shop, order.clone());
        let at = since + jiff::SignedDuration::from_secs(i as i64);
        assert!(sandbox.touch_order(&shop, &order.id, at));
    }
    // Room for one page and a little: the second page has to wait for the bucket to refill.
    let page = page_cost(&sandbox).await;
    sandbox.set_bucket(BucketConfig {
        maximum_available: page + 50.0,
        restore_rate: RESTORE,
    });
    let (requests, cost) = (sandbox.request_count(), sandbox.actual_cost_total());

    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("orderflow.toml");
    std::fs::write(
        &config,
        format!(
            "[amqp]\nurl = \"{url}\"\nprefix = \"{prefix}\"\npartitions = {partitions}\n\
             [shopify]\nclient_secrets = [\"x\"]\n\
             [[shops]]\ndomain = \"{SHOP}\"\naccess_token = \"{token}\"\n\
             admin_api_url = \"{admin}\"\ntimezone = \"UTC\"\n",
            url = harness::AMQP_URL,
            prefix = app.prefix,
            partitions = app.partitions,
            token = harness::TOKEN,
            admin = sandbox.base_url(),
        ),
    )
    .unwrap();
    let started = Instant::now();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_orderflow"))
        .env_remove("ORDERFLOW_CONFIG")
        .args(["reconcile", "--shop", SHOP, "--since", &since.to_string()])
        .arg("--config")
        .arg(&config)
        .output()
        .await
        .expect("orderflow runs");
    let took = started.elapsed();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("found 500 order(s)") && text.contains("woke 500"),
        "{text}"
    );

    let names = orderflow::queue::Names::new(&app.prefix);
    let mut woken = Vec::new();
    for p in 0..app.partitions {
        for got in drain(&names.partition_queue(p)).await {
            let id: u64 = got
                .header(header::ORDER_ID)
                .expect("order id")
                .parse()
                .unwrap();
            assert_eq!(
                p,
                partition_of(SHOP, PartitionKey::Order(OrderId(id)), app.partitions),
                "order {id} on its own partition"
            );
            woken.push(id);
        }
    }
    woken.sort_unstable();
    assert_eq!(
        woken,
        (0..ORDERS).map(|i| 9_000_000 + i).collect::<Vec<_>>(),
        "each order woken once"
    );

    assert_eq!(
        sandbox.throttled_count(),
        0,
        "the client waited for room instead of being refused"
    );
    let pages = sandbox.request_count() - requests;
    let points = sandbox.actual_cost_total() - cost;
    assert_eq!(pages, 2, "two pages of 250");
    assert!(
        took.as_secs_f64() >= (2.0 * page - (page + 50.0)) / RESTORE * 0.8,
        "the second page waited for the bucket: {took:?}"
    );
    eprintln!(
        "reconcile: {ORDERS} orders in {pages} pages, {points} points ({:.2} per order; \
         requested {page} per page), {:.2} s wall ({:.0} orders/s) with a {:.0}-point bucket \
         restoring {RESTORE}/s",
        points as f64 / ORDERS as f64,
        took.as_secs_f64(),
        ORDERS as f64 / took.as_secs_f64(),
        page + 50.0,
    );
    app.stop().await;
    sandbox.shutdown().await;
}
