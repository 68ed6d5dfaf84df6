//! A small GraphQL executor for the sandbox: apollo-compiler's resolver-based execution (which
//! handles variables, aliases, fragments and inline fragments, and result coercion) over the
//! JSON trees of [`super::view`]. The root fields orderflow uses are resolved from state;
//! everything else is a field lookup in the tree, so a valid field the sandbox does not model
//! answers `null`. Unknown ids answer `null`, like Shopify.

use std::borrow::Cow;
use std::cell::RefCell;

use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::JsonValue;
use base64::Engine as _;
use serde_json::{Map, Value, json};

use super::mutate;
use super::state::ShopState;
use super::view;
use crate::clock::Clock;

/// A GraphQL object backed by a JSON map (`__typename` names its type).
pub struct Tree<'a> {
    type_name: String,
    map: Cow<'a, Map<String, Value>>,
}

impl<'a> Tree<'a> {
    fn owned(value: Value, fallback_type: &str) -> Option<Self> {
        match value {
            Value::Object(map) => Some(Self {
                type_name: type_of(&map, fallback_type),
                map: Cow::Owned(map),
            }),
            _ => None,
        }
    }
}

fn type_of(map: &Map<String, Value>, fallback: &str) -> String {
    map.get("__typename")
        .and_then(Value::as_str)
        .unwrap_or(fallback)
        .to_owned()
}

/// Converts a JSON value to a resolved value of the field's declared type.
fn resolve<'a>(value: Cow<'a, Value>, declared: &'a str) -> ResolvedValue<'a> {
    match value {
        Cow::Borrowed(Value::Null) | Cow::Owned(Value::Null) => ResolvedValue::null(),
        Cow::Borrowed(Value::Array(items)) => ResolvedValue::list(
            items
                .iter()
                .map(move |v| resolve(Cow::Borrowed(v), declared)),
        ),
        Cow::Owned(Value::Array(items)) => ResolvedValue::list(
            items
                .into_iter()
                .map(move |v| resolve(Cow::Owned(v), declared)),
        ),
        Cow::Borrowed(Value::Object(map)) => ResolvedValue::object(Tree {
            type_name: type_of(map, declared),
            map: Cow::Borrowed(map),
        }),
        Cow::Owned(Value::Object(map)) => ResolvedValue::object(Tree {
            type_name: type_of(&map, declared),
            map: Cow::Owned(map),
        }),
        other => ResolvedValue::leaf(JsonValue::from(other.into_owned())),
    }
}

impl ObjectValue for Tree<'_> {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'b>(
        &'b self,
        info: &'b ResolveInfo<'b>,
    ) -> Result<ResolvedValue<'b>, FieldError> {
        let name = info.field_name();
        let declared = info.field_definition().ty.inner_named_type().as_str();
        if name == "metafield" {
            let namespace = info.arguments().get("namespace").and_then(|v| v.as_str());
            let key = info.arguments().get("key").and_then(|v| v.as_str());
            let found = self
                .map
                .get("__metafields")
                .and_then(Value::as_array)
                .and_then(|all| {
                    all.iter().find(|m| {
                        m.get("key").and_then(Value::as_str) == key
                            && (namespace.is_none()
                                || m.get("namespace").and_then(Value::as_str) == namespace)
                    })
                });
            return Ok(resolve(
                Cow::Borrowed(found.unwrap_or(&Value::Null)),
                declared,
            ));
        }
        let value = self.map.get(name).unwrap_or(&Value::Null);
        if declared.ends_with("Connection")
            && let Value::Array(items) = value
        {
            let page = connection(items, info.arguments(), declared)?;
            return Ok(resolve(Cow::Owned(page), declared));
        }
        // A plain list with `first` (`Order.fulfillments`, `Order.transactions`): truncated.
        if let (Value::Array(items), Some(first)) = (
            value,
            info.arguments().get("first").and_then(|v| v.as_i64()),
        ) && items.len() > first.max(0) as usize
        {
            let kept = Value::Array(items[..first.max(0) as usize].to_vec());
            return Ok(resolve(Cow::Owned(kept), declared));
        }
        Ok(resolve(Cow::Borrowed(value), declared))
    }
}

