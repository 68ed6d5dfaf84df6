//! `orderflow orders cancel-fulfilments`, the pure half: which of an order's fulfilments may be
//! cancelled and why not, and what the decision must record first so that the cancellation
//! reads as a person's taking back ([`super::taken_back`]).
//!
//! A fulfilment orderflow created is already in the decision's `fulfilments`; once cancelled,
//! its lines are taken back by item 1's logic. A fulfilment a person created is not, and after
//! its cancellation the auto rules would fulfil its lines again. So the command first writes a
//! decision that records it ([`FulfilmentRecord`] with its id and lines, rule
//! [`CANCEL_RULE`]), then cancels it. A crash between the two leaves a record of a fulfilment
//! that exists and is not cancelled, which [`super::taken_back`] reads as "done", harmless; a
//! re-run finds it recorded and only cancels.
//!
//! "Shipped" is read from the schema: `Fulfillment.displayStatus` (the carrier's events:
//! picked up, in transit, out for delivery, delivered, attempted, delayed, not delivered,
//! failure), or `inTransitAt`/`deliveredAt` set whatever the display status says. A tracking
//! number alone is not a shipment (a label bought is not a parcel handed over); it is named in
//! the reason when present. A display status this build cannot read is refused too: nothing is
//! cancelled on a state we do not understand.

use std::collections::BTreeSet;

use jiff::Timestamp;

use super::decision::{Decision, FulfilmentRecord, RecordLine, VERSION};
use super::enums::FulfillmentDisplayStatus as D;
use super::model::Fulfillment;
use super::taken_back::same_lines;

/// The rule name of a record the command wrote for a fulfilment it did not create.
pub const CANCEL_RULE: &str = "orders.cancel_fulfilments";

/// What Shopify says about a fulfilment's journey.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Shipment {
    pub display_status: Option<D>,
    pub in_transit_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    /// The first tracking number, with its carrier when known (`UPS 1Z999…`).
    pub tracking: Option<String>,
}

/// One fulfilment of the order as the command reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub fulfillment: Fulfillment,
    /// The first fulfilment order it fulfilled (what a record names).
    pub fulfillment_order: Option<String>,
    pub shipment: Shipment,
}

/// What the command does with one fulfilment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Cancelled already (by an earlier run, or by a person): done.
    Cancelled,
    /// Left alone, and why (`shipped: in transit since …`).
    Refused(String),
    /// To cancel; `record` is what the decision must record first (`None`: it already does).
    Cancel { record: Option<FulfilmentRecord> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    /// `gid://shopify/Fulfillment/<n>`.
    pub id: String,
    pub verdict: Verdict,
}

/// Why the fulfilment may not be cancelled because it has shipped, or `None`.
pub fn shipped(s: &Shipment) -> Option<String> {
    let tracking = s
        .tracking
        .as_deref()
        .map(|t| format!(" (tracking {t})"))
        .unwrap_or_default();
    if let Some(at) = s.delivered_at {
        return Some(format!("shipped: delivered at {at}{tracking}"));
    }
    let status = match s.display_status {
        Some(D::Delivered) => Some("delivered"),
        Some(D::PickedUp) => Some("picked up by the customer"),
        Some(D::OutForDelivery) => Some("out for delivery"),
        Some(D::AttemptedDelivery) => Some("delivery attempted"),
        Some(D::NotDelivered) => Some("not delivered"),
        Some(D::Delayed) => Some("delayed in transit"),
        Some(D::Failure) => Some("delivery failed"),
        Some(D::CarrierPickedUp) => Some("picked up by the carrier"),
        Some(D::InTransit) => Some("in transit"),
        _ => None,
    };
    match (status, s.in_transit_at) {
        (Some(what), Some(at)) => Some(format!("shipped: {what}, in transit since {at}{tracking}")),
        (Some(what), None) => Some(format!("shipped: {what}{tracking}")),
        (None, Some(at)) => Some(format!("shipped: in transit since {at}{tracking}")),
        (None, None) => None,
    }
}

/// Each fulfilment's verdict, in the order given.
pub fn judge(prev: Option<&Decision>, candidates: &[Candidate]) -> Vec<Judged> {
    let recorded = recorded(prev, candidates);
    candidates
        .iter()
        .map(|c| {
            let f = &c.fulfillment;
            let verdict = if f.is_cancelled() || c.shipment.display_status == Some(D::Canceled) {
                Verdict::Cancelled
            } else if let Some(why) = shipped(&c.shipment) {
                Verdict::Refused(why)
            } else if c.shipment.display_status == Some(D::Unknown) {
                Verdict::Refused(
                    "its display status is one this orderflow cannot read: left alone".into(),
                )
            } else if recorded.contains(f.id.as_str()) {
                Verdict::Cancel { record: None }
            } else {
                Verdict::Cancel {
                    record: Some(record(c)),
                }
            };
            Judged {
                id: f.id.clone(),
                verdict,
            }
        })
        .collect()
}

