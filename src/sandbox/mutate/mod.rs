//! The mutations orderflow sends, with Shopify's semantics as the schema's descriptions and
//! DESIGN.md state them. Each returns its payload as a JSON tree; a refused input changes nothing
//! and answers `userErrors` (with the schema's codes where the payload type has them).

use serde_json::{Value, json};

use super::state::ShopState;
use crate::clock::Clock;

pub(super) mod cancel;
mod capture;
pub(super) mod close;
pub(super) mod fulfill;
mod hold;
mod resource;
mod webhook;

/// Each app may keep this many holds on one fulfilment order.
pub const MAX_HOLDS_PER_APP: usize = 10;
/// `metafieldsSet` takes at most this many metafields.
pub const MAX_METAFIELDS_PER_SET: usize = 25;

/// Every change to an order moves its `updatedAt`, as Shopify's does (tags, metafields, holds,
/// fulfilments and their cancellation, deadlines, and a person's changes through the control
/// API): the sweep finds orders by it, and orderflow recognises the webhook echoing its own
/// change by the `updatedAt` the mutation answered. It moves to the change's instant, and at
/// least a millisecond past the previous value, so two changes never share one even under a
/// manual clock that stands still (Shopify's own values are whole seconds; see
/// `worker::coalesce` for what that means).
pub(crate) fn touched(stored: &mut super::state::StoredOrder, now: jiff::Timestamp) {
    let next = stored
        .updated_at
        .checked_add(jiff::SignedDuration::from_millis(1))
        .unwrap_or(now);
    stored.updated_at = now.max(next);
}

/// Runs the mutation `field` with its (coerced) arguments; `None` if the sandbox lacks it.
pub fn apply(shop: &mut ShopState, field: &str, args: &Value, clock: &dyn Clock) -> Option<Value> {
    Some(match field {
        "fulfillmentOrderHold" => hold::hold(shop, args, clock.now()),
        "fulfillmentOrderReleaseHold" => hold::release(shop, args, clock.now()),
        "fulfillmentCreate" => fulfill::fulfill(shop, args, clock.now()),
        "fulfillmentCancel" => cancel::mutation(shop, args, clock.now()),
        "fulfillmentOrdersSetFulfillmentDeadline" => close::set_deadline(shop, args, clock.now()),
        "orderCapture" => capture::capture(shop, args, clock.now()),
        "orderClose" => close::close_or_open(shop, args, true, clock.now()),
        "orderOpen" => close::close_or_open(shop, args, false, clock.now()),
        "tagsAdd" => resource::tags(shop, args, true, clock.now()),
        "tagsRemove" => resource::tags(shop, args, false, clock.now()),
        "metafieldsSet" => resource::metafields_set(shop, args, clock.now()),
        "webhookSubscriptionCreate" => webhook::create(shop, args, clock.now()),
        "webhookSubscriptionDelete" => webhook::delete(shop, args),
        _ => return None,
    })
}

pub(super) fn user_error(field: &[&str], message: &str, code: Option<&str>) -> Value {
    json!({"field": field, "message": message, "code": code})
}

pub(super) fn str_arg<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// `[{id, quantity}]` from a `FulfillmentOrderLineItemInput` list.
pub(super) fn line_quantities(v: Option<&Value>) -> Vec<(String, i64)> {
    v.and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| Some((str_arg(i, "id")?.to_owned(), i.get("quantity")?.as_i64()?)))
                .collect()
        })
        .unwrap_or_default()
}
