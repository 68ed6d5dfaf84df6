//! `[[section.rule]]` lists and their `when` tables.

use toml::Value;

use super::value::{boolean, decimal, enum_list, missing, strings, unknown_key, wrong_type};
use super::{Issues, Named};
use crate::config::ConfigIssue;
use crate::rules::enums::DeliveryMethodType;
use crate::rules::matcher::{WHEN_KEYS, When};

/// `[[section.rule]]`: names unique and non-empty, `when` parsed, the rest by `body`.
pub(super) fn rule_list<R: Named>(
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

pub(super) fn when(key: &str, t: &toml::Table, issues: &mut Issues) -> Option<When> {
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

pub(super) fn countries(key: &str, codes: Vec<String>, issues: &mut Issues) -> Vec<String> {
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