/// The fulfilments the decision records, claimed as [`super::taken_back`] claims them: by id,
/// else an id-less record takes the first unclaimed fulfilment of exactly its lines.
fn recorded<'a>(prev: Option<&Decision>, candidates: &'a [Candidate]) -> BTreeSet<&'a str> {
    let mut used = BTreeSet::new();
    let Some(prev) = prev else {
        return used;
    };
    for record in &prev.fulfilments {
        let found = match &record.fulfillment {
            Some(id) => candidates.iter().find(|c| &c.fulfillment.id == id),
            None => candidates.iter().find(|c| {
                !used.contains(c.fulfillment.id.as_str())
                    && same_lines(&c.fulfillment, &record.lines)
            }),
        };
        if let Some(c) = found {
            used.insert(c.fulfillment.id.as_str());
        }
    }
    used
}

fn record(c: &Candidate) -> FulfilmentRecord {
    let mut lines: Vec<RecordLine> = Vec::new();
    for l in &c.fulfillment.lines {
        match lines.iter_mut().find(|r| r.line_item == l.line_item_id) {
            Some(r) => r.quantity += l.quantity,
            None => lines.push(RecordLine {
                line_item: l.line_item_id.clone(),
                quantity: l.quantity,
            }),
        }
    }
    lines.sort();
    FulfilmentRecord {
        fulfillment_order: c.fulfillment_order.clone().unwrap_or_default(),
        fulfillment: Some(c.fulfillment.id.clone()),
        lines,
        rule: CANCEL_RULE.to_owned(),
    }
}

/// The decision to write before cancelling: the previous one with `records` added (everything
/// else as it was, for the worker to re-plan), or a first one holding only them. `now` stamps
/// a first decision; an existing one keeps its `planned_at` (nothing was planned).
pub fn with_records(
    prev: Option<&Decision>,
    records: &[FulfilmentRecord],
    now: Timestamp,
) -> Decision {
    let mut d = prev.cloned().unwrap_or_else(|| Decision {
        version: VERSION,
        ship_by: None,
        ship_by_at: None,
        holds: Vec::new(),
        released_by_person: Vec::new(),
        rules: Vec::new(),
        planned_at: now,
        fulfilments: Vec::new(),
        taken_back_by_person: Vec::new(),
        closed_by_orderflow_at: None,
    });
    for r in records {
        if !d.fulfilments.contains(r) {
            d.fulfilments.push(r.clone());
        }
    }
    d
}

