//! Payment capture (`[payment]`): an authorized, uncaptured payment is captured (`orderCapture`)
//! when the shop's policy says so, and before the authorization expires at the latest.
//!
//! - `capture = "on_fulfilment"`: once the order has a fulfilment that is not cancelled, or the
//!   plan creates one (the capture step then comes after the fulfilment steps);
//! - `capture = "when_risk_clear"`: once the risk is assessed and clear (no provider pending,
//!   none HIGH) and no fraud hold of ours stays on the order after the plan;
//! - whatever the policy, never while one of our fraud holds is on the order (or the plan places
//!   one), nor while its risk is HIGH or PENDING: capturing a fraudulent order takes money that
//!   goes back as a chargeback;
//! - an authorization expires (`authorizationExpiresAt`): when the policy's moment has not come
//!   by `expiry - expiry_margin`, the order wakes up then and is captured (unless fraud blocks
//!   it; then a person decides, and `explain` says the authorization will expire). One already
//!   expired is not captured.
//!
//! Idempotent without a record of ours: what is left of an authorization is its amount minus
//! its captures that succeeded or are in flight (`PENDING`, `AWAITING_RESPONSE`), found by their
//! `parentTransaction`, so a capture Shopify has taken is never sent again, also after a crash
//! between the mutation and the acknowledgement. An authorization that is not multi-capturable
//! is used up by one capture (Shopify releases the rest), and a voided one by its void.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use rust_decimal::Decimal;
use serde::Serialize;

use super::enums::RiskLevel;
use super::model::{Order, Transaction, TransactionKind as K};
use super::policy::{CapturePolicy, PaymentRules, Rules};
use crate::calendar::Calendar;

/// The rule name capture steps carry.
pub const CAPTURE_RULE: &str = "payment.capture";
/// The rule name of a capture (or its wake-up) brought forward by the expiry.
pub const EXPIRY_RULE: &str = "payment.expiry_margin";

/// One `orderCapture` to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capture {
    /// The authorization (`parentTransactionId`).
    pub parent_transaction: String,
    /// What is left of it, in the presentment currency.
    pub amount: Decimal,
    /// The presentment currency, when it differs from the shop's (Shopify requires it then).
    pub currency: Option<String>,
    /// `true` for a multi-capturable authorization (nothing is left to capture after this one),
    /// absent otherwise (the field has no effect there).
    pub final_capture: Option<bool>,
}

/// What the plan does about the order's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Verdict {
    /// No authorized payment on the order: nothing to capture.
    NoAuthorization,
    /// Every authorization is captured (or its capture is in flight) or voided.
    Captured,
    /// `capture = "never"`: authorized, left to a person.
    Off,
    /// The authorization expired uncaptured at this instant.
    Expired { at: Timestamp },
    /// Fraud blocks the capture; `expires_at` when the authorization will expire.
    Blocked {
        reason: String,
        expires_at: Option<Timestamp>,
    },
    /// The policy's moment has not come: it waits for `waits_for`, until `capture_by` at the
    /// latest (the expiry minus the margin).
    Wait {
        waits_for: String,
        capture_by: Option<Timestamp>,
        expires_at: Option<Timestamp>,
    },
    /// Capture now.
    Capture {
        captures: Vec<Capture>,
        rule: String,
        reason: String,
    },
}

/// What the rest of the plan knows that capturing depends on.
#[derive(Debug, Clone, Copy, Default)]
pub struct Facts {
    /// One of our fraud holds is on the order, or stays or is placed by the plan.
    pub fraud_held: bool,
    /// The order has a fulfilment that is not cancelled, or the plan creates one.
    pub fulfilled: bool,
}

/// A successful authorization and what is left of it.
struct Open<'a> {
    auth: &'a Transaction,
    left: Decimal,
}

/// Counts as taken: it succeeded or Shopify is still processing it.
fn taken(t: &Transaction) -> bool {
    matches!(
        t.status.as_str(),
        K::SUCCESS | K::PENDING | K::AWAITING_RESPONSE
    )
}

