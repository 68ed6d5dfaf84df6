//! From the config's rules tables to typed [`Rules`], every problem at once.
//!
//! A shop's rules are layered: the global `[fulfilment]`, `[processing]` and `[fraud]` first,
//! then the shop's own sections (inline under `[[shops]]` or from its `rules` file) merged over
//! them **key by key**. A key the shop writes replaces the global value entirely, lists and the
//! `rule` array included, so a shop that writes `[[shops.processing.rule]]` runs only its own
//! processing rules while still inheriting the global `cutoff` and `holidays`.
//!
//! Each issue names the key where its value was written (`processing.rule[0].when.vendor`,
//! `shops[1].processing.cutoff`, `rules/acme.toml:fraud.hold_on_risk`) and what would be valid.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use toml::Value;

use super::config::{
    FraudRules, FulfilmentAction, FulfilmentRule, FulfilmentRules, ProcessingRule, ProcessingRules,
    Rules, WEEKDAY_NAMES,
};
use super::enums::{DeliveryMethodType, RiskLevel, RiskRecommendation};
use super::matcher::{WHEN_KEYS, When};
use crate::calendar::Calendar;
use crate::config::ConfigIssue;

/// One source of rules sections, in layering order.
#[derive(Debug, Clone, Default)]
pub struct RulesLayer<'a> {
    /// Put before `section.key` in issues: `""` for the global sections, `"shops[0]."` for a
    /// shop's inline sections, `"rules/acme.toml:"` for a shop's rules file.
    pub key_prefix: String,
    pub fulfilment: Option<&'a toml::Table>,
    pub processing: Option<&'a toml::Table>,
    pub fraud: Option<&'a toml::Table>,
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
/// A processing time past a year of business days is a typo, not a plan.
const MAX_DAYS: i64 = 250;

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

