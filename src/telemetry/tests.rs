//! The registry's text, line by line: what dashboards and alerts read.
use super::*;

#[test]
fn counts_webhooks_by_topic_and_outcome() {
    let m = Metrics::new();
    m.webhook("orders/create", "published");
    m.webhook("orders/create", "published");
    m.webhook("<script>", "unauthorized");
    let text = m.encode();
    assert!(
        text.contains(r#"orderflow_webhooks_total{topic="orders/create",outcome="published"} 2"#),
        "{text}"
    );
    assert!(text.contains(r#"topic="other",outcome="unauthorized"} 1"#));
}

#[test]
fn exports_the_subscription_and_last_received_gauges_per_shop() {
    let m = Metrics::new();
    m.subscriptions_missing("acme.myshopify.com", 2);
    m.webhook_received("acme.myshopify.com", 1_795_000_000);
    m.webhook_received("acme.myshopify.com", 1_795_000_060);
    let text = m.encode();
    for line in [
        r#"orderflow_webhook_subscriptions_missing{shop="acme.myshopify.com"} 2"#,
        r#"orderflow_webhook_last_received_timestamp_seconds{shop="acme.myshopify.com"} 1795000060"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
}

#[test]
fn exports_build_info_dead_letters_and_holds() {
    let m = Metrics::new();
    m.dead_lettered("unknown_shop");
    m.holds
        .record("acme.myshopify.com", 7, &["fraud"], 1_795_000_000);
    let text = m.encode();
    let version = env!("CARGO_PKG_VERSION");
    for line in [
        format!(r#"orderflow_build_info{{version="{version}"}} 1"#),
        r#"orderflow_dead_letters_total{reason="unknown_shop"} 1"#.to_owned(),
        r#"orderflow_holds_outstanding{shop="acme.myshopify.com",reason="fraud"} 1"#
            .to_owned(),
        r#"orderflow_holds_oldest_timestamp_seconds{shop="acme.myshopify.com",reason="fraud"} 1795000000"#
            .to_owned(),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
}

#[test]
fn copies_a_shops_totals_as_counter_increments() {
    let m = Metrics::new();
    let errors = [("unauthorized", 2u64)];
    let mut sample = ShopSample {
        shop: "acme.myshopify.com",
        points_spent: 40,
        throttle_wait_ms: 1500,
        errors: &errors,
        last_success_unix: Some(1_795_000_000),
        available: Some(960.0),
        maximum: Some(1000.0),
        ..ShopSample::default()
    };
    m.shopify_shops.copy(&sample);
    sample.points_spent = 55;
    m.shopify_shops.copy(&sample);
    let text = m.encode();
    for line in [
        r#"orderflow_shopify_shop_points_spent_total{shop="acme.myshopify.com"} 55"#,
        r#"orderflow_shopify_shop_throttle_wait_seconds_total{shop="acme.myshopify.com"} 1.5"#,
        r#"orderflow_shopify_shop_errors_total{shop="acme.myshopify.com",class="unauthorized"} 2"#,
        r#"orderflow_shopify_last_success_timestamp_seconds{shop="acme.myshopify.com"} 1795000000"#,
        r#"orderflow_shopify_points_available{shop="acme.myshopify.com"} 960.0"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in {text}");
    }
}
