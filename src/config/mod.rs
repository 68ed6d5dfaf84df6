//! Configuration: one TOML file, `${VAR}` interpolation, `ORDERFLOW_SECTION__KEY` overrides,
//! validated once into [`Config`]. Every problem is reported at once, each naming the file, the
//! key and what would be valid. Secrets live in [`SecretString`]s from the moment they are read.
//!
//! Order of layering: file → overrides (`env`) → interpolation (`interpolate`) → serde mirror
//! (`raw`, errors named by `key_path`) → validation (`validate`, with each shop's rules from
//! `rules`). Overrides go first so an override may itself use `${VAR}`. `render` is the redacted
//! view `check` prints; `error` is how problems are told.

mod admin;
mod amqp;
mod auth;
mod candidate;
mod env;
mod error;
/// Public for the fuzz targets (`fuzz/`), which feed it arbitrary text.
pub mod interpolate;
mod key_path;
mod raw;
mod render;
pub mod rules;
mod server;
mod source;
mod store;
mod sweep;
mod validate;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;

pub use admin::AdminConfig;
pub use amqp::AmqpConfig;
pub use auth::{AuthConfig, AuthMode, DEFAULT_SCOPES};
pub use candidate::candidate_rules;
pub use env::Env;
pub use error::{ConfigError, ConfigIssue};
use raw::RawConfig;
pub use render::redact_url;
pub use server::ServerLimits;
pub use source::ConfigSource;
pub use store::{ENCRYPTION_KEY_BYTES, StoreConfig, decode_encryption_key};
pub use sweep::{SweepConfig, render_duration};

use crate::id::ShopDomain;
use crate::rules::Rules;

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

#[derive(Debug)]
pub struct Config {
    pub server: ServerConfig,
    pub amqp: AmqpConfig,
    pub shopify: ShopifyConfig,
    pub shops: Vec<ShopConfig>,
    /// The global `[fulfilment]`, `[processing]` and `[fraud]` alone, in UTC: the rules of a
    /// shop served without a `[[shops]]` entry (installed through oauth), once put in its zone.
    pub global_rules: Arc<Rules>,
    pub worker: WorkerConfig,
    /// `[webhooks]`: whether a working process checks each shop's subscriptions.
    pub webhooks: WebhooksConfig,
    /// The periodic reconciliation sweep (`[sweep]`).
    pub sweep: SweepConfig,
    /// The token store, when `[store]` is given (`auth = "oauth"` needs it).
    pub store: Option<StoreConfig>,
    /// The admin listener (`[admin]`), serving the ops page; `None`: no such listener.
    pub admin: Option<AdminConfig>,
    /// How each shop's Admin API token is obtained (`[shopify] auth` and its keys).
    pub auth: AuthConfig,
    /// The file it was loaded from and its version, when loaded from a file ([`Config::load`]):
    /// what a running process reloads from.
    pub source: Option<Arc<ConfigSource>>,
}

#[derive(Debug, Clone)]
pub struct WebhooksConfig {
    /// A process that works checks each shop's shop-specific subscriptions at start and after
    /// an install (`[webhooks] check`, default true; needs `shopify.app_url`). Apps whose
    /// subscriptions are all declared in `shopify.app.toml` turn it off: the API cannot see
    /// those, so every topic would look missing.
    pub check: bool,
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
    /// What a slow or hostile client may hold (`[server]` limits).
    pub limits: ServerLimits,
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
    /// The configured token: the one sent in `static` mode. Empty when the shop's mode gets
    /// its tokens elsewhere and none was configured (see [`AuthConfig::mode_of`]).
    pub access_token: SecretString,
    pub timezone: jiff::tz::TimeZone,
    /// The IANA name the time zone was given as (for display).
    pub timezone_name: String,
    /// Overrides `https://{domain}`: the sandbox shop and tests only. Set from
    /// `shopify.admin_url` when the shop has none of its own.
    pub admin_api_url: Option<String>,
    pub dry_run: bool,
    /// The shop's rules: the global `[fulfilment]`, `[processing]` and `[fraud]` with the
    /// shop's own sections (inline or from its `rules` file) merged over them key by key.
    pub rules: Arc<Rules>,
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
        let mut config = Self::from_toml(&text, path, env)?;
        config.source = Some(Arc::new(ConfigSource::new(path, text)));
        Ok(config)
    }

    /// Layers and validates a config text; `file` names it in errors.
    pub fn from_toml(text: &str, file: &Path, env: &Env) -> Result<Self, ConfigError> {
        let raw = raw_from_toml(text, file, env)?;
        Config::try_from(raw).map_err(|issues| ConfigError::Invalid {
            file: file.to_path_buf(),
            issues,
        })
    }

    /// The resolved configuration as TOML, every secret redacted: what `orderflow check` prints.
    pub fn redacted(&self) -> String {
        render::redacted(self)
    }
}

/// The first half of loading: overrides, interpolation and the serde mirror, before any value
/// is given its meaning. `candidate` reads the global rules sections of a config from here.
fn raw_from_toml(text: &str, file: &Path, env: &Env) -> Result<RawConfig, ConfigError> {
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
    env::apply_overrides(&mut tree, env, &mut issues);
    interpolate::interpolate(&mut tree, env, &mut issues);
    if !issues.is_empty() {
        return Err(invalid(issues));
    }
    let mut raw: RawConfig = key_path::deserialize(tree).map_err(|issue| invalid(vec![issue]))?;
    raw.base_dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
    Ok(raw)
}

#[cfg(test)]
mod amqp_tests;
#[cfg(test)]
mod tests;
