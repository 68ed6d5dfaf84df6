//! `orderflow webhooks toml`: the `[access_scopes]` and `[webhooks]` blocks of the app's
//! `shopify.app.toml`, rendered from the receiver's topic list (`event::subject`) and the config;
//! `orderflow webhooks check`: a configured shop's shop-specific subscriptions
//! (`webhookSubscriptions`) compared with that list.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use crate::auth::Tokens;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::event::subject::{COMPLIANCE_TOPICS, SUBSCRIBED_TOPICS};
use crate::shopify::documents::WEBHOOK_SUBSCRIPTIONS_PAGE;
use crate::shopify::{Client, RetryPolicy};

/// `orderflow webhooks toml --config FILE`: prints the blocks, or the problem and exit 1.
pub(super) fn toml(config: &Path) -> i32 {
    let Some(config) = super::load_config_or_report(config) else {
        return 1;
    };
    match render(&config) {
        Ok(text) => {
            print!("{text}");
            0
        }
        Err(e) => {
            eprintln!("{e}");
            1
        }
    }
}

/// The blocks for `shopify.app.toml`: the scopes orderflow asks for, the API version of every
/// payload, one subscription with every topic the receiver routes and one with the compliance
/// topics, both to `{app_url}/webhooks`. Errs, naming the key, without `shopify.app_url`.
fn render(config: &Config) -> Result<String, String> {
    let app_url = config.auth.app_url.as_deref().ok_or(
        "shopify.app_url: missing: the subscriptions point at {app_url}/webhooks; write \
         app_url = \"https://orderflow.example.com\" under [shopify]",
    )?;
    let uri = quoted(&format!("{app_url}/webhooks"));
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# For shopify.app.toml (printed by `orderflow webhooks toml`); deploy with `shopify app deploy`.\n"
    );
    let _ = writeln!(out, "[access_scopes]");
    let _ = writeln!(out, "scopes = {}\n", quoted(&config.auth.scopes.join(",")));
    let _ = writeln!(out, "[webhooks]");
    let _ = writeln!(
        out,
        "api_version = {}\n",
        quoted(&config.shopify.api_version)
    );
    for (key, topics) in [
        ("topics", SUBSCRIBED_TOPICS),
        ("compliance_topics", COMPLIANCE_TOPICS),
    ] {
        let _ = writeln!(out, "[[webhooks.subscriptions]]");
        let _ = writeln!(out, "{key} = [");
        for topic in topics {
            let _ = writeln!(out, "  {},", quoted(topic));
        }
        let _ = writeln!(out, "]");
        let _ = writeln!(out, "uri = {uri}\n");
    }
    Ok(out.trim_end().to_owned() + "\n")
}

/// A TOML basic string, escaped by the `toml` crate.
fn quoted(s: &str) -> String {
    toml::Value::String(s.to_owned()).to_string()
}

/// `{app_url}/webhooks`, or the error naming the missing key.
fn webhooks_uri(config: &Config) -> Result<String, String> {
    let app_url = config.auth.app_url.as_deref().ok_or(
        "shopify.app_url: missing: the subscriptions point at {app_url}/webhooks; write \
         app_url = \"https://orderflow.example.com\" under [shopify]",
    )?;
    Ok(format!("{app_url}/webhooks"))
}

/// `ORDERS_CREATE` for `orders/create`: the `WebhookSubscriptionTopic` value of a topic.
fn enum_value(topic: &str) -> String {
    topic.to_ascii_uppercase().replace('/', "_")
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    webhook_subscriptions: Connection,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    page_info: PageInfo,
    nodes: Vec<Subscription>,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageInfo {
    has_next_page: bool,
    end_cursor: Option<String>,
}

#[derive(serde::Deserialize)]
struct Subscription {
    topic: String,
    uri: String,
}

/// `orderflow webhooks check --config FILE --shop S`: one line per topic orderflow routes (the
/// compliance topics cannot be subscribed through the API): `ok`, `missing`, or `elsewhere`
/// with the URIs it goes to. Exit 1 if any topic is not `ok`.
pub(super) async fn check(config: &Path, shop: &str) -> anyhow::Result<i32> {
    let Some(config) = super::load_config_or_report(config) else {
        return Ok(1);
    };
    let expected = match webhooks_uri(&config) {
        Ok(uri) => uri,
        Err(e) => {
            eprintln!("{e}");
            return Ok(1);
        }
    };
    let store = crate::app::open_store(&config)
        .await
        .map(|s| s.token_store());
    let tokens = Tokens::new(&config, Arc::new(SystemClock), store)?;
    let client = Client::with_tokens(
        &config.shopify,
        &config.shops,
        RetryPolicy::default(),
        tokens,
    )?;
    let domain = client.configured_shop(shop)?;
    let mut uris: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let page: Page = client
            .execute(
                &domain,
                &WEBHOOK_SUBSCRIPTIONS_PAGE,
                serde_json::json!({ "after": after }),
            )
            .await?;
        let c = page.webhook_subscriptions;
        for s in c.nodes {
            uris.entry(s.topic).or_default().push(s.uri);
        }
        match (c.page_info.has_next_page, c.page_info.end_cursor) {
            (true, Some(cursor)) => after = Some(cursor),
            _ => break,
        }
    }
    let mut bad = 0;
    for topic in SUBSCRIBED_TOPICS {
        let found = uris
            .get(&enum_value(topic))
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let state = if found.contains(&expected) {
            "ok".to_owned()
        } else if found.is_empty() {
            bad += 1;
            "missing".to_owned()
        } else {
            bad += 1;
            format!("elsewhere: {}", found.join(", "))
        };
        println!("{topic:<36} {state}");
    }
    if bad > 0 {
        eprintln!(
            "{bad} topic(s) of {domain} not subscribed to {expected}; webhookSubscriptions lists \
             only shop-specific subscriptions, not those declared in shopify.app.toml"
        );
        return Ok(1);
    }
    Ok(0)
}
