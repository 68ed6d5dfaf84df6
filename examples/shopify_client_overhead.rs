//! Measures the Shopify client's overhead per request against the in-process sandbox shop,
//! with a raw reqwest POST of the same document to the same sandbox as the reference, and
//! prints the requested cost of `OrderSnapshot` reads. Numbers go to BENCHMARKS.md.
//!
//! `cargo run --example shopify_client_overhead [-- N]`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use orderflow::config::{ShopConfig, ShopifyConfig};
use orderflow::id::{OrderId, ShopDomain};
use orderflow::sandbox::{BucketConfig, Sandbox, SandboxConfig};
use orderflow::shopify::{Client, cost, documents, schema};
use secrecy::SecretString;

const SHOP: &str = "acme.myshopify.com";
const TOKEN: &str = "shpat_bench";
const DIGITAL: u64 = 820_982_911_946_154_509;
const LARGE: u64 = 820_982_911_946_154_518;

fn requested(doc: &documents::Document, variables: serde_json::Value) -> anyhow::Result<u64> {
    let valid = schema::validate(doc.text(), doc.file())?;
    let op = valid
        .operations
        .get(None)
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let vars = serde_json::from_value(variables)?;
    Ok(cost::requested(schema::schema(), &valid, op, &vars)?)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let n: u32 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(500);
    // A bucket that never throttles: this measures the client, not the rate limit.
    let bucket = BucketConfig {
        maximum_available: 1e12,
        restore_rate: 1e12,
    };
    let sandbox = Sandbox::start(SandboxConfig {
        bucket,
        ..SandboxConfig::default()
    })
    .await?;
    let fixtures = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/orders");
    sandbox.load_fixtures(&fixtures, &SecretString::from(TOKEN.to_owned()))?;
    let shop = ShopDomain::parse(SHOP)?;
    let shops = [ShopConfig {
        domain: shop.clone(),
        access_token: SecretString::from(TOKEN.to_owned()),
        timezone: jiff::tz::TimeZone::UTC,
        timezone_name: "UTC".to_owned(),
        admin_api_url: Some(sandbox.base_url()),
        dry_run: false,
        rules: Default::default(),
    }];
    let config = ShopifyConfig {
        api_version: "2026-10".to_owned(),
        client_secrets: Vec::new(),
    };
    let client = Client::new(&config, &shops)?;

    let id = serde_json::json!({"id": OrderId(DIGITAL).gid()});
    println!("requested cost (Shopify's calculation, as the sandbox charges it):");
    println!(
        "  OrderSnapshot (any order: 50 lines, 5 x 50 FO lines): {}",
        requested(&documents::ORDER_SNAPSHOT, id.clone())?
    );
    let page = serde_json::json!({"id": OrderId(LARGE).gid(), "after": "c"});
    println!(
        "  OrderLineItemsPage (200 lines): {}",
        requested(&documents::ORDER_LINE_ITEMS_PAGE, page.clone())?
    );
    println!(
        "  FulfillmentOrderLineItemsPage (250 lines): {}",
        requested(&documents::FULFILLMENT_ORDER_LINE_ITEMS_PAGE, page)?
    );
    for (label, order) in [("typical (1 line, digital)", DIGITAL), ("300 lines", LARGE)] {
        let before = (sandbox.request_count(), sandbox.actual_cost_total());
        client.fetch_snapshot(&shop, OrderId(order)).await?;
        println!(
            "  fetch_snapshot {label}: {} request(s), actual cost {}",
            sandbox.request_count() - before.0,
            sandbox.actual_cost_total() - before.1
        );
    }

    let raw = reqwest::Client::new();
    let url = format!("{}/admin/api/2026-10/graphql.json", sandbox.base_url());
    let body = serde_json::json!({"query": documents::ORDER_SNAPSHOT.text(), "variables": id});
    let time = |label: &str, total: Duration| {
        let per = total / n;
        println!("  {label}: {:.1} µs/request", per.as_secs_f64() * 1e6);
        per
    };
    // Warm up both paths (connection pool, schema, caches).
    for _ in 0..20 {
        client.fetch_snapshot(&shop, OrderId(DIGITAL)).await?;
        raw.post(&url)
            .header("Host", SHOP)
            .header("X-Shopify-Access-Token", TOKEN)
            .json(&body)
            .send()
            .await?
            .json::<serde_json::Value>()
            .await?;
    }
    println!("{n} sequential OrderSnapshot reads of the digital order:");
    let started = Instant::now();
    for _ in 0..n {
        raw.post(&url)
            .header("Host", SHOP)
            .header("X-Shopify-Access-Token", TOKEN)
            .json(&body)
            .send()
            .await?
            .json::<serde_json::Value>()
            .await?;
    }
    let raw_per = time("raw reqwest POST + JSON parse", started.elapsed());
    let started = Instant::now();
    for _ in 0..n {
        client
            .execute_raw(&shop, &documents::ORDER_SNAPSHOT, id.clone())
            .await?;
    }
    let exec_per = time(
        "Client::execute_raw (throttle, cost estimate, classification)",
        started.elapsed(),
    );
    let started = Instant::now();
    for _ in 0..n {
        client.fetch_snapshot(&shop, OrderId(DIGITAL)).await?;
    }
    let snap_per = time(
        "Client::fetch_snapshot (+ typed OrderSnapshot)",
        started.elapsed(),
    );
    println!(
        "  ratio to raw: execute_raw {:.2}x, fetch_snapshot {:.2}x",
        exec_per.as_secs_f64() / raw_per.as_secs_f64(),
        snap_per.as_secs_f64() / raw_per.as_secs_f64()
    );
    sandbox.shutdown().await;
    Ok(())
}
