//! `orderflow orders reevaluate`: wakes the selected orders so today's rules apply. Each
//! wake-up goes to the order's own partition exactly like reconciliation's and the sweep's
//! (`sweep::wake`), so the worker handles it with the same per-order serialisation and
//! idempotence: re-running is harmless, an order already as the rules want gets nothing sent.
//! Dry run by default.

use super::ReevaluateArgs;
use super::bulk::{Bulk, Row};
use crate::sweep::wake::{REEVALUATE_TOPIC, wake};

pub async fn run(args: ReevaluateArgs) -> anyhow::Result<i32> {
    let bulk = match Bulk::open(&args.config, &args.selection, args.apply).await? {
        Ok(bulk) => bulk,
        Err(code) => return Ok(code),
    };
    let waker = bulk.waker(REEVALUATE_TOPIC);
    let selected = bulk.select().await;
    let mut failed = selected.failed;
    let mut rows = Vec::new();
    for (shop, order) in &selected.orders {
        let mut row = Row::new(shop, order, "wake");
        if let Some(p) = &bulk.publisher {
            match wake(p, waker, shop.as_str(), order, false).await {
                Ok(()) => row.done = "woken",
                Err(e) => {
                    row.done = "failed";
                    row.reason = e.to_string();
                    failed = true;
                }
            }
        }
        rows.push(row);
    }
    for id in &selected.missing {
        rows.push(bulk.missing_row(*id, "wake"));
        failed = true;
    }
    let took = bulk.took_ms();
    let summary = if args.apply {
        let woken = rows.iter().filter(|r| r.done == "woken").count();
        let not = rows.iter().filter(|r| r.done == "failed").count();
        format!("re-evaluated: woke {woken} order(s), {not} failed; took {took} ms")
    } else {
        let selected = rows.iter().filter(|r| !r.name.is_empty()).count();
        format!("dry run: {selected} order(s) would be re-evaluated; pass --apply")
    };
    if !bulk.finish(&rows, &summary, args.csv.as_deref()) {
        return Ok(1);
    }
    Ok(i32::from(failed))
}
