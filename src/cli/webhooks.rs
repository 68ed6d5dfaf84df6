//! `orderflow webhooks toml`: the `[access_scopes]` and `[webhooks]` blocks of the app's
//! `shopify.app.toml`, rendered from the receiver's topic list (`event::subject`) and the config;
//! `orderflow webhooks check` and `sync`: a shop's shop-specific subscriptions
//! (`webhookSubscriptions`) compared with that list (`shopify::subscriptions`), and the missing
//! ones created.

use std::fmt::Write as _;
use std::path::Path;

use crate::config::Config;
use crate::event::subject::{COMPLIANCE_TOPICS, SUBSCRIBED_TOPICS};
use crate::id::ShopDomain;
use crate::shopify::Client;
use crate::shopify::subscriptions::{self, Subscription, TopicState};

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
    Ok(subscriptions::webhooks_uri(app_url))
}

/// What `check` and `sync` start from: the expected URI, the client and the chosen shops; or
/// the exit code after the problem was printed.
async fn prepare(
    config: &Path,
    shop: &str,
) -> anyhow::Result<Result<(String, Client, Vec<ShopDomain>), i32>> {
    let Some(config) = super::load_config_or_report(config) else {
        return Ok(Err(1));
    };
    let expected = match webhooks_uri(&config) {
        Ok(uri) => uri,
        Err(e) => {
            eprintln!("{e}");
            return Ok(Err(1));
        }
    };
    let (client, known) = super::shop_arg::open(&config).await?;
    match super::shop_arg::resolve(&config, &known, shop) {
        Ok(shops) if shops.is_empty() => {
            eprintln!("no known shop: configure [[shops]], or install the app with a [store]");
            Ok(Err(1))
        }
        Ok(shops) => Ok(Ok((expected, client, shops))),
        Err(e) => {
            eprintln!("{e}");
            Ok(Err(1))
        }
    }
}

/// `shop ` before each line when several shops are printed, else nothing.
fn prefix(shop: &ShopDomain, several: bool) -> String {
    if several {
        format!("{shop} ")
    } else {
        String::new()
    }
}

fn describe(state: &TopicState) -> String {
    match state {
        TopicState::Ok => "ok".to_owned(),
        TopicState::Missing => "missing".to_owned(),
        TopicState::Elsewhere(uris) => format!("elsewhere: {}", uris.join(", ")),
    }
}

/// The shop's subscriptions, or `None` with the reason printed after the shop's prefix `p`.
async fn listed(client: &Client, domain: &ShopDomain, p: &str) -> Option<Vec<Subscription>> {
    match client.webhook_subscriptions(domain).await {
        Ok(subs) => Some(subs),
        Err(e) => {
            eprintln!("{p}cannot list the subscriptions: {e}");
            None
        }
    }
}

/// `orderflow webhooks check --config FILE --shop S|all`: per shop, one line per topic
/// orderflow routes (the compliance topics cannot be subscribed through the API): `ok`,
/// `missing`, or `elsewhere` with the URIs it goes to. Exit 1 if any topic of any shop is not
/// `ok`, or a shop's subscriptions cannot be read.
pub(super) async fn check(config: &Path, shop: &str) -> anyhow::Result<i32> {
    let (expected, client, shops) = match prepare(config, shop).await? {
        Ok(ready) => ready,
        Err(code) => return Ok(code),
    };
    let several = shops.len() > 1;
    let mut failed = false;
    for domain in &shops {
        let p = prefix(domain, several);
        let Some(subs) = listed(&client, domain, &p).await else {
            failed = true;
            continue;
        };
        let states = subscriptions::compare(&expected, SUBSCRIBED_TOPICS, &subs);
        let bad = states.iter().filter(|(_, s)| !s.is_ok()).count();
        for (topic, state) in &states {
            println!("{p}{topic:<36} {}", describe(state));
        }
        if bad > 0 {
            failed = true;
            eprintln!(
                "{p}{bad} topic(s) of {domain} not subscribed to {expected}; repair with \
                 `orderflow webhooks sync --shop {domain}`. webhookSubscriptions lists only \
                 shop-specific subscriptions, not those declared in shopify.app.toml"
            );
        }
    }
    Ok(i32::from(failed))
}

/// `orderflow webhooks sync --config FILE --shop S|all`: per shop, creates a subscription to
/// `{app_url}/webhooks` for each topic that lacks one (beside any to other URIs, which stay),
/// and deletes nothing, so a second run creates nothing. One line per topic (`ok`, `created`,
/// `failed`) and a summary per shop; exit 0 when every topic of every shop is ok afterwards.
pub(super) async fn sync(config: &Path, shop: &str) -> anyhow::Result<i32> {
    let (expected, client, shops) = match prepare(config, shop).await? {
        Ok(ready) => ready,
        Err(code) => return Ok(code),
    };
    let several = shops.len() > 1;
    let mut failed = false;
    for domain in &shops {
        let p = prefix(domain, several);
        let Some(subs) = listed(&client, domain, &p).await else {
            failed = true;
            continue;
        };
        let (mut ok, mut created, mut refused) = (0usize, 0usize, 0usize);
        for (topic, state) in subscriptions::compare(&expected, SUBSCRIBED_TOPICS, &subs) {
            if state.is_ok() {
                ok += 1;
                println!("{p}{topic:<36} ok");
                continue;
            }
            match client
                .create_webhook_subscription(domain, topic, &expected)
                .await
            {
                Ok(_) => {
                    created += 1;
                    match state {
                        TopicState::Elsewhere(uris) => println!(
                            "{p}{topic:<36} created (beside {}, left as is)",
                            uris.join(", ")
                        ),
                        _ => println!("{p}{topic:<36} created"),
                    }
                }
                Err(e) => {
                    refused += 1;
                    println!("{p}{topic:<36} failed: {e}");
                }
            }
        }
        if created == 0 && refused == 0 {
            println!("{domain}: nothing to create: all {ok} topic(s) subscribed to {expected}");
        } else {
            println!(
                "{domain}: created {created}, already ok {ok}, failed {refused}, to {expected}"
            );
        }
        failed |= refused > 0;
    }
    Ok(i32::from(failed))
}