/// Whether a fulfilment the decision records is cancelled but its lines are not yet recorded
/// as taken back: the worker has not seen the cancellation (a run stopped before its wake-up).
pub fn unrecorded(prev: Option<&Decision>, candidates: &[Candidate]) -> bool {
    let Some(prev) = prev else {
        return false;
    };
    let recorded = recorded(Some(prev), candidates);
    candidates.iter().any(|c| {
        c.fulfillment.is_cancelled()
            && recorded.contains(c.fulfillment.id.as_str())
            && c.fulfillment
                .lines
                .iter()
                .any(|l| !prev.taken_back(&l.line_item_id))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::enums::FulfillmentStatus;
    use crate::rules::model::FulfillmentLine;

    fn candidate(n: u32, status: FulfillmentStatus, shipment: Shipment) -> Candidate {
        Candidate {
            fulfillment: Fulfillment {
                id: format!("gid://shopify/Fulfillment/{n}"),
                status,
                lines: vec![
                    FulfillmentLine {
                        line_item_id: "L2".into(),
                        quantity: 1,
                    },
                    FulfillmentLine {
                        line_item_id: "L1".into(),
                        quantity: 2,
                    },
                ],
                created_at: None,
            },
            fulfillment_order: Some("gid://shopify/FulfillmentOrder/9".into()),
            shipment,
        }
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn display(status: D) -> Shipment {
        Shipment {
            display_status: Some(status),
            ..Shipment::default()
        }
    }

    #[test]
    fn the_carriers_statuses_and_times_are_shipped_a_label_alone_is_not() {
        for s in [
            D::InTransit,
            D::OutForDelivery,
            D::Delivered,
            D::CarrierPickedUp,
            D::PickedUp,
            D::AttemptedDelivery,
            D::Delayed,
            D::NotDelivered,
            D::Failure,
        ] {
            assert!(shipped(&display(s)).is_some(), "{s}");
        }
        for s in [
            D::Fulfilled,
            D::MarkedAsFulfilled,
            D::Confirmed,
            D::Submitted,
            D::LabelPrinted,
            D::LabelPurchased,
            D::LabelVoided,
            D::ReadyForPickup,
        ] {
            assert_eq!(shipped(&display(s)), None, "{s}");
        }
        let label = Shipment {
            display_status: Some(D::LabelPurchased),
            tracking: Some("UPS 1Z999".into()),
            ..Shipment::default()
        };
        assert_eq!(shipped(&label), None);
        let moving = Shipment {
            display_status: Some(D::InTransit),
            in_transit_at: Some(at("2026-11-24T08:00:00Z")),
            tracking: Some("UPS 1Z999".into()),
            delivered_at: None,
        };
        assert_eq!(
            shipped(&moving).as_deref(),
            Some("shipped: in transit, in transit since 2026-11-24T08:00:00Z (tracking UPS 1Z999)")
        );
        // The times count whatever the display status says.
        let delivered = Shipment {
            display_status: Some(D::Fulfilled),
            delivered_at: Some(at("2026-11-25T12:00:00Z")),
            ..Shipment::default()
        };
        assert_eq!(
            shipped(&delivered).as_deref(),
            Some("shipped: delivered at 2026-11-25T12:00:00Z")
        );
    }

    #[test]
    fn a_persons_fulfilment_is_recorded_ours_is_not_shipped_and_cancelled_are_left() {
        use FulfillmentStatus::*;
        let ours = candidate(1, Success, display(D::Fulfilled));
        let persons = candidate(2, Success, Shipment::default());
        let shipped_one = candidate(3, Success, display(D::InTransit));
        let cancelled = candidate(4, Cancelled, display(D::Canceled));
        let unknown = candidate(5, Success, display(D::Unknown));
        let prev = with_records(
            None,
            &[FulfilmentRecord {
                fulfillment_order: "gid://shopify/FulfillmentOrder/9".into(),
                fulfillment: None,
                lines: vec![
                    RecordLine {
                        line_item: "L1".into(),
                        quantity: 2,
                    },
                    RecordLine {
                        line_item: "L2".into(),
                        quantity: 1,
                    },
                ],
                rule: "digital goods".into(),
            }],
            at("2026-11-23T09:00:00Z"),
        );
        let judged = judge(
            Some(&prev),
            &[ours, persons, shipped_one, cancelled, unknown],
        );
        assert_eq!(judged[0].verdict, Verdict::Cancel { record: None });
        let Verdict::Cancel { record: Some(r) } = &judged[1].verdict else {
            panic!("a person's fulfilment is recorded: {:?}", judged[1]);
        };
        assert_eq!(
            r.fulfillment.as_deref(),
            Some("gid://shopify/Fulfillment/2")
        );
        assert_eq!(r.rule, CANCEL_RULE);
        assert_eq!(r.fulfillment_order, "gid://shopify/FulfillmentOrder/9");
        assert_eq!(
            r.lines,
            [
                RecordLine {
                    line_item: "L1".into(),
                    quantity: 2
                },
                RecordLine {
                    line_item: "L2".into(),
                    quantity: 1
                }
            ],
            "sorted, as the worker writes them"
        );
        assert!(
            matches!(&judged[2].verdict, Verdict::Refused(why) if why == "shipped: in transit")
        );
        assert_eq!(judged[3].verdict, Verdict::Cancelled);
        assert!(matches!(&judged[4].verdict, Verdict::Refused(why) if why.contains("cannot read")));

        // Once written, a re-run finds the person's fulfilment recorded.
        let written = with_records(
            Some(&prev),
            std::slice::from_ref(r),
            at("2026-11-24T09:00:00Z"),
        );
        assert_eq!(written.planned_at, prev.planned_at, "nothing was planned");
        assert_eq!(written.fulfilments.len(), 2);
        let again = judge(
            Some(&written),
            &[candidate(2, Success, Shipment::default())],
        );
        assert_eq!(again[0].verdict, Verdict::Cancel { record: None });
        assert_eq!(
            with_records(
                Some(&written),
                std::slice::from_ref(r),
                at("2026-11-24T09:00:00Z")
            ),
            written,
            "recording twice adds nothing"
        );
    }

    #[test]
    fn a_recorded_cancellation_the_worker_has_not_seen_is_unrecorded() {
        use FulfillmentStatus::*;
        let c = candidate(2, Cancelled, display(D::Canceled));
        let r = record(&candidate(2, Success, Shipment::default()));
        let mut d = with_records(None, &[r], at("2026-11-23T09:00:00Z"));
        assert!(unrecorded(Some(&d), std::slice::from_ref(&c)));
        assert!(
            !unrecorded(None, std::slice::from_ref(&c)),
            "not ours to record"
        );
        for line in ["L1", "L2"] {
            d.taken_back_by_person
                .push(crate::rules::decision::TakenBack {
                    line_item: line.into(),
                    fulfillment: Some(c.fulfillment.id.clone()),
                });
        }
        assert!(!unrecorded(Some(&d), &[c]), "the worker recorded it");
    }
}
