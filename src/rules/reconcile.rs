//! `plan`: the desired state of one order under its shop's rules, diffed against the snapshot.
//!
//! Precedence, highest first:
//! 1. cancelled, closed and (by default) test orders: nothing at all;
//! 2. a fraud hold blocks every fulfilment and every new processing hold; a pending risk
//!    assessment blocks fulfilment until it is done;
//! 3. a fulfilment order held by anyone else is left alone (we may still release our own holds
//!    on it: releasing only ours never frees it);
//! 4. processing holds keep a fulfilment order until the cut-off of its ship-by day;
//! 5. auto lines of an OPEN fulfilment order offering CREATE_FULFILLMENT are fulfilled once their
//!    own ship-by has come (at once for `days = 0`); manual lines never are.
//!
//! A hold of ours that the previous decision recorded and that is gone was released by a
//! person: it is never placed again, and the decision says so. A line whose fulfilment of ours
//! a person cancelled is taken back: manual from then on ([`super::taken_back`]).

use std::collections::BTreeSet;

use jiff::Timestamp;

use super::archive::{self, ARCHIVE_RULE, Verdict};
use super::capture;
use super::deadline::deadline_step;
use super::decision::{self, Decision, Previous};
use super::fraud::Fraud;
use super::fulfil::plan_fulfilment;
use super::holds::plan_holds;
use super::line::{Classified, classify};
use super::model::Order;
use super::plan::{Action, FRAUD_HANDLE, FraudVerdict, LineDecision, Plan, ShipBy, Step};
use super::policy::{FulfilmentAction, Rules};
use super::tags::tag_steps;
use super::taken_back::{self, TAKEN_BACK_RULE};
use super::work::{Cx, Work};

