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
//! person: it is never placed again, and the decision says so.

use std::collections::BTreeSet;

use jiff::Timestamp;

use super::config::{FulfilmentAction, Rules};
use super::decision::{self, Decision, HoldKey, HoldRecord, Previous};
use super::enums::{
    FulfillmentHoldReason, FulfillmentOrderAction, FulfillmentOrderRequestStatus,
    FulfillmentOrderStatus, RiskRecommendation,
};
use super::line::{Classified, classify};
use super::model::{FulfillmentOrder, Order};
use super::plan::{
    Action, FRAUD_HANDLE, FraudVerdict, FulfillLine, LineDecision, MAX_LINES_PER_FULFILMENT,
    PROCESSING_HANDLE, Plan, ShipBy, Step, day,
};

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
        lines: Vec::new(),
        notes: Vec::new(),
        steps: Vec::new(),
    };
    if p.skipped.is_some() {
        return p;
    }
    let previous = Previous::read(order.decision_metafield.as_deref());
    if let Previous::Unreadable(why) = &previous {
        p.notes.push(format!(
            "the decision recorded on the order could not be read ({why}); it is rewritten"
        ));
    }
    let prev = previous.decision();
    let start = order.paid_at.unwrap_or(order.processed_at);
    let lines = classify(order, rules, start);
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
    let mut outcomes: Vec<String> = vec![String::new(); lines.len()];
    let mut after_holds: Vec<HoldRecord> = Vec::new();
    let mut released_by_person: BTreeSet<HoldKey> = BTreeSet::new();
    if let Some(d) = prev {
        let present = |k: &HoldKey| {
            order
                .fulfillment_orders
                .iter()
                .any(|fo| fo.id == k.fulfillment_order)
        };
        released_by_person.extend(d.released_by_person.iter().filter(|k| present(k)).cloned());
    }
    let (mut releases, mut holds, mut fulfils) = (Vec::new(), Vec::new(), Vec::new());
    let mut wake: Option<(Timestamp, String, String)> = None;
    let mut wake_at = |at: Timestamp, rule: &str, reason: String| {
        if wake.as_ref().is_none_or(|(w, _, _)| at < *w) {
            wake = Some((at, rule.to_owned(), reason));
        }
    };
    if fraud.pending {
        wake_at(
            now.saturating_add(rules.fraud.pending_recheck)
                .unwrap_or(now),
            "fraud.pending_recheck_minutes",
            "the risk assessment is still pending: look again".to_owned(),
        );
    }

    for (fi, fo) in order.fulfillment_orders.iter().enumerate() {
        let has_ours = |handle: &str| fo.our_holds().any(|h| h.handle.as_deref() == Some(handle));
        let mut person_released = |handle: &str, wanted: bool| {
            let key = HoldKey {
                fulfillment_order: fo.id.clone(),
                handle: handle.to_owned(),
            };
            if released_by_person.contains(&key) {
                return true;
            }
            // Only a hold we would still want counts: one we released ourselves just before
            // a crash is simply gone.
            let gone = wanted
                && fo.is_active()
                && !has_ours(handle)
                && prev.is_some_and(|d| d.holds_handle(&fo.id, handle));
            if gone {
                released_by_person.insert(key);
            }
            gone
        };
        let fo_lines: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].fo == Some(fi))
            .collect();

        // Fraud: placed while flagged, kept until ACCEPT (or a person) releases it.
        let fraud_raw = fo.is_active()
            && !fraud.released_by_accept
            && (fraud.flag.is_some() || has_ours(FRAUD_HANDLE));
        let want_fraud = fraud_raw && !person_released(FRAUD_HANDLE, fraud_raw);

        // Processing: the latest ship-by of the lines still to fulfil that need time.
        let fo_ship = fo_lines
            .iter()
            .map(|&i| &lines[i])
            .filter(|c| c.remaining() > 0 && c.days > 0)
            .max_by_key(|c| (c.ship_by_at, c.days));
        let proc_raw =
            rules.processing.hold && fo.is_active() && fo_ship.is_some_and(|c| now < c.ship_by_at);
        let want_proc = proc_raw
            && !person_released(PROCESSING_HANDLE, proc_raw)
            && (!want_fraud || has_ours(PROCESSING_HANDLE));

        let desired: Vec<&str> = [(want_fraud, FRAUD_HANDLE), (want_proc, PROCESSING_HANDLE)]
            .into_iter()
            .filter_map(|(w, h)| w.then_some(h))
            .collect();

        // Release ours that no rule wants any more.
        let unwanted: Vec<_> = fo
            .our_holds()
            .filter(|h| !desired.contains(&h.handle.as_deref().unwrap_or("")))
            .collect();
        if !unwanted.is_empty() {
            let (rule, reason) =
                release_reason(unwanted[0].handle.as_deref(), &fraud, fo_ship, rules);
            releases.push(Step {
                action: Action::Release {
                    fulfillment_order: fo.id.clone(),
                    hold_ids: unwanted.iter().map(|h| h.id.clone()).collect(),
                },
                rule,
                reason,
            });
        }

        // Place what is missing, where Shopify lets us and nobody else holds it.
        let mut placing = false;
        let foreign = fo.foreign_holds().next();
        for &handle in &desired {
            let (rule, reason) = if handle == FRAUD_HANDLE {
                fraud.flag.clone().unwrap_or_else(|| {
                    (
                        "fraud".to_owned(),
                        "our fraud hold stays until the order is accepted".to_owned(),
                    )
                })
            } else {
                let c = fo_ship.expect("a processing hold is wanted only with a ship-by");
                (
                    c.days_rule.to_owned(),
                    format!("{}: ships by {}", c.days_rule, day(c.ship_by)),
                )
            };
            if has_ours(handle) {
                after_holds.push(record(fo, handle, &rule));
                if handle == PROCESSING_HANDLE {
                    let c = fo_ship.expect("wanted with a ship-by");
                    wake_at(
                        c.ship_by_at,
                        &rule,
                        format!(
                            "ship-by {} reached: release the processing hold",
                            day(c.ship_by)
                        ),
                    );
                }
                continue;
            }
            if let Some(h) = foreign {
                p.notes.push(format!(
                    "{} is held by someone else ({}): left alone, no {handle} hold placed",
                    fo.id, h.reason
                ));
                continue;
            }
            if !fo.supports(FulfillmentOrderAction::Hold) {
                p.notes.push(format!(
                    "{} ({}) does not offer HOLD: the {handle} hold cannot be placed",
                    fo.id, fo.status
                ));
                continue;
            }
            placing = true;
            after_holds.push(record(fo, handle, &rule));
            let (hold_reason, notify) = if handle == FRAUD_HANDLE {
                (
                    FulfillmentHoldReason::HighRiskOfFraud,
                    rules.fraud.notify_merchant,
                )
            } else {
                let c = fo_ship.expect("wanted with a ship-by");
                wake_at(
                    c.ship_by_at,
                    &rule,
                    format!(
                        "ship-by {} reached: release the processing hold",
                        day(c.ship_by)
                    ),
                );
                (FulfillmentHoldReason::Other, false)
            };
            holds.push(Step {
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

        // Fulfil the auto lines that are free to go.
        let blocked: Option<String> = if want_fraud {
            Some("blocked by the fraud hold".to_owned())
        } else if fraud.pending {
            Some("waits for the risk assessment".to_owned())
        } else if let Some(h) = foreign {
            Some(format!("held by someone else ({})", h.reason))
        } else if placing || !desired.is_empty() {
            Some("held until its ship-by".to_owned())
        } else if !unwanted.is_empty() {
            Some("hold released now; fulfilled on the next look".to_owned())
        } else if fo.status != FulfillmentOrderStatus::Open
            || !fo.supports(FulfillmentOrderAction::CreateFulfillment)
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
        for &i in &fo_lines {
            let c = &lines[i];
            outcomes[i] = match (c.action, c.remaining()) {
                (_, 0) => "nothing left to fulfil".to_owned(),
                (FulfilmentAction::Manual, _) => "left for a person".to_owned(),
                (FulfilmentAction::Auto, _) => match &blocked {
                    Some(why) => why.clone(),
                    None if c.days == 0 || now >= c.ship_by_at => {
                        ready.push(i);
                        "fulfilled now".to_owned()
                    }
                    None => {
                        wake_at(
                            c.ship_by_at,
                            c.days_rule,
                            format!(
                                "ship-by {} reached: fulfil the waiting lines",
                                day(c.ship_by)
                            ),
                        );
                        format!("waits for its ship-by, {}", day(c.ship_by))
                    }
                },
            };
        }
        if !unwanted.is_empty()
            && desired.is_empty()
            && foreign.is_none()
            && fo_lines
                .iter()
                .any(|&i| lines[i].action == FulfilmentAction::Auto && lines[i].remaining() > 0)
        {
            wake_at(
                now,
                "fulfilment",
                "fulfil the released lines against the order's fresh state".to_owned(),
            );
        }
        for chunk in ready.chunks(MAX_LINES_PER_FULFILMENT) {
            let rules_used: BTreeSet<&str> = chunk.iter().map(|&i| lines[i].action_rule).collect();
            let names: Vec<&str> = chunk.iter().map(|&i| lines[i].line.name.as_str()).collect();
            fulfils.push(Step {
                action: Action::Fulfill {
                    fulfillment_order: fo.id.clone(),
                    lines: chunk
                        .iter()
                        .map(|&i| {
                            let c = &lines[i];
                            let fo_line = c.fo_line.expect("fulfilment-order lines only");
                            FulfillLine {
                                id: fo_line.id.clone(),
                                quantity: fo_line.remaining_quantity,
                            }
                        })
                        .collect(),
                    notify_customer: rules.fulfilment.notify_customer,
                },
                rule: rules_used.into_iter().collect::<Vec<_>>().join(", "),
                reason: format!("auto lines, nothing holds them: {}", summarise(&names)),
            });
        }
    }
    for (i, c) in lines.iter().enumerate() {
        if c.fo.is_none() {
            outcomes[i] = "not in any fulfilment order".to_owned();
        }
    }

    p.steps.extend(releases);
    p.steps.extend(holds);
    p.steps.extend(fulfils);
    tag_steps(order, rules, &lines, &after_holds, &mut p);

    let mut fired: BTreeSet<String> = lines
        .iter()
        .flat_map(|c| [c.action_rule.to_owned(), c.days_rule.to_owned()])
        .collect();
    if let Some((rule, _)) = &fraud.flag {
        fired.insert(rule.clone());
    }
    after_holds.sort();
    for k in &released_by_person {
        if prev.is_none_or(|d| !d.released_by_person.contains(k)) {
            p.notes.push(format!(
                "a person released our {} hold on {}: the person's decision wins, it is not placed again",
                k.handle, k.fulfillment_order
            ));
        }
    }
    let decision = Decision {
        version: decision::VERSION,
        ship_by: p.ship_by.as_ref().map(|s| s.date),
        ship_by_at: p.ship_by.as_ref().map(|s| s.at),
        holds: after_holds,
        released_by_person: released_by_person.into_iter().collect(),
        rules: fired.into_iter().collect(),
        planned_at: now,
    };
    if prev.is_none_or(|d| !d.same_as(&decision)) {
        p.steps.push(Step {
            action: Action::SetDecision { decision },
            rule: "decision".to_owned(),
            reason: match prev {
                Some(_) => "the decision changed: record it on the order".to_owned(),
                None => "record the ship-by date and the reasons on the order".to_owned(),
            },
        });
    }
    if let Some((at, rule, reason)) = wake {
        p.steps.push(Step {
            action: Action::WakeUp { at },
            rule,
            reason,
        });
    }
    p.lines = lines
        .iter()
        .zip(outcomes)
        .map(|(c, outcome)| line_decision(order, c, outcome))
        .collect();
    p
}

/// What the risk says for the whole order.
struct Fraud {
    verdict: FraudVerdict,
    /// (rule, reason) when the rules want a fraud hold.
    flag: Option<(String, String)>,
    pending: bool,
    /// ACCEPT with `release_on_accept`: our fraud holds go.
    released_by_accept: bool,
}

impl Fraud {
    fn judge(order: &Order, rules: &Rules) -> Self {
        let f = &rules.fraud;
        let risk = &order.risk;
        let accepted = risk.recommendation == RiskRecommendation::Accept;
        let released_by_accept = f.release_on_accept && accepted;
        let flag = if let Some(level) = risk.assessments.iter().find(|l| f.hold_on_risk.contains(l))
        {
            Some((
                "fraud.hold_on_risk".to_owned(),
                format!("a risk assessment says {level}"),
            ))
        } else if f.hold_on_recommendation.contains(&risk.recommendation) {
            Some((
                "fraud.hold_on_recommendation".to_owned(),
                format!("Shopify recommends {}", risk.recommendation),
            ))
        } else {
            None
        };
        let flag = flag.filter(|_| !released_by_accept);
        let pending = f.enabled() && flag.is_none() && !accepted && risk.is_pending();
        let verdict = match (&flag, pending) {
            (Some((rule, reason)), _) => FraudVerdict::Hold {
                rule: rule.clone(),
                reason: reason.clone(),
            },
            (None, true) => FraudVerdict::Pending,
            _ if released_by_accept => FraudVerdict::Accepted,
            _ if !f.enabled() => FraudVerdict::Off,
            _ => FraudVerdict::Clear,
        };
        Self {
            verdict,
            flag,
            pending,
            released_by_accept,
        }
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

fn release_reason(
    handle: Option<&str>,
    fraud: &Fraud,
    fo_ship: Option<&Classified<'_>>,
    rules: &Rules,
) -> (String, String) {
    match handle {
        Some(FRAUD_HANDLE) if fraud.released_by_accept => (
            "fraud.release_on_accept".to_owned(),
            "Shopify now recommends ACCEPT: release our fraud hold".to_owned(),
        ),
        Some(PROCESSING_HANDLE) if !rules.processing.hold => (
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

fn record(fo: &FulfillmentOrder, handle: &str, rule: &str) -> HoldRecord {
    HoldRecord {
        fulfillment_order: fo.id.clone(),
        handle: handle.to_owned(),
        rule: rule.to_owned(),
    }
}

fn tag_steps(
    order: &Order,
    rules: &Rules,
    lines: &[Classified<'_>],
    holds: &[HoldRecord],
    p: &mut Plan,
) {
    let manual_wanted = lines.iter().any(|c| {
        c.action == FulfilmentAction::Manual
            && c.remaining() > 0
            && c.fo
                .is_some_and(|i| order.fulfillment_orders[i].is_active())
    });
    let fraud_wanted = holds.iter().any(|h| h.handle == FRAUD_HANDLE);
    let mut add = Vec::new();
    let mut remove = Vec::new();
    for (tag, wanted, rule, why) in [
        (
            &rules.fulfilment.manual_tag,
            manual_wanted,
            "fulfilment.manual_tag",
            "a line waits for a person",
        ),
        (
            &rules.fraud.tag,
            fraud_wanted,
            "fraud.tag",
            "a fraud hold of ours is on the order",
        ),
    ] {
        let Some(tag) = tag else { continue };
        let present = order.tags.iter().any(|t| t.eq_ignore_ascii_case(tag));
        if wanted && !present {
            add.push((tag.clone(), rule, why));
        } else if !wanted && present {
            remove.push((tag.clone(), rule, why));
        }
    }
    if !add.is_empty() {
        p.steps.push(Step {
            action: Action::TagsAdd {
                tags: add.iter().map(|a| a.0.clone()).collect(),
            },
            rule: add.iter().map(|a| a.1).collect::<Vec<_>>().join(", "),
            reason: add.iter().map(|a| a.2).collect::<Vec<_>>().join("; "),
        });
    }
    if !remove.is_empty() {
        p.steps.push(Step {
            action: Action::TagsRemove {
                tags: remove.iter().map(|a| a.0.clone()).collect(),
            },
            rule: remove.iter().map(|a| a.1).collect::<Vec<_>>().join(", "),
            reason: remove
                .iter()
                .map(|a| format!("no longer true that {}", a.2))
                .collect::<Vec<_>>()
                .join("; "),
        });
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

/// "a, b and 3 more".
fn summarise(names: &[&str]) -> String {
    match names.len() {
        0 => String::new(),
        1..=3 => names.join(", "),
        n => format!("{} and {} more", names[..2].join(", "), n - 2),
    }
}
