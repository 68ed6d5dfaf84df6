//! Holds on one fulfilment order: which of ours are wanted, which to release, which to place.
//!
//! Fraud holds are placed while the risk is flagged and kept until Shopify recommends ACCEPT
//! (with `release_on_accept`) or a person releases them. Processing holds are wanted until the
//! cut-off of the latest ship-by among the lines still to fulfil that need time; a fraud hold
//! blocks a new one. A hold a person released is never wanted again on that fulfilment order.

use super::enums::{FulfillmentHoldReason, FulfillmentOrderAction};
use super::line::Classified;
use super::model::{FulfillmentOrder, Hold};
use super::plan::{Action, FRAUD_HANDLE, PROCESSING_HANDLE, Step, day};
use super::work::{Cx, Work};
use crate::rules::decision::{HoldKey, HoldRecord};

/// What the holds of one fulfilment order will be once the plan is applied.
pub(super) struct Held<'a> {
    pub want_fraud: bool,
    /// Some hold of ours stays or is placed.
    pub ours_after: bool,
    /// Holds of ours this plan releases.
    pub releasing: bool,
    pub foreign: Option<&'a Hold>,
}

pub(super) fn plan_holds<'a>(
    cx: &Cx<'a>,
    fo: &'a FulfillmentOrder,
    fo_lines: &[usize],
    w: &mut Work,
) -> Held<'a> {
    let has_ours = |handle: &str| fo.our_holds().any(|h| h.handle.as_deref() == Some(handle));
    let fraud = cx.fraud;

    let fraud_raw = fo.is_active()
        && !fraud.released_by_accept
        && (fraud.flag.is_some() || has_ours(FRAUD_HANDLE));
    let want_fraud = fraud_raw && !person_released(cx, fo, FRAUD_HANDLE, fraud_raw, w);

    let fo_ship = fo_lines
        .iter()
        .map(|&i| &cx.lines[i])
        .filter(|c| c.remaining() > 0 && c.days > 0)
        .max_by_key(|c| (c.ship_by_at, c.days));
    let proc_raw = cx.rules.processing.hold
        && fo.is_active()
        && fo_ship.is_some_and(|c| cx.now < c.ship_by_at);
    let want_proc = proc_raw
        && !person_released(cx, fo, PROCESSING_HANDLE, proc_raw, w)
        && (!want_fraud || has_ours(PROCESSING_HANDLE));

    let desired: Vec<&str> = [(want_fraud, FRAUD_HANDLE), (want_proc, PROCESSING_HANDLE)]
        .into_iter()
        .filter_map(|(wanted, h)| wanted.then_some(h))
        .collect();

    let unwanted: Vec<&Hold> = fo
        .our_holds()
        .filter(|h| !desired.contains(&h.handle.as_deref().unwrap_or("")))
        .collect();
    if let Some(first) = unwanted.first() {
        let (rule, reason) = release_reason(cx, first.handle.as_deref(), fo_ship);
        w.releases.push(Step {
            action: Action::Release {
                fulfillment_order: fo.id.clone(),
                hold_ids: unwanted.iter().map(|h| h.id.clone()).collect(),
            },
            rule,
            reason,
        });
    }

    let foreign = fo.foreign_holds().next();
    let mut ours_after = false;
    for &handle in &desired {
        let (rule, reason) = match (handle, fo_ship) {
            (PROCESSING_HANDLE, Some(c)) => (
                c.days_rule.to_owned(),
                format!("{}: ships by {}", c.days_rule, day(c.ship_by)),
            ),
            _ => fraud.flag.clone().unwrap_or_else(|| {
                (
                    "fraud".to_owned(),
                    "our fraud hold stays until the order is accepted".to_owned(),
                )
            }),
        };
        let placeable = if has_ours(handle) {
            false
        } else if let Some(h) = foreign {
            w.notes.push(format!(
                "{} is held by someone else ({}): left alone, no {handle} hold placed",
                fo.id, h.reason
            ));
            continue;
        } else if !fo.supports(FulfillmentOrderAction::Hold) {
            w.notes.push(format!(
                "{} ({}) does not offer HOLD: the {handle} hold cannot be placed",
                fo.id, fo.status
            ));
            continue;
        } else {
            true
        };
        ours_after = true;
        w.after_holds.push(HoldRecord {
            fulfillment_order: fo.id.clone(),
            handle: handle.to_owned(),
            rule: rule.clone(),
        });
        if let (PROCESSING_HANDLE, Some(c)) = (handle, fo_ship) {
            w.wake_at(c.ship_by_at, &rule, || {
                format!(
                    "ship-by {} reached: release the processing hold",
                    day(c.ship_by)
                )
            });
        }
        if placeable {
            let (hold_reason, notify) = if handle == FRAUD_HANDLE {
                (
                    FulfillmentHoldReason::HighRiskOfFraud,
                    cx.rules.fraud.notify_merchant,
                )
            } else {
                (FulfillmentHoldReason::Other, false)
            };
            w.holds.push(Step {
                action: Action::Hold {
                    fulfillment_order: fo.id.clone(),
                    handle: handle.to_owned(),
                    reason: hold_reason,
                    notes: reason.clone(),
                    notify_merchant: notify,
                },
                rule,
                reason,
            });
        }
    }
    Held {
        want_fraud,
        ours_after,
        releasing: !unwanted.is_empty(),
        foreign,
    }
}

/// A hold the previous decision says we placed, that we would still want, and that is gone:
/// a person released it and their decision wins. Only a hold still wanted counts, so one we
/// released ourselves just before a crash is simply gone.
fn person_released(
    cx: &Cx<'_>,
    fo: &FulfillmentOrder,
    handle: &str,
    wanted: bool,
    w: &mut Work,
) -> bool {
    let key = HoldKey {
        fulfillment_order: fo.id.clone(),
        handle: handle.to_owned(),
    };
    if w.released_by_person.contains(&key) {
        return true;
    }
    let gone = wanted
        && fo.is_active()
        && !fo.our_holds().any(|h| h.handle.as_deref() == Some(handle))
        && cx.prev.is_some_and(|d| d.holds_handle(&fo.id, handle));
    if gone {
        w.released_by_person.insert(key);
    }
    gone
}

fn release_reason(
    cx: &Cx<'_>,
    handle: Option<&str>,
    fo_ship: Option<&Classified<'_>>,
) -> (String, String) {
    match handle {
        Some(FRAUD_HANDLE) if cx.fraud.released_by_accept => (
            "fraud.release_on_accept".to_owned(),
            "Shopify now recommends ACCEPT: release our fraud hold".to_owned(),
        ),
        Some(PROCESSING_HANDLE) if !cx.rules.processing.hold => (
            "processing.hold".to_owned(),
            "processing holds are off (processing.hold = false)".to_owned(),
        ),
        Some(PROCESSING_HANDLE) => match fo_ship {
            Some(c) => (
                c.days_rule.to_owned(),
                format!(
                    "ship-by {} reached: release the processing hold",
                    day(c.ship_by)
                ),
            ),
            None => (
                "processing".to_owned(),
                "no line left needs processing time: release the processing hold".to_owned(),
            ),
        },
        other => (
            "orderflow".to_owned(),
            format!(
                "no rule wants our hold {} any more",
                other.unwrap_or("(no handle)")
            ),
        ),
    }
}
