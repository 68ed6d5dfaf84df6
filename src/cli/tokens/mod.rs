//! `orderflow tokens`: each shop's tokens as the config and the token store hold them.
//! `status` lists them (`status.rs`), `migrate` swaps non-expiring offline tokens for expiring
//! pairs (`migrate.rs`). Both read the same set of shops: every `[[shops]]` entry and every
//! row of the store. Nothing here prints or logs a token, a refresh token, the client secret or
//! the encryption key; instants are shown in UTC, to the second.

mod migrate;
mod status;

use std::collections::BTreeMap;
use std::path::Path;

use jiff::Timestamp;

use super::TokensAction;
use crate::config::{AuthMode, Config, ShopConfig};
use crate::id::ShopDomain;
use crate::store::{Store, StoreError, StoredShop};

pub async fn run(path: &Path, action: TokensAction) -> anyhow::Result<i32> {
    let Some(config) = super::load_config_or_report(path) else {
        return Ok(1);
    };
    match action {
        TokensAction::Status => status::run(&config).await,
        TokensAction::Migrate(args) => migrate::run(path, &config, args).await,
    }
}

/// One shop as the config and the store know it.
pub(super) struct Known<'a> {
    /// Its `[[shops]]` entry and mode, if configured.
    pub configured: Option<(&'a ShopConfig, AuthMode)>,
    /// Its row in the store, if any.
    pub row: Option<&'a StoredShop>,
}

/// Every configured shop and every stored row, by domain.
pub(super) fn known<'a>(
    config: &'a Config,
    rows: &'a [StoredShop],
) -> BTreeMap<ShopDomain, Known<'a>> {
    let mut shops: BTreeMap<ShopDomain, Known<'a>> = BTreeMap::new();
    for shop in &config.shops {
        let mode = config.auth.mode_of(&shop.domain);
        shops.insert(
            shop.domain.clone(),
            Known {
                configured: Some((shop, mode)),
                row: None,
            },
        );
    }
    for row in rows {
        shops
            .entry(row.domain.clone())
            .or_insert(Known {
                configured: None,
                row: None,
            })
            .row = Some(row);
    }
    shops
}

/// Connects to `[store]`, or says which key is missing.
pub(super) async fn open_store(config: &Config, command: &str) -> Result<Store, String> {
    let Some(store) = &config.store else {
        return Err(format!(
            "orderflow tokens {command} keeps the expiring pairs in the token store: add a [store] table with url and encryption_key (store.url = \"postgres://…\", store.encryption_key = \"${{ORDERFLOW_STORE_KEY}}\")"
        ));
    };
    Store::connect(store).await.map_err(|e| {
        let reason = match &e {
            // sqlx's configuration errors may quote the URL, which may hold a password.
            StoreError::Database(sqlx::Error::Configuration(_)) => {
                "store.url is not a usable PostgreSQL URL (check its host, port and options)"
                    .to_owned()
            }
            e => error_chain(e),
        };
        format!(
            "cannot open the token store at {}: {reason}",
            store.redacted_url()
        )
    })
}

/// An instant in UTC to the second, e.g. `2026-12-01T10:00:00Z`.
pub(super) fn instant(t: Timestamp) -> String {
    t.round(jiff::Unit::Second).unwrap_or(t).to_string()
}

/// An error and its sources on one line. Every error shown here is one of orderflow's, which
/// never carry a token.
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
