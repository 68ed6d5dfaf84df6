//! Per line: which fulfilment rule and which processing rule decide it, first match wins, and
//! the ship-by date that follows. A line is judged in the context of the fulfilment order that
//! holds it (its delivery method); a line no fulfilment order holds is judged without one.

use jiff::Timestamp;
use jiff::civil::Date;

use super::matcher::LineContext;
use super::model::{FulfillmentOrderLineItem, LineItem, Order};
use super::policy::{FulfilmentAction, Rules};

pub(super) const DEFAULT_ACTION_RULE: &str = "fulfilment.default";
pub(super) const DEFAULT_DAYS_RULE: &str = "processing.default_days";

pub(super) struct Classified<'a> {
    /// Index into `order.fulfillment_orders`.
    pub fo: Option<usize>,
    pub fo_line: Option<&'a FulfillmentOrderLineItem>,
    pub line: &'a LineItem,
    pub action: FulfilmentAction,
    pub action_rule: &'a str,
    pub days: u32,
    pub days_rule: &'a str,
    pub ship_by: Date,
    pub ship_by_at: Timestamp,
    /// A person cancelled our fulfilment of this line: manual from then on.
    pub taken_back: bool,
}

impl Classified<'_> {
    pub fn remaining(&self) -> u32 {
        self.fo_line.map_or(0, |l| l.remaining_quantity)
    }
}

/// Every fulfilment-order line, then every order line that no fulfilment order holds.
pub(super) fn classify<'a>(
    order: &'a Order,
    rules: &'a Rules,
    start: Timestamp,
) -> Vec<Classified<'a>> {
    // Sorted ids and a binary search: cheaper than hashing every GID for orders of any size.
    let mut by_id: Vec<(&str, usize)> = order
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| (l.id.as_str(), i))
        .collect();
    by_id.sort_unstable();
    let calendar = &rules.processing.calendar;
    // Most lines share a handful of `days` values; the calendar walk is done once per value.
    let mut ship_by_cache: Vec<(u32, Date, Timestamp)> = Vec::new();
    let mut ship_by = |days: u32| {
        if let Some(&(_, d, at)) = ship_by_cache.iter().find(|(n, _, _)| *n == days) {
            return (d, at);
        }
        let d = calendar.ship_by(start, days);
        let at = calendar.cutoff_instant(d);
        ship_by_cache.push((days, d, at));
        (d, at)
    };
    let mut out = Vec::with_capacity(order.lines.len());
    let mut seen = vec![false; order.lines.len()];
    let mut judge =
        |fo: Option<usize>, fo_line: Option<&'a FulfillmentOrderLineItem>, line: &'a LineItem| {
            let cx = LineContext {
                order,
                line,
                delivery_method: fo.and_then(|i| order.fulfillment_orders[i].delivery_method),
            };
            let (action, action_rule) = rules
                .fulfilment
                .rules
                .iter()
                .find(|r| r.when.matches(&cx))
                .map_or((rules.fulfilment.default, DEFAULT_ACTION_RULE), |r| {
                    (r.action, r.name.as_str())
                });
            let (days, days_rule) = rules
                .processing
                .rules
                .iter()
                .find(|r| r.when.matches(&cx))
                .map_or((rules.processing.default_days, DEFAULT_DAYS_RULE), |r| {
                    (r.days, r.name.as_str())
                });
            let (date, at) = ship_by(days);
            Classified {
                fo,
                fo_line,
                line,
                action,
                action_rule,
                days,
                days_rule,
                ship_by: date,
                ship_by_at: at,
                taken_back: false,
            }
        };
    for (i, fo) in order.fulfillment_orders.iter().enumerate() {
        for fo_line in &fo.line_items {
            // A fulfilment-order line whose order line is not in the snapshot cannot be judged:
            // it is left alone rather than guessed at.
            let id = fo_line.line_item_id.as_str();
            if let Ok(at) = by_id.binary_search_by(|(k, _)| (*k).cmp(id)) {
                let line = &order.lines[by_id[at].1];
                seen[by_id[at].1] = true;
                out.push(judge(Some(i), Some(fo_line), line));
            }
        }
    }
    for (i, line) in order.lines.iter().enumerate() {
        if !seen[i] {
            out.push(judge(None, None, line));
        }
    }
    out
}
