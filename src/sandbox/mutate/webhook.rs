//! `webhookSubscriptionCreate` and `webhookSubscriptionDelete`: the shop-specific subscriptions
//! `webhookSubscriptions` lists. As Shopify: the topic must be a `WebhookSubscriptionTopic`
//! value, the address present and an https URL (or a Pub/Sub or EventBridge address), one
//! subscription per topic and address ("Address for this topic has already been taken"), and
//! deleting an id the shop does not have is a user error. Nothing is ever delivered.

use apollo_compiler::schema::ExtendedType;
use serde_json::{Value, json};

use super::{str_arg, user_error};
use crate::sandbox::state::ShopState;
use crate::shopify::schema;

const ADDRESS: &[&str] = &["webhookSubscription", "callbackUrl"];

fn is_topic(value: &str) -> bool {
    matches!(
        schema::schema().types.get("WebhookSubscriptionTopic"),
        Some(ExtendedType::Enum(e)) if e.values.keys().any(|v| v.as_str() == value)
    )
}

/// An address Shopify accepts: an https URL with a host, `pubsub://project:topic`, or an
/// EventBridge `arn:aws:events:` source.
fn is_address(uri: &str) -> bool {
    if uri.starts_with("pubsub://") || uri.starts_with("arn:aws:events:") {
        return true;
    }
    reqwest::Url::parse(uri).is_ok_and(|u| u.scheme() == "https" && u.host_str().is_some())
}

fn refused(field: &[&str], message: &str) -> Value {
    json!({
        "__typename": "WebhookSubscriptionCreatePayload",
        "webhookSubscription": null,
        "userErrors": [user_error(field, message, None)],
    })
}

pub(super) fn create(shop: &mut ShopState, args: &Value, now: jiff::Timestamp) -> Value {
    let topic = str_arg(args, "topic").unwrap_or_default();
    if !is_topic(topic) {
        return refused(&["topic"], &format!("Topic `{topic}` is not a valid topic"));
    }
    let input = args.get("webhookSubscription").unwrap_or(&Value::Null);
    let uri = str_arg(input, "uri")
        .or_else(|| str_arg(input, "callbackUrl"))
        .unwrap_or_default();
    if uri.is_empty() {
        return refused(ADDRESS, "Address can't be blank");
    }
    if !is_address(uri) {
        return refused(ADDRESS, "Address protocol http:// is not supported");
    }
    let taken = shop.webhook_subscriptions.iter().any(|s| {
        s.get("topic").and_then(Value::as_str) == Some(topic)
            && s.get("uri").and_then(Value::as_str) == Some(uri)
    });
    if taken {
        return refused(ADDRESS, "Address for this topic has already been taken");
    }
    let id = shop.new_gid("WebhookSubscription");
    let subscription = json!({
        "__typename": "WebhookSubscription",
        "id": id,
        "topic": topic,
        "uri": uri,
        "createdAt": now.to_string(),
        "updatedAt": now.to_string(),
    });
    shop.webhook_subscriptions.push(subscription.clone());
    json!({
        "__typename": "WebhookSubscriptionCreatePayload",
        "webhookSubscription": subscription,
        "userErrors": [],
    })
}

pub(super) fn delete(shop: &mut ShopState, args: &Value) -> Value {
    let id = str_arg(args, "id").unwrap_or_default();
    let before = shop.webhook_subscriptions.len();
    shop.webhook_subscriptions
        .retain(|s| s.get("id").and_then(Value::as_str) != Some(id));
    if shop.webhook_subscriptions.len() == before {
        return json!({
            "__typename": "WebhookSubscriptionDeletePayload",
            "deletedWebhookSubscriptionId": null,
            "userErrors": [user_error(&["id"], "Webhook subscription does not exist", None)],
        });
    }
    json!({
        "__typename": "WebhookSubscriptionDeletePayload",
        "deletedWebhookSubscriptionId": id,
        "userErrors": [],
    })
}
