//! `explain`: the plan in words a merchant reads without knowing GraphQL. Times are shown in
//! the shop's time zone.

use std::fmt;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::capture;
use super::model::Order;
use super::plan::{Action, FraudVerdict, Plan, day};
use super::policy::Rules;

/// The plan for `order` at `now`, rendered for a merchant. Sends nothing.
pub fn explain(order: &Order, rules: &Rules, now: Timestamp) -> String {
    super::plan(order, rules, now).to_string()
}

fn when(at: Timestamp, zone: &TimeZone) -> String {
    at.to_zoned(zone.clone())
        .strftime("%a %-d %b %Y %H:%M %Z")
        .to_string()
}

fn plural(n: usize, one: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {one}s")
    }
}

/// The payment line: what happens to an authorized payment, or nothing without one.
fn payment_line(v: &capture::Verdict, zone: &TimeZone) -> Option<String> {
    use capture::Verdict as V;
    Some(match v {
        V::NoAuthorization => return None,
        V::Captured => "captured (nothing of the authorization is left to capture)".to_owned(),
        V::Off => "not captured: authorized, and payment.capture = \"never\" leaves it to a person"
            .to_owned(),
        V::Expired { at } => format!(
            "not captured: the authorization expired on {}: a person decides",
            when(*at, zone)
        ),
        V::Blocked { reason, expires_at } => {
            let mut s = format!("not captured: {reason}");
            if let Some(at) = expires_at {
                s.push_str(&format!(
                    "; the authorization expires on {}: if it is still blocked then, it expires uncaptured and a person decides",
                    when(*at, zone)
                ));
            }
            s
        }
        V::Wait {
            waits_for,
            capture_by,
            expires_at,
        } => {
            let mut s = format!("waits for {waits_for} (rule {})", capture::CAPTURE_RULE);
            if let (Some(by), Some(at)) = (capture_by, expires_at) {
                s.push_str(&format!(
                    "; captured on {} at the latest, before the authorization expires on {} (rule {})",
                    when(*by, zone),
                    when(*at, zone),
                    capture::EXPIRY_RULE
                ));
            }
            s
        }
        V::Capture {
            captures,
            rule,
            reason,
        } => {
            let amounts: Vec<String> = captures
                .iter()
                .map(|c| match &c.currency {
                    Some(cur) => format!("{} {cur}", c.amount),
                    None => c.amount.to_string(),
                })
                .collect();
            format!(
                "captured by this plan ({}): {reason} (rule {rule})",
                amounts.join(", ")
            )
        }
    })
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Order {} ({}), planned at {} ({})",
            self.order_name,
            self.order_id,
            when(self.planned_at, &self.zone),
            self.time_zone
        )?;
        if let Some(why) = &self.skipped {
            // A closed order may still get the record of our close (see `archive`).
            if let Some(s) = self.changes().next() {
                return writeln!(
                    f,
                    "Nothing to do but record: {why}; {} (rule {}).",
                    s.reason, s.rule
                );
            }
            return writeln!(f, "Nothing to do: {why}, so no rule applies.");
        }
        let risk = match &self.fraud {
            FraudVerdict::Off => "not checked (no fraud rule holds on anything)".to_owned(),
            FraudVerdict::Clear => "clear".to_owned(),
            FraudVerdict::Pending => {
                "assessment pending: nothing is fulfilled until it is done".to_owned()
            }
            FraudVerdict::Hold { rule, reason } => format!("{reason}: fraud hold (rule {rule})"),
            FraudVerdict::Accepted => "Shopify recommends ACCEPT".to_owned(),
        };
        writeln!(f, "Risk: {risk}")?;
        if let Some(s) = &self.ship_by {
            writeln!(
                f,
                "Ship by: {} (cut-off {}), {} (rule \"{}\")",
                s.date.strftime("%a %-d %b %Y"),
                s.at.to_zoned(self.zone.clone()).strftime("%H:%M %Z"),
                match s.days {
                    0 => "no processing time".to_owned(),
                    n => plural(n as usize, "business day"),
                },
                s.rule
            )?;
        }
        if let Some(line) = payment_line(&self.payment, &self.zone) {
            writeln!(f, "Payment: {line}")?;
        }
        writeln!(f, "\nLines:")?;
        let mut current: Option<&Option<String>> = None;
        for l in &self.lines {
            if current != Some(&l.fulfillment_order) {
                match &l.fulfillment_order {
                    Some(fo) => writeln!(f, "  fulfilment order {fo}")?,
                    None => writeln!(f, "  in no fulfilment order")?,
                }
                current = Some(&l.fulfillment_order);
            }
            writeln!(
                f,
                "    - {} ×{}: {} (rule \"{}\"), {} (rule \"{}\"), ship by {}: {}",
                l.name,
                l.remaining,
                l.action.as_str(),
                l.action_rule,
                match l.days {
                    0 => "no processing time".to_owned(),
                    n => plural(n as usize, "business day"),
                },
                l.days_rule,
                day(l.ship_by),
                l.outcome
            )?;
        }
        if !self.notes.is_empty() {
            writeln!(f, "\nNotes:")?;
            for n in &self.notes {
                writeln!(f, "  - {n}")?;
            }
        }
        if self.is_empty() {
            writeln!(f, "\nNothing to do: already as the rules want it.")?;
        } else {
            writeln!(f, "\nActions:")?;
            for (i, s) in self.changes().enumerate() {
                let what = match &s.action {
                    Action::Release {
                        fulfillment_order,
                        hold_ids,
                    } => format!(
                        "release {} of ours on {fulfillment_order}",
                        plural(hold_ids.len(), "hold")
                    ),
                    // The hold's note is the step's reason, printed once below.
                    Action::Hold {
                        fulfillment_order,
                        handle,
                        reason,
                        notify_merchant,
                        ..
                    } => format!(
                        "hold {fulfillment_order} with {handle} ({reason}{})",
                        if *notify_merchant {
                            ", merchant notified"
                        } else {
                            ""
                        }
                    ),
                    Action::Fulfill {
                        fulfillment_order,
                        lines,
                        notify_customer,
                    } => format!(
                        "fulfil {} of {fulfillment_order}{}",
                        plural(lines.len(), "line"),
                        if *notify_customer {
                            ", customer notified"
                        } else {
                            ""
                        }
                    ),
                    Action::TagsAdd { tags } => format!("add tag(s) {}", tags.join(", ")),
                    Action::TagsRemove { tags } => format!("remove tag(s) {}", tags.join(", ")),
                    Action::SetDecision { decision } => format!(
                        "record the decision on the order (ship by {})",
                        decision.ship_by.map_or("-".to_owned(), day)
                    ),
                    Action::SetDeadline {
                        fulfillment_orders,
                        at,
                    } => format!(
                        "set Shopify's fulfil-by deadline of {} to {}",
                        fulfillment_orders.join(", "),
                        when(*at, &self.zone)
                    ),
                    Action::Close => "close (archive) the order".to_owned(),
                    Action::Capture {
                        parent_transaction,
                        amount,
                        currency,
                        ..
                    } => format!(
                        "capture {amount}{} of authorization {parent_transaction}",
                        currency
                            .as_deref()
                            .map_or(String::new(), |c| format!(" {c}"))
                    ),
                    Action::WakeUp { .. } => unreachable!("changes() leaves the wake-up out"),
                };
                writeln!(f, "  {}. {what}: {} (rule {})", i + 1, s.reason, s.rule)?;
            }
        }
        if let Some(s) = self
            .steps
            .iter()
            .find(|s| matches!(s.action, Action::WakeUp { .. }))
        {
            let at = self.wake_up().expect("a wake-up step");
            writeln!(
                f,
                "Next look: {}: {} (rule {})",
                when(at, &self.zone),
                s.reason,
                s.rule
            )?;
        }
        Ok(())
    }
}