impl Rules {
    /// Merges `layers` (first is lowest) over the defaults and validates them for a shop in
    /// `zone`. Every problem is returned, each naming its key.
    pub fn resolve(layers: &[RulesLayer<'_>], zone: TimeZone) -> Result<Rules, Vec<ConfigIssue>> {
        let mut issues = Vec::new();
        let d = Rules::defaults(zone.clone());
        let fulfilment = Section::merge("fulfilment", layers, |l| l.fulfilment);
        let processing = Section::merge("processing", layers, |l| l.processing);
        let fraud = Section::merge("fraud", layers, |l| l.fraud);
        let i = &mut issues;
        fulfilment.check_keys(FULFILMENT_KEYS, i);
        processing.check_keys(PROCESSING_KEYS, i);
        fraud.check_keys(FRAUD_KEYS, i);

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
                enum_list(
                    k,
                    v,
                    i,
                    RiskRecommendation::parse,
                    RiskRecommendation::valid_values,
                )
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

        if issues.is_empty() {
            Ok(Rules {
                fulfilment,
                processing,
                fraud,
            })
        } else {
            Err(issues)
        }
    }
}

trait Named {
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

type Issues = Vec<ConfigIssue>;

fn read<'a, T>(
    section: &Section<'a>,
    key: &str,
    issues: &mut Issues,
    parse: impl FnOnce(&str, &'a Value, &mut Issues) -> Option<T>,
) -> Option<T> {
    let (path, value) = section.get(key)?;
    parse(&path, value, issues)
}

/// `[[section.rule]]`: names unique and non-empty, `when` parsed, the rest by `body`.
fn rule_list<R: Named>(
    key: &str,
    value: &Value,
    issues: &mut Issues,
    allowed: &[&str],
    body: impl Fn(&str, &toml::Table, &mut Issues) -> Option<R>,
) -> Option<Vec<R>> {
    let Value::Array(items) = value else {
        issues.push(wrong_type(key, "a list of rules: write [[...rule]] tables"));
        return None;
    };
    let mut rules = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let k = format!("{key}[{n}]");
        let Value::Table(t) = item else {
            issues.push(wrong_type(
                &k,
                "a rule table with name, when and an outcome",
            ));
            continue;
        };
        for name in t.keys() {
            if !allowed.contains(&name.as_str()) {
                issues.push(unknown_key(format!("{k}.{name}"), allowed));
            }
        }
        let name = match t.get("name") {
            Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Some(_) => {
                issues.push(ConfigIssue::new(
                    format!("{k}.name"),
                    "must be a non-empty string: write name = \"digital goods\"; explain quotes it",
                ));
                None
            }
            None => {
                issues.push(missing(
                    &k,
                    "name",
                    "write name = \"digital goods\"; explain quotes it",
                ));
                None
            }
        };
        if let Some(name) = &name {
            if names.contains(name) {
                issues.push(ConfigIssue::new(
                    format!("{k}.name"),
                    format!("`{name}` is used by an earlier rule: use a unique name so explain is unambiguous"),
                ));
            }
            names.push(name.clone());
        }
        let when = match t.get("when") {
            Some(Value::Table(w)) => when(&format!("{k}.when"), w, issues),
            Some(_) => {
                issues.push(wrong_type(
                    &format!("{k}.when"),
                    "a table, e.g. when = { product_tag = [\"handmade\"] }",
                ));
                None
            }
            // No `when` is a catch-all rule.
            None => Some(When::default()),
        };
        if let (Some(mut rule), Some(name), Some(when)) = (body(&k, t, issues), name, when) {
            rule.set_name_and_when(name, when);
            rules.push(rule);
        }
    }
    Some(rules)
}

fn when(key: &str, t: &toml::Table, issues: &mut Issues) -> Option<When> {
    let before = issues.len();
    let mut w = When::default();
    for (name, v) in t {
        let k = format!("{key}.{name}");
        let k = k.as_str();
        let i = &mut *issues;
        match name.as_str() {
            "product_tag" => w.product_tag = strings(k, v, i).unwrap_or_default(),
            "vendor" => w.vendor = strings(k, v, i).unwrap_or_default(),
            "sku_prefix" => w.sku_prefix = strings(k, v, i).unwrap_or_default(),
            "order_tag" => w.order_tag = strings(k, v, i).unwrap_or_default(),
            "source_name" => w.source_name = strings(k, v, i).unwrap_or_default(),
            "requires_shipping" => w.requires_shipping = boolean(k, v, i),
            "preorder" => w.preorder = boolean(k, v, i),
            "gift_card" => w.gift_card = boolean(k, v, i),
            "delivery_method" => {
                w.delivery_method = enum_list(
                    k,
                    v,
                    i,
                    DeliveryMethodType::parse,
                    DeliveryMethodType::valid_values,
                )
                .unwrap_or_default()
            }
            "shipping_country" => {
                w.shipping_country = strings(k, v, i)
                    .map(|cs| countries(k, cs, i))
                    .unwrap_or_default()
            }
            "min_total" => w.min_total = decimal(k, v, i),
            "max_total" => w.max_total = decimal(k, v, i),
            _ => issues.push(unknown_key(k.to_owned(), WHEN_KEYS)),
        }
    }
    if let (Some(min), Some(max)) = (w.min_total, w.max_total)
        && min > max
    {
        issues.push(ConfigIssue::new(
            format!("{key}.min_total"),
            format!("{min} is above max_total {max}: no order could match; use a min_total at most max_total"),
        ));
    }
    (issues.len() == before).then_some(w)
}

fn countries(key: &str, codes: Vec<String>, issues: &mut Issues) -> Vec<String> {
    let mut out = Vec::new();
    for c in codes {
        if c.len() == 2 && c.chars().all(|ch| ch.is_ascii_alphabetic()) {
            out.push(c.to_ascii_uppercase());
        } else {
            issues.push(ConfigIssue::new(
                key,
                format!(
                    "`{c}` is not a country code: use ISO 3166-1 alpha-2 codes, e.g. \"NL\", \"US\""
                ),
            ));
        }
    }
    out
}

fn action(key: &str, v: &Value, issues: &mut Issues) -> Option<FulfilmentAction> {
    match v.as_str() {
        Some("auto") => Some(FulfilmentAction::Auto),
        Some("manual") => Some(FulfilmentAction::Manual),
        _ => {
            issues.push(ConfigIssue::new(
                key,
                format!("{} is not an action: use \"auto\" or \"manual\"", shown(v)),
            ));
            None
        }
    }
}

fn boolean(key: &str, v: &Value, issues: &mut Issues) -> Option<bool> {
    v.as_bool().or_else(|| {
        issues.push(wrong_type(key, "true or false"));
        None
    })
}

fn tag(key: &str, v: &Value, issues: &mut Issues) -> Option<Option<String>> {
    let Some(s) = v.as_str() else {
        issues.push(wrong_type(
            key,
            "a tag string, e.g. \"orderflow:manual\" (\"\" for none)",
        ));
        return None;
    };
    if s.contains(',') || s.chars().count() > 40 {
        issues.push(ConfigIssue::new(
            key,
            format!("`{s}` is not a Shopify tag: use at most 40 characters and no comma, e.g. \"orderflow:manual\""),
        ));
        return None;
    }
    Some((!s.trim().is_empty()).then(|| s.trim().to_owned()))
}

fn integer(
    key: &str,
    v: &Value,
    issues: &mut Issues,
    min: i64,
    max: i64,
    what: &str,
) -> Option<i64> {
    match v.as_integer() {
        Some(n) if (min..=max).contains(&n) => Some(n),
        _ => {
            issues.push(ConfigIssue::new(
                key,
                format!(
                    "{} is out of range: use a whole number from {min} to {max} ({what})",
                    shown(v)
                ),
            ));
            None
        }
    }
}

fn days(key: &str, v: &Value, issues: &mut Issues) -> Option<u32> {
    integer(key, v, issues, 0, MAX_DAYS, "business days, e.g. 3").map(|n| n as u32)
}

/// One string or a list of strings; an empty list would match nothing, so it is refused.
fn strings(key: &str, v: &Value, issues: &mut Issues) -> Option<Vec<String>> {
    let list = match v {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) if !items.is_empty() => {
            let strs: Option<Vec<String>> = items
                .iter()
                .map(|x| x.as_str().map(str::to_owned))
                .collect();
            strs.or_else(|| {
                issues.push(wrong_type(
                    key,
                    "a string or a list of strings, e.g. [\"a\", \"b\"]",
                ));
                None
            })?
        }
        Value::Array(_) => {
            issues.push(ConfigIssue::new(
                key,
                "an empty list matches nothing: write at least one value or remove the key",
            ));
            return None;
        }
        _ => {
            issues.push(wrong_type(
                key,
                "a string or a list of strings, e.g. [\"a\", \"b\"]",
            ));
            return None;
        }
    };
    Some(list)
}

