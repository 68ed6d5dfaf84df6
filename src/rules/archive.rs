//! Archiving (`[archive]`): a finished order is closed (`orderClose`) once `after` has passed
//! since it was fully fulfilled. Finished means paid (`displayFinancialStatus` PAID), fully
//! fulfilled (`displayFulfillmentStatus` FULFILLED), not cancelled, and with no hold of anyone's
//! on any fulfilment order. A refund refuses it, in part or in full: PARTIALLY_REFUNDED leaves
//! work (a return, a reshipment), and REFUNDED after fulfilment is usually a return a person is
//! handling, so orderflow leaves both to people.
//!
//! A person reopening an order orderflow closed wins, like a released hold: the decision records
//! `closed_by_orderflow_at` when orderflow closes it, and an order with that record that is open
//! again was reopened by a person, so it is never closed again.
//!
//! The record is written *after* `orderClose` (the step order puts the decision last in a plan
//! that closes): written before, a crash between the two would leave an open order that looks
//! reopened. A crash after the close and before the record leaves a closed order without one;
//! the next pass records it (a closed, finished order whose decision lacks it), so a later
//! reopening is still seen as a person's.

use jiff::Timestamp;

use super::decision::Decision;
use super::enums::{FinancialStatus, OrderFulfillmentStatus};
use super::model::Order;
use super::policy::ArchiveRules;

/// The rule name archive steps carry.
pub const ARCHIVE_RULE: &str = "archive";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// `[archive] when_fulfilled = false`.
    Off,
    /// Not finished, or refused; the reason is for `explain`.
    NotFinished(String),
    /// orderflow closed it at this instant and a person reopened it.
    ReopenedByPerson(Timestamp),
    /// Finished; closed at this instant (fully fulfilled + `after`).
    Wait(Timestamp),
    /// Finished and due: close it now.
    Close,
}

/// When the order became fully fulfilled: its latest fulfilment that is not cancelled (the
/// snapshot reads each one's `createdAt`); the order's processing time if none says.
pub fn fulfilled_at(order: &Order) -> Timestamp {
    order
        .fulfillments
        .iter()
        .filter(|f| !f.is_cancelled())
        .filter_map(|f| f.created_at)
        .max()
        .unwrap_or(order.processed_at)
}

/// Why the order is not finished, if it is not.
fn unfinished(order: &Order) -> Option<String> {
    if order.cancelled {
        return Some("the order is cancelled".to_owned());
    }
    match order.financial_status {
        Some(FinancialStatus::Paid) => {}
        Some(FinancialStatus::PartiallyRefunded) => {
            return Some("it is refunded in part: a person finishes it".to_owned());
        }
        Some(FinancialStatus::Refunded) => {
            return Some("it is refunded: a person finishes it".to_owned());
        }
        Some(s) => return Some(format!("it is not paid ({})", s.as_str())),
        None => return Some("its payment status is unknown".to_owned()),
    }
    if order.fulfillment_status != Some(OrderFulfillmentStatus::Fulfilled) {
        return Some("it is not fully fulfilled".to_owned());
    }
    if order
        .fulfillment_orders
        .iter()
        .any(|fo| !fo.holds.is_empty())
    {
        return Some("a fulfilment order is on hold".to_owned());
    }
    None
}

/// The archive verdict for an order that is open (`closed` false).
pub fn judge(
    order: &Order,
    rules: &ArchiveRules,
    prev: Option<&Decision>,
    now: Timestamp,
) -> Verdict {
    if !rules.when_fulfilled {
        return Verdict::Off;
    }
    if let Some(at) = prev.and_then(|d| d.closed_by_orderflow_at) {
        return Verdict::ReopenedByPerson(at);
    }
    if let Some(why) = unfinished(order) {
        return Verdict::NotFinished(why);
    }
    let due = fulfilled_at(order)
        .saturating_add(rules.after)
        .unwrap_or(Timestamp::MAX);
    if now >= due {
        Verdict::Close
    } else {
        Verdict::Wait(due)
    }
}

