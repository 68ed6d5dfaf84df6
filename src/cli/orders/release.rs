//! `orderflow orders release-holds --reason fraud|processing|all`: releases orderflow's own
//! holds on the selected orders, and only them: a hold counts as ours when its handle is one
//! of orderflow's for the reason and Shopify says orderflow placed it (`heldByRequestingApp`),
//! and the release always names its `holdIds` (without them Shopify would release everyone's).
//!
//! The rules already treat a hold of ours that is gone as released by a person and never place
//! it again, so after releasing, the order is woken on its partition (`sweep::wake`, topic
//! `orderflow/release-holds`) for the worker to record that and move on. Dry run by default.
//! Re-running skips what is done: a released hold is gone, so the order plans nothing.

use super::bulk::{Bulk, Row};
use super::{HoldReason, ReleaseHoldsArgs};
use crate::clock::{Clock, SystemClock};
use crate::rules::model::HOLD_HANDLE_PREFIX;
use crate::rules::plan::{FRAUD_HANDLE, PROCESSING_HANDLE};
use crate::shopify::snapshot::OrderSnapshot;
use crate::sweep::wake::{RELEASE_HOLDS_TOPIC, Waker, wake};

/// The holds of ours to release on one fulfilment order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Release {
    fulfillment_order: String,
    hold_ids: Vec<String>,
    handles: Vec<String>,
}

impl HoldReason {
    fn covers(self, handle: &str) -> bool {
        match self {
            HoldReason::Fraud => handle == FRAUD_HANDLE,
            HoldReason::Processing => handle == PROCESSING_HANDLE,
            HoldReason::All => handle.starts_with(HOLD_HANDLE_PREFIX),
        }
    }
}

/// Orderflow's holds for `reason` on the order, by fulfilment order; never another app's or
/// the merchant's, whatever their handle.
fn ours(order: &OrderSnapshot, reason: HoldReason) -> Vec<Release> {
    order
        .fulfillment_orders
        .iter()
        .filter_map(|fo| {
            let holds: Vec<_> = fo
                .fulfillment_holds
                .iter()
                .filter(|h| h.held_by_requesting_app)
                .filter_map(|h| Some((h, h.handle.as_deref()?)))
                .filter(|(_, handle)| reason.covers(handle))
                .collect();
            (!holds.is_empty()).then(|| Release {
                fulfillment_order: fo.id.clone(),
                hold_ids: holds.iter().map(|(h, _)| h.id.clone()).collect(),
                handles: holds
                    .iter()
                    .map(|(_, handle)| (*handle).to_owned())
                    .collect(),
            })
        })
        .collect()
}

