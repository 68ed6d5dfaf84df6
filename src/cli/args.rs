//! The arguments of the commands that take more than a config file, as clap reads them.

use std::path::PathBuf;

use clap::Subcommand;

use super::ConfigArg;

/// `orderflow explain`.
#[derive(Debug, clap::Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The shop whose rules apply, e.g. acme.myshopify.com.
    #[arg(long)]
    pub shop: String,
    /// A snapshot file (the `OrderSnapshot` JSON of `fixtures/orders/`).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "order_id",
        required_unless_present = "order_id"
    )]
    pub snapshot: Option<PathBuf>,
    /// Read the order live from the shop instead (read-only: no mutation is sent).
    #[arg(long)]
    pub order_id: Option<u64>,
    /// Plan as of this instant (RFC 3339, e.g. 2026-11-23T12:59:00+01:00); default now.
    #[arg(long)]
    pub at: Option<String>,
    /// The plan as JSON instead of sentences.
    #[arg(long)]
    pub json: bool,
}

/// `orderflow reconcile`.
#[derive(Debug, clap::Args)]
pub struct ReconcileArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// A known shop (configured, or installed in the store), e.g. acme.myshopify.com, or `all`
    /// for every one not uninstalled.
    #[arg(long)]
    pub shop: String,
    /// Orders updated at or after this instant (RFC 3339, e.g. 2026-11-23T10:00:00Z).
    #[arg(long)]
    pub since: String,
    /// Orders updated at or before this instant (RFC 3339); default now.
    #[arg(long)]
    pub until: Option<String>,
    /// List the orders found and publish nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `orderflow pause`.
#[derive(Debug, clap::Args)]
pub struct PauseArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// A known shop (configured, or installed in the store), e.g. acme.myshopify.com, or `all`.
    #[arg(long, required_unless_present = "list", conflicts_with = "list")]
    pub shop: Option<String>,
    /// Why, for `pause --list` and the workers' logs. Pausing a paused shop updates it.
    #[arg(long, conflicts_with = "list")]
    pub reason: Option<String>,
    /// List the paused shops (reason, since, by whom) instead.
    #[arg(long)]
    pub list: bool,
}

/// `orderflow resume`.
#[derive(Debug, clap::Args)]
pub struct ResumeArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// A paused shop, e.g. acme.myshopify.com, or `all`.
    #[arg(long)]
    pub shop: String,
}

/// `orderflow report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// A known shop (configured, or installed in the store), e.g. acme.myshopify.com.
    #[arg(long)]
    pub shop: String,
    /// Orders placed at or after this instant (RFC 3339, e.g. 2026-11-23T00:00:00Z).
    #[arg(long)]
    pub since: String,
    /// Orders placed at or before this instant (RFC 3339); default now. Lateness of open
    /// orders is measured as of this instant.
    #[arg(long)]
    pub until: Option<String>,
    /// Also write one row per order to FILE (CSV).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Print the report as one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
}

/// `orderflow simulate`.
#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    pub config: ConfigArg,
    /// The candidate: a rules file (the format of `[[shops]] rules`, taking the place of the
    /// shop's own rules) or a whole config (its rules for the shop).
    #[arg(long, value_name = "CANDIDATE")]
    pub rules: PathBuf,
    /// A known shop (configured, or installed in the store), e.g. acme.myshopify.com.
    #[arg(long)]
    pub shop: String,
    /// Orders placed (created) at or after this instant (RFC 3339, e.g. 2026-11-23T00:00:00Z).
    #[arg(long)]
    pub since: String,
    /// Orders placed at or before this instant (RFC 3339); default now.
    #[arg(long)]
    pub until: Option<String>,
    /// The instant both rule sets plan at: `original`, the order's paid time (its processing
    /// time when paid at checkout or not paid), or `now`.
    #[arg(long, value_enum, default_value = "original")]
    pub at: SimulateAt,
    /// Also write one row per changed order to FILE (CSV).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// One JSON object per order read, then a summary object, instead of sentences.
    #[arg(long)]
    pub json: bool,
}

/// `orderflow simulate --at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SimulateAt {
    Original,
    Now,
}

