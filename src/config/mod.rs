//! Configuration: one TOML file, `${VAR}` interpolation, `ORDERFLOW_SECTION__KEY` overrides,
//! validated once into [`Config`]. Every problem is reported at once, each naming the file, the
//! key and what would be valid. Secrets live in [`SecretString`]s from the moment they are read.
//!
//! Order of layering: file → overrides → interpolation → validation. Overrides go first so an
//! override may itself use `${VAR}`.

mod interpolate;
mod raw;
mod render;
pub mod rules;

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};

pub use interpolate::Env;
use raw::{RawConfig, RawShop};

use crate::id::ShopDomain;
use crate::rules::Rules;
use rules::RulesLayer;

/// Defaults, each with the reason it is what it is.
pub mod defaults {
    /// Listen on every interface: the receiver normally sits behind a load balancer.
    pub const LISTEN: &str = "0.0.0.0:8080";
    /// Shopify bodies can pass 1 MB (orders with hundreds of lines).
    pub const MAX_BODY_BYTES: u64 = 5 * 1024 * 1024;
    /// The local broker every developer machine runs.
    pub const AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
    pub const PREFIX: &str = "orderflow";
    pub const PARTITIONS: u16 = 8;
    /// Under Shopify's 5 s answer budget, with room for the HMAC check and the response.
    pub const CONFIRM_TIMEOUT_MS: u64 = 3000;
    /// A message redelivered this often is poison: dead-letter it instead of looping.
    pub const DELIVERY_LIMIT: u32 = 20;
    pub const API_VERSION: &str = "2026-10";
    pub const TIMEZONE: &str = "UTC";
    /// Time given to in-flight requests on shutdown.
    pub const SHUTDOWN_GRACE_MS: u64 = 10_000;
    /// With backoff 1 s, 5 s, 30 s, 2 min, then 10 min: about 35 minutes of retrying, enough
    /// for a Shopify incident or a deploy, short enough that ops see a stuck shop the same day.
    pub const MAX_ATTEMPTS: u32 = 8;
    /// The longest delay tier.
    pub const MAX_DELAY_HOP_MS: u64 = 6 * 3600 * 1000;
}

/// Shopify answers within 5 s or retries; a confirm budget at or above it is useless.
const MAX_CONFIRM_TIMEOUT_MS: u64 = 4500;

#[derive(Debug)]
pub struct Config {
    pub server: ServerConfig,
    pub amqp: AmqpConfig,
    pub shopify: ShopifyConfig,
    pub shops: Vec<ShopConfig>,
    pub worker: WorkerConfig,
}

#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Transient failures of one message before it is dead-lettered.
    pub max_attempts: u32,
    /// The longest single hop through the delay tiers. A delayed message comes back at least
    /// this often and re-checks its due time against the worker's clock; tests with a manual
    /// clock set it low.
    pub max_delay_hop: Duration,
}

#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    pub max_body_bytes: usize,
    pub shutdown_grace: Duration,
}

#[derive(Debug, Clone)]
pub struct AmqpConfig {
    /// May hold a password, so it is a secret; `redacted_url` is what logs show.
    pub url: SecretString,
    pub prefix: String,
    pub partitions: u16,
    pub confirm_timeout: Duration,
    pub delivery_limit: u32,
}

#[derive(Debug, Clone)]
pub struct ShopifyConfig {
    pub api_version: String,
    /// Every secret that may sign a webhook: the current one and, during a rotation, the old.
    pub client_secrets: Vec<SecretString>,
}

#[derive(Debug, Clone)]
pub struct ShopConfig {
    pub domain: ShopDomain,
    pub access_token: SecretString,
    pub timezone: jiff::tz::TimeZone,
    /// The IANA name the time zone was given as (for display).
    pub timezone_name: String,
    /// Overrides `https://{domain}`: the sandbox shop and tests only.
    pub admin_api_url: Option<String>,
    pub dry_run: bool,
    /// The shop's rules: the global `[fulfilment]`, `[processing]` and `[fraud]` with the
    /// shop's own sections (inline or from its `rules` file) merged over them key by key.
    pub rules: Arc<Rules>,
}