/// `release orderflow-fraud on FulfillmentOrder/1; …`: what the table's `planned` shows.
fn describe(releases: &[Release]) -> String {
    releases
        .iter()
        .map(|r| {
            let fo = r
                .fulfillment_order
                .trim_start_matches("gid://shopify/")
                .to_owned();
            format!("release {} on {fo}", r.handles.join("+"))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

pub async fn run(args: ReleaseHoldsArgs) -> anyhow::Result<i32> {
    let bulk = match Bulk::open(&args.config, &args.selection, args.apply).await? {
        Ok(bulk) => bulk,
        Err(code) => return Ok(code),
    };
    let waker = Waker {
        topic: RELEASE_HOLDS_TOPIC,
        partitions: bulk.config.amqp.partitions,
        now: SystemClock.now(),
    };
    let selected = bulk.select().await;
    let mut failed = selected.failed;
    let mut rows = Vec::new();
    for (shop, order) in &selected.orders {
        let snapshot = match bulk.client.fetch_snapshot(shop, order.id).await {
            Ok(s) => s,
            Err(e) => {
                let mut row = Row::new(shop, order, "release");
                row.done = "failed";
                row.reason = format!("cannot read the order: {e}");
                failed = true;
                rows.push(row);
                continue;
            }
        };
        let releases = ours(&snapshot, args.reason);
        if releases.is_empty() {
            let mut row = Row::new(shop, order, "nothing");
            row.reason = "no hold of orderflow's".into();
            rows.push(row);
            continue;
        }
        let mut row = Row::new(shop, order, describe(&releases));
        if let Some(p) = &bulk.publisher {
            let mut error = None;
            for r in &releases {
                if let Err(e) = bulk
                    .client
                    .release_holds(shop, &r.fulfillment_order, &r.hold_ids)
                    .await
                {
                    error = Some(format!("{}: {e}", r.fulfillment_order));
                    break;
                }
            }
            // Woken even after a partial release: what was released must be recorded.
            let woke = wake(p, waker, shop.as_str(), order, false).await;
            match (error, woke) {
                (None, Ok(())) => row.done = "released",
                (Some(e), _) => {
                    row.done = "failed";
                    row.reason = e;
                }
                (None, Err(e)) => {
                    row.done = "failed";
                    row.reason = format!("released, but the wake-up failed: {e}");
                }
            }
            failed |= row.done == "failed";
        }
        rows.push(row);
    }
    for id in &selected.missing {
        rows.push(bulk.missing_row(*id, "release"));
        failed = true;
    }
    let took = bulk.took_ms();
    let with_holds = rows
        .iter()
        .filter(|r| r.planned.starts_with("release "))
        .count();
    let summary = if args.apply {
        let done = rows.iter().filter(|r| r.done == "released").count();
        let not = rows.iter().filter(|r| r.done == "failed").count();
        format!("released: holds of {done} order(s), {not} failed; took {took} ms")
    } else {
        format!("dry run: holds of {with_holds} order(s) would be released; pass --apply")
    };
    if !bulk.finish(&rows, &summary, args.csv.as_deref()) {
        return Ok(1);
    }
    Ok(i32::from(failed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::enums::FulfillmentHoldReason;
    use crate::shopify::snapshot::FulfillmentHold;

    fn hold(id: u32, handle: Option<&str>, ours: bool) -> FulfillmentHold {
        FulfillmentHold {
            id: format!("gid://shopify/FulfillmentHold/{id}"),
            handle: handle.map(str::to_owned),
            reason: FulfillmentHoldReason::Other,
            reason_notes: None,
            held_by_requesting_app: ours,
        }
    }

    fn order(holds: Vec<FulfillmentHold>) -> OrderSnapshot {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/orders/handmade.json"
        ))
        .expect("fixture");
        let mut o: OrderSnapshot = serde_json::from_str(&text).expect("snapshot");
        o.fulfillment_orders.truncate(1);
        o.fulfillment_orders[0].fulfillment_holds = holds;
        o
    }

    #[test]
    fn only_our_holds_for_the_reason_are_released() {
        let o = order(vec![
            hold(1, Some(FRAUD_HANDLE), true),
            hold(2, Some(PROCESSING_HANDLE), true),
            // Same handle, not ours: another app's or a merchant's.
            hold(3, Some(FRAUD_HANDLE), false),
            hold(4, None, false),
        ]);
        let fraud = ours(&o, HoldReason::Fraud);
        assert_eq!(fraud.len(), 1);
        assert_eq!(fraud[0].hold_ids, ["gid://shopify/FulfillmentHold/1"]);
        let processing = ours(&o, HoldReason::Processing);
        assert_eq!(processing[0].hold_ids, ["gid://shopify/FulfillmentHold/2"]);
        let all = ours(&o, HoldReason::All);
        assert_eq!(
            all[0].hold_ids,
            [
                "gid://shopify/FulfillmentHold/1",
                "gid://shopify/FulfillmentHold/2"
            ]
        );
        assert!(
            describe(&all)
                .starts_with("release orderflow-fraud+orderflow-processing on FulfillmentOrder/")
        );
        assert!(ours(&order(vec![hold(4, None, false)]), HoldReason::All).is_empty());
    }
}
