//! `--shop S|all` for `reconcile`, `webhooks check` and `webhooks sync`, and `--shop S` for
//! `report` and `simulate`: one resolution for all of them. `all` is every configured shop and, with a `[store]`, every shop installed there and
//! not uninstalled; a single shop may be either, so an installed shop the config does not list
//! works by name too. The client these commands use knows the same shops (the registry).

use std::sync::Arc;

use crate::auth::Tokens;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::id::ShopDomain;
use crate::shopify::{Client, RetryPolicy};
use crate::shops::Shops;

/// The known shops (configured, and installed when `[store]` is set) and a Shopify client that
/// may call each of them, with each shop's token from its mode.
pub(super) async fn open(config: &Config) -> anyhow::Result<(Client, Shops)> {
    let store = crate::app::open_store(config).await;
    let (shops, _follower) = Shops::open(config, store.as_ref()).await;
    let tokens = Tokens::new(
        config,
        Arc::new(SystemClock),
        store.as_ref().map(|s| s.token_store()),
    )?;
    let client = Client::with_registry(
        &config.shopify,
        shops.clone(),
        RetryPolicy::default(),
        tokens,
    )?;
    Ok((client, shops))
}

/// [`open`] for a command that works on exactly one shop (`report`, `simulate`): the client,
/// the known shops and the one `arg` names, or `None` after saying why not (`all`, or unknown).
pub(super) async fn open_one(
    config: &Config,
    arg: &str,
    command: &str,
) -> anyhow::Result<Option<(Client, Shops, ShopDomain)>> {
    if arg == "all" {
        eprintln!("--shop all is not supported by {command}: name one shop");
        return Ok(None);
    }
    let (client, shops) = open(config).await?;
    match resolve(config, &shops, arg) {
        Ok(mut one) if one.len() == 1 => {
            let shop = one.remove(0);
            Ok(Some((client, shops, shop)))
        }
        Ok(_) => {
            eprintln!("--shop must name one shop");
            Ok(None)
        }
        Err(e) => {
            eprintln!("{e}");
            Ok(None)
        }
    }
}

/// The shops `--shop` names: `all`, or one known shop. Else the message naming what is known.
pub(super) fn resolve(
    config: &Config,
    shops: &Shops,
    arg: &str,
) -> Result<Vec<ShopDomain>, String> {
    if arg == "all" {
        return Ok(shops.active_domains());
    }
    if let Ok(domain) = ShopDomain::parse(arg) {
        match shops.get(&domain) {
            Some(k) if !k.uninstalled => return Ok(vec![domain]),
            Some(_) => return Err(format!("shop `{arg}` is uninstalled: nothing to do there")),
            None => {}
        }
    }
    let configured: Vec<_> = config.shops.iter().map(|s| s.domain.as_str()).collect();
    let installed: Vec<_> = shops
        .active_domains()
        .into_iter()
        .filter(|d| !config.shops.iter().any(|s| &s.domain == d))
        .map(|d| d.to_string())
        .collect();
    let mut message = format!(
        "shop `{arg}` is not known: configured shops are {}",
        list(&configured)
    );
    if config.store.is_some() {
        message.push_str(&format!("; installed shops are {}", list(&installed)));
    }
    message.push_str(" (or --shop all)");
    Err(message)
}

fn list<S: AsRef<str>>(names: &[S]) -> String {
    if names.is_empty() {
        "none".to_owned()
    } else {
        names
            .iter()
            .map(AsRef::as_ref)
            .collect::<Vec<_>>()
            .join(", ")
    }
}