impl AmqpConfig {
    /// The URL with any password replaced, safe for logs and `check`.
    pub fn redacted_url(&self) -> String {
        redact_url(self.url.expose_secret())
    }
}

impl Config {
    pub fn shop(&self, domain: &ShopDomain) -> Option<&ShopConfig> {
        self.shops.iter().find(|s| &s.domain == domain)
    }

    /// Reads, layers and validates the file at `path`.
    pub fn load(path: &Path, env: &Env) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            file: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text, path, env)
    }

    /// Layers and validates a config text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &Path, env: &Env) -> Result<Self, ConfigError> {
        let invalid = |issues| ConfigError::Invalid {
            file: file.to_path_buf(),
            issues,
        };
        let mut tree: toml::Value = toml::from_str(text).map_err(|e| {
            invalid(vec![ConfigIssue::new(
                "(syntax)",
                e.to_string().trim().replace('\n', " "),
            )])
        })?;
        let mut issues = Vec::new();
        interpolate::apply_overrides(&mut tree, env, &mut issues);
        interpolate::interpolate(&mut tree, env, &mut issues);
        if !issues.is_empty() {
            return Err(invalid(issues));
        }
        let raw: RawConfig = serde_path_to_error(tree).map_err(|issue| invalid(vec![issue]))?;
        let base_dir = file.parent().unwrap_or(Path::new(""));
        validate(raw, base_dir).map_err(invalid)
    }

    /// The resolved configuration as TOML, every secret redacted: what `orderflow check` prints.
    pub fn redacted(&self) -> String {
        render::redacted(self)
    }
}

fn serde_path_to_error(tree: toml::Value) -> Result<RawConfig, ConfigIssue> {
    // toml's own error names the key (`unknown field `x`, expected one of ...`); re-serialising
    // lets it carry a position we can quote.
    let text = toml::to_string(&tree).expect("a parsed TOML tree serialises");
    toml::from_str::<RawConfig>(&text).map_err(|e| {
        let message = without_quoted_values(e.message());
        let key = e
            .span()
            .map(|span| key_at(&text, span.start))
            .unwrap_or_else(|| "(file)".to_owned());
        ConfigIssue::new(key, message)
    })
}

/// serde quotes the offending value (`invalid type: string "…", expected a sequence`); after
/// interpolation that value may be a secret, so every double-quoted part is dropped. Keys are
/// quoted with backticks and stay.
fn without_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut in_quotes = false;
    for c in message.chars() {
        match (c, in_quotes) {
            ('"', false) => {
                in_quotes = true;
                out.push('…');
            }
            ('"', true) => in_quotes = false,
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

/// The dotted key whose value or name starts at byte `pos` of a TOML text written by `toml`.
fn key_at(text: &str, pos: usize) -> String {
    let mut table = String::new();
    let mut shop_index: i64 = -1;
    let mut key = String::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim();
        if let Some(header) = trimmed
            .strip_prefix("[[")
            .and_then(|h| h.strip_suffix("]]"))
        {
            if header == "shops" {
                shop_index += 1;
            }
            table = if header == "shops" {
                format!("shops[{shop_index}]")
            } else {
                header.to_owned()
            };
            key.clear();
        } else if let Some(header) = trimmed.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            table = match header.strip_prefix("shops.") {
                Some(rest) => format!("shops[{shop_index}].{rest}"),
                None => header.to_owned(),
            };
            key.clear();
        } else if let Some((k, _)) = trimmed.split_once('=') {
            key = k.trim().trim_matches('"').to_owned();
        }
        if pos < offset + line.len() {
            break;
        }
        offset += line.len();
    }
    match (table.is_empty(), key.is_empty()) {
        (true, _) => key,
        (false, true) => table,
        (false, false) => format!("{table}.{key}"),
    }
}

