//! From the loosely typed [`RawConfig`] to [`Config`]: every value given its meaning and its
//! default, every problem collected with the key it is about, so one run reports them all.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

use super::auth::{self, AuthMode};
use super::raw::{RawConfig, RawShop, RawWorker};
use super::rules::{self, RulesLayer};
use super::{
    Config, ConfigIssue, ServerConfig, ShopConfig, ShopifyConfig, WebhooksConfig, WorkerConfig,
    defaults,
};
use crate::id::ShopDomain;
use crate::rules::Rules;

impl TryFrom<RawConfig> for Config {
    type Error = Vec<ConfigIssue>;

    /// Gives every value its meaning and reports every problem at once.
    fn try_from(raw: RawConfig) -> Result<Self, Self::Error> {
        let mut issues = Vec::new();
        // Shops' `rules` files are relative to the config file.
        let base_dir = raw.base_dir.as_path();

        let listen_text = raw.server.listen.as_deref().unwrap_or(defaults::LISTEN);
        let listen = listen_text.parse::<SocketAddr>().unwrap_or_else(|_| {
                issues.push(ConfigIssue::new(
                    "server.listen",
                    format!("`{listen_text}` is not an address: write host:port, e.g. \"0.0.0.0:8080\" or \"127.0.0.1:0\""),
                ));
                SocketAddr::from(([0, 0, 0, 0], 8080))
            });
        let max_body_bytes = raw
            .server
            .max_body_bytes
            .unwrap_or(defaults::MAX_BODY_BYTES);
        if max_body_bytes < 64 * 1024 {
            issues.push(ConfigIssue::new(
                    "server.max_body_bytes",
                    format!("{max_body_bytes} is too small: Shopify bodies pass 1 MB; use at least 65536 (default 5242880)"),
                ));
        }

        let limits = super::server::limits(&raw.server, &mut issues);

        let amqp = super::amqp::validate(raw.amqp, &mut issues);

        let mut auth = auth::validate_app(&raw.shopify, &mut issues);
        let api_version = raw
            .shopify
            .api_version
            .unwrap_or_else(|| defaults::API_VERSION.to_owned());
        if !is_api_version(&api_version) {
            issues.push(ConfigIssue::new(
                "shopify.api_version",
                format!("`{api_version}` is not an API version: write YYYY-MM, e.g. \"2026-10\""),
            ));
        }
        // Empty entries are skipped so `${SHOPIFY_CLIENT_SECRET_OLD:-}` can be left unset between
        // rotations.
        let client_secrets: Vec<SecretString> = raw
            .shopify
            .client_secrets
            .into_iter()
            .filter(|s| !s.is_empty())
            .map(SecretString::from)
            .collect();
        if client_secrets.is_empty() {
            issues.push(ConfigIssue::new(
                    "shopify.client_secrets",
                    "no client secret: list the app's client secret, e.g. client_secrets = [\"${SHOPIFY_CLIENT_SECRET}\"]",
                ));
        }

        // An oauth app learns its shops from installs (the token store): it may start with none.
        if raw.shops.is_empty() && auth.mode != AuthMode::OAuth {
            issues.push(ConfigIssue::new(
                    "shops",
                    "no shop configured: add a [[shops]] table with domain and access_token; webhooks from unconfigured shops are dead-lettered",
                ));
        }
        let global_rules = RulesLayer {
            key_prefix: String::new(),
            fulfilment: raw.fulfilment.as_ref(),
            processing: raw.processing.as_ref(),
            fraud: raw.fraud.as_ref(),
            archive: raw.archive.as_ref(),
            payment: raw.payment.as_ref(),
        };
        let mut shops = Vec::new();
        for (i, mut raw_shop) in raw.shops.into_iter().enumerate() {
            let mode = auth::shop_mode(i, raw_shop.auth.as_deref(), auth.mode, &mut issues);
            // A shop's own override wins over the app-wide admin URL.
            if raw_shop.admin_api_url.is_none() {
                raw_shop.admin_api_url = auth.admin_url.clone();
            }
            let shop = mode.and_then(|mode| {
                let shop = validate_shop(i, raw_shop, mode, &global_rules, base_dir, &mut issues)?;
                auth.shops.insert(shop.domain.clone(), mode);
                Some(shop)
            });
            if let Some(shop) = shop {
                if shops.iter().any(|s: &ShopConfig| s.domain == shop.domain) {
                    issues.push(ConfigIssue::new(
                        format!("shops[{i}].domain"),
                        format!(
                            "`{}` is configured twice: keep one [[shops]] entry per shop",
                            shop.domain
                        ),
                    ));
                }
                shops.push(shop);
            }
        }

        // Shops the config does not list (installed through oauth) get these; every listed shop
        // resolves the same layer, so its issues are told there too (and deduplicated below).
        let global = rules::resolve(std::slice::from_ref(&global_rules), jiff::tz::TimeZone::UTC)
            .map_err(|found| issues.extend(found))
            .ok();

        auth::check_needs(
            &auth,
            !client_secrets.is_empty(),
            raw.store.is_some(),
            &mut issues,
        );
        let worker = validate_worker(&raw.worker, &mut issues);
        let sweep = super::sweep::validate(&raw.sweep, &mut issues);
        let store = super::store::validate(raw.store, &mut issues);
        let admin = super::admin::validate(raw.admin, &mut issues);

        if !issues.is_empty() {
            // A global rules problem is found once per shop; say it once.
            let mut seen = Vec::new();
            issues.retain(|i| {
                let new = !seen.contains(i);
                if new {
                    seen.push(i.clone());
                }
                new
            });
            return Err(issues);
        }
        Ok(Config {
            server: ServerConfig {
                listen,
                max_body_bytes: max_body_bytes as usize,
                shutdown_grace: Duration::from_millis(
                    raw.server
                        .shutdown_grace_ms
                        .unwrap_or(defaults::SHUTDOWN_GRACE_MS),
                ),
                limits,
            },
            amqp,
            shopify: ShopifyConfig {
                api_version,
                client_secrets,
            },
            shops,
            global_rules: Arc::new(global.unwrap_or_default()),
            worker,
            webhooks: WebhooksConfig {
                check: raw.webhooks.check.unwrap_or(true),
            },
            sweep,
            store,
            admin,
            auth,
            source: None,
        })
    }
}

