//! `tagsAdd`, `tagsRemove` and `metafieldsSet` on orders.

use serde_json::{Value, json};

use super::{MAX_METAFIELDS_PER_SET, str_arg};
use crate::sandbox::state::ShopState;
use crate::sandbox::view;
use crate::shopify::ops::Metafield;

/// `tagsAdd` / `tagsRemove` on an order: idempotent.
pub(super) fn tags(shop: &mut ShopState, args: &Value, add: bool, now: jiff::Timestamp) -> Value {
    let typename = if add {
        "TagsAddPayload"
    } else {
        "TagsRemovePayload"
    };
    let id = str_arg(args, "id").unwrap_or_default().to_owned();
    let tags: Vec<String> = args
        .get("tags")
        .and_then(Value::as_array)
        .map(|t| {
            t.iter()
                .filter_map(Value::as_str)
                .flat_map(|t| t.split(','))
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let Some(stored) = shop.orders.get_mut(&id) else {
        return json!({
            "__typename": typename,
            "node": null,
            "userErrors": [{"__typename": "UserError", "field": ["id"], "message": "Resource not found."}],
        });
    };
    let order = &mut stored.order;
    if add {
        for tag in tags {
            if !order.tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
                order.tags.push(tag);
            }
        }
    } else {
        order
            .tags
            .retain(|t| !tags.iter().any(|r| r.eq_ignore_ascii_case(t)));
    }
    super::touched(stored, now);
    json!({
        "__typename": typename,
        "node": view::order(stored),
        "userErrors": [],
    })
}

/// `metafieldsSet`: atomic upsert by (owner, namespace, key).
pub(super) fn metafields_set(shop: &mut ShopState, args: &Value, now: jiff::Timestamp) -> Value {
    let inputs = args
        .get("metafields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut errors = Vec::new();
    if inputs.len() > MAX_METAFIELDS_PER_SET {
        errors.push(json!({"field": ["metafields"], "message": "Exceeded the maximum metafields input limit of 25.", "code": "LESS_THAN_OR_EQUAL_TO", "elementIndex": null}));
    }
    let namespace_of = |m: &Value| str_arg(m, "namespace").unwrap_or("$app").to_owned();
    for (i, m) in inputs.iter().enumerate() {
        let owner = str_arg(m, "ownerId").unwrap_or_default();
        let key = str_arg(m, "key").unwrap_or_default();
        let err = |field: &str, message: &str, code: &str| json!({"field": ["metafields", i.to_string(), field], "message": message, "code": code, "elementIndex": i});
        let Some(stored) = shop.orders.get(owner) else {
            errors.push(err("ownerId", "Owner does not exist.", "INVALID"));
            continue;
        };
        if str_arg(m, "value").unwrap_or_default().is_empty() {
            errors.push(err("value", "Value can't be blank.", "BLANK"));
        }
        if key.len() < 2 {
            errors.push(err(
                "key",
                "Key is too short (minimum is 2 characters).",
                "TOO_SHORT",
            ));
        }
        let exists = stored
            .metafields
            .iter()
            .any(|s| s.namespace == namespace_of(m) && s.key == key);
        if !exists && str_arg(m, "type").is_none() {
            errors.push(err("type", "Type can't be blank.", "BLANK"));
        }
    }
    if !errors.is_empty() {
        return json!({
            "__typename": "MetafieldsSetPayload",
            "metafields": null,
            "userErrors": errors.into_iter().map(|mut e| { e["__typename"] = json!("MetafieldsSetUserError"); e }).collect::<Vec<_>>(),
        });
    }
    let mut written = Vec::new();
    for m in &inputs {
        let owner = str_arg(m, "ownerId").unwrap_or_default().to_owned();
        let namespace = namespace_of(m);
        let key = str_arg(m, "key").unwrap_or_default().to_owned();
        let new_id = shop.new_gid("Metafield");
        let Some(stored) = shop.orders.get_mut(&owner) else {
            continue;
        };
        let value = str_arg(m, "value").unwrap_or_default().to_owned();
        let kind = str_arg(m, "type").map(str::to_owned);
        let entry = match stored
            .metafields
            .iter_mut()
            .find(|s| s.namespace == namespace && s.key == key)
        {
            Some(existing) => {
                existing.value = value;
                if let Some(kind) = kind {
                    existing.kind = kind;
                }
                existing.clone()
            }
            None => {
                let created = Metafield {
                    id: new_id,
                    namespace,
                    key,
                    kind: kind.unwrap_or_default(),
                    value,
                };
                stored.metafields.push(created.clone());
                created
            }
        };
        super::touched(stored, now);
        let mut answered = view::metafield(&entry);
        answered["owner"] = view::order(stored);
        written.push(answered);
    }
    json!({"__typename": "MetafieldsSetPayload", "metafields": written, "userErrors": []})
}
