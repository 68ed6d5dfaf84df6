//! The holds of orderflow's an order keeps once its plan is applied, for
//! `orderflow_holds_outstanding` (see `telemetry::HoldBook` for what the figures mean).

use crate::rules::model::{HOLD_HANDLE_PREFIX, Order};
use crate::rules::plan::{Action, Plan};

/// One reason per hold (`fraud`, `processing`: the handle without orderflow's prefix): the
/// snapshot's holds of ours, less those `plan` releases, plus those it places. `applied` says
/// whether the plan's changes were sent (not in a dry run).
pub fn outstanding<'a>(order: &'a Order, plan: &'a Plan, applied: bool) -> Vec<&'a str> {
    let mut holds: Vec<(&str, &str)> = order
        .fulfillment_orders
        .iter()
        .flat_map(|fo| {
            fo.our_holds().filter_map(move |h| {
                let handle = h.handle.as_deref()?;
                Some((h.id.as_str(), reason(handle)))
            })
        })
        .collect();
    if applied {
        for step in plan.changes() {
            match &step.action {
                Action::Release { hold_ids, .. } => {
                    holds.retain(|(id, _)| !hold_ids.iter().any(|r| r == id));
                }
                Action::Hold { handle, .. } => holds.push(("", reason(handle))),
                _ => {}
            }
        }
    }
    holds.into_iter().map(|(_, reason)| reason).collect()
}

fn reason(handle: &str) -> &str {
    handle.strip_prefix(HOLD_HANDLE_PREFIX).unwrap_or(handle)
}
