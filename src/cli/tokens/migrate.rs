//! `orderflow tokens migrate`: a shop's non-expiring offline token, from the store's row or the
//! config's `access_token`, swapped for an expiring pair by token exchange (SHOPIFY-AUTH.md
//! §3e: `subject_token_type` offline-access-token, `expiring=1`) and stored with
//! `Store::install`.
//!
//! Idempotent: a shop whose row already holds an expiring pair is reported "already expiring"
//! and nothing is sent. One request per shop and run, never retried inside the run: Shopify
//! revokes the original token on success and answers a retry with the original token with
//! the same pair for 7 days (§3e), so after a lost answer (or a failed write to the store) the
//! user runs the command again, which sends the original token again and stores what comes
//! back. The original is still where it was (the config, or the row, which is written only on
//! success).

use std::path::Path;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};

use super::{Known, error_chain, instant, known, open_store};
use crate::auth::{Admin, GrantError, Grants};
use crate::cli::MigrateArgs;
use crate::clock::{Clock, SystemClock};
use crate::config::{AuthMode, Config};
use crate::id::ShopDomain;
use crate::store::{Store, TokenGrant};

/// Where the token sent for an expiring pair comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Origin {
    /// The store's row holds a token without expiry.
    Store,
    /// The shop's `access_token` in the config.
    Config,
}

/// What to do for one shop.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Decision {
    /// Send the token from `Origin` for an expiring pair.
    Migrate(Origin),
    /// The row holds an expiring pair (or a refresh token): nothing to send.
    AlreadyExpiring,
    /// The store has it uninstalled: its tokens were deleted and Shopify revoked them.
    Uninstalled,
    /// `client_credentials` tokens expire already (24 h) and are never stored.
    ClientCredentials,
    /// No non-expiring token anywhere.
    NoToken,
}

/// The store's row decides first (it is what oauth mode uses, and a migrated pair lives there);
/// the config's token counts only when the row has no token at all.
pub(super) fn decide(shop: &Known<'_>) -> Decision {
    if let Some(row) = shop.row {
        if row.uninstalled_at.is_some() {
            return Decision::Uninstalled;
        }
        if row.access_expires_at.is_some() || row.refresh_token.is_some() {
            return Decision::AlreadyExpiring;
        }
        if row.access_token.is_some() {
            return Decision::Migrate(Origin::Store);
        }
    }
    match shop.configured {
        Some((_, AuthMode::ClientCredentials)) => Decision::ClientCredentials,
        Some((s, _)) if !s.access_token.expose_secret().is_empty() => {
            Decision::Migrate(Origin::Config)
        }
        _ => Decision::NoToken,
    }
}

