//! `orderflow explain`: the plan for one order, from a snapshot file or read live, sending
//! nothing.

use jiff::Timestamp;

use super::ExplainArgs;
use crate::clock::{Clock, SystemClock};
use crate::id::OrderId;
use crate::shopify::OrderSnapshot;

pub async fn run(args: ExplainArgs) -> anyhow::Result<i32> {
    let Some(config) = super::load_config_or_report(&args.config.config) else {
        return Ok(1);
    };
    let Some(shop) = config.shops.iter().find(|s| s.domain.as_str() == args.shop) else {
        let known: Vec<_> = config.shops.iter().map(|s| s.domain.as_str()).collect();
        eprintln!(
            "shop `{}` is not in {}: configured shops are {}",
            args.shop,
            args.config.config.display(),
            known.join(", ")
        );
        return Ok(1);
    };
    let now = match &args.at {
        Some(at) => match parse_instant(at) {
            Some(t) => t,
            None => {
                eprintln!(
                    "--at `{at}` is not an instant: write RFC 3339, e.g. 2026-11-23T12:59:00+01:00"
                );
                return Ok(1);
            }
        },
        None => SystemClock.now(),
    };
    let snapshot: OrderSnapshot = match (&args.snapshot, args.order_id) {
        (Some(path), _) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            match serde_json::from_str(&text) {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("{} is not an order snapshot: {e}", path.display());
                    return Ok(1);
                }
            }
        }
        (None, Some(id)) => {
            let client = super::shopify_client(&config).await?;
            client.fetch_snapshot(&shop.domain, OrderId(id)).await?
        }
        (None, None) => unreachable!("clap requires --snapshot or --order-id"),
    };
    let order = snapshot.to_rules_order();
    let plan = crate::rules::plan(&order, &shop.rules, now);
    if args.json {
        println!("{}", plan.to_json());
    } else {
        print!("{plan}");
    }
    Ok(0)
}

fn parse_instant(text: &str) -> Option<Timestamp> {
    text.parse::<Timestamp>().ok()
}
