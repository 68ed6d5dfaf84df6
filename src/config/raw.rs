//! The serde mirror of the config file. Every table denies unknown keys, so a misspelt key is an
//! error instead of a silently ignored setting. Values stay loosely typed here; `Config`'s
//! `TryFrom` gives them meaning and reports every problem at once.

use std::path::PathBuf;

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    #[serde(default)]
    pub server: RawServer,
    #[serde(default)]
    pub amqp: RawAmqp,
    #[serde(default)]
    pub shopify: RawShopify,
    #[serde(default)]
    pub shops: Vec<RawShop>,
    #[serde(default)]
    pub worker: RawWorker,
    #[serde(default)]
    pub webhooks: RawWebhooks,
    #[serde(default)]
    pub sweep: super::sweep::RawSweep,
    /// The token store (`auth = "oauth"` only); absent: no database.
    pub store: Option<super::store::RawStore>,
    /// The admin listener and its ops page; absent: none.
    pub admin: Option<super::admin::RawAdmin>,
    /// Rules sections: kept as tables here; `rules::resolve` types them per shop, so
    /// it can name every key of a section merged from several layers.
    pub fulfilment: Option<toml::Table>,
    pub processing: Option<toml::Table>,
    pub fraud: Option<toml::Table>,
    /// `[archive]`: closing finished orders (default off).
    pub archive: Option<toml::Table>,
    /// `[payment]`: capturing authorized payments (default never).
    pub payment: Option<toml::Table>,
    /// Not a key: the folder of the config file, which shops' `rules` files are relative to.
    /// `load` sets it after reading the file.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorker {
    pub max_attempts: Option<i64>,
    pub max_delay_hop_ms: Option<u64>,
}

/// `[webhooks]`: the worker's subscription check.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhooks {
    pub check: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: Option<String>,
    pub max_body_bytes: Option<u64>,
    pub shutdown_grace_ms: Option<u64>,
    pub header_read_timeout_ms: Option<u64>,
    pub request_timeout_ms: Option<u64>,
    pub max_connections: Option<u64>,
    pub max_in_flight: Option<u64>,
    pub max_header_bytes: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAmqp {
    pub url: Option<String>,
    /// A cluster's nodes, tried in order; instead of `url`.
    pub urls: Option<Vec<String>>,
    pub quorum_group_size: Option<i64>,
    pub prefix: Option<String>,
    pub partitions: Option<i64>,
    pub confirm_timeout_ms: Option<u64>,
    pub delivery_limit: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShopify {
    pub api_version: Option<String>,
    #[serde(default)]
    pub client_secrets: Vec<String>,
    /// `static` | `client_credentials` | `oauth` (see `config::auth`).
    pub auth: Option<String>,
    pub client_id: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub app_url: Option<String>,
    pub admin_url: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawShop {
    pub domain: Option<String>,
    pub access_token: Option<String>,
    /// Overrides `[shopify] auth` for this shop.
    pub auth: Option<String>,
    pub timezone: Option<String>,
    pub admin_api_url: Option<String>,
    #[serde(default)]
    pub dry_run: bool,
    /// A TOML file with this shop's `[fulfilment]`, `[processing]` and `[fraud]`, relative to
    /// the config file, so a merchant can own their rules alone.
    pub rules: Option<String>,
    pub fulfilment: Option<toml::Table>,
    pub processing: Option<toml::Table>,
    pub fraud: Option<toml::Table>,
    /// `[archive]`: closing finished orders (default off).
    pub archive: Option<toml::Table>,
    /// `[payment]`: capturing authorized payments (default never).
    pub payment: Option<toml::Table>,
}
