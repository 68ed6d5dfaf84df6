//! `orderflow orders release-holds --reason fraud|processing|all`: releases orderflow's own
//! holds on the selected orders, and only them: a hold counts as ours when its handle is one
//! of orderflow's for the reason and Shopify says orderflow placed it (`heldByRequestingApp`),
//! and the release always names its `holdIds` (without them Shopify would release everyone's).
//!
//! The rules already treat a hold of ours that is gone as released by a person and never place
//! it again, so after releasing, the order is woken on its partition (`sweep::wake`, topic
//! `orderflow/release-holds`) for the worker to record that and move on. Dry run by default.
//! Re-running skips what is done: a released hold is gone, so the order plans nothing; an
//! order whose decision still lists a hold of ours that is gone (a run stopped between the
//! release and the wake-up) is woken again so the worker records it.

use super::bulk::{Bulk, Row};
use super::{HoldReason, ReleaseHoldsArgs};
use crate::rules::decision::Previous;
use crate::rules::model::HOLD_HANDLE_PREFIX;
use crate::rules::plan::{FRAUD_HANDLE, PROCESSING_HANDLE};
use crate::shopify::snapshot::OrderSnapshot;
use crate::sweep::wake::{RELEASE_HOLDS_TOPIC, wake};

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

/// Whether the order's decision lists a hold of ours for `reason` that is no longer on its
/// fulfilment order and not yet recorded as released: the worker has not seen the release.
fn unrecorded(order: &OrderSnapshot, reason: HoldReason) -> bool {
    let previous = Previous::read(order.decision.as_ref().map(|m| m.value.as_str()));
    let Some(decision) = previous.decision() else {
        return false;
    };
    decision.holds.iter().any(|h| {
        reason.covers(&h.handle)
            && !decision.released_by_person(&h.fulfillment_order, &h.handle)
            && !order.fulfillment_orders.iter().any(|fo| {
                fo.id == h.fulfillment_order
                    && fo
                        .fulfillment_holds
                        .iter()
                        .any(|held| held.handle.as_deref() == Some(h.handle.as_str()))
            })
    })
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

/// One order: read it, release ours for `reason` (with `--apply`), wake it.
async fn one(
    bulk: &Bulk,
    waker: crate::sweep::wake::Waker<'static>,
    reason: HoldReason,
    shop: &crate::id::ShopDomain,
    order: &crate::shopify::orders::UpdatedOrder,
) -> Row {
    let snapshot = match bulk.client.fetch_snapshot(shop, order.id).await {
        Ok(s) => s,
        Err(e) => {
            let mut row = Row::new(shop, order, "release");
            row.done = "failed";
            row.reason = format!("cannot read the order: {e}");
            return row;
        }
    };
    let releases = ours(&snapshot, reason);
    if releases.is_empty() && unrecorded(&snapshot, reason) {
        let mut row = Row::new(shop, order, "wake");
        row.reason = "released earlier, not recorded yet".into();
        if let Some(p) = &bulk.publisher {
            match wake(p, waker, shop.as_str(), order, false).await {
                Ok(()) => row.done = "woken",
                Err(e) => {
                    row.done = "failed";
                    row.reason = e.to_string();
                }
            }
        }
        return row;
    }
    if releases.is_empty() {
        let mut row = Row::new(shop, order, "nothing");
        row.reason = "no hold of orderflow's".into();
        return row;
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
    }
    row
}

pub async fn run(args: ReleaseHoldsArgs) -> anyhow::Result<i32> {
    let bulk = match Bulk::open(&args.config, &args.selection, args.apply).await? {
        Ok(bulk) => bulk,
        Err(code) => return Ok(code),
    };
    let waker = bulk.waker(RELEASE_HOLDS_TOPIC);
    let selected = bulk.select().await;
    let read_points = snapshot_points();
    if args.apply {
        eprintln!(
            "{}",
            bulk.estimate(selected.orders.len(), read_points, None)
        );
    }
    let bulk_ref = &bulk;
    let reason = args.reason;
    let ran = bulk
        .each(&selected.orders, |shop, order| {
            one(bulk_ref, waker, reason, shop, order)
        })
        .await;
    let interrupted = ran.interrupted.then_some(selected.orders.len());
    let (rows, failed) = bulk.rows_with_missing(&selected, ran, "release");
    let took = bulk.took_ms();
    let with_holds = rows
        .iter()
        .filter(|r| r.planned.starts_with("release "))
        .count();
    let to_wake = rows.iter().filter(|r| r.planned == "wake").count();
    let summary = if args.apply {
        let done = rows.iter().filter(|r| r.done == "released").count();
        let woken = rows.iter().filter(|r| r.done == "woken").count();
        let not = rows.iter().filter(|r| r.done == "failed").count();
        let woken = if woken > 0 {
            format!(", {woken} woken")
        } else {
            String::new()
        };
        format!("released: holds of {done} order(s){woken}, {not} failed; took {took} ms")
    } else {
        let woken = if to_wake > 0 {
            format!(", {to_wake} woken to record an earlier release")
        } else {
            String::new()
        };
        // An --apply reads every order again and sends one release per fulfilment order.
        let mutations = rows
            .iter()
            .filter(|r| r.planned.starts_with("release "))
            .map(|r| r.planned.matches("; ").count() + 1)
            .sum();
        format!(
            "dry run: holds of {with_holds} order(s) would be released{woken}; pass --apply\n{}",
            bulk.estimate(selected.orders.len(), read_points, Some(mutations))
        )
    };
    if !bulk.finish(&rows, &summary, args.csv.as_deref(), interrupted) {
        return Ok(1);
    }
    if interrupted.is_some() {
        return Ok(130);
    }
    Ok(i32::from(failed))
}

/// The requested cost of one order's snapshot read (its first query; follow-up pages are rare).
fn snapshot_points() -> f64 {
    crate::shopify::cost::estimate(
        &crate::shopify::documents::ORDER_SNAPSHOT,
        &serde_json::json!({ "id": "gid://shopify/Order/1" }),
    )
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

    #[test]
    fn a_hold_gone_but_still_in_the_decision_is_unrecorded() {
        let mut o = order(vec![]);
        let fo = o.fulfillment_orders[0].id.clone();
        let decision = |released: &str| {
            format!(
                r#"{{"version":1,"ship_by":null,"ship_by_at":null,"holds":[{{"fulfillment_order":"{fo}","handle":"orderflow-fraud","rule":"r"}}],"released_by_person":[{released}],"rules":[],"planned_at":"2026-11-23T10:00:00Z"}}"#
            )
        };
        o.decision = Some(crate::shopify::snapshot::MetafieldValue {
            value: decision(""),
        });
        assert!(unrecorded(&o, HoldReason::Fraud));
        assert!(unrecorded(&o, HoldReason::All));
        assert!(!unrecorded(&o, HoldReason::Processing));
        o.fulfillment_orders[0].fulfillment_holds = vec![hold(1, Some(FRAUD_HANDLE), true)];
        assert!(!unrecorded(&o, HoldReason::Fraud), "still held");
        o.fulfillment_orders[0].fulfillment_holds.clear();
        o.decision = Some(crate::shopify::snapshot::MetafieldValue {
            value: decision(&format!(
                r#"{{"fulfillment_order":"{fo}","handle":"orderflow-fraud"}}"#
            )),
        });
        assert!(!unrecorded(&o, HoldReason::Fraud), "recorded");
    }
}
