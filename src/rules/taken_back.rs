//! Which fulfilments orderflow created, and which of their lines a person took back.
//!
//! A person who cancels a fulfilment orderflow created makes its lines unfulfilled again
//! (Shopify reopens them: the remaining quantity of a partly fulfilled fulfilment order goes
//! back up, a fully fulfilled one stays closed and a new fulfilment order holds the lines). If
//! orderflow only looked at "auto line, something remaining", the next event would fulfil them
//! again and override the person. So the decision records each fulfilment of ours
//! ([`FulfilmentRecord`]), and a line whose recorded fulfilment is now `CANCELLED` is taken back:
//! left for a person from then on, exactly as a hold a person released is never placed again.
//!
//! # Why the record survives a crash
//!
//! The plan writes the decision, with a record for every fulfilment it is about to create,
//! *before* it sends `fulfillmentCreate` (steps: releases, holds, decision, fulfilments, tags).
//! Then the next pass, whatever happened in between, tells the three cases apart from the
//! snapshot alone, without trusting that the create happened:
//!
//! - a fulfilment with the record's id, or (id not yet known) one of exactly the record's order
//!   lines and quantities, exists and is not cancelled: ours is done; its id is kept;
//! - that fulfilment exists and is `CANCELLED`: orderflow never cancels a fulfilment, so a
//!   person (or another app acting for one) took its lines back;
//! - no such fulfilment exists: our create never happened (a crash after the decision write,
//!   a refused or lost mutation). The record is dropped and the lines are judged afresh, so
//!   they are fulfilled as if for the first time. "Never happened" can never read as "taken
//!   back", because taken back needs a cancelled fulfilment in the snapshot.
//!
//! Writing the record *after* the create (the old order) would lose it in a crash between the
//! two: the next pass would see a fulfilment it cannot tell from a person's (a `Fulfillment`
//! does not say which app created it), and a later cancellation would go unnoticed.
//!
//! Two edges, both resolved toward leaving lines to a person: `Order.fulfillments` is a plain
//! list, not paginated, so the snapshot reads only the first ones; when it is full and a record
//! of ours is not among them, its lines that are unfulfilled again are treated as taken back
//! (they may be). And if our create failed and a person fulfilled exactly those lines by hand,
//! their fulfilment is taken for ours; cancelling it then leaves the lines to a person, which is
//! what the person just did.

use std::collections::{BTreeMap, BTreeSet};

use super::decision::{Decision, FulfilmentRecord, RecordLine, TakenBack};
use super::model::{Fulfillment, Order};

/// The rule name a taken-back line is judged by, in `explain` and the decision's rules.
pub const TAKEN_BACK_RULE: &str = "fulfilment.taken_back_by_person";

/// The previous records checked against the snapshot.
pub(super) struct Resolved {
    /// Our earlier fulfilments that exist (ids filled in), or may exist unseen.
    pub records: Vec<FulfilmentRecord>,
    /// Every line taken back so far, the earlier ones included (while the line exists).
    pub taken_back: BTreeSet<TakenBack>,
    /// What a merchant should read about the lines taken back in this pass.
    pub notes: Vec<String>,
}

impl Resolved {
    pub fn is_taken_back(&self, line_item: &str) -> bool {
        self.taken_back.iter().any(|t| t.line_item == line_item)
    }
}

