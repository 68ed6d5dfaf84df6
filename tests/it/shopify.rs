//! The Shopify client against the sandbox shop, in-process on 127.0.0.1:0.

use std::path::PathBuf;
use std::time::Duration;

use orderflow::config::{ShopConfig, ShopifyConfig};
use orderflow::id::{OrderId, ShopDomain};
use orderflow::sandbox::{Sandbox, SandboxConfig};
use orderflow::shopify::snapshot::SellingPlanCategory;
use orderflow::shopify::{Client, RetryPolicy, ShopifyError};
use secrecy::SecretString;

pub const SHOP: &str = "acme.myshopify.com";
/// A sentinel: it must never show up in logs, errors or Debug output.
pub const TOKEN: &str = "shpat_SENTINEL_7f3a9c0d11e4";

pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/orders")
}

pub fn shop() -> ShopDomain {
    ShopDomain::parse(SHOP).expect("valid domain")
}

pub fn order_gid(n: u64) -> String {
    format!("gid://shopify/Order/{}", 820_982_911_946_154_508 + n)
}

pub fn order_id(n: u64) -> OrderId {
    OrderId(820_982_911_946_154_508 + n)
}

pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        request_timeout: Duration::from_secs(5),
        ..RetryPolicy::default()
    }
}

pub struct Harness {
    pub sandbox: Sandbox,
    pub client: Client,
    pub shop: ShopDomain,
}

pub fn shop_config(domain: &str, url: &str, token: &str) -> ShopConfig {
    ShopConfig {
        domain: ShopDomain::parse(domain).expect("valid domain"),
        access_token: SecretString::from(token.to_owned()),
        timezone: jiff::tz::TimeZone::UTC,
        timezone_name: "UTC".to_owned(),
        admin_api_url: Some(url.to_owned()),
        dry_run: false,
        rules: Default::default(),
    }
}

pub fn shopify_config() -> ShopifyConfig {
    ShopifyConfig {
        api_version: "2026-10".to_owned(),
        client_secrets: vec![SecretString::from("not-used".to_owned())],
    }
}

pub async fn harness_with(config: SandboxConfig, retry: RetryPolicy) -> Harness {
    let sandbox = Sandbox::start(config).await.expect("sandbox starts");
    sandbox
        .load_fixtures(&fixtures_dir(), &SecretString::from(TOKEN.to_owned()))
        .expect("fixtures load");
    let shops = [shop_config(SHOP, &sandbox.base_url(), TOKEN)];
    let client = Client::with_retry(&shopify_config(), &shops, retry).expect("client builds");
    Harness {
        sandbox,
        client,
        shop: shop(),
    }
}

pub async fn harness() -> Harness {
    harness_with(SandboxConfig::default(), fast_retries()).await
}

#[tokio::test]
async fn every_fixture_order_reads_back_as_the_sandbox_holds_it() {
    let h = harness().await;
    let fixtures = orderflow::sandbox::load_dir(&fixtures_dir()).expect("fixtures");
    assert!(fixtures.len() >= 10, "at least the ten required fixtures");
    for fixture in fixtures {
        let id = fixture.order.order_id().expect("order gid");
        let got = h
            .client
            .fetch_snapshot(&h.shop, id)
            .await
            .expect("snapshot");
        let held = h
            .sandbox
            .order(&h.shop, &fixture.order.id)
            .expect("in sandbox");
        assert_eq!(got, held, "{}", fixture.order.name);
    }
}

#[tokio::test]
async fn an_order_with_300_lines_is_read_completely_in_pages_under_the_cost_cap() {
    let h = harness().await;
    let snapshot = h
        .client
        .fetch_snapshot(&h.shop, order_id(10))
        .await
        .expect("snapshot");
    assert_eq!(snapshot.line_items.len(), 300);
    assert_eq!(snapshot.fulfillment_orders.len(), 1);
    assert_eq!(snapshot.fulfillment_orders[0].line_items.len(), 300);
    let unique: std::collections::BTreeSet<_> = snapshot.line_items.iter().map(|l| &l.id).collect();
    assert_eq!(unique.len(), 300, "no line twice");
    // 1 snapshot (50 lines) + 2 line pages (200 + 50) + 1 fulfilment order line page (250).
    assert_eq!(h.sandbox.request_count(), 4);
}

#[tokio::test]
async fn fulfillment_orders_past_the_first_page_are_followed() {
    let h = harness().await;
    let snapshot = h
        .client
        .fetch_snapshot(&h.shop, order_id(11))
        .await
        .expect("snapshot");
    assert_eq!(snapshot.fulfillment_orders.len(), 7);
    assert_eq!(h.sandbox.request_count(), 2);
}

#[tokio::test]
async fn a_pre_order_line_gets_its_selling_plan_category_from_a_second_query() {
    let h = harness().await;
    let snapshot = h
        .client
        .fetch_snapshot(&h.shop, order_id(6))
        .await
        .expect("snapshot");
    let plan = snapshot.line_items[0]
        .selling_plan
        .as_ref()
        .expect("selling plan");
    assert_eq!(plan.category, Some(SellingPlanCategory::PreOrder));
    assert_eq!(h.sandbox.request_count(), 2);
    let digital = h
        .client
        .fetch_snapshot(&h.shop, order_id(1))
        .await
        .expect("snapshot");
    assert!(digital.line_items[0].selling_plan.is_none());
    assert_eq!(
        h.sandbox.request_count(),
        3,
        "no look-up without a selling plan"
    );
}

#[tokio::test]
async fn an_unknown_order_is_not_found_and_not_transient() {
    let h = harness().await;
    let err = h
        .client
        .fetch_snapshot(&h.shop, OrderId(1))
        .await
        .expect_err("no such order");
    assert!(matches!(err, ShopifyError::NotFound { .. }), "{err:?}");
    assert!(!err.is_transient());
}

#[tokio::test]
async fn a_fulfillment_order_resolves_to_its_order() {
    let h = harness().await;
    let order = h.sandbox.order(&h.shop, &order_gid(2)).expect("order");
    let fo = &order.fulfillment_orders[0].id;
    assert_eq!(
        h.client
            .fulfillment_order_order(&h.shop, fo)
            .await
            .expect("order"),
        order_id(2)
    );
    let err = h
        .client
        .fulfillment_order_order(&h.shop, "gid://shopify/FulfillmentOrder/1")
        .await
        .expect_err("unknown");
    assert!(matches!(err, ShopifyError::NotFound { .. }), "{err:?}");
}

mod mutations;
mod resilience;
