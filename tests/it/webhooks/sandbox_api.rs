//! The sandbox's subscriptions as orderflow and a user meet them: `webhookSubscriptionCreate`
//! through the client with Shopify's refusals, `webhookSubscriptionDelete`, and the control
//! routes to list and delete subscriptions and to change an order without its webhook.

use jiff::Timestamp;
use orderflow::shopify::ShopifyError;
use serde_json::{Value, json};

use crate::shopify::{SHOP, TOKEN, order_gid};

async fn graphql(base: &str, query: &str, variables: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/admin/api/2026-10/graphql.json"))
        .header("Host", SHOP)
        .header("X-Shopify-Access-Token", TOKEN)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .expect("sandbox answers")
        .json()
        .await
        .expect("JSON")
}

fn refused_with(result: Result<impl std::fmt::Debug, ShopifyError>, text: &str) {
    match result {
        Err(ShopifyError::UserErrors {
            errors, operation, ..
        }) => {
            assert_eq!(operation, "WebhookSubscriptionCreate");
            assert!(
                errors.iter().any(|e| e.message.contains(text)),
                "{errors:?}"
            );
        }
        other => panic!("want user errors with {text}, got {other:?}"),
    }
}

#[tokio::test]
async fn create_subscribes_once_per_topic_and_address_and_delete_needs_a_known_id() {
    let h = crate::shopify::harness().await;
    let uri = "https://orderflow.example.com/webhooks";
    let created = h
        .client
        .create_webhook_subscription(&h.shop, "orders/paid", uri)
        .await
        .expect("created");
    assert_eq!(created.topic, "ORDERS_PAID");
    assert_eq!(created.uri, uri);
    assert!(created.id.starts_with("gid://shopify/WebhookSubscription/"));
    let listed = h.client.webhook_subscriptions(&h.shop).await.expect("list");
    assert_eq!(listed, std::slice::from_ref(&created));
    let log = h.sandbox.mutations();
    assert_eq!(log.len(), 1, "recorded like the other mutations");
    assert_eq!(log[0].fields, ["webhookSubscriptionCreate"]);

    refused_with(
        h.client
            .create_webhook_subscription(&h.shop, "orders/paid", uri)
            .await,
        "Address for this topic has already been taken",
    );
    refused_with(
        h.client
            .create_webhook_subscription(&h.shop, "orders/paid", "http://plain.example/hooks")
            .await,
        "not supported",
    );
    refused_with(
        h.client
            .create_webhook_subscription(&h.shop, "orders/paid", "")
            .await,
        "can't be blank",
    );
    // Another topic to the same address is a subscription of its own.
    h.client
        .create_webhook_subscription(&h.shop, "orders/create", uri)
        .await
        .expect("another topic");
    // Not a WebhookSubscriptionTopic value: the schema refuses the variable.
    let bad = graphql(
        &h.sandbox.base_url(),
        orderflow::shopify::documents::WEBHOOK_SUBSCRIPTION_CREATE.text(),
        json!({"topic": "ORDERS_BOGUS", "uri": uri}),
    )
    .await;
    assert!(bad["errors"].is_array(), "{bad}");
    assert_eq!(h.sandbox.webhook_subscriptions(&h.shop).len(), 2);

    let delete = "mutation D($id: ID!) { webhookSubscriptionDelete(id: $id) { deletedWebhookSubscriptionId userErrors { field message } } }";
    let gone = graphql(&h.sandbox.base_url(), delete, json!({"id": created.id})).await;
    assert_eq!(
        gone["data"]["webhookSubscriptionDelete"]["deletedWebhookSubscriptionId"],
        created.id.as_str(),
        "{gone}"
    );
    let again = graphql(&h.sandbox.base_url(), delete, json!({"id": created.id})).await;
    let errors = &again["data"]["webhookSubscriptionDelete"]["userErrors"];
    assert_eq!(errors[0]["field"], json!(["id"]), "{again}");
    assert_eq!(h.sandbox.webhook_subscriptions(&h.shop).len(), 1);
}

#[tokio::test]
async fn the_control_api_lists_and_deletes_subscriptions_and_touches_orders() {
    let h = crate::shopify::harness().await;
    let http = reqwest::Client::new();
    let base = h.sandbox.base_url();
    let gid = h
        .sandbox
        .add_webhook_subscription(
            &h.shop,
            "ORDERS_PAID",
            "https://orderflow.example.com/webhooks",
        )
        .unwrap();
    let url = format!("{base}/_sandbox/shops/{SHOP}/webhook-subscriptions");
    let listed: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed[0]["id"], gid.as_str(), "{listed}");
    assert_eq!(listed[0]["topic"], "ORDERS_PAID");
    let id = gid.rsplit('/').next().unwrap();
    let deleted = http.delete(format!("{url}/{id}")).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(h.sandbox.webhook_subscriptions(&h.shop).is_empty());
    let twice = http.delete(format!("{url}/{id}")).send().await.unwrap();
    assert_eq!(twice.status(), 404);
    let unknown = http
        .get(format!(
            "{base}/_sandbox/shops/nope.myshopify.com/webhook-subscriptions"
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);

    // An edit whose webhook is lost: the order shows up in an updated_at window, and nothing
    // was delivered or sent.
    let order = order_gid(1);
    let n = order.rsplit('/').next().unwrap();
    let at: Timestamp = "2026-11-23T10:00:00Z".parse().unwrap();
    let touched = http
        .post(format!("{base}/_sandbox/shops/{SHOP}/orders/{n}/touch"))
        .json(&json!({"at": at.to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(touched.status(), 204);
    let found = h
        .client
        .orders_updated(&h.shop, at, at)
        .await
        .expect("orders");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].updated_at, at);
    // No body: the sandbox clock's now, so the order leaves the old window.
    let now = http
        .post(format!("{base}/_sandbox/shops/{SHOP}/orders/{n}/touch"))
        .send()
        .await
        .unwrap();
    assert_eq!(now.status(), 204);
    assert!(
        h.client
            .orders_updated(&h.shop, at, at)
            .await
            .unwrap()
            .is_empty()
    );
    let missing = http
        .post(format!("{base}/_sandbox/shops/{SHOP}/orders/1/touch"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(h.sandbox.mutations().is_empty());

    // The count of THROTTLED answers: none so far; one forced, which the client absorbs.
    assert_eq!(h.sandbox.throttled_count(), 0);
    h.sandbox.inject(orderflow::sandbox::Fault::Throttled, 1);
    h.client
        .orders_updated(&h.shop, at, at)
        .await
        .expect("after one THROTTLED");
    let requests: Value = http
        .get(format!("{base}/_sandbox/requests"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(requests["throttled"], 1, "{requests}");
    assert_eq!(
        requests["count"], 4,
        "two reads, one throttled and its retry: {requests}"
    );
}
