//! The `orderflow` command line: clap types and dispatch. No logic lives here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, Subcommand};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::clock::SystemClock;
use crate::config::{Config, Env};

pub mod demo;
mod dlq;
mod explain;
pub mod orders;
mod reconcile;
mod report;
mod shop_arg;
mod tokens;
mod webhooks;

#[derive(Debug, Parser)]
#[command(
    name = "orderflow",
    version,
    about = "Shopify order webhooks in, reconciled orders out"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// `--config FILE`, or `ORDERFLOW_CONFIG`.
#[derive(Debug, clap::Args)]
pub struct ConfigArg {
    #[arg(long, env = "ORDERFLOW_CONFIG", value_name = "FILE")]
    pub config: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything: the webhook receiver and the workers.
    Run(ConfigArg),
    /// Run only the webhook receiver (to scale it apart from the workers).
    Receive(ConfigArg),
    /// Run only the workers (to scale them apart from the receiver).
    Work(ConfigArg),
    /// Validate a config file and print it resolved, secrets redacted. Exit 1 on errors.
    Check(ConfigArg),
    /// Print the plan for one order, with every reason, sending nothing.
    Explain(ExplainArgs),
    /// Wake every order updated in a window (orders whose webhook was lost), or list them.
    Reconcile(ReconcileArgs),
    /// Bulk operations over a selection of orders (dry run unless --apply): `reevaluate`.
    Orders {
        #[command(subcommand)]
        action: orders::OrdersAction,
    },
    /// How fast orders placed in a window were fulfilled, by whom, and what is late (read-only).
    Report(ReportArgs),
    /// List, replay or purge dead letters.
    Dlq {
        /// The config file (also `ORDERFLOW_CONFIG`); may follow the action.
        #[arg(long, env = "ORDERFLOW_CONFIG", value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        action: DlqAction,
    },
    /// Each shop's tokens: `status` lists them (never a token), `migrate` swaps non-expiring
    /// offline tokens for expiring ones.
    Tokens {
        /// The config file (also `ORDERFLOW_CONFIG`); may follow the action.
        #[arg(long, env = "ORDERFLOW_CONFIG", value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        action: TokensAction,
    },
    /// The app's webhook subscriptions: `toml` prints the `[webhooks]` and `[access_scopes]`
    /// blocks for `shopify.app.toml`; `check` compares a shop's with the topics orderflow routes;
    /// `sync` creates the missing ones.
    Webhooks {
        /// The config file (also `ORDERFLOW_CONFIG`); may follow the action.
        #[arg(long, env = "ORDERFLOW_CONFIG", value_name = "FILE", global = true)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        action: WebhooksAction,
    },
    /// Run the sandbox shop alone (a simulated Shopify Admin API, for demos and tests).
    Sandbox(SandboxArgs),
    /// Show the whole pipeline on sample orders: sandbox shop, receiver, workers, RabbitMQ.
    Demo(DemoArgs),
    /// Print the X-Shopify-Hmac-Sha256 value Shopify would send for FILE.
    Sign {
        /// The app's client secret.
        #[arg(long, env = "SHOPIFY_CLIENT_SECRET", hide_env_values = true)]
        secret: String,
        /// The body to sign, byte for byte.
        file: PathBuf,
    },
}

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

/// Runs the parsed command; the exit code is the returned value.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run(args) => serve(&args, crate::app::Roles::ALL).await,
        Command::Receive(args) => serve(&args, crate::app::Roles::RECEIVE).await,
        Command::Work(args) => serve(&args, crate::app::Roles::WORK).await,
        Command::Check(args) => match load_config_or_report(&args.config) {
            Some(config) => {
                print!("{}", config.redacted());
                Ok(0)
            }
            None => Ok(1),
        },
        Command::Dlq { config, action } => match config {
            Some(config) => dlq::run(&config, action).await,
            None => {
                eprintln!("orderflow dlq needs --config FILE (or ORDERFLOW_CONFIG)");
                Ok(2)
            }
        },
        Command::Tokens { config, action } => match config {
            Some(config) => tokens::run(&config, action).await,
            None => {
                eprintln!("orderflow tokens needs --config FILE (or ORDERFLOW_CONFIG)");
                Ok(2)
            }
        },
        Command::Webhooks { config, action } => match (config, action) {
            (Some(config), WebhooksAction::Toml) => Ok(webhooks::toml(&config)),
            (Some(config), WebhooksAction::Check { shop }) => webhooks::check(&config, &shop).await,
            (Some(config), WebhooksAction::Sync { shop }) => webhooks::sync(&config, &shop).await,
            (None, _) => {
                eprintln!("orderflow webhooks needs --config FILE (or ORDERFLOW_CONFIG)");
                Ok(2)
            }
        },
        Command::Explain(args) => explain::run(args).await,
        Command::Reconcile(args) => reconcile::run(args).await,
        Command::Orders { action } => orders::run(action).await,
        Command::Report(args) => report::run(args).await,
        Command::Demo(args) => demo::run(args).await,
        Command::Sandbox(args) => {
            let options = crate::sandbox::standalone::Options {
                listen: args.listen,
                orders: args.orders,
                token: SecretString::from(args.token),
                bucket: crate::sandbox::BucketConfig {
                    maximum_available: args.max_available,
                    restore_rate: args.restore_rate,
                },
            };
            crate::sandbox::standalone::run(options).await?;
            Ok(0)
        }
        Command::Sign { secret, file } => {
            let body = std::fs::read(&file)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
            println!(
                "{}",
                crate::webhook::verify::sign(&body, &SecretString::from(secret))
            );
            Ok(0)
        }
    }
}

async fn serve(args: &ConfigArg, roles: crate::app::Roles) -> anyhow::Result<i32> {
    crate::telemetry::init_logging();
    let Some(config) = load_config_or_report(&args.config) else {
        return Ok(1);
    };
    let app = crate::app::App::build_with(config, Arc::new(SystemClock), roles).await?;
    tracing::info!(addr = %app.local_addr(), broker = %app.config().amqp.redacted_url(), receive = roles.receive, work = roles.work, "orderflow listening");
    let shutdown = CancellationToken::new();
    tokio::spawn(stop_on_signal(shutdown.clone()));
    app.run_until_stopped(shutdown).await?;
    tracing::info!("stopped");
    Ok(0)
}

/// Loads the config the way every command does (file, then the process environment); on
/// failure prints every problem to stderr and returns `None`, which the commands turn into
/// exit code 1.
pub(crate) fn load_config_or_report(path: &Path) -> Option<Config> {
    match Config::load(path, &Env::from_process()) {
        Ok(config) => Some(config),
        Err(e) => {
            eprintln!("{e}");
            None
        }
    }
}

/// Cancels `shutdown` on Ctrl-C or SIGTERM (what container runtimes send).
pub(crate) async fn stop_on_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing a SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    shutdown.cancel();
}

/// The Shopify client of a one-shot command on configured shops (`explain --order-id`): each shop's
/// token from its mode, the token store opened when `[store]` is set, the wall clock.
async fn shopify_client(config: &Config) -> anyhow::Result<crate::shopify::Client> {
    let store = crate::app::open_store(config)
        .await
        .map(|s| s.token_store());
    let tokens = crate::auth::Tokens::new(config, Arc::new(SystemClock), store)?;
    Ok(crate::shopify::Client::with_tokens(
        &config.shopify,
        &config.shops,
        crate::shopify::RetryPolicy::default(),
        tokens,
    )?)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
