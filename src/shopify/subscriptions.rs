//! A shop's shop-specific webhook subscriptions (those made through the Admin API): listed with
//! `WebhookSubscriptionsPage`, created with `WebhookSubscriptionCreate`, and compared with the
//! topics orderflow routes ([`compare`], pure). Subscriptions declared in `shopify.app.toml` are
//! app-specific and never appear in `webhookSubscriptions`; this module cannot see them.
//!
//! Shopify deletes an API subscription after 8 consecutive failed deliveries: the check at the
//! worker's start and `orderflow webhooks check` are how that is noticed, `sync` how it is mended.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::client::Client;
use super::documents::{WEBHOOK_SUBSCRIPTION_CREATE, WEBHOOK_SUBSCRIPTIONS_PAGE};
use super::error::ShopifyError;
use super::ops::Payload;
use super::page::PageInfo;
use crate::id::ShopDomain;

/// One shop-specific subscription as Shopify lists it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Subscription {
    pub id: String,
    /// The `WebhookSubscriptionTopic` value, e.g. `ORDERS_CREATE`.
    pub topic: String,
    pub uri: String,
}

/// How one topic orderflow needs stands on a shop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TopicState {
    /// Delivered to orderflow's URI (perhaps to others too).
    Ok,
    /// No subscription to the topic at all.
    Missing,
    /// Subscribed, but only to these other URIs.
    Elsewhere(Vec<String>),
}

impl TopicState {
    pub fn is_ok(&self) -> bool {
        matches!(self, TopicState::Ok)
    }
}

/// Where orderflow's subscriptions deliver: `{app_url}/webhooks` (the receiver's route; the
/// config keeps `app_url` without a trailing slash).
pub fn webhooks_uri(app_url: &str) -> String {
    format!("{app_url}/webhooks")
}

/// `ORDERS_CREATE` for `orders/create`: the `WebhookSubscriptionTopic` value of a topic as
/// webhooks name it (checked against the schema's enum for every subscribed topic).
pub fn topic_enum(topic: &str) -> String {
    topic.to_ascii_uppercase().replace('/', "_")
}

/// Each of `topics` (webhook names, `orders/create`) against the shop's `subscriptions`, in the
/// order of `topics`: ok when one of them delivers the topic to `expected_uri`.
pub fn compare<'t>(
    expected_uri: &str,
    topics: &[&'t str],
    subscriptions: &[Subscription],
) -> Vec<(&'t str, TopicState)> {
    let mut uris: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for s in subscriptions {
        uris.entry(s.topic.as_str()).or_default().push(&s.uri);
    }
    topics
        .iter()
        .map(|&topic| {
            let found = uris
                .get(topic_enum(topic).as_str())
                .map(Vec::as_slice)
                .unwrap_or(&[]);
            let state = if found.contains(&expected_uri) {
                TopicState::Ok
            } else if found.is_empty() {
                TopicState::Missing
            } else {
                TopicState::Elsewhere(found.iter().map(|u| (*u).to_owned()).collect())
            };
            (topic, state)
        })
        .collect()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Page {
    webhook_subscriptions: Connection,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Connection {
    page_info: PageInfo,
    nodes: Vec<Subscription>,
}

impl Client {
    /// Every shop-specific subscription of `shop`, oldest first, read 100 a page.
    pub async fn webhook_subscriptions(
        &self,
        shop: &ShopDomain,
    ) -> Result<Vec<Subscription>, ShopifyError> {
        let mut found = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page: Page = self
                .execute(shop, &WEBHOOK_SUBSCRIPTIONS_PAGE, json!({ "after": after }))
                .await?;
            let c = page.webhook_subscriptions;
            found.extend(c.nodes);
            match c.page_info.next_cursor() {
                Some(cursor) => after = Some(cursor),
                None => return Ok(found),
            }
        }
    }

    /// Subscribes `shop` to `topic` (a webhook name, `orders/create`) at `uri`. A refusal
    /// (e.g. "Address for this topic has already been taken") is [`ShopifyError::UserErrors`].
    pub async fn create_webhook_subscription(
        &self,
        shop: &ShopDomain,
        topic: &str,
        uri: &str,
    ) -> Result<Subscription, ShopifyError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Data {
            webhook_subscription_create: Option<Payload<Created>>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Created {
            webhook_subscription: Option<Subscription>,
        }
        let doc = &WEBHOOK_SUBSCRIPTION_CREATE;
        let data: Data = self
            .execute(shop, doc, json!({ "topic": topic_enum(topic), "uri": uri }))
            .await?;
        self.payload(shop, doc.operation(), data.webhook_subscription_create)?
            .webhook_subscription
            .ok_or_else(|| ShopifyError::Schema {
                shop: shop.clone(),
                operation: doc.operation(),
                message: "no webhookSubscription and no userErrors".to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use apollo_compiler::schema::ExtendedType;

    use super::*;
    use crate::event::subject::SUBSCRIBED_TOPICS;

    fn sub(topic: &str, uri: &str) -> Subscription {
        Subscription {
            id: format!("gid://shopify/WebhookSubscription/{topic}{uri}"),
            topic: topic.to_owned(),
            uri: uri.to_owned(),
        }
    }

    #[test]
    fn every_subscribed_topic_maps_to_a_value_of_the_schemas_topic_enum() {
        let schema = super::super::schema::schema();
        let Some(ExtendedType::Enum(topics)) = schema.types.get("WebhookSubscriptionTopic") else {
            panic!("WebhookSubscriptionTopic is an enum of the schema");
        };
        for topic in SUBSCRIBED_TOPICS {
            let value = topic_enum(topic);
            assert!(
                topics.values.keys().any(|v| v.as_str() == value),
                "{topic} → {value} is not a WebhookSubscriptionTopic value"
            );
        }
        assert_eq!(topic_enum("orders/create"), "ORDERS_CREATE");
        assert_eq!(
            topic_enum("fulfillment_orders/placed_on_hold"),
            "FULFILLMENT_ORDERS_PLACED_ON_HOLD"
        );
    }

    #[test]
    fn each_topic_is_ok_missing_or_elsewhere() {
        let ours = "https://orderflow.example.com/webhooks";
        let subs = [
            sub("ORDERS_CREATE", ours),
            sub("ORDERS_PAID", "https://old.example/hooks"),
            sub("ORDERS_PAID", "https://other.example/hooks"),
            sub("ORDERS_UPDATED", "https://old.example/hooks"),
            sub("ORDERS_UPDATED", ours),
            // Another topic's subscription to our URI does not count for this one.
            sub("ORDERS_EDITED", ours),
        ];
        let states = compare(
            ours,
            &[
                "orders/create",
                "orders/paid",
                "orders/updated",
                "orders/cancelled",
            ],
            &subs,
        );
        assert_eq!(
            states,
            [
                ("orders/create", TopicState::Ok),
                (
                    "orders/paid",
                    TopicState::Elsewhere(vec![
                        "https://old.example/hooks".to_owned(),
                        "https://other.example/hooks".to_owned()
                    ])
                ),
                ("orders/updated", TopicState::Ok),
                ("orders/cancelled", TopicState::Missing),
            ]
        );
    }

    #[test]
    fn the_uri_must_match_exactly() {
        let subs = [sub(
            "ORDERS_CREATE",
            "https://orderflow.example.com/webhooks/",
        )];
        let states = compare(
            "https://orderflow.example.com/webhooks",
            &["orders/create"],
            &subs,
        );
        assert!(matches!(states[0].1, TopicState::Elsewhere(_)));
        assert!(!states[0].1.is_ok());
    }
}
