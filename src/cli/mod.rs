//! The `orderflow` command line: clap types and dispatch. No logic lives here.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Parser, Subcommand};
use secrecy::SecretString;
use tokio_util::sync::CancellationToken;

use crate::clock::SystemClock;
use crate::config::{Config, Env};

mod args;
pub mod demo;
mod dlq;
mod explain;
pub mod orders;
mod pause;
mod reconcile;
mod report;
mod shop_arg;
mod simulate;
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
    /// Which orders placed in a window candidate rules would decide differently from today's
    /// (read-only: no mutation can be sent).
    Simulate(SimulateArgs),
    /// Stop acting on one shop's messages (they wait, none is lost) until `resume`; every
    /// worker process obeys within seconds. `--list` shows the paused shops.
    Pause(PauseArgs),
    /// Act on a paused shop's messages again: the waiting ones are processed within seconds.
    Resume(ResumeArgs),
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

pub use args::*;

/// Runs the parsed command; the exit code is the returned value.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Run(args) => serve(&args, crate::app::Roles::ALL).await,
        Command::Receive(args) => serve(&args, crate::app::Roles::RECEIVE).await,
        Command::Work(args) => serve(&args, crate::app::Roles::WORK).await,
        Command::Check(args) => match load_config_or_report(&args.config) {
            Some(config) => {
                print!("{}", config.redacted());
                for shop in &config.shops {
                    for w in crate::rules::capture::expiry_warnings(&shop.rules) {
                        eprintln!("warning: shop {}: {w}", shop.domain);
                    }
                }
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
        Command::Simulate(args) => simulate::run(args).await,
        Command::Pause(args) => pause::pause(args).await,
        Command::Resume(args) => pause::resume(args).await,
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
    // Installed before the process says it listens, so a SIGHUP from then on reloads (the
    // default action would end the process).
    #[cfg(unix)]
    if let Some(reloader) = app.reloader() {
        let hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        tokio::spawn(reload_on_hangup(hangup, reloader));
    }
    tracing::info!(addr = %app.local_addr(), broker = %app.config().amqp.redacted_urls().join(", "), receive = roles.receive, work = roles.work, "orderflow listening");
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

/// Reloads the config at each SIGHUP; the outcome is logged by the reloader.
#[cfg(unix)]
async fn reload_on_hangup(
    mut hangup: tokio::signal::unix::Signal,
    reloader: Arc<crate::app::reload::Reloader>,
) {
    while hangup.recv().await.is_some() {
        tracing::info!("SIGHUP: reloading the config");
        let reloader = reloader.clone();
        let _ = tokio::task::spawn_blocking(move || reloader.reload()).await;
    }
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