/// For a closed order: the instant to record as our close, when the decision lacks one and the
/// policy would have closed it by now (our close whose record was lost, or a person's close of
/// an order we would have closed: either way a reopening later is a person's).
pub fn record_for_closed(
    order: &Order,
    rules: &ArchiveRules,
    prev: Option<&Decision>,
    now: Timestamp,
) -> Option<Timestamp> {
    if !rules.when_fulfilled || prev.is_none_or(|d| d.closed_by_orderflow_at.is_some()) {
        return None;
    }
    let open = Order {
        closed: false,
        ..order.clone()
    };
    match judge(&open, rules, None, now) {
        Verdict::Close => Some(order.closed_at.unwrap_or(now)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;
    use crate::rules::enums::FulfillmentStatus;
    use crate::rules::model::{Fulfillment, Risk};

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn finished() -> Order {
        Order {
            id: "gid://shopify/Order/1".into(),
            name: "#1".into(),
            tags: vec![],
            cancelled: false,
            closed: false,
            closed_at: None,
            fulfillment_status: Some(OrderFulfillmentStatus::Fulfilled),
            test: false,
            processed_at: ts("2026-11-23T08:00:00Z"),
            paid_at: None,
            financial_status: Some(FinancialStatus::Paid),
            total_price: Default::default(),
            source_name: None,
            shipping_country: None,
            risk: Risk::none(),
            lines: vec![],
            fulfillment_orders: vec![],
            fulfillments: vec![Fulfillment {
                id: "gid://shopify/Fulfillment/1".into(),
                status: FulfillmentStatus::Success,
                lines: vec![],
                created_at: Some(ts("2026-11-23T09:00:00Z")),
            }],
            fulfillments_truncated: false,
            decision_metafield: None,
            payment: Default::default(),
        }
    }

    fn on(after_hours: i64) -> ArchiveRules {
        ArchiveRules {
            when_fulfilled: true,
            after: SignedDuration::from_hours(after_hours),
        }
    }

    fn decision(closed: Option<Timestamp>) -> Decision {
        Decision {
            version: 1,
            ship_by: None,
            ship_by_at: None,
            holds: vec![],
            released_by_person: vec![],
            rules: vec![],
            planned_at: ts("2026-11-23T09:00:00Z"),
            fulfilments: vec![],
            taken_back_by_person: vec![],
            closed_by_orderflow_at: closed,
        }
    }

    #[test]
    fn off_by_default_and_a_finished_order_closes_once_after_has_passed() {
        let now = ts("2026-11-23T10:00:00Z");
        let off = ArchiveRules {
            when_fulfilled: false,
            after: SignedDuration::ZERO,
        };
        assert_eq!(judge(&finished(), &off, None, now), Verdict::Off);
        assert_eq!(judge(&finished(), &on(0), None, now), Verdict::Close);
        assert_eq!(
            judge(&finished(), &on(2), None, now),
            Verdict::Wait(ts("2026-11-23T11:00:00Z")),
            "two hours after the latest fulfilment"
        );
        assert_eq!(
            judge(&finished(), &on(2), None, ts("2026-11-23T11:00:00Z")),
            Verdict::Close
        );
    }

    #[test]
    fn unpaid_refunded_cancelled_unfulfilled_or_held_orders_are_not_closed() {
        let now = ts("2026-11-23T10:00:00Z");
        type Change = Box<dyn Fn(&mut Order)>;
        let cases: Vec<(Change, &str)> = vec![
            (
                Box::new(|o| o.financial_status = Some(FinancialStatus::PartiallyRefunded)),
                "refunded in part",
            ),
            (
                Box::new(|o| o.financial_status = Some(FinancialStatus::Refunded)),
                "refunded",
            ),
            (
                Box::new(|o| o.financial_status = Some(FinancialStatus::Authorized)),
                "not paid",
            ),
            (Box::new(|o| o.cancelled = true), "cancelled"),
            (
                Box::new(|o| {
                    o.fulfillment_status = Some(OrderFulfillmentStatus::PartiallyFulfilled)
                }),
                "not fully fulfilled",
            ),
        ];
        for (change, why) in cases {
            let mut o = finished();
            change(&mut o);
            match judge(&o, &on(0), None, now) {
                Verdict::NotFinished(reason) => assert!(reason.contains(why), "{reason}"),
                other => panic!("{why}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_person_reopening_our_close_wins_and_a_lost_record_is_restored() {
        let now = ts("2026-11-23T10:00:00Z");
        let ours = ts("2026-11-23T09:30:00Z");
        assert_eq!(
            judge(&finished(), &on(0), Some(&decision(Some(ours))), now),
            Verdict::ReopenedByPerson(ours)
        );
        let mut closed = finished();
        closed.closed = true;
        closed.closed_at = Some(ours);
        assert_eq!(
            record_for_closed(&closed, &on(0), Some(&decision(None)), now),
            Some(ours),
            "our close whose record was lost"
        );
        assert_eq!(
            record_for_closed(&closed, &on(0), Some(&decision(Some(ours))), now),
            None,
            "already recorded"
        );
        assert_eq!(
            record_for_closed(&closed, &on(5), Some(&decision(None)), now),
            None,
            "closed before archive.after: a person's close, not recorded as ours"
        );
    }
}
