//! `orderflow sandbox`: the sandbox shop alone, until Ctrl-C, for demos and manual testing.

use std::net::SocketAddr;
use std::path::PathBuf;

use secrecy::SecretString;

use super::{BucketConfig, FixtureError, Sandbox, SandboxConfig};

/// What `orderflow sandbox` was asked for.
pub struct Options {
    pub listen: SocketAddr,
    pub orders: PathBuf,
    /// The access token every loaded shop accepts.
    pub token: SecretString,
    pub bucket: BucketConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum StandaloneError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Fixtures(#[from] FixtureError),
}

/// Serves until Ctrl-C, after printing where and what.
pub async fn run(options: Options) -> Result<(), StandaloneError> {
    let config = SandboxConfig {
        listen: options.listen,
        bucket: options.bucket,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config)
        .await
        .map_err(|source| StandaloneError::Listen {
            addr: options.listen,
            source,
        })?;
    let count = sandbox.load_fixtures(&options.orders, &options.token)?;
    println!(
        "sandbox shop listening on {} with {count} order(s) from {}",
        sandbox.base_url(),
        options.orders.display()
    );
    println!(
        "  Admin API: POST {}/admin/api/2026-10/graphql.json (header Host: <shop>.myshopify.com, X-Shopify-Access-Token)",
        sandbox.base_url()
    );
    println!(
        "  control:   {}/_sandbox/requests, /_sandbox/mutations, /_sandbox/faults ...",
        sandbox.base_url()
    );
    println!(
        "  OAuth:     PUT {}/_sandbox/app {{\"clientId\", \"clientSecret\", \"scopes\"}}, then /admin/oauth/authorize and /admin/oauth/access_token",
        sandbox.base_url()
    );
    println!(
        "  bucket:    {} points, restoring {} points/s per shop",
        options.bucket.maximum_available, options.bucket.restore_rate
    );
    if tokio::signal::ctrl_c().await.is_err() {
        tracing::warn!("cannot listen for Ctrl-C; stopping");
    }
    sandbox.shutdown().await;
    Ok(())
}
