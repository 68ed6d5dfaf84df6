//! Two plans of the same order under two sets of rules, compared: what `orderflow simulate`
//! reports. Pure like the planner: both plans are made by the caller at the same instant, so
//! every difference here comes from the rules and none from the clock.
//!
//! Three kinds of difference matter to a merchant, because they decide what ships and what
//! waits: a line that changes hands (auto ↔ manual), a hold of ours that would be placed or
//! released, and the ship-by date. Steps that only follow from those (tags, the decision
//! metafield, fulfilments, deadlines) are not reported again. Holds are compared by the state
//! each plan leaves the order in, not by its steps, so an order already held by today's rules
//! and one not yet planned give the same answer.

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::Serialize;

use super::model::Order;
use super::plan::{Action, Plan};
use super::policy::FulfilmentAction;

/// How the candidate rules would decide the order differently from today's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// Lines with something left to fulfil whose action changes.
    pub lines: Vec<LineChange>,
    /// Holds of ours that one plan leaves on a fulfilment order and the other does not.
    pub holds: Vec<HoldChange>,
    /// The order's ship-by date, when it moves.
    pub ship_by: Option<ShipByChange>,
    /// Why one plan leaves the order alone and the other does not (e.g. test orders).
    pub skipped: Option<SkipChange>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineChange {
    pub fulfillment_order: Option<String>,
    pub line_item: String,
    pub name: String,
    pub remaining: u32,
    pub from: FulfilmentAction,
    pub to: FulfilmentAction,
    /// The rule that decides the line today, and under the candidate.
    pub current_rule: String,
    pub candidate_rule: String,
}

/// What happens to a hold under the candidate, compared with today's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HoldEffect {
    /// The candidate holds where today's rules do not.
    Placed,
    /// Today's rules hold where the candidate does not.
    Released,
}

impl HoldEffect {
    pub fn as_str(self) -> &'static str {
        match self {
            HoldEffect::Placed => "placed",
            HoldEffect::Released => "released",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HoldChange {
    pub fulfillment_order: String,
    /// `orderflow-fraud` or `orderflow-processing`.
    pub handle: String,
    pub change: HoldEffect,
    /// The rule of each plan's step about this hold (its hold or its release), if it has one.
    pub current_rule: Option<String>,
    pub candidate_rule: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ShipByChange {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub current_rule: Option<String>,
    pub candidate_rule: Option<String>,
}

impl ShipByChange {
    /// Later under the candidate (a date where there was none counts as later).
    pub fn is_later(&self) -> bool {
        match (self.from, self.to) {
            (Some(a), Some(b)) => b > a,
            (None, Some(_)) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkipChange {
    pub current: Option<String>,
    pub candidate: Option<String>,
}

impl Difference {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
            && self.holds.is_empty()
            && self.ship_by.is_none()
            && self.skipped.is_none()
    }

    /// The kinds of change this order has, each once: what the summary counts.
    pub fn kinds(&self) -> Vec<ChangeKind> {
        let mut kinds = Vec::new();
        let mut push = |k| {
            if !kinds.contains(&k) {
                kinds.push(k);
            }
        };
        for l in &self.lines {
            push(match l.to {
                FulfilmentAction::Manual => ChangeKind::LinesToManual,
                FulfilmentAction::Auto => ChangeKind::LinesToAuto,
            });
        }
        for h in &self.holds {
            push(match h.change {
                HoldEffect::Placed => ChangeKind::HoldsPlaced,
                HoldEffect::Released => ChangeKind::HoldsReleased,
            });
        }
        if let Some(s) = &self.ship_by {
            push(match s.is_later() {
                true => ChangeKind::ShipByLater,
                false => ChangeKind::ShipByEarlier,
            });
        }
        if self.skipped.is_some() {
            push(ChangeKind::Skipped);
        }
        kinds.sort();
        kinds
    }
}

/// One kind of change, as the summary counts orders by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    LinesToManual,
    LinesToAuto,
    HoldsPlaced,
    HoldsReleased,
    ShipByLater,
    ShipByEarlier,
    Skipped,
}

impl ChangeKind {
    pub const ALL: &'static [ChangeKind] = &[
        ChangeKind::LinesToManual,
        ChangeKind::LinesToAuto,
        ChangeKind::HoldsPlaced,
        ChangeKind::HoldsReleased,
        ChangeKind::ShipByLater,
        ChangeKind::ShipByEarlier,
        ChangeKind::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::LinesToManual => "lines_to_manual",
            ChangeKind::LinesToAuto => "lines_to_auto",
            ChangeKind::HoldsPlaced => "holds_placed",
            ChangeKind::HoldsReleased => "holds_released",
            ChangeKind::ShipByLater => "ship_by_later",
            ChangeKind::ShipByEarlier => "ship_by_earlier",
            ChangeKind::Skipped => "skipped",
        }
    }
}

/// Orders read and orders changed, by kind (an order with two kinds counts in both).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub orders_read: u64,
    pub orders_changed: u64,
    /// Every kind, zero included, so readers need not guess a missing key.
    pub changed_by_kind: BTreeMap<&'static str, u64>,
}

impl Summary {
    pub fn new() -> Self {
        Self {
            changed_by_kind: ChangeKind::ALL.iter().map(|k| (k.as_str(), 0)).collect(),
            ..Self::default()
        }
    }

