//! The `orderflow` command line: clap types and dispatch. No logic lives here.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

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
    /// Validate a config file and print it resolved, secrets redacted.
    Check(ConfigArg),
    /// Run the sandbox shop alone (a simulated Shopify Admin API, for demos and tests).
    Sandbox(SandboxArgs),
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

/// Runs the parsed command; the exit code is the returned value.
pub async fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Check(args) => {
            let env = crate::config::Env::from_process();
            match crate::config::Config::load(&args.config, &env) {
                Ok(config) => {
                    print!("{}", config.redacted());
                    Ok(0)
                }
                Err(e) => {
                    eprintln!("{e}");
                    Ok(1)
                }
            }
        }
        Command::Sandbox(args) => {
            let options = crate::sandbox::standalone::Options {
                listen: args.listen,
                orders: args.orders,
                token: secrecy::SecretString::from(args.token),
                bucket: crate::sandbox::BucketConfig {
                    maximum_available: args.max_available,
                    restore_rate: args.restore_rate,
                },
            };
            crate::sandbox::standalone::run(options).await?;
            Ok(0)
        }
    }
}
