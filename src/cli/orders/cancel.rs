//! `orderflow orders cancel-fulfilments`: cancels the selected orders' fulfilments that have not
//! shipped, with `fulfillmentCancel`, as a person's taking back, so orderflow never fulfils those
//! lines again (issue 11, item 1's logic). The judging is pure ([`crate::rules::cancel`]): which
//! fulfilments may be cancelled (not shipped, not cancelled already) and which must be recorded
//! first (a person's). Per order, with `--apply`: the decision is written with the records
//! (`metafieldsSet`, as the worker writes it), then each fulfilment is cancelled, then the order
//! is woken on its partition (topic `orderflow/cancel-fulfilments`) so the worker re-plans it and
//! `explain` shows the lines taken back.
//!
//! Resuming: a cancelled fulfilment is done, so a re-run skips it; one recorded but not yet
//! cancelled (a run stopped between the write and the cancel) is only cancelled; an order whose
//! cancellation the worker has not recorded yet (stopped before the wake-up) is woken again.
//!
//! `fulfillmentCancel(id:)` takes only the id: Shopify returns the items to stock (as the
//! admin's cancellation does) and has no notification option. `--restock` says so and is the
//! default; `--no-restock` and `--notify-customer` are refused with the reason rather than
//! pretended.

use super::CancelFulfilmentsArgs;
use super::bulk::{Bulk, Row};
use crate::clock::{Clock, SystemClock};
use crate::id::ShopDomain;
use crate::rules::cancel::{self, Judged, Verdict};
use crate::rules::decision::{METAFIELD_KEY, METAFIELD_NAMESPACE, METAFIELD_TYPE, Previous};
use crate::shopify::ShopifyError;
use crate::shopify::cancel::FULFILLMENTS_READ;
use crate::shopify::ops::MetafieldInput;
use crate::shopify::orders::UpdatedOrder;
use crate::sweep::wake::{CANCEL_FULFILMENTS_TOPIC, Waker, wake};

/// Why a flag the issue names cannot be honoured, or `None`.
fn refused_flag(args: &CancelFulfilmentsArgs) -> Option<&'static str> {
    if args.no_restock {
        return Some(
            "--no-restock: fulfillmentCancel (Admin API 2026-10) takes only the fulfilment's id and has no restock option; Shopify returns the items to stock, as cancelling in the admin does. Cancel without the flag and adjust the inventory in the admin, or cancel those by hand there",
        );
    }
    if args.notify_customer {
        return Some(
            "--notify-customer: fulfillmentCancel (Admin API 2026-10) takes only the fulfilment's id and has no notification option; orderflow can neither send nor suppress one. Cancel without the flag and tell the customer yourself",
        );
    }
    None
}

fn short(gid: &str) -> &str {
    gid.trim_start_matches("gid://shopify/")
}

/// What one order's row says before anything is sent.
struct Planned {
    cancel: Vec<String>,
    records: Vec<crate::rules::decision::FulfilmentRecord>,
    notes: Vec<String>,
    refused: usize,
}

fn plan(judged: &[Judged]) -> Planned {
    let mut p = Planned {
        cancel: Vec::new(),
        records: Vec::new(),
        notes: Vec::new(),
        refused: 0,
    };
    let mut earlier = Vec::new();
    for j in judged {
        match &j.verdict {
            Verdict::Cancel { record } => {
                p.cancel.push(j.id.clone());
                p.records.extend(record.iter().cloned());
            }
            Verdict::Refused(why) => {
                p.refused += 1;
                p.notes.push(format!("{} refused: {why}", short(&j.id)));
            }
            Verdict::Cancelled => earlier.push(short(&j.id)),
        }
    }
    if !earlier.is_empty() {
        p.notes
            .push(format!("cancelled earlier: {}", earlier.join(", ")));
    }
    p
}

async fn one(bulk: &Bulk, waker: Waker<'static>, shop: &ShopDomain, order: &UpdatedOrder) -> Row {
    let read = match bulk.client.order_fulfilments(shop, order.id).await {
        Ok(read) => read,
        Err(e) => {
            let mut row = Row::new(shop, order, "cancel");
            row.done = "failed";
            row.reason = format!("cannot read the order: {e}");
            return row;
        }
    };
    let previous = Previous::read(read.decision.as_deref());
    let judged = cancel::judge(previous.decision(), &read.candidates);
    let mut p = plan(&judged);
    if read.truncated {
        p.notes.push(format!(
            "only the first {FULFILLMENTS_READ} fulfilments were read"
        ));
    }
    if p.cancel.is_empty() {
        let woke = cancel::unrecorded(previous.decision(), &read.candidates);
        let mut row = Row::new(shop, order, if woke { "wake" } else { "nothing" });
        if woke {
            p.notes.push("cancelled earlier, not recorded yet".into());
        } else if p.notes.is_empty() {
            p.notes.push("no fulfilment".into());
        }
        row.reason = p.notes.join("; ");
        if let (true, Some(publisher)) = (woke, &bulk.publisher) {
            match wake(publisher, waker, shop.as_str(), order, false).await {
                Ok(()) => row.done = "woken",
                Err(e) => {
                    row.done = "failed";
                    row.reason = format!("{}; {e}", row.reason);
                }
            }
        }
        return row;
    }
    if let (false, Previous::Unreadable(why)) = (p.records.is_empty(), &previous) {
        let mut row = Row::new(shop, order, "nothing");
        p.notes.insert(
            0,
            format!("refused: the decision metafield is unreadable ({why}) and is not overwritten"),
        );
        row.reason = p.notes.join("; ");
        return row;
    }
    let planned = format!(
        "cancel {}",
        p.cancel
            .iter()
            .map(|id| short(id))
            .collect::<Vec<_>>()
            .join("+")
    );
    let mut row = Row::new(shop, order, planned);
    row.reason = p.notes.join("; ");
    let Some(publisher) = &bulk.publisher else {
        return row;
    };
    let error = apply(bulk, shop, &read.order, previous.decision(), &p).await;
    // Woken even after a partial cancellation: what was cancelled must be recorded.
    let woke = wake(publisher, waker, shop.as_str(), order, false).await;
    let failure = match (error, woke) {
        (None, Ok(())) => {
            row.done = "cancelled";
            return row;
        }
        (Some(e), _) => e,
        (None, Err(e)) => format!("cancelled, but the wake-up failed: {e}"),
    };
    row.done = "failed";
    row.reason = if row.reason.is_empty() {
        failure
    } else {
        format!("{failure}; {}", row.reason)
    };
    row
}