/// The plan for `order` under `rules` at `now`. Pure: same inputs, same plan.
pub fn plan(order: &Order, rules: &Rules, now: Timestamp) -> Plan {
    let mut p = Plan {
        order_id: order.id.clone(),
        order_name: order.name.clone(),
        time_zone: rules.zone_name().to_owned(),
        zone: rules.processing.calendar.zone().clone(),
        planned_at: now,
        skipped: skip_reason(order, rules),
        fraud: FraudVerdict::Off,
        ship_by: None,
        payment: capture::Verdict::NoAuthorization,
        lines: Vec::new(),
        notes: Vec::new(),
        steps: Vec::new(),
    };
    if p.skipped.is_some() {
        if order.closed && !order.cancelled {
            record_close(order, rules, now, &mut p);
        }
        return p;
    }
    let previous = Previous::read(order.decision_metafield.as_deref());
    if let Previous::Unreadable(why) = &previous {
        p.notes.push(format!(
            "the decision recorded on the order could not be read ({why}); it is rewritten"
        ));
    }
    let prev = previous.decision();
    let mut lines = classify(order, rules, order.paid_at.unwrap_or(order.processed_at));
    let resolved = taken_back::resolve(order, prev);
    for c in &mut lines {
        if resolved.is_taken_back(&c.line.id) {
            c.action = FulfilmentAction::Manual;
            c.action_rule = TAKEN_BACK_RULE;
            c.taken_back = true;
        }
    }
    p.notes.extend(resolved.notes.iter().cloned());
    p.ship_by = lines
        .iter()
        .max_by_key(|c| (c.ship_by, c.days))
        .map(|c| ShipBy {
            date: c.ship_by,
            at: c.ship_by_at,
            days: c.days,
            rule: c.days_rule.to_owned(),
        });
    let fraud = Fraud::judge(order, rules);
    p.fraud = fraud.verdict.clone();

    let cx = Cx {
        rules,
        now,
        lines: &lines,
        fraud: &fraud,
        prev,
    };
    let mut w = Work {
        releases: Vec::new(),
        holds: Vec::new(),
        fulfils: Vec::new(),
        fulfil_records: Vec::new(),
        after_holds: Vec::new(),
        // People's releases stay recorded while their fulfilment order exists.
        released_by_person: prev
            .map(|d| {
                d.released_by_person
                    .iter()
                    .filter(|k| {
                        order
                            .fulfillment_orders
                            .iter()
                            .any(|fo| fo.id == k.fulfillment_order)
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default(),
        outcomes: vec![String::new(); lines.len()],
        notes: std::mem::take(&mut p.notes),
        wake: None,
    };
    if fraud.pending {
        w.wake_at(
            now.saturating_add(rules.fraud.pending_recheck)
                .unwrap_or(now),
            "fraud.pending_recheck_minutes",
            || "the risk assessment is still pending: look again".to_owned(),
        );
    }
    for (fi, fo) in order.fulfillment_orders.iter().enumerate() {
        let fo_lines: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].fo == Some(fi))
            .collect();
        let held = plan_holds(&cx, fo, &fo_lines, &mut w);
        plan_fulfilment(&cx, fo, &fo_lines, &held, &mut w);
    }

    let verdict = archive::judge(order, &rules.archive, prev, now);
    let mut closed_by_orderflow_at = prev.and_then(|d| d.closed_by_orderflow_at);
    match &verdict {
        Verdict::ReopenedByPerson(at) => w.notes.push(format!(
            "a person reopened the order orderflow closed on {at}: the person's decision wins, it is not closed again"
        )),
        Verdict::Wait(at) => w.wake_at(*at, "archive.after", || {
            "the order is finished: close it once archive.after has passed".to_owned()
        }),
        Verdict::Close => closed_by_orderflow_at = Some(now),
        Verdict::Off | Verdict::NotFinished(_) => {}
    }

    p.steps.append(&mut w.releases);
    p.steps.append(&mut w.holds);
    for k in &w.released_by_person {
        if prev.is_none_or(|d| !d.released_by_person.contains(k)) {
            w.notes.push(format!(
                "a person released our {} hold on {}: the person's decision wins, it is not placed again",
                k.handle, k.fulfillment_order
            ));
        }
    }
    let mut fired: BTreeSet<&str> = lines
        .iter()
        .flat_map(|c| [c.action_rule, c.days_rule])
        .collect();
    if let Some((rule, _)) = &fraud.flag {
        fired.insert(rule);
    }
    w.after_holds.sort();
    let decision = Decision {
        version: decision::VERSION,
        ship_by: p.ship_by.as_ref().map(|s| s.date),
        ship_by_at: p.ship_by.as_ref().map(|s| s.at),
        holds: w.after_holds.clone(),
        released_by_person: std::mem::take(&mut w.released_by_person)
            .into_iter()
            .collect(),
        rules: fired.into_iter().map(str::to_owned).collect(),
        planned_at: now,
        fulfilments: resolved
            .records
            .into_iter()
            .chain(std::mem::take(&mut w.fulfil_records))
            .collect(),
        taken_back_by_person: resolved.taken_back.into_iter().collect(),
        closed_by_orderflow_at,
    };
    // A plan that closes the order records it after the close (see `archive`).
    let mut decision_step = None;
    if prev.is_none_or(|d| !d.same_as(&decision)) {
        decision_step = Some(Step {
            action: Action::SetDecision { decision },
            rule: "decision".to_owned(),
            reason: match prev {
                Some(_) => "the decision changed: record it on the order".to_owned(),
                None => "record the ship-by date and the reasons on the order".to_owned(),
            },
        });
    }
    if verdict != Verdict::Close {
        p.steps.extend(decision_step.take());
    }
    // After the decision: it records the fulfilments about to be created (see `taken_back`).
    if let Some(at) = p.ship_by.as_ref().map(|s| s.at)
        && rules.processing.set_deadline
        && let Some(step) = deadline_step(order, at, &w.fulfils)
    {
        w.fulfils.push(step);
    }
    p.steps.append(&mut w.fulfils);
    // After the fulfilments: `on_fulfilment` may capture because of one this plan creates.
    p.payment = plan_capture(order, rules, now, &mut w, &mut p.steps);
    tag_steps(order, rules, &lines, &w.after_holds, &mut p);
    if verdict == Verdict::Close {
        p.steps.push(Step {
            action: Action::Close,
            rule: ARCHIVE_RULE.to_owned(),
            reason: format!(
                "paid, fully fulfilled, nothing held, and archive.after ({:#}) has passed",
                rules.archive.after
            ),
        });
        p.steps.extend(decision_step.take());
    }
    if let Some((at, rule, reason)) = w.wake.take() {
        p.steps.push(Step {
            action: Action::WakeUp { at },
            rule,
            reason,
        });
    }
    p.notes = w.notes;
    p.lines = lines
        .iter()
        .zip(w.outcomes)
        .map(|(c, outcome)| match outcome.is_empty() {
            true => line_decision(order, c, "not in any fulfilment order".to_owned()),
            false => line_decision(order, c, outcome),
        })
        .collect();
    p
}

/// The payment verdict, its capture steps and its wake-up before the authorization expires.
fn plan_capture(
    order: &Order,
    rules: &Rules,
    now: Timestamp,
    w: &mut Work,
    steps: &mut Vec<Step>,
) -> capture::Verdict {
    let ours_now = order
        .fulfillment_orders
        .iter()
        .flat_map(|fo| fo.our_holds())
        .any(|h| h.handle.as_deref() == Some(FRAUD_HANDLE));
    let ours_after = w.after_holds.iter().any(|h| h.handle == FRAUD_HANDLE);
    let facts = capture::Facts {
        fraud_held: ours_now || ours_after,
        fulfilled: order.fulfillments.iter().any(|f| !f.is_cancelled())
            || steps
                .iter()
                .any(|s| matches!(s.action, Action::Fulfill { .. })),
    };
    let verdict = capture::judge(order, &rules.payment, facts, now);
    // Our fraud hold goes in this plan: capture on a fresh snapshot, as fulfilment after a
    // release does, rather than wait for the next event.
    if ours_now && !ours_after {
        let released = capture::Facts {
            fraud_held: false,
            ..facts
        };
        if let capture::Verdict::Capture { .. } =
            capture::judge(order, &rules.payment, released, now)
        {
            w.wake_at(now, capture::CAPTURE_RULE, || {
                "our fraud hold is released: capture on a fresh look".to_owned()
            });
        }
    }
    match &verdict {
        capture::Verdict::Capture {
            captures,
            rule,
            reason,
        } => {
            for c in captures {
                steps.push(Step {
                    action: Action::Capture {
                        parent_transaction: c.parent_transaction.clone(),
                        amount: c.amount,
                        currency: c.currency.clone(),
                        final_capture: c.final_capture,
                    },
                    rule: rule.clone(),
                    reason: reason.clone(),
                });
            }
        }
        capture::Verdict::Wait {
            capture_by: Some(at),
            ..
        } => w.wake_at(*at, capture::EXPIRY_RULE, || {
            "the authorization expires soon: capture it before it does".to_owned()
        }),
        _ => {}
    }
    verdict
}

/// A closed order whose decision lacks our close, which the policy would have closed: record
/// it (our close whose record a crash lost), so a later reopening is seen as a person's.
fn record_close(order: &Order, rules: &Rules, now: Timestamp, p: &mut Plan) {
    let previous = Previous::read(order.decision_metafield.as_deref());
    let Some(prev) = previous.decision() else {
        return;
    };
    if let Some(at) = archive::record_for_closed(order, &rules.archive, Some(prev), now) {
        p.steps.push(Step {
            action: Action::SetDecision {
                decision: Decision {
                    closed_by_orderflow_at: Some(at),
                    planned_at: now,
                    ..prev.clone()
                },
            },
            rule: ARCHIVE_RULE.to_owned(),
            reason:
                "the order is closed as archive wants it: record that, so a reopening is a person's"
                    .to_owned(),
        });
    }
}

fn skip_reason(order: &Order, rules: &Rules) -> Option<String> {
    if order.cancelled {
        Some("the order is cancelled".to_owned())
    } else if order.closed {
        Some("the order is closed".to_owned())
    } else if order.test && rules.fulfilment.skip_test_orders {
        Some("it is a test order (fulfilment.skip_test_orders = true)".to_owned())
    } else {
        None
    }
}

fn line_decision(order: &Order, c: &Classified<'_>, outcome: String) -> LineDecision {
    LineDecision {
        fulfillment_order: c.fo.map(|i| order.fulfillment_orders[i].id.clone()),
        line_item: c.line.id.clone(),
        name: c.line.name.clone(),
        remaining: c.remaining(),
        action: c.action,
        action_rule: c.action_rule.to_owned(),
        days: c.days,
        days_rule: c.days_rule.to_owned(),
        ship_by: c.ship_by,
        outcome,
    }
}
