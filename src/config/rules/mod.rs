//! From the config's rules tables to typed [`Rules`], every problem at once. The loader is
//! config's, not the engine's: `rules` only receives the validated values, so it never needs to
//! know how a merchant wrote them or how a problem is reported.
//!
//! A shop's rules are layered: the global `[fulfilment]`, `[processing]`, `[fraud]`, `[archive]`
//! and `[payment]` first,
//! then the shop's own sections (inline under `[[shops]]` or from its `rules` file) merged over
//! them **key by key**. A key the shop writes replaces the global value entirely, lists and the
//! `rule` array included, so a shop that writes `[[shops.processing.rule]]` runs only its own
//! processing rules while still inheriting the global `cutoff` and `holidays`.
//!
//! Each issue names the key where its value was written (`processing.rule[0].when.vendor`,
//! `shops[1].processing.cutoff`, `rules/acme.toml:fraud.hold_on_risk`) and what would be valid.

pub(super) mod file;
mod rule;
mod value;

use std::collections::BTreeMap;

use jiff::SignedDuration;
use jiff::tz::TimeZone;
use toml::Value;

use rule::rule_list;
use value::{
    action, boolean, capture_policy, cutoff, dates, days, duration, enum_list, integer, missing,
    risk_levels, tag, unknown_key, weekdays,
};

use super::ConfigIssue;
use crate::calendar::Calendar;
use crate::rules::enums::RiskRecommendation;
use crate::rules::matcher::When;
use crate::rules::policy::{
    ArchiveRules, FraudRules, FulfilmentRule, FulfilmentRules, PaymentRules, ProcessingRule,
    ProcessingRules, Rules,
};

/// One source of rules sections, in layering order.
#[derive(Debug, Clone, Default)]
pub struct RulesLayer<'a> {
    /// Put before `section.key` in issues: `""` for the global sections, `"shops[0]."` for a
    /// shop's inline sections, `"rules/acme.toml:"` for a shop's rules file.
    pub key_prefix: String,
    pub fulfilment: Option<&'a toml::Table>,
    pub processing: Option<&'a toml::Table>,
    pub fraud: Option<&'a toml::Table>,
    pub archive: Option<&'a toml::Table>,
    pub payment: Option<&'a toml::Table>,
}

const FULFILMENT_KEYS: &[&str] = &[
    "default",
    "notify_customer",
    "skip_test_orders",
    "manual_tag",
    "rule",
];
const FULFILMENT_RULE_KEYS: &[&str] = &["name", "when", "action"];
const PROCESSING_KEYS: &[&str] = &[
    "cutoff",
    "business_days",
    "holidays",
    "default_days",
    "hold",
    "set_deadline",
    "rule",
];
const PROCESSING_RULE_KEYS: &[&str] = &["name", "when", "days"];
const FRAUD_KEYS: &[&str] = &[
    "hold_on_risk",
    "hold_on_recommendation",
    "release_on_accept",
    "notify_merchant",
    "tag",
    "pending_recheck_minutes",
];
const ARCHIVE_KEYS: &[&str] = &["when_fulfilled", "after"];
const PAYMENT_KEYS: &[&str] = &["capture", "expiry_margin"];
/// A processing time past a year of business days is a typo, not a plan.
pub(super) const MAX_DAYS: i64 = 250;

/// One section merged over its layers; each value remembers the layer that wrote it.
struct Section<'a> {
    name: &'static str,
    values: BTreeMap<&'a str, (&'a str, &'a Value)>,
}

impl<'a> Section<'a> {
    fn merge(
        name: &'static str,
        layers: &'a [RulesLayer<'a>],
        pick: impl Fn(&RulesLayer<'a>) -> Option<&'a toml::Table>,
    ) -> Self {
        let mut values = BTreeMap::new();
        for layer in layers {
            for (k, v) in pick(layer).into_iter().flatten() {
                values.insert(k.as_str(), (layer.key_prefix.as_str(), v));
            }
        }
        Self { name, values }
    }

    /// The value of `key` with the dotted path that names it in issues.
    fn get(&self, key: &str) -> Option<(String, &'a Value)> {
        self.values
            .get(key)
            .map(|(prefix, v)| (format!("{prefix}{}.{key}", self.name), *v))
    }

    fn check_keys(&self, allowed: &[&str], issues: &mut Vec<ConfigIssue>) {
        for (k, (prefix, _)) in &self.values {
            if !allowed.contains(k) {
                issues.push(unknown_key(format!("{prefix}{}.{k}", self.name), allowed));
            }
        }
    }
}