/// `base_dir` is where the config file is: shops' `rules` files are relative to it.
fn validate(raw: RawConfig, base_dir: &Path) -> Result<Config, Vec<ConfigIssue>> {
    let mut issues = Vec::new();

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

    let url = raw
        .amqp
        .url
        .unwrap_or_else(|| defaults::AMQP_URL.to_owned());
    if !(url.starts_with("amqp://") || url.starts_with("amqps://")) {
        issues.push(ConfigIssue::new(
            "amqp.url",
            format!(
                "`{}` is not an AMQP URL: write amqp://user:password@host:5672/%2f",
                redact_url(&url)
            ),
        ));
    }
    let prefix = raw
        .amqp
        .prefix
        .unwrap_or_else(|| defaults::PREFIX.to_owned());
    if prefix.is_empty()
        || !prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        issues.push(ConfigIssue::new(
            "amqp.prefix",
            format!("`{prefix}` is not a usable prefix: use letters, digits, `-`, `_` or `.`, e.g. \"orderflow\""),
        ));
    }
    let partitions = raw.amqp.partitions.unwrap_or(defaults::PARTITIONS.into());
    if !(1..=256).contains(&partitions) {
        issues.push(ConfigIssue::new(
            "amqp.partitions",
            format!("{partitions} is out of range: use 1 to 256 (default 8)"),
        ));
    }
    let confirm_timeout_ms = raw
        .amqp
        .confirm_timeout_ms
        .unwrap_or(defaults::CONFIRM_TIMEOUT_MS);
    if !(1..=MAX_CONFIRM_TIMEOUT_MS).contains(&confirm_timeout_ms) {
        issues.push(ConfigIssue::new(
            "amqp.confirm_timeout_ms",
            format!("{confirm_timeout_ms} is out of range: use 1 to {MAX_CONFIRM_TIMEOUT_MS}, under Shopify's 5 s answer budget (default 3000)"),
        ));
    }
    let delivery_limit = raw
        .amqp
        .delivery_limit
        .unwrap_or(defaults::DELIVERY_LIMIT.into());
    if !(1..=1000).contains(&delivery_limit) {
        issues.push(ConfigIssue::new(
            "amqp.delivery_limit",
            format!("{delivery_limit} is out of range: use 1 to 1000 (default 20)"),
        ));
    }

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

    if raw.shops.is_empty() {
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
    };
    let mut shops = Vec::new();
    for (i, raw_shop) in raw.shops.into_iter().enumerate() {
        if let Some(shop) = validate_shop(i, raw_shop, &global_rules, base_dir, &mut issues) {
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
    let worker = validate_worker(&raw.worker, &mut issues);
    if !issues.is_empty() {
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
        },
        amqp: AmqpConfig {
            url: SecretString::from(url),
            prefix,
            partitions: partitions as u16,
            confirm_timeout: Duration::from_millis(confirm_timeout_ms),
            delivery_limit: delivery_limit as u32,
        },
        shopify: ShopifyConfig {
            api_version,
            client_secrets,
        },
        shops,
        worker,
    })
}

fn validate_worker(raw: &raw::RawWorker, issues: &mut Vec<ConfigIssue>) -> WorkerConfig {
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
        _ => {
            issues.push(ConfigIssue::new(
                key("access_token"),
                "missing or empty: write access_token = \"${SHOP_TOKEN}\" and set the variable",
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
    let has_inline =
        inline.fulfilment.is_some() || inline.processing.is_some() || inline.fraud.is_some();
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

/// Replaces the password of `scheme://user:password@host` with `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "***".to_owned();
    };
    match rest.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{host}")
        }
        None => url.to_owned(),
    }
}

/// One problem in the config: the key (dotted path) and what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigIssue {
    pub key: String,
    pub message: String,
}

impl ConfigIssue {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for ConfigIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "`{}`: {}", self.key, self.message)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", file.display())]
    Read {
        file: PathBuf,
        source: std::io::Error,
    },
    #[error("{} has {} problem(s):\n{}", file.display(), issues.len(), list(issues))]
    Invalid {
        file: PathBuf,
        issues: Vec<ConfigIssue>,
    },
}

impl ConfigError {
    pub fn issues(&self) -> &[ConfigIssue] {
        match self {
            ConfigError::Read { .. } => &[],
            ConfigError::Invalid { issues, .. } => issues,
        }
    }
}

fn list(issues: &[ConfigIssue]) -> String {
    issues
        .iter()
        .map(|i| format!("  - {i}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests;