fn cursor(index: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("sandbox:{index}"))
}

fn cursor_index(cursor: &str) -> Option<usize> {
    let raw = base64::engine::general_purpose::STANDARD
        .decode(cursor)
        .ok()?;
    String::from_utf8(raw)
        .ok()?
        .strip_prefix("sandbox:")?
        .parse()
        .ok()
}

/// One page of a stored list, Relay-style (`first`/`after`, `last`/`before`, `reverse`).
fn connection(
    items: &[Value],
    args: &apollo_compiler::response::JsonMap,
    type_name: &str,
) -> Result<Value, FieldError> {
    let int = |k: &str| args.get(k).and_then(|v| v.as_u64()).map(|n| n as usize);
    let text = |k: &str| args.get(k).and_then(|v| v.as_str());
    let bad_cursor = |c: &str| FieldError {
        message: format!("Invalid cursor for current pagination sort: {c}"),
    };
    let mut indexed: Vec<(usize, &Value)> = items.iter().enumerate().collect();
    if args.get("reverse").and_then(|v| v.as_bool()) == Some(true) {
        indexed.reverse();
    }
    let mut lo = 0;
    let mut hi = indexed.len();
    let position = |c: &str| {
        let at = cursor_index(c).ok_or_else(|| bad_cursor(c))?;
        Ok::<_, FieldError>(indexed.iter().position(|(i, _)| *i == at))
    };
    if let Some(after) = text("after") {
        lo = position(after)?.map_or(hi, |p| p + 1);
    }
    if let Some(before) = text("before") {
        hi = position(before)?.unwrap_or(hi);
    }
    lo = lo.min(hi);
    if let Some(first) = int("first") {
        hi = hi.min(lo + first);
    }
    if let Some(last) = int("last") {
        lo = lo.max(hi.saturating_sub(last));
    }
    let window = &indexed[lo..hi];
    let has_next = hi < indexed.len();
    let has_previous = lo > 0;
    let edge_type = type_name.replace("Connection", "Edge");
    Ok(json!({
        "__typename": type_name,
        "nodes": window.iter().map(|(_, v)| (*v).clone()).collect::<Vec<_>>(),
        "edges": window.iter().map(|(i, v)| json!({
            "__typename": edge_type,
            "cursor": cursor(*i),
            "node": (*v).clone(),
        })).collect::<Vec<_>>(),
        "pageInfo": {
            "__typename": "PageInfo",
            "hasNextPage": has_next,
            "hasPreviousPage": has_previous,
            "startCursor": window.first().map(|(i, _)| cursor(*i)),
            "endCursor": window.last().map(|(i, _)| cursor(*i)),
        },
    }))
}

/// `QueryRoot` over one shop's state.
pub struct QueryRoot<'s> {
    pub shop: &'s ShopState,
}

impl ObjectValue for QueryRoot<'_> {
    fn type_name(&self) -> &str {
        "QueryRoot"
    }

    fn resolve_field<'b>(
        &'b self,
        info: &'b ResolveInfo<'b>,
    ) -> Result<ResolvedValue<'b>, FieldError> {
        let declared = info.field_definition().ty.inner_named_type().as_str();
        let id = info.arguments().get("id").and_then(|v| v.as_str());
        let found = match (info.field_name(), id) {
            // The shop the token belongs to; only what orderflow reads is modelled.
            ("shop", _) => Some(json!({
                "__typename": "Shop",
                "ianaTimezone": self.shop.time_zone,
            })),
            ("order", Some(id)) => self.shop.orders.get(id).map(view::order),
            ("webhookSubscriptions", _) => Some(connection(
                &self.shop.webhook_subscriptions,
                info.arguments(),
                declared,
            )?),
            ("fulfillmentOrder", Some(id)) => {
                view::node(self.shop, id).filter(|v| v["__typename"] == "FulfillmentOrder")
            }
            ("fulfillment", Some(id)) => {
                view::node(self.shop, id).filter(|v| v["__typename"] == "Fulfillment")
            }
            ("node", Some(id)) => view::node(self.shop, id),
            ("orders", _) => {
                let found = super::order_search::orders(self.shop, info.arguments())?;
                Some(connection(&found, info.arguments(), declared)?)
            }
            ("nodes", _) => {
                let ids = info
                    .arguments()
                    .get("ids")
                    .and_then(|v| v.as_array())
                    .cloned()
                    .unwrap_or_default();
                let nodes = ids
                    .iter()
                    .map(|id| id.as_str().and_then(|id| view::node(self.shop, id)))
                    .map(|v| v.unwrap_or(Value::Null))
                    .collect();
                Some(Value::Array(nodes))
            }
            _ => None,
        };
        match found {
            Some(value) => Ok(resolve(Cow::Owned(value), declared)),
            None => Ok(ResolvedValue::null()),
        }
    }
}

