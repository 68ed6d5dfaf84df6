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
    }
}