/// `orderflow sandbox`.
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// Where to listen; a local address (the control API is unauthenticated).
    #[arg(long, default_value = "127.0.0.1:9900")]
    pub listen: std::net::SocketAddr,
    /// Folder of order fixtures (`OrderSnapshot` JSON plus `"shop"`).
    #[arg(long, value_name = "DIR", default_value = "fixtures/orders")]
    pub orders: PathBuf,
    /// The access token every shop accepts.
    #[arg(
        long,
        env = "ORDERFLOW_SANDBOX_TOKEN",
        default_value = "shpat_sandbox",
        hide_env_values = true
    )]
    pub token: String,
    /// Cost bucket size per shop (Shopify standard plan: 2000).
    #[arg(long, default_value_t = 2000.0)]
    pub max_available: f64,
    /// Points restored per second (Shopify standard plan: 100).
    #[arg(long, default_value_t = 100.0)]
    pub restore_rate: f64,
}

/// `orderflow demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The RabbitMQ to use; the demo declares (and afterwards deletes) its own queues there.
    #[arg(
        long,
        env = "AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f",
        hide_env_values = true,
        hide_default_value = true
    )]
    pub amqp_url: String,
    /// Where the receiver listens [default: 127.0.0.1:8080 with --keep-running, else a free
    /// port on 127.0.0.1].
    #[arg(long)]
    pub listen: Option<std::net::SocketAddr>,
    /// Folder of order fixtures and their `<name>.webhook.json` bodies.
    #[arg(long, value_name = "DIR")]
    pub fixtures: Option<PathBuf>,
    /// After the demo, keep the shop, receiver and workers up for your own webhooks, until
    /// Ctrl-C.
    #[arg(long)]
    pub keep_running: bool,
}

#[derive(Debug, clap::Args)]
pub struct DlqFilter {
    /// Only dead letters with this reason (e.g. unknown_shop, max_attempts, delivery_limit).
    #[arg(long)]
    pub reason: Option<String>,
    /// Only dead letters of this shop.
    #[arg(long)]
    pub shop: Option<String>,
    /// At most this many.
    #[arg(long)]
    pub limit: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum DlqAction {
    /// A table of the dead letters: age, reason, topic, shop, order, attempts.
    List(DlqFilter),
    /// Publish the matching dead letters again, where they belong now.
    Replay(DlqFilter),
    /// Delete the matching dead letters for good.
    Purge {
        #[command(flatten)]
        filter: DlqFilter,
        /// Required: purging cannot be undone.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokensAction {
    /// One line per shop (configured or stored): mode, token and refresh-token expiry, scopes,
    /// last refresh, installed or uninstalled. Never a token.
    Status,
    /// Swap a shop's non-expiring offline token (from the config or the store) for an expiring
    /// pair by token exchange, and store it. Needs `[store]`. Safe to re-run.
    Migrate(MigrateArgs),
}

#[derive(Debug, Subcommand)]
pub enum WebhooksAction {
    /// Print the `[access_scopes]` and `[webhooks]` blocks for the app's `shopify.app.toml`:
    /// every topic orderflow routes and the compliance topics, to `{app_url}/webhooks`.
    Toml,
    /// One line per topic orderflow routes: whether the shop's shop-specific subscriptions
    /// (`webhookSubscriptions`) deliver it to `{app_url}/webhooks`. Exit 1 if any does not.
    Check {
        /// A known shop (configured or installed), e.g. acme.myshopify.com, or `all`.
        #[arg(long)]
        shop: String,
    },
    /// Create a subscription to `{app_url}/webhooks` for each topic the shop lacks (beside any
    /// to other URIs); deletes nothing, so a second run creates nothing. Exit 1 unless all ok.
    Sync {
        /// A known shop (configured or installed), e.g. acme.myshopify.com, or `all`.
        #[arg(long)]
        shop: String,
    },
}

/// `orderflow tokens migrate`.
#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The shop to migrate, e.g. acme.myshopify.com.
    #[arg(long, conflicts_with = "all", required_unless_present = "all")]
    pub shop: Option<String>,
    /// Every shop of the config and the store.
    #[arg(long)]
    pub all: bool,
}