fn enum_list<E>(
    key: &str,
    v: &Value,
    issues: &mut Issues,
    parse: fn(&str) -> Option<E>,
    valid: fn() -> String,
) -> Option<Vec<E>> {
    let texts = match v {
        // An empty list is meaningful here (`hold_on_risk = []` holds on nothing).
        Value::Array(items) if items.is_empty() => return Some(Vec::new()),
        _ => strings(key, v, issues)?,
    };
    let mut out = Vec::new();
    let mut ok = true;
    for t in texts {
        match parse(&t) {
            Some(e) => out.push(e),
            None => {
                ok = false;
                issues.push(ConfigIssue::new(
                    key,
                    format!("`{t}` is not a valid value: use one of {}", valid()),
                ));
            }
        }
    }
    ok.then_some(out)
}

fn risk_levels(key: &str, v: &Value, issues: &mut Issues) -> Option<Vec<RiskLevel>> {
    let levels = enum_list(key, v, issues, RiskLevel::parse, RiskLevel::valid_values)?;
    if levels.contains(&RiskLevel::Pending) {
        issues.push(ConfigIssue::new(
            key,
            "PENDING is not a verdict: a pending order waits for its assessment (fraud.pending_recheck_minutes); use HIGH, MEDIUM, LOW or NONE",
        ));
        return None;
    }
    Some(levels)
}