pub(super) async fn run(path: &Path, config: &Config, args: MigrateArgs) -> anyhow::Result<i32> {
    let Some(client_id) = config.auth.client_id.clone() else {
        eprintln!(
            "shopify.client_id is missing: orderflow tokens migrate sends the app's client ID and secret with the token exchange; write client_id = \"${{SHOPIFY_CLIENT_ID}}\" (Dev Dashboard: the app's settings)"
        );
        return Ok(1);
    };
    let Some(secret) = config.shopify.client_secrets.first().cloned() else {
        eprintln!("shopify.client_secrets is empty: list the app's client secret first");
        return Ok(1);
    };
    let store = match open_store(config, "migrate").await {
        Ok(store) => store,
        Err(message) => {
            eprintln!("{message}");
            return Ok(1);
        }
    };
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let grants = Grants::new(client_id, secret, clock.clone())?;
    let rows = store.all().await?;
    let shops = known(config, &rows);
    let chosen: Vec<&ShopDomain> = match &args.shop {
        None => shops.keys().collect(),
        Some(raw) => match ShopDomain::parse(raw) {
            Ok(domain) => match shops.get_key_value(&domain) {
                Some((domain, _)) => vec![domain],
                None => {
                    eprintln!(
                        "{domain} is neither in {} nor in the token store",
                        path.display()
                    );
                    return Ok(1);
                }
            },
            Err(e) => {
                eprintln!("--shop: {e}");
                return Ok(1);
            }
        },
    };
    let mut failed = 0;
    for domain in chosen {
        let shop = &shops[domain];
        let decision = decide(shop);
        let (line, migrated) = match decision {
            Decision::AlreadyExpiring => ("already expiring: nothing sent".to_owned(), false),
            Decision::Uninstalled => (
                "uninstalled: nothing to migrate (install the app on the shop again)".to_owned(),
                false,
            ),
            Decision::ClientCredentials => (
                "auth = \"client_credentials\": its tokens already expire, nothing to migrate"
                    .to_owned(),
                false,
            ),
            Decision::NoToken => (
                "no non-expiring token (none in the store, no access_token in the config): nothing to migrate"
                    .to_owned(),
                false,
            ),
            Decision::Migrate(origin) => {
                match migrate(config, &store, &grants, clock.as_ref(), domain, shop, origin).await
                {
                    Ok(line) => (line, true),
                    Err(line) => {
                        failed += 1;
                        (line, false)
                    }
                }
            }
        };
        println!("{domain}: {line}");
        let holds_pair = migrated || decision == Decision::AlreadyExpiring;
        if holds_pair && let Some(hint) = config_hint(path, shop) {
            println!("  {hint}");
        }
    }
    if failed > 0 {
        eprintln!(
            "{failed} shop(s) not migrated; run the same command again: within 7 days Shopify answers a retry with the original token with the same pair"
        );
        return Ok(1);
    }
    Ok(0)
}

/// One shop's token exchange and write; the line to print, `Err` when it failed.
async fn migrate(
    config: &Config,
    store: &Store,
    grants: &Grants,
    clock: &dyn Clock,
    domain: &ShopDomain,
    shop: &Known<'_>,
    origin: Origin,
) -> Result<String, String> {
    let (token, from): (SecretString, &str) = match origin {
        Origin::Store => (
            shop.row
                .and_then(|r| r.access_token.clone())
                .expect("decided from the row's token"),
            "the store's",
        ),
        Origin::Config => (
            shop.configured
                .map(|(s, _)| s.access_token.clone())
                .expect("decided from the config's token"),
            "the config's",
        ),
    };
    let admin = Admin {
        shop: domain.clone(),
        base: match shop.configured {
            Some((s, _)) => s.admin_api_url.clone(),
            None => config.auth.admin_url.clone(),
        },
    };
    let grant = grants
        .migrate_offline_token(&admin, &token)
        .await
        .map_err(|e| refused(&e))?;
    let (Some(access_expires_at), Some(_)) = (grant.access_expires_at, &grant.refresh_token) else {
        // Shopify documents an expiring pair as the answer (§3e); anything else is not stored.
        return Err("failed: the answer held no expiring pair; nothing stored".to_owned());
    };
    let refresh_expires = grant.refresh_expires_at.map_or("?".to_owned(), instant);
    let pair = TokenGrant {
        access_token: grant.access_token,
        access_expires_at: grant.access_expires_at,
        refresh_token: grant.refresh_token,
        refresh_expires_at: grant.refresh_expires_at,
        scopes: grant.scopes,
    };
    let time_zone = shop
        .row
        .and_then(|r| r.time_zone.clone())
        .or_else(|| shop.configured.map(|(s, _)| s.timezone_name.clone()));
    store
        .install(domain, &pair, time_zone.as_deref(), clock.now())
        .await
        .map_err(|e| {
            format!(
                "failed: Shopify swapped the token but the pair could not be stored ({}); run the command again to recover it",
                error_chain(&e)
            )
        })?;
    Ok(format!(
        "migrated {from} non-expiring token to an expiring pair (access token expires {}, refresh token {refresh_expires}), stored",
        instant(access_expires_at)
    ))
}

