//! The merchant's rules for one shop, typed and validated: `[fulfilment]`, `[processing]`,
//! `[fraud]`, `[archive]` and `[payment]`. Built by config's rules loader from the config file
//! (global sections merged with the shop's), and printed back as TOML by config's redacted view
//! for `orderflow check`.

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
    /// Capturing takes the customer's money: only when the merchant says when.
    pub const CAPTURE: super::CapturePolicy = super::CapturePolicy::Never;
    /// Half a day before the authorization expires leaves a failed capture time to be retried
    /// and a person time to act.
    pub const EXPIRY_MARGIN_HOURS: i64 = 12;
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rules {
    pub fulfilment: FulfilmentRules,
    pub processing: ProcessingRules,
    pub fraud: FraudRules,
    pub archive: ArchiveRules,
    pub payment: PaymentRules,
}

/// `[payment]`: capturing authorized payments, see [`super::capture`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaymentRules {
    pub capture: CapturePolicy,
    /// How long before the authorization expires orderflow captures at the latest.
    pub expiry_margin: SignedDuration,
}

/// `[payment] capture`: when an authorized payment is captured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CapturePolicy {
    /// orderflow never captures (the default: capturing takes the customer's money).
    Never,
    /// Once the order has a fulfilment that is not cancelled.
    OnFulfilment,
    /// Once the risk is assessed and clear and no fraud hold of ours is on the order.
    WhenRiskClear,
}

impl CapturePolicy {
    pub const ALL: &'static [CapturePolicy] = &[
        CapturePolicy::Never,
        CapturePolicy::OnFulfilment,
        CapturePolicy::WhenRiskClear,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CapturePolicy::Never => "never",
            CapturePolicy::OnFulfilment => "on_fulfilment",
            CapturePolicy::WhenRiskClear => "when_risk_clear",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|p| p.as_str() == text)
    }
}

/// `[archive]`: closing (`orderClose`) finished orders, see [`super::archive`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveRules {
    /// Close a paid, fully fulfilled order; off by default.
    pub when_fulfilled: bool,
    /// How long after it was fully fulfilled.
    pub after: SignedDuration,
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
    /// Write the ship-by instant to Shopify's fulfil-by deadline ([`super::deadline`]); off for
    /// a shop whose fulfilment app sets its own deadlines, which orderflow would overwrite.
    pub set_deadline: bool,
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
                set_deadline: true,
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
            archive: ArchiveRules {
                when_fulfilled: false,
                after: SignedDuration::ZERO,
            },
            payment: PaymentRules {
                capture: defaults::CAPTURE,
                expiry_margin: SignedDuration::from_hours(defaults::EXPIRY_MARGIN_HOURS),
            },
        }
    }

    /// The shop's time zone name, for display.
    pub fn zone_name(&self) -> &str {
        self.processing.calendar.zone().iana_name().unwrap_or("UTC")
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