fn validate_worker(raw: &RawWorker, issues: &mut Vec<ConfigIssue>) -> WorkerConfig {
    let max_attempts = raw.max_attempts.unwrap_or(defaults::MAX_ATTEMPTS.into());
    if !(1..=100).contains(&max_attempts) {
        issues.push(ConfigIssue::new(
            "worker.max_attempts",
            format!("{max_attempts} is out of range: use 1 to 100 (default 8)"),
        ));
    }
    let hop = raw.max_delay_hop_ms.unwrap_or(defaults::MAX_DELAY_HOP_MS);
    if hop < 1000 {
        issues.push(ConfigIssue::new(
            "worker.max_delay_hop_ms",
            format!(
                "{hop} is too short: use at least 1000, the shortest delay tier (default 21600000)"
            ),
        ));
    }
    WorkerConfig {
        max_attempts: max_attempts.clamp(1, 100) as u32,
        max_delay_hop: Duration::from_millis(hop.max(1000)),
    }
}

fn validate_shop(
    i: usize,
    raw: RawShop,
    mode: AuthMode,
    global_rules: &RulesLayer<'_>,
    base_dir: &Path,
    issues: &mut Vec<ConfigIssue>,
) -> Option<ShopConfig> {
    let key = |k: &str| format!("shops[{i}].{k}");
    let before = issues.len();
    let domain = match raw.domain.as_deref().map(ShopDomain::parse) {
        Some(Ok(d)) => Some(d),
        Some(Err(e)) => {
            issues.push(ConfigIssue::new(key("domain"), e.to_string()));
            None
        }
        None => {
            issues.push(ConfigIssue::new(
                key("domain"),
                "missing: write domain = \"<shop>.myshopify.com\"",
            ));
            None
        }
    };
    let access_token = match raw.access_token {
        Some(t) if !t.is_empty() => Some(SecretString::from(t)),
        // The other modes get their tokens elsewhere; a configured one is kept (it is what
        // `tokens migrate` swaps for an expiring pair).
        _ if mode != AuthMode::Static => Some(SecretString::from(String::new())),
        _ => {
            issues.push(ConfigIssue::new(
                key("access_token"),
                "missing or empty: write access_token = \"${SHOP_TOKEN}\" and set the variable, or let orderflow get the shop's tokens with auth = \"client_credentials\" or \"oauth\"",
            ));
            None
        }
    };
    let timezone_name = raw
        .timezone
        .unwrap_or_else(|| defaults::TIMEZONE.to_owned());
    let timezone = match jiff::tz::TimeZone::get(&timezone_name) {
        Ok(tz) => Some(tz),
        Err(_) => {
            issues.push(ConfigIssue::new(
                key("timezone"),
                format!("`{timezone_name}` is not an IANA time zone: write e.g. \"Europe/Amsterdam\", \"America/New_York\" or \"UTC\""),
            ));
            None
        }
    };
    if let Some(url) = &raw.admin_api_url
        && !(url.starts_with("http://") || url.starts_with("https://"))
    {
        issues.push(ConfigIssue::new(
            key("admin_api_url"),
            format!("`{url}` is not an http(s) URL: write e.g. \"http://127.0.0.1:9900\" (sandbox and tests only)"),
        ));
    }
    // Rules are checked even when the shop has other problems, so every issue shows at once.
    let inline_rules = RulesLayer {
        key_prefix: format!("shops[{i}]."),
        fulfilment: raw.fulfilment.as_ref(),
        processing: raw.processing.as_ref(),
        fraud: raw.fraud.as_ref(),
        archive: raw.archive.as_ref(),
        payment: raw.payment.as_ref(),
    };
    let rules = resolve_rules(
        i,
        raw.rules.as_deref(),
        inline_rules,
        global_rules,
        base_dir,
        timezone.clone(),
        issues,
    );
    if issues.len() != before {
        return None;
    }
    let shop = ShopConfig {
        domain: domain?,
        access_token: access_token?,
        timezone: timezone?,
        timezone_name,
        admin_api_url: raw
            .admin_api_url
            .map(|u| u.trim_end_matches('/').to_owned()),
        dry_run: raw.dry_run,
        rules: Arc::new(rules?),
    };
    Some(shop)
}

