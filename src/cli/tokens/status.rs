//! `orderflow tokens status`: one line per shop, configured or stored, with its mode, where it
//! stands (configured, installed, uninstalled), its access token's and refresh token's expiry,
//! its last refresh and its scopes. Never a token. Without `[store]` only the config's shops
//! are listed, and no database is touched.

use jiff::Timestamp;
use secrecy::ExposeSecret;

use super::{Known, instant, known, open_store};
use crate::config::{AuthMode, Config};
use crate::store::StoredShop;

pub(super) async fn run(config: &Config) -> anyhow::Result<i32> {
    let rows = match &config.store {
        None => Vec::new(),
        Some(_) => match open_store(config, "status").await {
            Ok(store) => {
                let rows = store.all().await?;
                store.close().await;
                rows
            }
            Err(message) => {
                eprintln!("{message}");
                return Ok(1);
            }
        },
    };
    let lines: Vec<[String; 7]> = known(config, &rows).values().map(line).collect();
    let header = [
        "SHOP",
        "MODE",
        "STATE",
        "TOKEN EXPIRES",
        "REFRESH EXPIRES",
        "LAST REFRESH",
        "SCOPES",
    ]
    .map(str::to_owned);
    let mut widths = [0; 7];
    for l in std::iter::once(&header).chain(&lines) {
        for (w, cell) in widths.iter_mut().zip(l) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for l in std::iter::once(&header).chain(&lines) {
        let cells: Vec<String> = l
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
    if config.store.is_none() {
        println!("(no [store]: stored shops and oauth tokens are not shown)");
    }
    if lines.iter().any(|l| l[3] == NEVER) {
        println!(
            "Tokens that never expire: a public app must swap them for expiring ones before 2027-01-01 (orderflow tokens migrate)."
        );
    }
    Ok(0)
}

const NEVER: &str = "never";

fn at(t: Option<Timestamp>) -> String {
    t.map_or_else(|| "-".to_owned(), instant)
}

/// SHOP, MODE, STATE, TOKEN EXPIRES, REFRESH EXPIRES, LAST REFRESH, SCOPES.
fn line(shop: &Known<'_>) -> [String; 7] {
    // A stored shop without a `[[shops]]` entry is served in oauth mode.
    let mode = shop.configured.map_or(AuthMode::OAuth, |(_, m)| m);
    let domain = shop
        .configured
        .map(|(s, _)| s.domain.to_string())
        .or_else(|| shop.row.map(|r| r.domain.to_string()))
        .unwrap_or_default();
    let state = match (shop.row, shop.configured) {
        (
            Some(StoredShop {
                uninstalled_at: Some(t),
                ..
            }),
            _,
        ) => format!("uninstalled {}", instant(*t)),
        (Some(r), _) => format!("installed {}", instant(r.installed_at)),
        (None, Some(_)) if mode == AuthMode::OAuth => "not installed".to_owned(),
        (None, _) => "configured".to_owned(),
    };
    let dash = || "-".to_owned();
    let (token, refresh, last, scopes) = match (mode, shop.row) {
        // What the store holds, whatever the mode (a static shop just migrated still sends its
        // configured token until its auth is set to oauth; STATE says so).
        (_, Some(r)) => (
            match (&r.access_token, r.access_expires_at) {
                (None, _) => dash(),
                (Some(_), None) => NEVER.to_owned(),
                (Some(_), Some(t)) => instant(t),
            },
            at(r.refresh_expires_at),
            r.last_refresh_at
                .map_or_else(|| "never".to_owned(), instant),
            r.scopes.clone(),
        ),
        (AuthMode::Static, None) => {
            let configured = shop
                .configured
                .is_some_and(|(s, _)| !s.access_token.expose_secret().is_empty());
            let token = if configured { NEVER.to_owned() } else { dash() };
            (token, dash(), dash(), dash())
        }
        (AuthMode::ClientCredentials, None) => {
            ("in memory, 24 h".to_owned(), dash(), dash(), dash())
        }
        (AuthMode::OAuth, None) => (dash(), dash(), dash(), dash()),
    };
    let state = match (mode, shop.row) {
        (mode, Some(r)) if mode != AuthMode::OAuth && r.refresh_token.is_some() => {
            format!("{state} (stored pair unused until auth = \"oauth\")")
        }
        _ => state,
    };
    [
        domain,
        mode.as_str().to_owned(),
        state,
        token,
        refresh,
        last,
        scopes,
    ]
}