pub(super) fn resolve(order: &Order, prev: Option<&Decision>) -> Resolved {
    let mut out = Resolved {
        records: Vec::new(),
        taken_back: prev
            .map(|d| {
                d.taken_back_by_person
                    .iter()
                    .filter(|t| order.lines.iter().any(|l| l.id == t.line_item))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default(),
        notes: Vec::new(),
    };
    let Some(prev) = prev else {
        return out;
    };
    let mut used: BTreeSet<&str> = BTreeSet::new();
    for record in &prev.fulfilments {
        let found = match &record.fulfillment {
            Some(id) => order.fulfillments.iter().find(|f| &f.id == id),
            None => order
                .fulfillments
                .iter()
                .find(|f| !used.contains(f.id.as_str()) && same_lines(f, &record.lines)),
        };
        match found {
            Some(f) => {
                used.insert(&f.id);
                if f.is_cancelled() {
                    take_back(order, &mut out, &record.lines, Some(&f.id));
                }
                out.records.push(FulfilmentRecord {
                    fulfillment: Some(f.id.clone()),
                    ..record.clone()
                });
            }
            None if order.fulfillments_truncated => {
                let open: Vec<RecordLine> = record
                    .lines
                    .iter()
                    .filter(|l| remaining(order, &l.line_item) > 0)
                    .cloned()
                    .collect();
                take_back(order, &mut out, &open, None);
                out.records.push(record.clone());
            }
            // Our create never happened: the lines are judged afresh.
            None => {}
        }
    }
    out
}

fn take_back(order: &Order, out: &mut Resolved, lines: &[RecordLine], fulfillment: Option<&str>) {
    let mut names = Vec::new();
    for l in lines {
        if out.is_taken_back(&l.line_item) {
            continue;
        }
        out.taken_back.insert(TakenBack {
            line_item: l.line_item.clone(),
            fulfillment: fulfillment.map(str::to_owned),
        });
        names.push(
            order
                .lines
                .iter()
                .find(|x| x.id == l.line_item)
                .map_or(l.line_item.as_str(), |x| x.name.as_str()),
        );
    }
    if names.is_empty() {
        return;
    }
    out.notes.push(match fulfillment {
        Some(id) => format!(
            "a person cancelled orderflow's fulfilment {id} ({}): the person's decision wins, orderflow does not fulfil those lines again",
            names.join(", ")
        ),
        None => format!(
            "orderflow's fulfilment of {} is not among the order's first fulfilments read and the lines are unfulfilled again: taken as a person's cancellation, left for a person",
            names.join(", ")
        ),
    });
}

/// Exactly the record's order lines and quantities (a line listed twice counts once, summed).
pub(super) fn same_lines(f: &Fulfillment, lines: &[RecordLine]) -> bool {
    let mut theirs: BTreeMap<&str, u32> = BTreeMap::new();
    for l in &f.lines {
        *theirs.entry(l.line_item_id.as_str()).or_default() += l.quantity;
    }
    let mut ours: BTreeMap<&str, u32> = BTreeMap::new();
    for l in lines {
        *ours.entry(l.line_item.as_str()).or_default() += l.quantity;
    }
    theirs == ours
}

/// What is left to fulfil of an order line across its active fulfilment orders.
fn remaining(order: &Order, line_item: &str) -> u32 {
    order
        .fulfillment_orders
        .iter()
        .filter(|fo| fo.is_active())
        .flat_map(|fo| &fo.line_items)
        .filter(|l| l.line_item_id == line_item)
        .map(|l| l.remaining_quantity)
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::enums::FulfillmentStatus;
    use crate::rules::model::{FulfillmentLine, Risk};

    fn order(fulfillments: Vec<Fulfillment>) -> Order {
        Order {
            id: "gid://shopify/Order/1".into(),
            name: "#1".into(),
            tags: vec![],
            cancelled: false,
            closed: false,
            closed_at: None,
            fulfillment_status: None,
            test: false,
            processed_at: "2026-11-23T09:00:00Z".parse().unwrap(),
            paid_at: None,
            financial_status: None,
            total_price: rust_decimal::Decimal::ZERO,
            source_name: None,
            shipping_country: None,
            risk: Risk::none(),
            lines: vec![],
            fulfillment_orders: vec![],
            fulfillments,
            fulfillments_truncated: false,
            decision_metafield: None,
            payment: Default::default(),
        }
    }

    fn fulfilment(n: u32, status: FulfillmentStatus, line: &str, quantity: u32) -> Fulfillment {
        Fulfillment {
            id: format!("gid://shopify/Fulfillment/{n}"),
            status,
            lines: vec![FulfillmentLine {
                line_item_id: line.into(),
                quantity,
            }],
            created_at: None,
        }
    }

    fn record(id: Option<u32>, line: &str, quantity: u32) -> FulfilmentRecord {
        FulfilmentRecord {
            fulfillment_order: "gid://shopify/FulfillmentOrder/1".into(),
            fulfillment: id.map(|n| format!("gid://shopify/Fulfillment/{n}")),
            lines: vec![RecordLine {
                line_item: line.into(),
                quantity,
            }],
            rule: "r".into(),
        }
    }

    fn decision(records: Vec<FulfilmentRecord>) -> Decision {
        Decision {
            version: 1,
            ship_by: None,
            ship_by_at: None,
            holds: vec![],
            released_by_person: vec![],
            rules: vec![],
            planned_at: "2026-11-23T09:00:00Z".parse().unwrap(),
            fulfilments: records,
            taken_back_by_person: vec![],
            closed_by_orderflow_at: None,
        }
    }

    #[test]
    fn a_record_is_matched_by_its_lines_until_its_id_is_known_then_by_id() {
        use FulfillmentStatus::*;
        // A person re-fulfilled the line by hand after cancelling ours: same lines, two
        // fulfilments. Matched by id, ours is the cancelled one.
        let o = order(vec![
            fulfilment(1, Cancelled, "L1", 1),
            fulfilment(2, Success, "L1", 1),
        ]);
        let r = resolve(&o, Some(&decision(vec![record(Some(1), "L1", 1)])));
        assert!(r.is_taken_back("L1"));
        let r = resolve(&o, Some(&decision(vec![record(Some(2), "L1", 1)])));
        assert!(!r.is_taken_back("L1"));
        // By lines: other quantities are another fulfilment.
        let o = order(vec![fulfilment(3, Success, "L1", 2)]);
        let r = resolve(&o, Some(&decision(vec![record(None, "L1", 1)])));
        assert!(r.records.is_empty(), "not ours: the create never happened");
        let r = resolve(&o, Some(&decision(vec![record(None, "L1", 2)])));
        assert_eq!(
            r.records[0].fulfillment.as_deref(),
            Some("gid://shopify/Fulfillment/3")
        );
    }

    #[test]
    fn two_records_of_the_same_lines_never_claim_one_fulfilment() {
        use FulfillmentStatus::*;
        let o = order(vec![fulfilment(1, Success, "L1", 1)]);
        let prev = decision(vec![record(None, "L1", 1), record(None, "L1", 1)]);
        let r = resolve(&o, Some(&prev));
        assert_eq!(r.records.len(), 1, "the second create never happened");
    }

    #[test]
    fn lines_taken_back_earlier_stay_taken_back_while_the_line_exists() {
        let mut o = order(vec![]);
        o.lines = vec![crate::rules::model::LineItem {
            id: "L1".into(),
            name: "Mug".into(),
            sku: None,
            vendor: None,
            quantity: 1,
            requires_shipping: true,
            gift_card: false,
            product_tags: vec![],
            preorder: false,
        }];
        let mut prev = decision(vec![]);
        prev.taken_back_by_person = vec![
            TakenBack {
                line_item: "L1".into(),
                fulfillment: None,
            },
            TakenBack {
                line_item: "gone".into(),
                fulfillment: None,
            },
        ];
        let r = resolve(&o, Some(&prev));
        assert!(r.is_taken_back("L1"));
        assert!(!r.is_taken_back("gone"));
        assert!(
            r.notes.is_empty(),
            "an earlier take-back is not noted again"
        );
    }
}
