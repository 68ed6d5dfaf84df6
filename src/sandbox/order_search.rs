//! The root `orders` connection: Shopify's search syntax for the `updated_at` and `created_at`
//! terms (`>=`, `<=`, `>`, `<`, or equal, joined by spaces or `AND`), the sort keys
//! `UPDATED_AT`, `CREATED_AT`, `PROCESSED_AT` (the default) and `ID`, and `reverse`. A term or
//! sort key it does not model is a field error, so a test never passes on a filter ignored.

use std::cmp::Ordering;

use apollo_compiler::resolvers::FieldError;
use apollo_compiler::response::JsonMap;
use jiff::Timestamp;
use serde_json::Value;

use super::state::{ShopState, StoredOrder};
use super::view;

/// The orders of `shop` that match `args.query`, in `args.sortKey` order (not yet reversed or
/// paged: the connection does that).
pub fn orders(shop: &ShopState, args: &JsonMap) -> Result<Vec<Value>, FieldError> {
    let terms = match args.get("query").and_then(|v| v.as_str()) {
        Some(q) => parse(q)?,
        None => Vec::new(),
    };
    let key = args
        .get("sortKey")
        .and_then(|v| v.as_str())
        .unwrap_or("PROCESSED_AT");
    let sort: fn(&StoredOrder) -> Timestamp = match key {
        "UPDATED_AT" => |o| o.updated_at,
        "CREATED_AT" => |o| o.order.created_at,
        "PROCESSED_AT" | "ID" => |o| o.order.processed_at,
        other => return Err(unsupported(&format!("sortKey {other}"))),
    };
    let mut found: Vec<&StoredOrder> = shop
        .orders
        .values()
        .filter(|o| terms.iter().all(|t| t.matches(o)))
        .collect();
    found.sort_by(|a, b| {
        let by_key = if key == "ID" {
            Ordering::Equal
        } else {
            sort(a).cmp(&sort(b))
        };
        by_key.then_with(|| numeric_id(a).cmp(&numeric_id(b)))
    });
    Ok(found.into_iter().map(view::order).collect())
}

fn numeric_id(o: &StoredOrder) -> u64 {
    o.order
        .id
        .rsplit('/')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn unsupported(what: &str) -> FieldError {
    FieldError {
        message: format!("the sandbox does not implement the orders search `{what}`"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    UpdatedAt,
    CreatedAt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Comparator {
    Eq,
    Ge,
    Le,
    Gt,
    Lt,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Term {
    field: Field,
    comparator: Comparator,
    at: Timestamp,
}

impl Term {
    fn matches(&self, o: &StoredOrder) -> bool {
        let value = match self.field {
            Field::UpdatedAt => o.updated_at,
            Field::CreatedAt => o.order.created_at,
        };
        match self.comparator {
            Comparator::Eq => value == self.at,
            Comparator::Ge => value >= self.at,
            Comparator::Le => value <= self.at,
            Comparator::Gt => value > self.at,
            Comparator::Lt => value < self.at,
        }
    }
}

/// Parses `updated_at:>='2026-11-23T10:00:00Z' AND updated_at:<='…'`.
fn parse(query: &str) -> Result<Vec<Term>, FieldError> {
    query
        .split_whitespace()
        .filter(|word| *word != "AND")
        .map(parse_term)
        .collect()
}

fn parse_term(word: &str) -> Result<Term, FieldError> {
    let (name, rest) = word.split_once(':').ok_or_else(|| unsupported(word))?;
    let field = match name {
        "updated_at" => Field::UpdatedAt,
        "created_at" => Field::CreatedAt,
        _ => return Err(unsupported(word)),
    };
    let (comparator, value) = [
        (">=", Comparator::Ge),
        ("<=", Comparator::Le),
        (">", Comparator::Gt),
        ("<", Comparator::Lt),
    ]
    .into_iter()
    .find_map(|(op, c)| rest.strip_prefix(op).map(|v| (c, v)))
    .unwrap_or((Comparator::Eq, rest));
    let value = value.trim_matches(|c| c == '\'' || c == '"');
    let at = value.parse().map_err(|_| unsupported(word))?;
    Ok(Term {
        field,
        comparator,
        at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_parses_into_two_terms_and_anything_else_is_refused() {
        let terms =
            parse("updated_at:>='2026-11-23T10:00:00Z' AND updated_at:<2026-11-24T00:00:00Z")
                .ok()
                .expect("window");
        assert_eq!(terms.len(), 2);
        assert_eq!(terms[0].comparator, Comparator::Ge);
        assert_eq!(terms[1].comparator, Comparator::Lt);
        assert_eq!(
            terms[1].at,
            "2026-11-24T00:00:00Z".parse::<Timestamp>().expect("t")
        );
        assert!(parse("tag:vip").is_err());
        assert!(parse("updated_at:>=yesterday").is_err());
    }
}
