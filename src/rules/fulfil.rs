//! Fulfilment of one fulfilment order's auto lines, and what happens to each of its lines.
//! Only an OPEN, unsubmitted fulfilment order offering CREATE_FULFILLMENT with no hold at all
//! is fulfilled; a line waits until its own ship-by (at once for `days = 0`).

use std::collections::BTreeSet;

use super::decision::{FulfilmentRecord, RecordLine};
use super::enums::{FulfillmentOrderAction, FulfillmentOrderRequestStatus, FulfillmentOrderStatus};
use super::holds::Held;
use super::model::FulfillmentOrder;
use super::plan::{Action, FulfillLine, MAX_LINES_PER_FULFILMENT, Step, day};
use super::policy::FulfilmentAction;
use super::work::{Cx, Work};

pub(super) fn plan_fulfilment(
    cx: &Cx<'_>,
    fo: &FulfillmentOrder,
    fo_lines: &[usize],
    held: &Held<'_>,
    w: &mut Work,
) {
    let blocked: Option<String> = if held.want_fraud {
        Some("blocked by the fraud hold".to_owned())
    } else if cx.fraud.pending {
        Some("waits for the risk assessment".to_owned())
    } else if let Some(h) = held.foreign {
        Some(format!("held by someone else ({})", h.reason))
    } else if held.ours_after {
        Some("held until its ship-by".to_owned())
    } else if held.releasing {
        Some("hold released now; fulfilled on the next look".to_owned())
    } else if !matches!(
        fo.status,
        // After a partial fulfilment Shopify moves the order to IN_PROGRESS; its remaining
        // lines can still be fulfilled while CREATE_FULFILLMENT is offered.
        FulfillmentOrderStatus::Open | FulfillmentOrderStatus::InProgress
    ) || !fo.supports(FulfillmentOrderAction::CreateFulfillment)
        // A request status this build cannot read is not UNSUBMITTED: never fulfilled.
        || fo.request_status != FulfillmentOrderRequestStatus::Unsubmitted
    {
        Some(format!(
            "not fulfillable by orderflow (fulfilment order {}, request {})",
            fo.status, fo.request_status
        ))
    } else {
        None
    };
    let mut ready = Vec::new();
    let mut label: Option<(jiff::civil::Date, String)> = None;
    for &i in fo_lines {
        let c = &cx.lines[i];
        w.outcomes[i] = match (c.action, c.remaining()) {
            (_, 0) => "nothing left to fulfil".to_owned(),
            (FulfilmentAction::Manual, _) if c.taken_back => {
                "taken back by a person (they cancelled orderflow's fulfilment): left for a person"
                    .to_owned()
            }
            (FulfilmentAction::Manual, _) => "left for a person".to_owned(),
            (FulfilmentAction::Auto, _) => match &blocked {
                Some(why) => why.clone(),
                None if c.days == 0 || cx.now >= c.ship_by_at => {
                    ready.push(i);
                    "fulfilled now".to_owned()
                }
                None => {
                    w.wake_at(c.ship_by_at, c.days_rule, || {
                        format!(
                            "ship-by {} reached: fulfil the waiting lines",
                            day(c.ship_by)
                        )
                    });
                    // Lines mostly share a ship-by: word each date once.
                    if label.as_ref().is_none_or(|(d, _)| *d != c.ship_by) {
                        label = Some((
                            c.ship_by,
                            format!("waits for its ship-by, {}", day(c.ship_by)),
                        ));
                    }
                    label.as_ref().map_or_else(String::new, |(_, l)| l.clone())
                }
            },
        };
    }
    let auto_left = fo_lines
        .iter()
        .any(|&i| cx.lines[i].action == FulfilmentAction::Auto && cx.lines[i].remaining() > 0);
    if held.releasing && !held.ours_after && held.foreign.is_none() && auto_left {
        // The fulfilment order's state after the release is Shopify's to report: look again
        // rather than guess it.
        w.wake_at(cx.now, "fulfilment", || {
            "fulfil the released lines against the order's fresh state".to_owned()
        });
    }
    for chunk in ready.chunks(MAX_LINES_PER_FULFILMENT) {
        let rules_used: BTreeSet<&str> = chunk.iter().map(|&i| cx.lines[i].action_rule).collect();
        let names: Vec<&str> = chunk
            .iter()
            .map(|&i| cx.lines[i].line.name.as_str())
            .collect();
        let rule = rules_used.into_iter().collect::<Vec<_>>().join(", ");
        let mut lines: Vec<RecordLine> = chunk
            .iter()
            .filter_map(|&i| {
                let c = &cx.lines[i];
                c.fo_line.map(|l| RecordLine {
                    line_item: c.line.id.clone(),
                    quantity: l.remaining_quantity,
                })
            })
            .collect();
        lines.sort();
        w.fulfil_records.push(FulfilmentRecord {
            fulfillment_order: fo.id.clone(),
            fulfillment: None,
            lines,
            rule: rule.clone(),
        });
        w.fulfils.push(Step {
            action: Action::Fulfill {
                fulfillment_order: fo.id.clone(),
                lines: chunk
                    .iter()
                    .filter_map(|&i| cx.lines[i].fo_line)
                    .map(|l| FulfillLine {
                        id: l.id.clone(),
                        quantity: l.remaining_quantity,
                    })
                    .collect(),
                notify_customer: cx.rules.fulfilment.notify_customer,
            },
            rule,
            reason: format!("auto lines, nothing holds them: {}", summarise(&names)),
        });
    }
}

/// "a, b and 3 more".
fn summarise(names: &[&str]) -> String {
    match names.len() {
        0..=3 => names.join(", "),
        n => format!("{} and {} more", names[..2].join(", "), n - 2),
    }
}