    pub fn add(&mut self, d: &Difference) {
        self.orders_read += 1;
        if d.is_empty() {
            return;
        }
        self.orders_changed += 1;
        for k in d.kinds() {
            *self.changed_by_kind.entry(k.as_str()).or_default() += 1;
        }
    }
}

/// What `candidate` decides differently from `current` for `order`; both plans of `order`,
/// made at the same instant.
pub fn compare(order: &Order, current: &Plan, candidate: &Plan) -> Difference {
    let skipped = (current.skipped != candidate.skipped).then(|| SkipChange {
        current: current.skipped.clone(),
        candidate: candidate.skipped.clone(),
    });
    let mut lines = Vec::new();
    for a in &current.lines {
        let Some(b) = candidate
            .lines
            .iter()
            .find(|b| b.line_item == a.line_item && b.fulfillment_order == a.fulfillment_order)
        else {
            continue;
        };
        if a.action != b.action && a.remaining > 0 {
            lines.push(LineChange {
                fulfillment_order: a.fulfillment_order.clone(),
                line_item: a.line_item.clone(),
                name: a.name.clone(),
                remaining: a.remaining,
                from: a.action,
                to: b.action,
                current_rule: a.action_rule.clone(),
                candidate_rule: b.action_rule.clone(),
            });
        }
    }
    let before = held_after(order, current);
    let after = held_after(order, candidate);
    let mut holds = Vec::new();
    for (key, effect) in after
        .keys()
        .filter(|k| !before.contains_key(*k))
        .map(|k| (k, HoldEffect::Placed))
        .chain(
            before
                .keys()
                .filter(|k| !after.contains_key(*k))
                .map(|k| (k, HoldEffect::Released)),
        )
    {
        holds.push(HoldChange {
            fulfillment_order: key.0.clone(),
            handle: key.1.clone(),
            change: effect,
            current_rule: step_rule(order, current, key),
            candidate_rule: step_rule(order, candidate, key),
        });
    }
    let date = |p: &Plan| p.ship_by.as_ref().map(|s| s.date);
    let rule = |p: &Plan| p.ship_by.as_ref().map(|s| s.rule.clone());
    let ship_by = (date(current) != date(candidate)).then(|| ShipByChange {
        from: date(current),
        to: date(candidate),
        current_rule: rule(current),
        candidate_rule: rule(candidate),
    });
    Difference {
        lines,
        holds,
        ship_by,
        skipped,
    }
}

type HoldKey = (String, String);

/// Our holds on each fulfilment order once `plan` is applied: those on the order now, less
/// the ones it releases, plus the ones it places.
fn held_after(order: &Order, plan: &Plan) -> BTreeMap<HoldKey, ()> {
    let released: Vec<&str> = plan
        .steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::Release { hold_ids, .. } => Some(hold_ids.iter().map(String::as_str)),
            _ => None,
        })
        .flatten()
        .collect();
    let mut held = BTreeMap::new();
    for fo in &order.fulfillment_orders {
        for h in fo.our_holds() {
            if let (Some(handle), false) = (&h.handle, released.contains(&h.id.as_str())) {
                held.insert((fo.id.clone(), handle.clone()), ());
            }
        }
    }
    for s in &plan.steps {
        if let Action::Hold {
            fulfillment_order,
            handle,
            ..
        } = &s.action
        {
            held.insert((fulfillment_order.clone(), handle.clone()), ());
        }
    }
    held
}

/// The rule of `plan`'s step that places or releases the hold `key`.
fn step_rule(order: &Order, plan: &Plan, key: &HoldKey) -> Option<String> {
    plan.steps.iter().find_map(|s| match &s.action {
        Action::Hold {
            fulfillment_order,
            handle,
            ..
        } if (fulfillment_order, handle) == (&key.0, &key.1) => Some(s.rule.clone()),
        Action::Release {
            fulfillment_order,
            hold_ids,
        } if *fulfillment_order == key.0
            && order
                .fulfillment_orders
                .iter()
                .filter(|fo| fo.id == key.0)
                .flat_map(|fo| fo.our_holds())
                .any(|h| {
                    h.handle.as_deref() == Some(key.1.as_str()) && hold_ids.contains(&h.id)
                }) =>
        {
            Some(s.rule.clone())
        }
        _ => None,
    })
}

#[cfg(test)]
#[path = "compare_tests.rs"]
mod tests;