/// The shop's rules: global sections, then the shop's inline sections or its rules file.
fn resolve_rules(
    i: usize,
    rules_file: Option<&str>,
    inline: RulesLayer<'_>,
    global: &RulesLayer<'_>,
    base_dir: &Path,
    timezone: Option<jiff::tz::TimeZone>,
    issues: &mut Vec<ConfigIssue>,
) -> Option<Rules> {
    let has_inline = inline.fulfilment.is_some()
        || inline.processing.is_some()
        || inline.fraud.is_some()
        || inline.archive.is_some()
        || inline.payment.is_some();
    let file = match rules_file {
        Some(path) if has_inline => {
            issues.push(ConfigIssue::new(
                format!("shops[{i}].rules"),
                format!("`{path}` given while the shop also has inline rules sections: write the rules either in the file or under [[shops]], not both"),
            ));
            return None;
        }
        Some(path) => Some(
            rules::file::load(i, path, base_dir)
                .map_err(|e| issues.push(e))
                .ok()?,
        ),
        None => None,
    };
    let shop_layer = match &file {
        Some(f) => f.layer(),
        None => inline,
    };
    let zone = timezone.unwrap_or(jiff::tz::TimeZone::UTC);
    rules::resolve(&[global.clone(), shop_layer], zone)
        .map_err(|found| issues.extend(found))
        .ok()
}

fn is_api_version(v: &str) -> bool {
    let b = v.as_bytes();
    v == "unstable"
        || (b.len() == 7
            && b[4] == b'-'
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[5..].iter().all(u8::is_ascii_digit))
}
