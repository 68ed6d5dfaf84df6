//! The sandbox's `fulfillmentOrdersSetFulfillmentDeadline`, `orderClose` and `orderOpen`, as
//! Shopify's reference describes them, through orderflow's client and the control API.

use orderflow::shopify::ShopifyError;
use serde_json::json;

use crate::shopify::{SHOP, harness, order_gid, order_id};

const DIGITAL_FO: &str = "gid://shopify/FulfillmentOrder/6493184229183717101";

#[tokio::test]
async fn the_deadline_is_set_on_every_listed_fulfilment_order_or_on_none() {
    let h = harness().await;
    let at: jiff::Timestamp = "2026-11-26T12:00:00Z".parse().unwrap();
    h.client
        .set_fulfillment_deadline(&h.shop, &[DIGITAL_FO.to_owned()], at)
        .await
        .expect("set");
    let snap = h.client.fetch_snapshot(&h.shop, order_id(1)).await.unwrap();
    assert_eq!(snap.fulfillment_orders[0].fulfill_by, Some(at));
    // One unknown id refuses the whole call, with the schema's only code.
    let later: jiff::Timestamp = "2026-11-27T12:00:00Z".parse().unwrap();
    let err = h
        .client
        .set_fulfillment_deadline(
            &h.shop,
            &[
                DIGITAL_FO.to_owned(),
                "gid://shopify/FulfillmentOrder/1".to_owned(),
            ],
            later,
        )
        .await
        .expect_err("refused");
    match err {
        ShopifyError::UserErrors { errors, .. } => assert_eq!(
            errors[0].code.as_deref(),
            Some("FULFILLMENT_ORDERS_NOT_FOUND")
        ),
        other => panic!("{other:?}"),
    }
    let snap = h.client.fetch_snapshot(&h.shop, order_id(1)).await.unwrap();
    assert_eq!(snap.fulfillment_orders[0].fulfill_by, Some(at), "unchanged");
    let logged = h
        .sandbox
        .mutations()
        .iter()
        .filter(|m| {
            m.fields
                .iter()
                .any(|f| f == "fulfillmentOrdersSetFulfillmentDeadline")
        })
        .count();
    assert_eq!(logged, 2, "both calls are in the mutation log");
}

#[tokio::test]
async fn close_sets_closed_at_reopening_clears_it_and_an_unknown_order_is_refused() {
    let h = harness().await;
    let closed = h
        .client
        .close_order(&h.shop, &order_gid(1))
        .await
        .expect("closed");
    assert!(closed.closed);
    let at = closed.closed_at.expect("closedAt");
    let again = h.client.close_order(&h.shop, &order_gid(1)).await.unwrap();
    assert_eq!(
        again.closed_at,
        Some(at),
        "closing a closed order changes nothing"
    );
    let snap = h.client.fetch_snapshot(&h.shop, order_id(1)).await.unwrap();
    assert!(snap.closed);
    assert_eq!(snap.closed_at, Some(at));
    let err = h
        .client
        .close_order(&h.shop, "gid://shopify/Order/1")
        .await
        .expect_err("unknown order");
    assert!(matches!(err, ShopifyError::UserErrors { .. }), "{err:?}");
    // A person reopens it in the admin, through the control API.
    let http = reqwest::Client::new();
    let n = order_gid(1).rsplit('/').next().unwrap().to_owned();
    let res = http
        .post(format!(
            "{}/_sandbox/shops/{SHOP}/orders/{n}/open",
            h.sandbox.base_url()
        ))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let snap = h.client.fetch_snapshot(&h.shop, order_id(1)).await.unwrap();
    assert!(!snap.closed);
    assert_eq!(snap.closed_at, None);
    let unknown = http
        .post(format!(
            "{}/_sandbox/shops/{SHOP}/orders/1/open",
            h.sandbox.base_url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
}