/// `Mutation` over one shop's state: each root field changes state, then answers its payload.
pub struct MutationRoot<'s> {
    pub shop: RefCell<&'s mut ShopState>,
    pub clock: &'s dyn Clock,
}

impl ObjectValue for MutationRoot<'_> {
    fn type_name(&self) -> &str {
        "Mutation"
    }

    fn resolve_field<'b>(
        &'b self,
        info: &'b ResolveInfo<'b>,
    ) -> Result<ResolvedValue<'b>, FieldError> {
        let declared = info.field_definition().ty.inner_named_type().as_str();
        let args: Value = serde_json::to_value(info.arguments()).map_err(|e| FieldError {
            message: e.to_string(),
        })?;
        let mut shop = self.shop.borrow_mut();
        let payload =
            mutate::apply(&mut shop, info.field_name(), &args, self.clock).ok_or_else(|| {
                FieldError {
                    message: format!(
                        "the sandbox does not implement the `{}` mutation",
                        info.field_name()
                    ),
                }
            })?;
        Tree::owned(payload, declared)
            .map(ResolvedValue::object)
            .ok_or_else(|| FieldError {
                message: "payload is not an object".to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(args: Value) -> Value {
        let items: Vec<Value> = (0..5).map(|i| json!({"id": i})).collect();
        let args = serde_json::from_value(args).expect("args");
        connection(&items, &args, "LineItemConnection")
            .ok()
            .expect("page")
    }

    fn ids(page: &Value) -> Vec<i64> {
        page["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .filter_map(|n| n["id"].as_i64())
            .collect()
    }

    #[test]
    fn first_and_after_walk_forward_and_say_when_more_remain() {
        let one = page(json!({"first": 2}));
        assert_eq!(ids(&one), [0, 1]);
        assert_eq!(one["pageInfo"]["hasNextPage"], true);
        let two = page(json!({"first": 2, "after": one["pageInfo"]["endCursor"]}));
        assert_eq!(ids(&two), [2, 3]);
        let three = page(json!({"first": 2, "after": two["pageInfo"]["endCursor"]}));
        assert_eq!(ids(&three), [4]);
        assert_eq!(three["pageInfo"]["hasNextPage"], false);
        assert_eq!(three["edges"][0]["node"]["id"], 4);
    }

    #[test]
    fn last_before_and_reverse_page_from_the_other_end() {
        assert_eq!(ids(&page(json!({"last": 2}))), [3, 4]);
        let end = page(json!({"first": 4}));
        let before = page(json!({"last": 2, "before": end["pageInfo"]["endCursor"]}));
        assert_eq!(ids(&before), [1, 2]);
        assert_eq!(ids(&page(json!({"first": 2, "reverse": true}))), [4, 3]);
    }

    #[test]
    fn a_forged_cursor_is_a_field_error() {
        let items = vec![json!({"id": 1})];
        let args = serde_json::from_value(json!({"first": 1, "after": "bm9wZQ=="})).expect("args");
        assert!(connection(&items, &args, "LineItemConnection").is_err());
    }
}
