//! Readers of single TOML values: each returns the typed value or records an issue that names
//! the key and says what would be valid.

use jiff::civil::{Date, Time, Weekday};
use rust_decimal::Decimal;
use toml::Value;

use super::{Issues, MAX_DAYS};
use crate::config::ConfigIssue;
use crate::rules::enums::RiskLevel;
use crate::rules::policy::{CapturePolicy, FulfilmentAction, WEEKDAY_NAMES};

pub(super) fn action(key: &str, v: &Value, issues: &mut Issues) -> Option<FulfilmentAction> {
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

/// `[payment] capture`: one of the policies.
pub(super) fn capture_policy(key: &str, v: &Value, issues: &mut Issues) -> Option<CapturePolicy> {
    let policy = v.as_str().and_then(CapturePolicy::parse);
    if policy.is_none() {
        let all: Vec<String> = CapturePolicy::ALL
            .iter()
            .map(|p| format!("\"{}\"", p.as_str()))
            .collect();
        issues.push(ConfigIssue::new(
            key,
            format!(
                "{} is not a capture policy: use {}",
                shown(v),
                all.join(", ")
            ),
        ));
    }
    policy
}

pub(super) fn boolean(key: &str, v: &Value, issues: &mut Issues) -> Option<bool> {
    v.as_bool().or_else(|| {
        issues.push(wrong_type(key, "true or false"));
        None
    })
}

pub(super) fn tag(key: &str, v: &Value, issues: &mut Issues) -> Option<Option<String>> {
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

pub(super) fn integer(
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

pub(super) fn days(key: &str, v: &Value, issues: &mut Issues) -> Option<u32> {
    integer(key, v, issues, 0, MAX_DAYS, "business days, e.g. 3").map(|n| n as u32)
}

/// One string or a list of strings; an empty list would match nothing, so it is refused.
pub(super) fn strings(key: &str, v: &Value, issues: &mut Issues) -> Option<Vec<String>> {
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

pub(super) fn enum_list<E>(
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

pub(super) fn risk_levels(key: &str, v: &Value, issues: &mut Issues) -> Option<Vec<RiskLevel>> {
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

pub(super) fn decimal(key: &str, v: &Value, issues: &mut Issues) -> Option<Decimal> {
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
pub(super) fn cutoff(key: &str, v: &Value, issues: &mut Issues) -> Option<Time> {
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

pub(super) fn weekdays(key: &str, v: &Value, issues: &mut Issues) -> Option<Vec<Weekday>> {
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
pub(super) fn dates(key: &str, v: &Value, issues: &mut Issues) -> Option<Vec<Date>> {
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

pub(super) fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

pub(super) fn wrong_type(key: &str, expected: &str) -> ConfigIssue {
    ConfigIssue::new(key, format!("wrong type: write {expected}"))
}

pub(super) fn missing(rule_key: &str, field: &str, fix: &str) -> ConfigIssue {
    ConfigIssue::new(format!("{rule_key}.{field}"), format!("missing: {fix}"))
}

pub(super) fn unknown_key(key: String, allowed: &[&str]) -> ConfigIssue {
    ConfigIssue::new(
        key,
        format!("unknown key: use one of {}", allowed.join(", ")),
    )
}

/// A delay written like `"0h"`, `"2h"`, `"30m"`, `"1d 12h"`: not negative, at most a year.
pub(super) fn duration(key: &str, v: &Value, issues: &mut Issues) -> Option<jiff::SignedDuration> {
    const HINT: &str = "a duration, e.g. \"0h\", \"2h\", \"30m\" or \"3d\"";
    let Some(s) = v.as_str() else {
        issues.push(wrong_type(key, HINT));
        return None;
    };
    // Days as 24 hours: the archive delay is a span of time, not calendar days.
    let parsed = match s.trim().strip_suffix('d').map(str::trim) {
        Some(days) if days.chars().all(|c| c.is_ascii_digit()) && !days.is_empty() => days
            .parse::<i64>()
            .ok()
            .map(|d| jiff::SignedDuration::from_hours(d.saturating_mul(24))),
        _ => s.parse::<jiff::SignedDuration>().ok(),
    };
    match parsed {
        Some(d) if !d.is_negative() && d <= jiff::SignedDuration::from_hours(365 * 24) => Some(d),
        Some(_) => {
            issues.push(ConfigIssue::new(
                key,
                format!("`{s}` is out of range: write a duration between \"0h\" and \"365d\""),
            ));
            None
        }
        None => {
            issues.push(ConfigIssue::new(
                key,
                format!("`{s}` is not a duration: write {HINT}"),
            ));
            None
        }
    }
}
