//! The `when` of a rule: conditions on one line item in its order and fulfilment order. Every
//! condition written must hold; a list means any of its values. Tags, vendors and countries
//! compare ASCII case-insensitively, as Shopify treats tags; SKU prefixes and source names
//! compare exactly.

use std::fmt::{self, Write};

use rust_decimal::Decimal;

use super::enums::DeliveryMethodType;
use super::model::{LineItem, Order};

/// The keys a `when` table may hold, in the order `check` prints them.
pub const WHEN_KEYS: &[&str] = &[
    "product_tag",
    "vendor",
    "sku_prefix",
    "requires_shipping",
    "preorder",
    "gift_card",
    "delivery_method",
    "order_tag",
    "source_name",
    "shipping_country",
    "min_total",
    "max_total",
];

/// Conditions of one rule. An empty list or `None` is a condition not written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct When {
    pub product_tag: Vec<String>,
    pub vendor: Vec<String>,
    pub sku_prefix: Vec<String>,
    pub requires_shipping: Option<bool>,
    pub preorder: Option<bool>,
    pub gift_card: Option<bool>,
    pub delivery_method: Vec<DeliveryMethodType>,
    pub order_tag: Vec<String>,
    pub source_name: Vec<String>,
    /// ISO 3166-1 alpha-2, upper-case.
    pub shipping_country: Vec<String>,
    /// Inclusive: the order's total is at least this.
    pub min_total: Option<Decimal>,
    /// Inclusive: the order's total is at most this.
    pub max_total: Option<Decimal>,
}

/// What a rule looks at: one line, its order, and the delivery method of the fulfilment order
/// that holds it (`None` when no fulfilment order holds it any more).
#[derive(Debug, Clone, Copy)]
pub struct LineContext<'a> {
    pub order: &'a Order,
    pub line: &'a LineItem,
    pub delivery_method: Option<DeliveryMethodType>,
}

fn any_eq(wanted: &[String], have: &[String]) -> bool {
    wanted
        .iter()
        .any(|w| have.iter().any(|h| h.eq_ignore_ascii_case(w)))
}

fn one_eq(wanted: &[String], have: Option<&str>) -> bool {
    have.is_some_and(|h| wanted.iter().any(|w| h.eq_ignore_ascii_case(w)))
}

impl When {
    pub fn matches(&self, cx: &LineContext<'_>) -> bool {
        let (order, line) = (cx.order, cx.line);
        (self.product_tag.is_empty() || any_eq(&self.product_tag, &line.product_tags))
            && (self.vendor.is_empty() || one_eq(&self.vendor, line.vendor.as_deref()))
            && (self.sku_prefix.is_empty()
                || line
                    .sku
                    .as_deref()
                    .is_some_and(|sku| self.sku_prefix.iter().any(|p| sku.starts_with(p.as_str()))))
            && self
                .requires_shipping
                .is_none_or(|v| v == line.requires_shipping)
            && self.preorder.is_none_or(|v| v == line.preorder)
            && self.gift_card.is_none_or(|v| v == line.gift_card)
            && (self.delivery_method.is_empty()
                || cx
                    .delivery_method
                    .is_some_and(|m| self.delivery_method.contains(&m)))
            && (self.order_tag.is_empty() || any_eq(&self.order_tag, &order.tags))
            && (self.source_name.is_empty()
                || order
                    .source_name
                    .as_deref()
                    .is_some_and(|s| self.source_name.iter().any(|w| w == s)))
            && (self.shipping_country.is_empty()
                || one_eq(&self.shipping_country, order.shipping_country.as_deref()))
            && self.min_total.is_none_or(|min| order.total_price >= min)
            && self.max_total.is_none_or(|max| order.total_price <= max)
    }
}

/// TOML inline-table form, as a merchant writes it; `{}` matches every line.
impl fmt::Display for When {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        let list = |values: &mut dyn Iterator<Item = String>| {
            let quoted: Vec<String> = values.map(|v| format!("{v:?}")).collect();
            format!("[{}]", quoted.join(", "))
        };
        let mut push_list = |key: &str, values: &[String]| {
            if !values.is_empty() {
                parts.push(format!("{key} = {}", list(&mut values.iter().cloned())));
            }
        };
        push_list("product_tag", &self.product_tag);
        push_list("vendor", &self.vendor);
        push_list("sku_prefix", &self.sku_prefix);
        let methods: Vec<String> = self
            .delivery_method
            .iter()
            .map(|m| m.as_str().to_owned())
            .collect();
        push_list("delivery_method", &methods);
        push_list("order_tag", &self.order_tag);
        push_list("source_name", &self.source_name);
        push_list("shipping_country", &self.shipping_country);
        for (key, value) in [
            ("requires_shipping", self.requires_shipping),
            ("preorder", self.preorder),
            ("gift_card", self.gift_card),
        ] {
            if let Some(v) = value {
                parts.push(format!("{key} = {v}"));
            }
        }
        for (key, value) in [("min_total", self.min_total), ("max_total", self.max_total)] {
            if let Some(v) = value {
                parts.push(format!("{key} = \"{v}\""));
            }
        }
        let mut out = String::from("{");
        for (i, p) in parts.iter().enumerate() {
            let _ = write!(out, "{}{p}", if i == 0 { " " } else { ", " });
        }
        out.push_str(if parts.is_empty() { "}" } else { " }" });
        f.write_str(&out)
    }
}
