//! `orderflow orders reevaluate`: wakes the selected orders so today's rules apply. Each
//! wake-up goes to the order's own partition exactly like reconciliation's and the sweep's
//! (`sweep::wake`), so the worker handles it with the same per-order serialisation and
//! idempotence: re-running is harmless, an order already as the rules want gets nothing sent.
//! Dry run by default.
//!
//! Resuming: a re-run after an interruption wakes every selected order again, the ones woken
//! before included. That is deliberate: telling "re-planned since the first run began" from the
//! decision is not sound (the worker rewrites the decision, and its `planned_at`, only when the
//! plan changed, so an order re-planned to the same result looks untouched), and a second
//! wake-up costs one snapshot read: the worker plans it, finds nothing to change and sends
//! nothing.

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
    // Nothing is read per order: the cost is the listing's, already spent.
    let cost = format!(
        "cost: {} points to list the selection; nothing per order (the wake-ups go to the broker)",
        bulk.points_spent()
    );
    if args.apply {
        eprintln!("{cost}");
    }
    let bulk_ref = &bulk;
    let ran = bulk
        .each(&selected.orders, |shop, order| async move {
            let mut row = Row::new(shop, order, "wake");
            if let Some(p) = &bulk_ref.publisher {
                match wake(p, waker, shop.as_str(), order, false).await {
                    Ok(()) => row.done = "woken",
                    Err(e) => {
                        row.done = "failed";
                        row.reason = e.to_string();
                    }
                }
            }
            row
        })
        .await;
    let interrupted = ran.interrupted.then_some(selected.orders.len());
    let (rows, failed) = bulk.rows_with_missing(&selected, ran, "wake");
    let took = bulk.took_ms();
    let summary = if args.apply {
        let woken = rows.iter().filter(|r| r.done == "woken").count();
        let not = rows.iter().filter(|r| r.done == "failed").count();
        format!("re-evaluated: woke {woken} order(s), {not} failed; took {took} ms")
    } else {
        let selected = rows.iter().filter(|r| !r.name.is_empty()).count();
        format!("dry run: {selected} order(s) would be re-evaluated; pass --apply\n{cost}")
    };
    if !bulk.finish(&rows, &summary, args.csv.as_deref(), interrupted) {
        return Ok(1);
    }
    if interrupted.is_some() {
        return Ok(130);
    }
    Ok(i32::from(failed))
}
