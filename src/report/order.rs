//! One order's facts for the report, from what the Admin API says about it and from the
//! decision orderflow left on it.

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::rules::decision::Decision;

/// What the report reads about one order (the adapter fills it from `OrdersPlacedPage`).
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedOrder {
    pub id: u64,
    pub name: String,
    pub placed: Timestamp,
    /// When processing time starts: the same rule as the rules engine (`processedAt`, or a
    /// payment taken later than checkout).
    pub paid: Timestamp,
    pub cancelled: bool,
    /// Shopify says every line is fulfilled (`displayFulfillmentStatus` `FULFILLED`).
    pub fully_fulfilled: bool,
    pub fulfillments: Vec<Fulfilment>,
    /// The `orderflow.decision` metafield, when it is one this version reads.
    pub decision: Option<Decision>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fulfilment {
    pub id: String,
    pub created_at: Timestamp,
    pub cancelled: bool,
}

/// Who fulfilled an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Orderflow,
    Person,
    /// Some fulfilments by orderflow, some by a person.
    Both,
}

impl By {
    pub fn as_str(self) -> &'static str {
        match self {
            By::Orderflow => "orderflow",
            By::Person => "person",
            By::Both => "both",
        }
    }
}

/// One row of the report: the order judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Row {
    pub name: String,
    pub id: u64,
    pub placed: Timestamp,
    pub paid: Timestamp,
    pub cancelled: bool,
    /// When the last live fulfilment was created, once the order is fully fulfilled.
    pub fulfilled: Option<Timestamp>,
    pub by: Option<By>,
    /// The rule of orderflow's latest fulfilment, else the first rule its decision names.
    pub rule: Option<String>,
    pub ship_by: Option<Timestamp>,
    /// Fulfilled at or before the ship-by instant; `None` without both.
    pub on_time: Option<bool>,
    /// Past the ship-by instant: at fulfilment, or as of the report's instant for an open order.
    pub late_by_seconds: Option<i64>,
    /// Our holds on it now, by handle, and those a person released (`released:<handle>`).
    pub holds: Vec<String>,
}

impl Row {
    pub fn paid_to_fulfilled(&self) -> Option<SignedDuration> {
        self.fulfilled.map(|f| f.duration_since(self.paid))
    }

    /// Open (not cancelled, not fully fulfilled) and past its ship-by instant.
    pub fn late_and_open(&self) -> bool {
        !self.cancelled && self.fulfilled.is_none() && self.late_by_seconds.is_some()
    }
}

/// Judges one order as of `as_of` (the end of the report's window).
pub fn judge(order: &PlacedOrder, as_of: Timestamp) -> Row {
    let live: Vec<&Fulfilment> = order.fulfillments.iter().filter(|f| !f.cancelled).collect();
    let fulfilled = order
        .fully_fulfilled
        .then(|| live.iter().map(|f| f.created_at).max())
        .flatten();
    let (by, rule) = attribute(&live, order.decision.as_ref());
    let ship_by = order.decision.as_ref().and_then(|d| d.ship_by_at);
    let on_time = match (fulfilled, ship_by) {
        (Some(f), Some(s)) => Some(f <= s),
        _ => None,
    };
    let late_by_seconds = match (fulfilled, ship_by) {
        (Some(f), Some(s)) if f > s => Some(f.duration_since(s).as_secs()),
        (None, Some(s)) if !order.cancelled && as_of > s => Some(as_of.duration_since(s).as_secs()),
        _ => None,
    };
    let mut holds = Vec::new();
    if let Some(d) = &order.decision {
        holds.extend(d.holds.iter().map(|h| h.handle.clone()));
        holds.extend(
            d.released_by_person
                .iter()
                .map(|h| format!("released:{}", h.handle)),
        );
    }
    Row {
        name: order.name.clone(),
        id: order.id,
        placed: order.placed,
        paid: order.paid,
        cancelled: order.cancelled,
        fulfilled,
        by: (!live.is_empty() && fulfilled.is_some())
            .then_some(by)
            .flatten(),
        rule,
        ship_by,
        on_time,
        late_by_seconds,
        holds,
    }
}

/// Which live fulfilments are orderflow's: those whose id its decision recorded, then (the id
/// is recorded only once a later snapshot shows it) as many of the rest, oldest first, as it
/// holds records without an id. The rest are a person's.
fn attribute(live: &[&Fulfilment], decision: Option<&Decision>) -> (Option<By>, Option<String>) {
    // A record `orders cancel-fulfilments` wrote names a person's fulfilment (so that its
    // cancellation reads as taken back): it says nothing about who fulfilled the order.
    let records: Vec<_> = decision
        .map(|d| d.fulfilments.as_slice())
        .unwrap_or(&[])
        .iter()
        .filter(|r| r.rule != crate::rules::cancel::CANCEL_RULE)
        .collect();
    let mut unnamed: Vec<_> = records
        .iter()
        .copied()
        .filter(|r| r.fulfillment.is_none())
        .collect();
    unnamed.reverse();
    let mut sorted: Vec<&&Fulfilment> = live.iter().collect();
    sorted.sort_by_key(|f| f.created_at);
    let (mut ours, mut theirs, mut rule) = (0usize, 0usize, None);
    for f in sorted {
        let record = records
            .iter()
            .find(|r| r.fulfillment.as_deref() == Some(f.id.as_str()))
            .copied()
            .or_else(|| unnamed.pop());
        match record {
            Some(r) => {
                ours += 1;
                rule = Some(r.rule.clone());
            }
            None => theirs += 1,
        }
    }
    let rule = rule.or_else(|| decision.and_then(|d| d.rules.first().cloned()));
    let by = match (ours, theirs) {
        (0, 0) => None,
        (_, 0) => Some(By::Orderflow),
        (0, _) => Some(By::Person),
        _ => Some(By::Both),
    };
    (by, rule)
}