/// Merges `layers` (first is lowest) over the defaults and validates them for a shop in `zone`.
/// Every problem is returned, each naming its key.
pub fn resolve(layers: &[RulesLayer<'_>], zone: TimeZone) -> Result<Rules, Vec<ConfigIssue>> {
    let mut issues = Vec::new();
    let d = Rules::defaults(zone.clone());
    let fulfilment = Section::merge("fulfilment", layers, |l| l.fulfilment);
    let processing = Section::merge("processing", layers, |l| l.processing);
    let fraud = Section::merge("fraud", layers, |l| l.fraud);
    let archive = Section::merge("archive", layers, |l| l.archive);
    let payment = Section::merge("payment", layers, |l| l.payment);
    let i = &mut issues;
    fulfilment.check_keys(FULFILMENT_KEYS, i);
    processing.check_keys(PROCESSING_KEYS, i);
    fraud.check_keys(FRAUD_KEYS, i);
    archive.check_keys(ARCHIVE_KEYS, i);
    payment.check_keys(PAYMENT_KEYS, i);

    let fulfilment = FulfilmentRules {
        default: read(&fulfilment, "default", i, action).unwrap_or(d.fulfilment.default),
        notify_customer: read(&fulfilment, "notify_customer", i, boolean)
            .unwrap_or(d.fulfilment.notify_customer),
        skip_test_orders: read(&fulfilment, "skip_test_orders", i, boolean)
            .unwrap_or(d.fulfilment.skip_test_orders),
        manual_tag: read(&fulfilment, "manual_tag", i, tag).unwrap_or(d.fulfilment.manual_tag),
        rules: read(&fulfilment, "rule", i, |k, v, i| {
            rule_list(k, v, i, FULFILMENT_RULE_KEYS, |k, t, i| {
                let action = match t.get("action") {
                    Some(v) => action(&format!("{k}.action"), v, i)?,
                    None => {
                        i.push(missing(
                            k,
                            "action",
                            "write action = \"auto\" or \"manual\"",
                        ));
                        return None;
                    }
                };
                Some(FulfilmentRule {
                    name: String::new(),
                    when: When::default(),
                    action,
                })
            })
        })
        .unwrap_or_default(),
    };

    let cutoff = read(&processing, "cutoff", i, cutoff);
    let business_days = read(&processing, "business_days", i, weekdays);
    let holidays = read(&processing, "holidays", i, dates);
    let calendar = Calendar::new(
        zone,
        cutoff.or(d.processing.calendar.cutoff()),
        &business_days.unwrap_or_else(|| d.processing.calendar.business_days()),
        holidays.unwrap_or_default(),
    )
    .unwrap_or_else(|e| {
        // `weekdays` refuses an empty list, so this only repeats that issue's cause.
        debug_assert!(!i.is_empty(), "{e}");
        d.processing.calendar.clone()
    });
    let processing = ProcessingRules {
        calendar,
        default_days: read(&processing, "default_days", i, days).unwrap_or(0),
        hold: read(&processing, "hold", i, boolean).unwrap_or(d.processing.hold),
        set_deadline: read(&processing, "set_deadline", i, boolean)
            .unwrap_or(d.processing.set_deadline),
        rules: read(&processing, "rule", i, |k, v, i| {
            rule_list(k, v, i, PROCESSING_RULE_KEYS, |k, t, i| {
                let days = match t.get("days") {
                    Some(v) => days(&format!("{k}.days"), v, i)?,
                    None => {
                        i.push(missing(k, "days", "write days = 3 (business days)"));
                        return None;
                    }
                };
                Some(ProcessingRule {
                    name: String::new(),
                    when: When::default(),
                    days,
                })
            })
        })
        .unwrap_or_default(),
    };

    let fraud = FraudRules {
        hold_on_risk: read(&fraud, "hold_on_risk", i, risk_levels)
            .unwrap_or(d.fraud.hold_on_risk),
        hold_on_recommendation: read(&fraud, "hold_on_recommendation", i, |k, v, i| {
            let values = enum_list(
                k,
                v,
                i,
                RiskRecommendation::parse,
                RiskRecommendation::valid_values,
            )?;
            if values.contains(&RiskRecommendation::Accept) {
                // ACCEPT is Shopify saying the order is fine; it is what releases a hold.
                i.push(ConfigIssue::new(
                    k,
                    "ACCEPT would hold every order Shopify found safe: use CANCEL and/or INVESTIGATE",
                ));
                return None;
            }
            Some(values)
        })
        .unwrap_or(d.fraud.hold_on_recommendation),
        release_on_accept: read(&fraud, "release_on_accept", i, boolean)
            .unwrap_or(d.fraud.release_on_accept),
        notify_merchant: read(&fraud, "notify_merchant", i, boolean)
            .unwrap_or(d.fraud.notify_merchant),
        tag: read(&fraud, "tag", i, tag).unwrap_or(d.fraud.tag),
        pending_recheck: read(&fraud, "pending_recheck_minutes", i, |k, v, i| {
            let m = integer(k, v, i, 1, 24 * 60, "minutes, e.g. 30")?;
            Some(SignedDuration::from_mins(m))
        })
        .unwrap_or(d.fraud.pending_recheck),
    };

    let archive = ArchiveRules {
        when_fulfilled: read(&archive, "when_fulfilled", i, boolean)
            .unwrap_or(d.archive.when_fulfilled),
        after: read(&archive, "after", i, duration).unwrap_or(d.archive.after),
    };

    let payment = PaymentRules {
        capture: read(&payment, "capture", i, capture_policy).unwrap_or(d.payment.capture),
        expiry_margin: read(&payment, "expiry_margin", i, duration)
            .unwrap_or(d.payment.expiry_margin),
    };

    if issues.is_empty() {
        Ok(Rules {
            fulfilment,
            processing,
            fraud,
            archive,
            payment,
        })
    } else {
        Err(issues)
    }
}

pub(super) trait Named {
    fn set_name_and_when(&mut self, name: String, when: When);
}

impl Named for FulfilmentRule {
    fn set_name_and_when(&mut self, name: String, when: When) {
        (self.name, self.when) = (name, when);
    }
}

impl Named for ProcessingRule {
    fn set_name_and_when(&mut self, name: String, when: When) {
        (self.name, self.when) = (name, when);
    }
}

pub(super) type Issues = Vec<ConfigIssue>;

fn read<'a, T>(
    section: &Section<'a>,
    key: &str,
    issues: &mut Issues,
    parse: impl FnOnce(&str, &'a Value, &mut Issues) -> Option<T>,
) -> Option<T> {
    let (path, value) = section.get(key)?;
    parse(&path, value, issues)
}

#[cfg(test)]
mod tests;