/// Records, then cancels; the first error, if any (what came before it stays done).
async fn apply(
    bulk: &Bulk,
    shop: &ShopDomain,
    order_gid: &str,
    previous: Option<&crate::rules::decision::Decision>,
    p: &Planned,
) -> Option<String> {
    if !p.records.is_empty() {
        let decision = cancel::with_records(previous, &p.records, SystemClock.now());
        let input = MetafieldInput {
            owner_id: order_gid.to_owned(),
            namespace: METAFIELD_NAMESPACE.to_owned(),
            key: METAFIELD_KEY.to_owned(),
            kind: METAFIELD_TYPE.to_owned(),
            value: decision.to_json(),
        };
        if let Err(e) = bulk.client.set_metafields(shop, &[input]).await {
            return Some(format!(
                "cannot record the fulfilments first, nothing cancelled: {e}"
            ));
        }
    }
    for id in &p.cancel {
        match bulk.client.cancel_fulfillment(shop, id).await {
            Ok(_) => {}
            // Cancelled meanwhile (by a person, or a run that stopped before reading the answer).
            Err(ShopifyError::UserErrors { errors, .. })
                if errors
                    .iter()
                    .any(|e| e.message.contains("already been cancelled")) => {}
            Err(e) => return Some(format!("{}: {e}", short(id))),
        }
    }
    None
}

pub async fn run(args: CancelFulfilmentsArgs) -> anyhow::Result<i32> {
    if let Some(why) = refused_flag(&args) {
        eprintln!("{why}");
        return Ok(1);
    }
    let bulk = match Bulk::open(&args.config, &args.selection, args.apply).await? {
        Ok(bulk) => bulk,
        Err(code) => return Ok(code),
    };
    let waker = bulk.waker(CANCEL_FULFILMENTS_TOPIC);
    let selected = bulk.select().await;
    let read_points = crate::shopify::cost::estimate(
        &crate::shopify::documents::ORDER_FULFILLMENTS,
        &serde_json::json!({ "id": "gid://shopify/Order/1" }),
    );
    if args.apply {
        eprintln!(
            "{}",
            bulk.estimate(selected.orders.len(), read_points, None)
        );
    }
    let bulk_ref = &bulk;
    let ran = bulk
        .each(&selected.orders, |shop, order| {
            one(bulk_ref, waker, shop, order)
        })
        .await;
    let interrupted = ran.interrupted.then_some(selected.orders.len());
    let (rows, failed) = bulk.rows_with_missing(&selected, ran, "cancel");
    let took = bulk.took_ms();
    let planned: Vec<&Row> = rows
        .iter()
        .filter(|r| r.planned.starts_with("cancel "))
        .collect();
    let fulfilments: usize = planned
        .iter()
        .map(|r| r.planned.matches('+').count() + 1)
        .sum();
    let refused = rows
        .iter()
        .map(|r| r.reason.matches(" refused: ").count())
        .sum::<usize>();
    let summary = if args.apply {
        let done = rows.iter().filter(|r| r.done == "cancelled").count();
        let woken = rows.iter().filter(|r| r.done == "woken").count();
        let not = rows.iter().filter(|r| r.done == "failed").count();
        format!(
            "cancelled: fulfilments of {done} order(s), {refused} fulfilment(s) refused, {woken} woken, {not} failed; took {took} ms"
        )
    } else {
        // An --apply reads every order again, writes the decision of each order with a person's
        // fulfilment (counted for every planned order: an upper bound) and cancels each
        // fulfilment planned.
        let writes = planned.len();
        format!(
            "dry run: {fulfilments} fulfilment(s) of {} order(s) would be cancelled, {refused} refused; pass --apply\n{}",
            planned.len(),
            bulk.estimate(
                selected.orders.len(),
                read_points,
                Some(fulfilments + writes)
            )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::cancel::Verdict;

    #[test]
    fn the_row_names_what_is_cancelled_refused_and_done_before() {
        let judged = [
            Judged {
                id: "gid://shopify/Fulfillment/1".into(),
                verdict: Verdict::Cancel { record: None },
            },
            Judged {
                id: "gid://shopify/Fulfillment/2".into(),
                verdict: Verdict::Refused("shipped: in transit".into()),
            },
            Judged {
                id: "gid://shopify/Fulfillment/3".into(),
                verdict: Verdict::Cancelled,
            },
        ];
        let p = plan(&judged);
        assert_eq!(p.cancel, ["gid://shopify/Fulfillment/1"]);
        assert!(p.records.is_empty());
        assert_eq!(p.refused, 1);
        assert_eq!(
            p.notes,
            [
                "Fulfillment/2 refused: shipped: in transit",
                "cancelled earlier: Fulfillment/3"
            ]
        );
    }
}