/// What is left to capture of `auth` given all the order's transactions.
pub fn left_of(auth: &Transaction, all: &[Transaction]) -> Decimal {
    let children = all
        .iter()
        .filter(|t| t.parent_id.as_deref() == Some(auth.id.as_str()));
    let mut captured = Decimal::ZERO;
    for t in children {
        if t.kind == K::VOID && t.status == K::SUCCESS {
            return Decimal::ZERO;
        }
        if t.kind == K::CAPTURE && taken(t) {
            if !auth.multi_capturable {
                return Decimal::ZERO;
            }
            captured += t.amount;
        }
    }
    (auth.amount - captured).max(Decimal::ZERO)
}

/// The payment verdict for an order the plan acts on.
pub fn judge(order: &Order, rules: &PaymentRules, facts: Facts, now: Timestamp) -> Verdict {
    let all = &order.payment.transactions;
    let auths: Vec<Open<'_>> = all
        .iter()
        .filter(|t| t.kind == K::AUTHORIZATION && t.status == K::SUCCESS)
        .map(|auth| Open {
            auth,
            left: left_of(auth, all),
        })
        .collect();
    if auths.is_empty() {
        return Verdict::NoAuthorization;
    }
    let outstanding: Vec<&Open<'_>> = auths.iter().filter(|o| o.left > Decimal::ZERO).collect();
    if outstanding.is_empty() {
        return Verdict::Captured;
    }
    let expired = |o: &&Open<'_>| o.auth.authorization_expires_at.is_some_and(|at| at <= now);
    let live: Vec<&Open<'_>> = outstanding
        .iter()
        .copied()
        .filter(|o| !expired(o))
        .collect();
    if live.is_empty() {
        let at = outstanding
            .iter()
            .filter_map(|o| o.auth.authorization_expires_at)
            .max()
            .unwrap_or(now);
        return Verdict::Expired { at };
    }
    let expires_at = live
        .iter()
        .filter_map(|o| o.auth.authorization_expires_at)
        .min();
    if rules.capture == CapturePolicy::Never {
        return Verdict::Off;
    }
    if let Some(reason) = blocked(order, facts) {
        return Verdict::Blocked { reason, expires_at };
    }
    let captures = || {
        live.iter()
            .map(|o| capture_of(order, o.auth, o.left))
            .collect()
    };
    let (ready, waits_for) = match rules.capture {
        CapturePolicy::OnFulfilment => (facts.fulfilled, "a fulfilment"),
        // Not blocked means assessed, not HIGH and no fraud hold of ours after the plan.
        CapturePolicy::WhenRiskClear => (true, "a clear risk assessment"),
        CapturePolicy::Never => unreachable!("returned above"),
    };
    if ready {
        return Verdict::Capture {
            captures: captures(),
            rule: CAPTURE_RULE.to_owned(),
            reason: match rules.capture {
                CapturePolicy::OnFulfilment => "the order is fulfilled".to_owned(),
                _ => "the risk is assessed and clear".to_owned(),
            },
        };
    }
    let capture_by = expires_at.map(|at| {
        at.checked_sub(rules.expiry_margin)
            .unwrap_or(Timestamp::MIN)
    });
    match capture_by {
        Some(by) if now >= by => Verdict::Capture {
            captures: captures(),
            rule: EXPIRY_RULE.to_owned(),
            reason: format!(
                "the authorization expires within payment.expiry_margin ({:#}): capture before it does",
                rules.expiry_margin
            ),
        },
        _ => Verdict::Wait {
            waits_for: waits_for.to_owned(),
            capture_by,
            expires_at,
        },
    }
}

/// Why fraud blocks any capture now, if it does.
fn blocked(order: &Order, facts: Facts) -> Option<String> {
    if facts.fraud_held {
        return Some("a fraud hold of orderflow's is on the order".to_owned());
    }
    if order.risk.assessments.contains(&RiskLevel::High) {
        return Some("a risk assessment says HIGH".to_owned());
    }
    if order.risk.is_pending() {
        return Some("the risk assessment is still pending".to_owned());
    }
    None
}

