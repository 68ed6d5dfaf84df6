//! The merchant's rules for one shop, typed and validated: `[fulfilment]`, `[processing]` and
//! `[fraud]`. Built by config's rules loader from the config file (global sections merged with
//! the shop's); rendered back as TOML by [`Rules::to_toml`] for `orderflow check`.

use std::fmt::Write;

use jiff::SignedDuration;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::enums::{RiskLevel, RiskRecommendation};
use super::matcher::When;
use crate::calendar::Calendar;

/// Defaults, each with the reason it is what it is.
pub mod defaults {
    /// Never ship without a rule saying so: an unmatched line waits for a person.
    pub const FULFILMENT: super::FulfilmentAction = super::FulfilmentAction::Manual;
    /// Customers expect the shipping confirmation Shopify sends on fulfilment.
    pub const NOTIFY_CUSTOMER: bool = true;
    /// Test orders are a merchant trying the checkout: acting on them surprises everyone.
    pub const SKIP_TEST_ORDERS: bool = true;
    pub const MANUAL_TAG: &str = "orderflow:manual";
    pub const FRAUD_TAG: &str = "orderflow:fraud-hold";
    /// Holding is opt-in: it stops people from fulfilling too, not only orderflow.
    pub const HOLD: bool = false;
    /// Shopify's own advice is to review HIGH risk and orders it recommends cancelling.
    pub const HOLD_ON_RISK: &[super::RiskLevel] = &[super::RiskLevel::High];
    pub const HOLD_ON_RECOMMENDATION: &[super::RiskRecommendation] =
        &[super::RiskRecommendation::Cancel];
    pub const RELEASE_ON_ACCEPT: bool = true;
    pub const NOTIFY_MERCHANT: bool = true;
    /// Risk assessments usually land within minutes; the `orders/risk_assessment_changed`
    /// webhook normally wakes us first, this is the safety net.
    pub const PENDING_RECHECK_MINUTES: i64 = 30;
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub fulfilment: FulfilmentRules,
    pub processing: ProcessingRules,
    pub fraud: FraudRules,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FulfilmentAction {
    /// orderflow fulfils the line once nothing holds it.
    Auto,
    /// A person fulfils the line; orderflow never does.
    Manual,
}

impl FulfilmentAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FulfilmentAction::Auto => "auto",
            FulfilmentAction::Manual => "manual",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FulfilmentRules {
    pub default: FulfilmentAction,
    pub notify_customer: bool,
    pub skip_test_orders: bool,
    /// Present on an order while a line with something left to fulfil is manual.
    pub manual_tag: Option<String>,
    pub rules: Vec<FulfilmentRule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FulfilmentRule {
    pub name: String,
    pub when: When,
    pub action: FulfilmentAction,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProcessingRules {
    pub calendar: Calendar,
    pub default_days: u32,
    pub hold: bool,
    pub rules: Vec<ProcessingRule>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProcessingRule {
    pub name: String,
    pub when: When,
    pub days: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FraudRules {
    pub hold_on_risk: Vec<RiskLevel>,
    pub hold_on_recommendation: Vec<RiskRecommendation>,
    pub release_on_accept: bool,
    pub notify_merchant: bool,
    /// Present on an order while a fraud hold of ours is on it.
    pub tag: Option<String>,
    pub pending_recheck: SignedDuration,
}

impl FraudRules {
    /// With nothing to hold on, a pending assessment is nothing to wait for.
    pub fn enabled(&self) -> bool {
        !(self.hold_on_risk.is_empty() && self.hold_on_recommendation.is_empty())
    }
}

impl Rules {
    /// The rules of a shop that wrote none, in its time zone.
    pub fn defaults(zone: TimeZone) -> Self {
        Self {
            fulfilment: FulfilmentRules {
                default: defaults::FULFILMENT,
                notify_customer: defaults::NOTIFY_CUSTOMER,
                skip_test_orders: defaults::SKIP_TEST_ORDERS,
                manual_tag: Some(defaults::MANUAL_TAG.to_owned()),
                rules: Vec::new(),
            },
            processing: ProcessingRules {
                calendar: Calendar::weekdays(zone),
                default_days: 0,
                hold: defaults::HOLD,
                rules: Vec::new(),
            },
            fraud: FraudRules {
                hold_on_risk: defaults::HOLD_ON_RISK.to_vec(),
                hold_on_recommendation: defaults::HOLD_ON_RECOMMENDATION.to_vec(),
                release_on_accept: defaults::RELEASE_ON_ACCEPT,
                notify_merchant: defaults::NOTIFY_MERCHANT,
                tag: Some(defaults::FRAUD_TAG.to_owned()),
                pending_recheck: SignedDuration::from_mins(defaults::PENDING_RECHECK_MINUTES),
            },
        }
    }

    /// The shop's time zone name, for display.
    pub fn zone_name(&self) -> &str {
        self.processing.calendar.zone().iana_name().unwrap_or("UTC")
    }

    /// The resolved rules as TOML sections under `prefix` (e.g. `shops.`), every default
    /// written out, so `check` shows exactly what a shop runs with.
    pub fn to_toml(&self, prefix: &str) -> String {
        let mut o = String::new();
        let f = &self.fulfilment;
        let p = &self.processing;
        let r = &self.fraud;
        let quoted = |xs: &mut dyn Iterator<Item = String>| {
            let v: Vec<String> = xs.map(|x| format!("{x:?}")).collect();
            format!("[{}]", v.join(", "))
        };
        let tag = |t: &Option<String>| format!("{:?}", t.as_deref().unwrap_or(""));
        // Writing to a String cannot fail.
        let _ = writeln!(o, "[{prefix}fulfilment]");
        let _ = writeln!(o, "default = \"{}\"", f.default.as_str());
        let _ = writeln!(o, "notify_customer = {}", f.notify_customer);
        let _ = writeln!(o, "skip_test_orders = {}", f.skip_test_orders);
        let _ = writeln!(o, "manual_tag = {}", tag(&f.manual_tag));
        for rule in &f.rules {
            let _ = writeln!(o, "[[{prefix}fulfilment.rule]]");
            let _ = writeln!(o, "name = {:?}", rule.name);
            let _ = writeln!(o, "when = {}", rule.when);
            let _ = writeln!(o, "action = \"{}\"", rule.action.as_str());
        }
        let _ = writeln!(o, "[{prefix}processing]");
        match p.calendar.cutoff() {
            Some(c) => {
                let _ = writeln!(o, "cutoff = \"{}\"", c.strftime("%H:%M"));
            }
            None => {
                let _ = writeln!(
                    o,
                    "# no cutoff: a payment on a business day counts that day"
                );
            }
        }
        let days = p.calendar.business_days();
        let _ = writeln!(
            o,
            "business_days = {}",
            quoted(&mut days.iter().map(|d| weekday_name(*d).to_owned()))
        );
        let _ = writeln!(
            o,
            "holidays = {}",
            quoted(&mut p.calendar.holidays().map(|d| d.to_string()))
        );
        let _ = writeln!(o, "default_days = {}", p.default_days);
        let _ = writeln!(o, "hold = {}", p.hold);
        let _ = writeln!(o, "# time zone: {}", self.zone_name());
        for rule in &p.rules {
            let _ = writeln!(o, "[[{prefix}processing.rule]]");
            let _ = writeln!(o, "name = {:?}", rule.name);
            let _ = writeln!(o, "when = {}", rule.when);
            let _ = writeln!(o, "days = {}", rule.days);
        }
        let _ = writeln!(o, "[{prefix}fraud]");
        let _ = writeln!(
            o,
            "hold_on_risk = {}",
            quoted(&mut r.hold_on_risk.iter().map(|v| v.as_str().to_owned()))
        );
        let _ = writeln!(
            o,
            "hold_on_recommendation = {}",
            quoted(
                &mut r
                    .hold_on_recommendation
                    .iter()
                    .map(|v| v.as_str().to_owned())
            )
        );
        let _ = writeln!(o, "release_on_accept = {}", r.release_on_accept);
        let _ = writeln!(o, "notify_merchant = {}", r.notify_merchant);
        let _ = writeln!(o, "tag = {}", tag(&r.tag));
        let _ = writeln!(
            o,
            "pending_recheck_minutes = {}",
            r.pending_recheck.as_mins()
        );
        o
    }
}

impl Default for Rules {
    fn default() -> Self {
        Self::defaults(TimeZone::UTC)
    }
}

/// The three-letter names `business_days` is written with.
pub const WEEKDAY_NAMES: &[(&str, Weekday)] = &[
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

pub fn weekday_name(day: Weekday) -> &'static str {
    WEEKDAY_NAMES
        .iter()
        .find(|(_, d)| *d == day)
        .map(|(n, _)| *n)
        .expect("every weekday has a name")
}