/// What to change in the config once a shop holds an expiring pair in the store: Shopify
/// revoked the configured token, so a static shop must move to oauth (which reads the stored
/// pair) now, and an oauth shop's configured token is of no more use.
fn config_hint(path: &Path, shop: &Known<'_>) -> Option<String> {
    let (configured, mode) = shop.configured?;
    let has_token = !configured.access_token.expose_secret().is_empty();
    match mode {
        AuthMode::Static => Some(format!(
            "Shopify revoked the old token: in {}, set this shop's auth = \"oauth\" (or shopify.auth) and remove its access_token, then restart orderflow",
            path.display()
        )),
        AuthMode::OAuth if has_token => Some(format!(
            "its access_token can be removed from {} (the shop already uses auth = \"oauth\")",
            path.display()
        )),
        AuthMode::OAuth | AuthMode::ClientCredentials => None,
    }
}

fn refused(e: &GrantError) -> String {
    let hint = match e.status() {
        Some(520) => {
            "; the answer was lost, Shopify may have applied it: run the command again to recover the pair"
        }
        _ if e.is_transient() => "; try again later",
        _ => "",
    };
    format!("failed: {}{hint}", error_chain(e))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use jiff::Timestamp;

    use super::*;
    use crate::config::Env;
    use crate::store::StoredShop;

    fn config() -> Config {
        let text = r#"
[shopify]
client_secrets = ["s"]
client_id = "id"
[[shops]]
domain = "pasted.myshopify.com"
access_token = "shpat_configured"
[[shops]]
domain = "own.myshopify.com"
auth = "client_credentials"
access_token = "shpat_old"
[[shops]]
domain = "bare.myshopify.com"
auth = "client_credentials"
"#;
        Config::from_toml(text, Path::new("t.toml"), &Env::from_pairs([("X", "x")])).unwrap()
    }

    fn row(access: Option<Timestamp>, refresh: bool, uninstalled: bool) -> StoredShop {
        let now: Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
        StoredShop {
            domain: ShopDomain::parse("pasted.myshopify.com").unwrap(),
            installed_at: now,
            uninstalled_at: uninstalled.then_some(now),
            scopes: String::new(),
            time_zone: None,
            access_token: (!uninstalled).then(|| SecretString::from("shpat_stored")),
            access_expires_at: access,
            refresh_token: refresh.then(|| SecretString::from("shprt_stored")),
            refresh_expires_at: None,
            previous_refresh_token: None,
            last_refresh_at: None,
            version: 1,
        }
    }

    fn decision(shop: usize, row: Option<&StoredShop>) -> Decision {
        let c = config();
        let s = &c.shops[shop];
        decide(&Known {
            configured: Some((s, c.auth.mode_of(&s.domain))),
            row,
        })
    }

    #[test]
    fn a_configured_token_without_a_row_is_migrated_from_the_config() {
        assert_eq!(decision(0, None), Decision::Migrate(Origin::Config));
    }

    #[test]
    fn the_row_decides_before_the_config() {
        let expiring = row(Some("2026-12-01T11:00:00Z".parse().unwrap()), true, false);
        assert_eq!(decision(0, Some(&expiring)), Decision::AlreadyExpiring);
        let non_expiring = row(None, false, false);
        assert_eq!(
            decision(0, Some(&non_expiring)),
            Decision::Migrate(Origin::Store)
        );
        assert_eq!(
            decision(0, Some(&row(None, false, true))),
            Decision::Uninstalled
        );
    }

    #[test]
    fn client_credentials_shops_and_shops_without_a_token_send_nothing() {
        assert_eq!(decision(1, None), Decision::ClientCredentials);
        assert_eq!(decision(2, None), Decision::ClientCredentials);
        let nothing = Known {
            configured: None,
            row: None,
        };
        assert_eq!(decide(&nothing), Decision::NoToken);
    }
}