fn capture_of(order: &Order, auth: &Transaction, left: Decimal) -> Capture {
    let p = &order.payment;
    let currency = match (&p.presentment_currency, &p.currency) {
        (Some(presentment), Some(shop)) if presentment != shop => Some(presentment.clone()),
        _ => None,
    };
    Capture {
        parent_transaction: auth.id.clone(),
        amount: left,
        currency,
        final_capture: auth.multi_capturable.then_some(true),
    }
}

/// The usual authorization period: "Shopify Payments offers a 7-day authorization period for
/// credit card payments" (Shopify Help Center, "Capturing payments",
/// https://help.shopify.com/manual/orders/get-paid). Other providers differ; an order's own
/// `authorizationExpiresAt` is what the plan uses, this is only for `check`'s warning.
pub const USUAL_AUTHORIZATION_PERIOD: SignedDuration = SignedDuration::from_hours(7 * 24);

/// A hold of `hold` lasts past the authorization period minus the margin.
pub fn outlasts(hold: SignedDuration, period: SignedDuration, margin: SignedDuration) -> bool {
    hold > period.saturating_sub(margin)
}

/// The longest a payment can wait for its ship-by cut-off with `days` business days: paid just
/// after a cut-off, over two weeks and around each holiday of the calendar.
pub fn longest_hold(calendar: &Calendar, days: u32) -> SignedDuration {
    let start: Date = jiff::civil::date(2026, 1, 5);
    let mut around: Vec<Date> = (0..14)
        .filter_map(|i| start.checked_add(jiff::Span::new().days(i)).ok())
        .collect();
    for h in calendar.holidays() {
        around.extend((-12..=1).filter_map(|i| h.checked_add(jiff::Span::new().days(i)).ok()));
    }
    around
        .into_iter()
        .map(|d| {
            let paid = calendar.cutoff_instant(d) + SignedDuration::from_secs(1);
            calendar
                .cutoff_instant(calendar.ship_by(paid, days))
                .duration_since(paid)
        })
        .max()
        .unwrap_or(SignedDuration::ZERO)
}

/// "6d 23h", as a merchant reads a hold's length.
fn days_and_hours(d: SignedDuration) -> String {
    let hours = (d.as_secs() + 1800) / 3600;
    match (hours / 24, hours % 24) {
        (0, h) => format!("{h}h"),
        (days, 0) => format!("{days}d"),
        (days, h) => format!("{days}d {h}h"),
    }
}

/// `check`'s warnings: a processing rule (or the default days) that can keep an order longer
/// than the usual authorization period minus `payment.expiry_margin`, when orderflow captures.
pub fn expiry_warnings(rules: &Rules) -> Vec<String> {
    let pay = &rules.payment;
    if pay.capture == CapturePolicy::Never {
        return Vec::new();
    }
    let p = &rules.processing;
    let named = p
        .rules
        .iter()
        .map(|r| (format!("processing.rule \"{}\"", r.name), r.days))
        .chain(std::iter::once((
            "processing.default_days".to_owned(),
            p.default_days,
        )));
    named
        .filter_map(|(what, days)| {
            let hold = longest_hold(&p.calendar, days);
            outlasts(hold, USUAL_AUTHORIZATION_PERIOD, pay.expiry_margin).then(|| {
                format!(
                    "{what} ({days} business days) can keep an order up to {}, longer than Shopify Payments' usual {}-day authorization minus payment.expiry_margin (\"{:#}\"): with payment.capture = \"{}\" such orders are captured at the authorization's expiry minus the margin, before they ship; shorten the rule if that is not wanted, or set payment.capture = \"never\" and capture by hand",
                    days_and_hours(hold),
                    USUAL_AUTHORIZATION_PERIOD.as_hours() / 24,
                    pay.expiry_margin,
                    pay.capture.as_str()
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
