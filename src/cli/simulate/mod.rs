//! `orderflow simulate`: which orders placed in a window a candidate set of rules would decide
//! differently from today's. Each order is read live (queries only: the command holds a
//! [`ReadOnly`] client, which has no mutation to send), planned under both rule sets at the
//! same instant, and the two plans compared by `crate::rules::compare`. This module reads the
//! arguments, fetches and prints (`render`).

use jiff::Timestamp;
use serde::Serialize;

use super::{SimulateArgs, SimulateAt};
use crate::clock::{Clock, SystemClock};
use crate::config::Env;
use crate::id::ShopDomain;
use crate::rules::Rules;
use crate::rules::compare::{Difference, Summary, compare};
use crate::shopify::read_only::ReadOnly;

mod render;

/// One order read, as `--json` prints it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Simulated {
    pub order_id: u64,
    pub name: String,
    /// The instant both plans were made at.
    pub at: Timestamp,
    pub changed: bool,
    #[serde(flatten)]
    pub difference: Difference,
}

/// The whole run: what the header and the summary say.
#[derive(Debug, Clone, Serialize)]
pub(super) struct Run {
    pub shop: String,
    pub since: Timestamp,
    pub until: Timestamp,
    pub at: &'static str,
    #[serde(flatten)]
    pub summary: Summary,
    /// Orders listed in the window but not read (said on stderr); the exit code is then 1.
    pub orders_failed: u64,
}

pub async fn run(args: SimulateArgs) -> anyhow::Result<i32> {
    let Some(config) = super::load_config_or_report(&args.config.config) else {
        return Ok(1);
    };
    let Some((since, until)) = super::report::window(&args.since, args.until.as_deref()) else {
        return Ok(1);
    };
    let Some((client, known, shop)) =
        super::shop_arg::open_one(&config, &args.shop, "simulate").await?
    else {
        return Ok(1);
    };
    let Some(current) = known.get(&shop).map(|k| k.config.rules.clone()) else {
        eprintln!("shop `{shop}` is not known");
        return Ok(1);
    };
    let candidate = match crate::config::candidate_rules(
        &args.config.config,
        &Env::from_process(),
        &shop,
        &args.rules,
    ) {
        Ok(rules) => rules,
        Err(e) => {
            // The words `check` uses for the same mistakes.
            eprintln!("{e}");
            return Ok(1);
        }
    };
    // From here on only reads are possible: the client is gone into the read-only view.
    let reader = ReadOnly::new(client);
    let now = SystemClock.now();
    let (orders, failed) = match simulate(
        &reader,
        &shop,
        (since, until),
        args.at,
        now,
        &current,
        &candidate,
    )
    .await
    {
        Ok(done) => done,
        Err(e) => {
            eprintln!("{shop}: cannot list the orders placed in the window: {e}");
            return Ok(1);
        }
    };
    let mut summary = Summary::new();
    for o in &orders {
        summary.add(&o.difference);
    }
    let run = Run {
        shop: shop.to_string(),
        since,
        until,
        at: match args.at {
            SimulateAt::Original => "original",
            SimulateAt::Now => "now",
        },
        summary,
        orders_failed: failed,
    };
    if let Some(path) = &args.csv
        && let Err(e) = std::fs::write(path, render::csv(&orders))
    {
        eprintln!("--csv {}: cannot write: {e}", path.display());
        return Ok(1);
    }
    if args.json {
        print!("{}", render::json_lines(&orders, &run)?);
    } else {
        print!("{}", render::text(&orders, &run));
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

/// Reads every order placed in `window` and compares its two plans; an order that cannot be
/// read is said on stderr and counted, the others still compared.
async fn simulate(
    reader: &ReadOnly,
    shop: &ShopDomain,
    (since, until): (Timestamp, Timestamp),
    at: SimulateAt,
    now: Timestamp,
    current: &Rules,
    candidate: &Rules,
) -> Result<(Vec<Simulated>, u64), crate::shopify::ShopifyError> {
    let listed = reader.orders_created(shop, since, until).await?;
    let mut out = Vec::with_capacity(listed.len());
    let mut failed = 0;
    for found in listed {
        let snapshot = match reader.fetch_snapshot(shop, found.id).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!(
                    "{shop}: order {} ({}): cannot read it: {e}",
                    found.name, found.id.0
                );
                failed += 1;
                continue;
            }
        };
        let order = snapshot.to_rules_order();
        let instant = match at {
            // When the processing clock started: what the order's plan was first made at.
            SimulateAt::Original => order.paid_at.unwrap_or(order.processed_at),
            SimulateAt::Now => now,
        };
        let a = crate::rules::plan(&order, current, instant);
        let b = crate::rules::plan(&order, candidate, instant);
        let difference = compare(&order, &a, &b);
        out.push(Simulated {
            order_id: found.id.0,
            name: found.name,
            at: instant,
            changed: !difference.is_empty(),
            difference,
        });
    }
    Ok((out, failed))
}
