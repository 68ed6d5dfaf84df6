//! The root `orders` connection: Shopify's search syntax for the `updated_at` and `created_at`
//! terms (`>=`, `<=`, `>`, `<`, or equal), `tag:` (the order has that tag, compared without
//! regard to case as Shopify's tags are) and `id:` (the numeric order id, equal), joined by
//! spaces or `AND`, values bare or quoted (`tag:'gift wrap'`), the sort keys
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

/// One term of the query.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Filter {
    Time(Term),
    /// `tag:X`: one of the order's tags equals X, ignoring case.
    Tag(String),
    /// `id:N`: the order's numeric id is N.
    Id(u64),
}

impl Filter {
    fn matches(&self, o: &StoredOrder) -> bool {
        match self {
            Filter::Time(t) => t.matches(o),
            Filter::Tag(tag) => o.order.tags.iter().any(|t| t.eq_ignore_ascii_case(tag)),
            Filter::Id(id) => numeric_id(o) == *id,
        }
    }
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

/// Parses `updated_at:>='2026-11-23T10:00:00Z' AND tag:'gift wrap' AND id:1001`.
fn parse(query: &str) -> Result<Vec<Filter>, FieldError> {
    words(query)?
        .iter()
        .filter(|word| *word != "AND")
        .map(|w| parse_term(w))
        .collect()
}

/// Splits on whitespace outside quotes; an unclosed quote is refused.
fn words(query: &str) -> Result<Vec<String>, FieldError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    for c in query.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            None => {}
        }
        word.push(c);
    }
    if quote.is_some() {
        return Err(unsupported(query));
    }
    if !word.is_empty() {
        words.push(word);
    }
    Ok(words)
}

fn unquote(value: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = value.strip_prefix(q).and_then(|v| v.strip_suffix(q)) {
            return inner;
        }
    }
    value
}

fn parse_term(word: &str) -> Result<Filter, FieldError> {
    let (name, rest) = word.split_once(':').ok_or_else(|| unsupported(word))?;
    let field = match name {
        "updated_at" => Field::UpdatedAt,
        "created_at" => Field::CreatedAt,
        "tag" => {
            let tag = unquote(rest);
            if tag.is_empty() {
                return Err(unsupported(word));
            }
            return Ok(Filter::Tag(tag.to_owned()));
        }
        "id" => {
            let id = unquote(rest).parse().map_err(|_| unsupported(word))?;
            return Ok(Filter::Id(id));
        }
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
    let at = unquote(value).parse().map_err(|_| unsupported(word))?;
    Ok(Filter::Time(Term {
        field,
        comparator,
        at,
    }))
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
        let times: Vec<Term> = terms
            .iter()
            .map(|f| match f {
                Filter::Time(t) => *t,
                other => panic!("not a time: {other:?}"),
            })
            .collect();
        assert_eq!(times[0].comparator, Comparator::Ge);
        assert_eq!(times[1].comparator, Comparator::Lt);
        assert_eq!(
            times[1].at,
            "2026-11-24T00:00:00Z".parse::<Timestamp>().expect("t")
        );
        assert!(parse("financial_status:paid").is_err());
        assert!(
            parse("vip").is_err(),
            "a bare word is a text search, not modelled"
        );
        assert!(parse("updated_at:>=yesterday").is_err());
        assert!(parse("tag:'gift").is_err(), "unclosed quote");
        assert!(parse("id:abc").is_err());
    }

    #[test]
    fn tags_and_ids_parse_with_quotes_kept_together() {
        let terms = parse("tag:'gift wrap' AND id:1001 AND tag:vip")
            .ok()
            .expect("terms");
        assert_eq!(
            terms,
            [
                Filter::Tag("gift wrap".into()),
                Filter::Id(1001),
                Filter::Tag("vip".into())
            ]
        );
    }
}