fn decimal(key: &str, v: &Value, issues: &mut Issues) -> Option<Decimal> {
    let parsed = match v {
        Value::String(s) => s.trim().parse::<Decimal>().ok(),
        Value::Integer(n) => Some(Decimal::from(*n)),
        Value::Float(f) => f.to_string().parse::<Decimal>().ok(),
        _ => None,
    };
    parsed.filter(|d| !d.is_sign_negative()).or_else(|| {
        issues.push(ConfigIssue::new(
            key,
            format!("{} is not an amount: write a non-negative amount in the shop's currency, e.g. \"100.00\"", shown(v)),
        ));
        None
    })
}

/// "HH:MM", 24-hour, two digits each.
fn cutoff(key: &str, v: &Value, issues: &mut Issues) -> Option<Time> {
    let parsed = v.as_str().and_then(|s| {
        let (h, m) = s.split_once(':')?;
        let two_digits = |x: &str| x.len() == 2 && x.bytes().all(|b| b.is_ascii_digit());
        if !two_digits(h) || !two_digits(m) {
            return None;
        }
        Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
    });
    parsed.or_else(|| {
        issues.push(ConfigIssue::new(
            key,
            format!(
                "{} is not a time of day: write \"HH:MM\" in 24-hour form, e.g. \"13:00\"",
                shown(v)
            ),
        ));
        None
    })
}

fn weekdays(key: &str, v: &Value, issues: &mut Issues) -> Option<Vec<jiff::civil::Weekday>> {
    let names: Vec<&str> = WEEKDAY_NAMES.iter().map(|(n, _)| *n).collect();
    let mut out = Vec::new();
    let mut ok = true;
    for t in strings(key, v, issues)? {
        match WEEKDAY_NAMES.iter().find(|(n, _)| *n == t) {
            Some((_, d)) => out.push(*d),
            None => {
                ok = false;
                issues.push(ConfigIssue::new(
                    key,
                    format!("`{t}` is not a weekday: use {}", names.join(", ")),
                ));
            }
        }
    }
    ok.then_some(out)
}

/// ISO dates, as strings or TOML local dates.
fn dates(key: &str, v: &Value, issues: &mut Issues) -> Option<Vec<Date>> {
    let Value::Array(items) = v else {
        issues.push(wrong_type(key, "a list of dates, e.g. [\"2026-12-25\"]"));
        return None;
    };
    let mut out = Vec::new();
    let mut ok = true;
    for item in items {
        let parsed = match item {
            Value::String(s) if s.len() == 10 => s.parse::<Date>().ok(),
            Value::Datetime(dt) if dt.time.is_none() && dt.offset.is_none() => {
                dt.to_string().parse::<Date>().ok()
            }
            _ => None,
        };
        match parsed {
            Some(d) => out.push(d),
            None => {
                ok = false;
                issues.push(ConfigIssue::new(
                    key,
                    format!(
                        "{} is not a date: write ISO dates, e.g. \"2026-12-25\"",
                        shown(item)
                    ),
                ));
            }
        }
    }
    ok.then_some(out)
}

fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

fn wrong_type(key: &str, expected: &str) -> ConfigIssue {
    ConfigIssue::new(key, format!("wrong type: write {expected}"))
}

fn missing(rule_key: &str, field: &str, fix: &str) -> ConfigIssue {
    ConfigIssue::new(format!("{rule_key}.{field}"), format!("missing: {fix}"))
}

fn unknown_key(key: String, allowed: &[&str]) -> ConfigIssue {
    ConfigIssue::new(
        key,
        format!("unknown key: use one of {}", allowed.join(", ")),
    )
}

#[cfg(test)]
mod tests;
