//! `orderflow report`: the fulfilment report of one shop over the orders placed in a window,
//! read from the Admin API and the decision metafields (no database, no broker, nothing sent
//! but queries). The figures are `crate::report`'s; this module only reads the arguments,
//! fetches, and prints (`render`).

use jiff::Timestamp;

use super::ReportArgs;
use crate::clock::{Clock, SystemClock};

pub(super) mod render;

pub async fn run(args: ReportArgs) -> anyhow::Result<i32> {
    let Some(config) = super::load_config_or_report(&args.config.config) else {
        return Ok(1);
    };
    let Some((since, until)) = window(&args.since, args.until.as_deref()) else {
        return Ok(1);
    };
    let Some((client, _known, shop)) =
        super::shop_arg::open_one(&config, &args.shop, "report").await?
    else {
        return Ok(1);
    };
    let orders = match client.orders_placed(&shop, since, until).await {
        Ok(orders) => orders,
        Err(e) => {
            eprintln!("{shop}: cannot list the orders placed in the window: {e}");
            return Ok(1);
        }
    };
    let report = crate::report::build(shop.as_str(), since, until, &orders);
    if let Some(path) = &args.csv
        && let Err(e) = std::fs::write(path, render::csv(&report))
    {
        eprintln!("--csv {}: cannot write: {e}", path.display());
        return Ok(1);
    }
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", render::table(&report));
    }
    Ok(0)
}

/// `--since` and `--until` (default now) as instants, reported when unreadable or reversed.
pub(super) fn window(since: &str, until: Option<&str>) -> Option<(Timestamp, Timestamp)> {
    let parse = |flag: &str, text: &str| match text.parse::<Timestamp>() {
        Ok(t) => Some(t),
        Err(_) => {
            eprintln!(
                "{flag} `{text}` is not an instant: write RFC 3339, e.g. 2026-11-23T00:00:00+01:00"
            );
            None
        }
    };
    let since = parse("--since", since)?;
    let until = match until {
        Some(text) => parse("--until", text)?,
        None => SystemClock.now(),
    };
    if since > until {
        eprintln!("--since {since} is after --until {until}: the window is empty");
        return None;
    }
    Some((since, until))
}
