//! The sandbox cancelling a fulfilment as Shopify documents `fulfillmentCancel`: through the
//! mutation, the control API and the handle; what the snapshot then reads.

use serde_json::{Value, json};

use orderflow::rules::enums::{FulfillmentOrderStatus, FulfillmentStatus};
use orderflow::shopify::ops::{FulfillmentOrderLines, FulfillmentRequest, LineQuantity};

use crate::shopify::{SHOP, TOKEN, harness, order_gid, order_id};

const MIXED_FO: &str = "gid://shopify/FulfillmentOrder/6493184229183717102";
const MUG: &str = "gid://shopify/FulfillmentOrderLineItem/7012938471109302202";

fn lines(fo: &str, items: &[(&str, u32)]) -> FulfillmentRequest {
    FulfillmentRequest {
        line_items_by_fulfillment_order: vec![FulfillmentOrderLines {
            fulfillment_order_id: fo.to_owned(),
            fulfillment_order_line_items: items
                .iter()
                .map(|(id, quantity)| LineQuantity {
                    id: (*id).to_owned(),
                    quantity: *quantity,
                })
                .collect(),
        }],
        notify_customer: false,
    }
}

async fn graphql(base: &str, query: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/admin/api/2026-10/graphql.json"))
        .header("Host", SHOP)
        .header("X-Shopify-Access-Token", TOKEN)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json")
}

#[tokio::test]
async fn cancelling_a_partial_fulfilment_puts_the_quantities_back_on_its_fulfilment_order() {
    let h = harness().await;
    let created = h
        .client
        .fulfill(&h.shop, &lines(MIXED_FO, &[(MUG, 2)]))
        .await
        .expect("fulfilled");
    let before = h.client.fetch_snapshot(&h.shop, order_id(2)).await.unwrap();
    assert_eq!(
        before.fulfillment_orders[0].status,
        FulfillmentOrderStatus::InProgress
    );
    assert_eq!(before.fulfillments.len(), 1);
    assert_eq!(before.fulfillments[0].status, FulfillmentStatus::Success);
    assert_eq!(
        before.fulfillments[0].fulfillment_line_items[0].quantity,
        Some(2)
    );

    // A person cancels it in the admin, without restocking.
    let http = reqwest::Client::new();
    let n = created.id.rsplit('/').next().unwrap();
    let url = format!(
        "{}/_sandbox/shops/{SHOP}/fulfillments/{n}/cancel",
        h.sandbox.base_url()
    );
    let res = http
        .post(&url)
        .json(&json!({"restock": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let after = h.client.fetch_snapshot(&h.shop, order_id(2)).await.unwrap();
    let fo = &after.fulfillment_orders[0];
    assert_eq!(after.fulfillment_orders.len(), 1, "no new fulfilment order");
    assert_eq!(
        fo.status,
        FulfillmentOrderStatus::Open,
        "nothing of it fulfilled any more"
    );
    assert_eq!(fo.line_items[0].remaining_quantity, 2);
    assert_eq!(after.fulfillments[0].status, FulfillmentStatus::Cancelled);
    assert_eq!(
        after.fulfillments[0].fulfillment_line_items[0].line_item.id,
        fo.line_items[0].line_item.id
    );
    let stored = h.sandbox.fulfillments(&h.shop, &order_gid(2));
    assert_eq!(stored[0].restocked, Some(false));

    let again = http
        .post(&url)
        .json(&json!({"restock": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        again.status().as_u16(),
        422,
        "a cancellation cannot be undone or repeated"
    );
    let unknown = http
        .post(format!(
            "{}/_sandbox/shops/{SHOP}/fulfillments/1/cancel",
            h.sandbox.base_url()
        ))
        .json(&json!({"restock": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
}

#[tokio::test]
async fn cancelling_what_closed_a_fulfilment_order_opens_a_new_one_for_the_items() {
    let h = harness().await;
    let digital_fo = "gid://shopify/FulfillmentOrder/6493184229183717101";
    let created = h
        .client
        .fulfill(&h.shop, &lines(digital_fo, &[]))
        .await
        .expect("fulfilled");
    let answer = graphql(
        &h.sandbox.base_url(),
        &format!(
            r#"mutation {{ fulfillmentCancel(id: "{}") {{ fulfillment {{ id status }} userErrors {{ message }} }} }}"#,
            created.id
        ),
    )
    .await;
    let payload = &answer["data"]["fulfillmentCancel"];
    assert_eq!(payload["fulfillment"]["status"], "CANCELLED", "{answer}");
    assert_eq!(payload["userErrors"], json!([]));
    let after = h.client.fetch_snapshot(&h.shop, order_id(1)).await.unwrap();
    assert_eq!(after.fulfillment_orders.len(), 2);
    assert_eq!(
        after.fulfillment_orders[0].status,
        FulfillmentOrderStatus::Closed,
        "it stays closed"
    );
    let fresh = &after.fulfillment_orders[1];
    assert_eq!(fresh.status, FulfillmentOrderStatus::Open);
    assert_ne!(fresh.id, digital_fo);
    assert_eq!(fresh.line_items[0].remaining_quantity, 1);
    assert_eq!(fresh.line_items[0].line_item.id, after.line_items[0].id);
    assert!(fresh.supports(orderflow::rules::enums::FulfillmentOrderAction::CreateFulfillment));
    assert_eq!(
        h.sandbox.fulfillments(&h.shop, &order_gid(1))[0].restocked,
        Some(true)
    );
    let refused = graphql(
        &h.sandbox.base_url(),
        &format!(
            r#"mutation {{ fulfillmentCancel(id: "{}") {{ fulfillment {{ id }} userErrors {{ message }} }} }}"#,
            created.id
        ),
    )
    .await;
    assert_eq!(
        refused["data"]["fulfillmentCancel"]["fulfillment"],
        Value::Null
    );
    assert!(
        refused["data"]["fulfillmentCancel"]["userErrors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already been cancelled")
    );
}
