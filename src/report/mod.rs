//! The fulfilment report's figures, a pure function of the orders placed in a window and the
//! decisions orderflow left on them: nothing here reads a clock or the network, so every figure
//! is tested on plain values. `shopify::report` reads the orders; `cli::report` prints.

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

pub mod order;
pub mod stats;

pub use order::{By, Fulfilment, PlacedOrder, Row, judge};
pub use stats::{Durations, human, percentile, rate};

/// The JSON `--json` prints: field names are stable (README, "Fulfilment report").
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub shop: String,
    pub since: Timestamp,
    pub until: Timestamp,
    /// Orders placed (created) in the window, cancelled ones included.
    pub placed: usize,
    pub cancelled: usize,
    pub fulfilled: usize,
    pub fulfilled_by_orderflow: usize,
    pub fulfilled_by_person: usize,
    pub fulfilled_by_both: usize,
    /// `fulfilled / (placed - cancelled)`; `null` when nothing is left to fulfil.
    pub fulfilment_rate: Option<f64>,
    pub paid_to_fulfilled: Durations,
    pub paid_to_fulfilled_by_rule: BTreeMap<String, Durations>,
    pub on_time: usize,
    pub late: usize,
    /// Fulfilled orders without a ship-by date in their decision.
    pub without_ship_by: usize,
    pub late_open: Vec<LateOpen>,
    pub holds: BTreeMap<String, HoldCount>,
    pub orders: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LateOpen {
    pub name: String,
    pub id: u64,
    pub ship_by: Timestamp,
    pub late_by_seconds: i64,
}

/// Holds by reason (the hold's handle, e.g. `orderflow-processing`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HoldCount {
    /// Orders where the hold is on now.
    pub on: usize,
    /// Orders where a person released it.
    pub released_by_person: usize,
}

/// The rule name an order's time is filed under when no rule decided it.
pub const NO_RULE: &str = "(no rule)";

/// The report over `orders`, late measured as of `until`.
pub fn build(shop: &str, since: Timestamp, until: Timestamp, orders: &[PlacedOrder]) -> Report {
    let rows: Vec<Row> = orders.iter().map(|o| judge(o, until)).collect();
    let count = |f: &dyn Fn(&Row) -> bool| rows.iter().filter(|r| f(r)).count();
    let placed = rows.len();
    let cancelled = count(&|r| r.cancelled);
    let fulfilled = count(&|r| r.fulfilled.is_some());
    let times: Vec<SignedDuration> = rows.iter().filter_map(Row::paid_to_fulfilled).collect();
    let mut by_rule: BTreeMap<String, Vec<SignedDuration>> = BTreeMap::new();
    for r in &rows {
        if let Some(t) = r.paid_to_fulfilled() {
            let rule = r.rule.clone().unwrap_or_else(|| NO_RULE.to_owned());
            by_rule.entry(rule).or_default().push(t);
        }
    }
    let mut holds: BTreeMap<String, HoldCount> = BTreeMap::new();
    for o in orders {
        let Some(d) = &o.decision else { continue };
        for h in &d.holds {
            holds.entry(h.handle.clone()).or_default().on += 1;
        }
        for h in &d.released_by_person {
            holds
                .entry(h.handle.clone())
                .or_default()
                .released_by_person += 1;
        }
    }
    let late_open = rows
        .iter()
        .filter(|r| r.late_and_open())
        .filter_map(|r| {
            Some(LateOpen {
                name: r.name.clone(),
                id: r.id,
                ship_by: r.ship_by?,
                late_by_seconds: r.late_by_seconds?,
            })
        })
        .collect();
    Report {
        shop: shop.to_owned(),
        since,
        until,
        placed,
        cancelled,
        fulfilled,
        fulfilled_by_orderflow: count(&|r| r.fulfilled.is_some() && r.by == Some(By::Orderflow)),
        fulfilled_by_person: count(&|r| r.fulfilled.is_some() && r.by == Some(By::Person)),
        fulfilled_by_both: count(&|r| r.fulfilled.is_some() && r.by == Some(By::Both)),
        fulfilment_rate: rate(fulfilled, placed - cancelled),
        paid_to_fulfilled: Durations::of(&times),
        paid_to_fulfilled_by_rule: by_rule
            .into_iter()
            .map(|(k, v)| (k, Durations::of(&v)))
            .collect(),
        on_time: count(&|r| r.on_time == Some(true)),
        late: count(&|r| r.on_time == Some(false)),
        without_ship_by: count(&|r| r.fulfilled.is_some() && r.ship_by.is_none()),
        late_open,
        holds,
        orders: rows,
    }
}

#[cfg(test)]
mod tests;
