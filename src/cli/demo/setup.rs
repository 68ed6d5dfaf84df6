//! What the demo is made of: the fixture orders with their webhook bodies, the config (the
//! example file's rules, pointed at the sandbox and the demo's own queues), the start instant,
//! and the clean-up of the queues afterwards.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};

use crate::config::{Config, Env};
use crate::queue::{Admin, Names};
use crate::sandbox::Fixture;

/// The shop of every fixture and of the example config.
pub const SHOP: &str = "acme.myshopify.com";
/// The example config's default client secret: what the curl lines sign with.
pub const SECRET: &str = "example-secret";
/// The access token the sandbox shop accepts from the demo's app.
pub const TOKEN: &str = "shpat_demo";

/// The merchant's rules the demo runs with: the example every README points to.
const EXAMPLE_CONFIG: &str = include_str!("../../../fixtures/config/example.toml");

/// One fixture order and the `orders/create` body Shopify would have sent for it.
pub struct DemoOrder {
    /// The fixture's file name without `.json`, e.g. `handmade`.
    pub name: String,
    pub fixture: Fixture,
    pub webhook: Vec<u8>,
}

/// `--fixtures`, else the source tree's `fixtures/orders` when it is there (`cargo run`, tests),
/// else `fixtures/orders` under the working directory (the container image).
pub fn fixtures_dir(chosen: Option<&Path>) -> PathBuf {
    if let Some(dir) = chosen {
        return dir.to_path_buf();
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/orders");
    if built.is_dir() {
        built
    } else {
        PathBuf::from("fixtures/orders")
    }
}

/// Every `<name>.json` of `dir` with its `<name>.webhook.json`, by name.
pub fn load_orders(dir: &Path) -> anyhow::Result<Vec<DemoOrder>> {
    let entries = std::fs::read_dir(dir).with_context(|| {
        format!(
            "cannot read the fixture orders in {} (pass --fixtures DIR)",
            dir.display()
        )
    })?;
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json") && !n.ends_with(".webhook.json"))
        .map(|n| n.trim_end_matches(".json").to_owned())
        .collect();
    names.sort();
    anyhow::ensure!(!names.is_empty(), "no order fixtures in {}", dir.display());
    names
        .into_iter()
        .map(|name| {
            let order = dir.join(format!("{name}.json"));
            let hook = dir.join(format!("{name}.webhook.json"));
            let text = std::fs::read_to_string(&order)
                .with_context(|| format!("cannot read {}", order.display()))?;
            let fixture = serde_json::from_str(&text)
                .with_context(|| format!("{} is not an order fixture", order.display()))?;
            let webhook =
                std::fs::read(&hook).with_context(|| format!("cannot read {}", hook.display()))?;
            Ok(DemoOrder {
                name,
                fixture,
                webhook,
            })
        })
        .collect()
}

/// Friday 20 Nov 2026, 16:00 in Amsterdam: the afternoon of the day every fixture was paid
/// (the last at 15:05), so ship-by dates are the same on every run.
pub fn start_instant() -> Timestamp {
    "2026-11-20T16:00:00+01:00[Europe/Amsterdam]"
        .parse::<jiff::Zoned>()
        .expect("a valid instant")
        .timestamp()
}

/// The example config with the demo's broker, queues, listen address and shop API, wake-ups
/// that look at the (manual) clock every second, payments captured at fulfilment and finished
/// orders archived at once.
pub fn config(
    amqp_url: &SecretString,
    listen: SocketAddr,
    admin: SocketAddr,
    prefix: &str,
    sandbox: &str,
) -> anyhow::Result<Config> {
    let listen = listen.to_string();
    let admin = admin.to_string();
    let env = Env::from_pairs([
        ("AMQP_URL", amqp_url.expose_secret()),
        ("ORDERFLOW_SERVER__LISTEN", listen.as_str()),
        ("ORDERFLOW_ADMIN__LISTEN", admin.as_str()),
        ("SHOPIFY_CLIENT_SECRET", SECRET),
        ("ACME_TOKEN", TOKEN),
        ("ORDERFLOW_AMQP__PREFIX", prefix),
        ("ORDERFLOW_SHOPS__0__ADMIN_API_URL", sandbox),
        ("ORDERFLOW_WORKER__MAX_DELAY_HOP_MS", "1000"),
        // Show a deferred payment captured at fulfilment and finished orders archived; the
        // example file keeps both off, as a merchant's first config should.
        ("ORDERFLOW_PAYMENT__CAPTURE", "on_fulfilment"),
        ("ORDERFLOW_ARCHIVE__WHEN_FULFILLED", "true"),
        ("ORDERFLOW_ARCHIVE__AFTER", "0h"),
        // Stop quickly: every message is handled within a second here.
        ("ORDERFLOW_SERVER__SHUTDOWN_GRACE_MS", "3000"),
    ]);
    Config::from_toml(
        EXAMPLE_CONFIG,
        Path::new("fixtures/config/example.toml"),
        &env,
    )
    .context("the demo's config is invalid")
}

/// The `orders/risk_assessment_changed` body Shopify sends when an order's risk turns low.
pub fn risk_changed_body(order_gid: &str, at: Timestamp) -> Vec<u8> {
    let id: u64 = order_gid
        .rsplit('/')
        .next()
        .and_then(|tail| tail.parse().ok())
        .unwrap_or_default();
    // Built as text so the 64-bit id stays a JSON integer, byte for byte.
    format!(
        r#"{{"provider_id":null,"provider_title":"Shopify","risk_level":"low","created_at":"{at}","order_id":{id},"admin_graphql_api_order_id":"{order_gid}"}}"#
    )
    .into_bytes()
}

/// Deletes the demo's exchanges and queues, over a connection of its own (the app's is closed
/// by then).
pub async fn delete_topology(
    amqp_url: &SecretString,
    names: &Names,
    partitions: u16,
) -> anyhow::Result<()> {
    let admin = Admin::connect(amqp_url)
        .await
        .context("cannot connect to RabbitMQ")?;
    admin.delete(names, partitions).await?;
    let _ = admin.close("demo done").await;
    Ok(())
}

/// What `--keep-running` prints: where everything is, and a `curl` line to send a webhook by
/// hand.
pub(super) fn print_how_to_send(addr: SocketAddr, admin: SocketAddr, sandbox_url: &str) {
    let host = if addr.ip().is_unspecified() {
        SocketAddr::from(([127, 0, 0, 1], addr.port()))
    } else {
        addr
    };
    println!("Still running (Ctrl-C stops it and deletes the demo's queues).");
    println!("  receiver:  http://{host}/webhooks   (metrics: http://{host}/metrics)");
    println!("  ops page:  http://{admin}/   (refreshes itself every 5 s)");
    println!("  secret:    {}   shop: {}", SECRET, SHOP);
    println!(
        "  shop:      {}/_sandbox/mutations, /_sandbox/shops/{}/orders (the sandbox's control API)",
        sandbox_url, SHOP
    );
    println!("  Send an order's webhook again (a new webhook id each time):");
    println!(
        "  body=fixtures/orders/mixed.webhook.json; curl -i http://{host}/webhooks -H 'X-Shopify-Topic: orders/updated' -H 'X-Shopify-Shop-Domain: {}' -H \"X-Shopify-Webhook-Id: $(date +%s%N)\" -H \"X-Shopify-Hmac-Sha256: $(orderflow sign --secret {} $body)\" --data-binary @$body",
        SHOP, SECRET
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_rules_build_a_config_for_the_demo() {
        let config = config(
            &SecretString::from("amqp://guest:guest@127.0.0.1:5672/%2f"),
            SocketAddr::from(([127, 0, 0, 1], 0)),
            SocketAddr::from(([127, 0, 0, 1], 0)),
            "orderflow-demo-1",
            "http://127.0.0.1:9",
        )
        .unwrap();
        assert_eq!(config.amqp.prefix, "orderflow-demo-1");
        assert!(config.admin.is_some(), "the demo serves the ops page");
        assert_eq!(config.worker.max_delay_hop.as_millis(), 1000);
        assert_eq!(
            config.shops[0].admin_api_url.as_deref(),
            Some("http://127.0.0.1:9")
        );
    }

    #[test]
    fn the_risk_body_keeps_every_bit_of_the_order_id() {
        let body = risk_changed_body(
            "gid://shopify/Order/820982911946154512",
            Timestamp::UNIX_EPOCH,
        );
        assert!(
            String::from_utf8(body)
                .unwrap()
                .contains(r#""order_id":820982911946154512,"#)
        );
    }
}
