//! Where the receiver puts what it accepts: partition, compliance or dead-letter queue, and the
//! headers that say why.

use orderflow::event::partition;

use super::{ORDER_ID, set};
use crate::harness::broker::{drain, drain_all};
use crate::harness::{SHOP, TestApp, fixture};

#[tokio::test]
async fn signed_non_json_is_dead_lettered_with_a_reason() {
    let app = TestApp::spawn("notjson").await;
    let res = app
        .delivery("orders/create", "wh-xml", b"<order/>")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "signed input is accepted, not refused");
    let names = orderflow::queue::Names::new(&app.prefix);
    let dead = drain(&names.dead_queue()).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].header("reason"), Some("not_json"));
    assert_eq!(dead[0].body, b"<order/>");
    assert_eq!(dead[0].header("X-Shopify-Webhook-Id"), Some("wh-xml"));
    app.stop().await;
}

#[tokio::test]
async fn json_without_an_order_id_is_dead_lettered() {
    let app = TestApp::spawn("noid").await;
    let res = app
        .delivery("orders/create", "wh-noid", br#"{"id":8.2e17}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let dead = drain(&orderflow::queue::Names::new(&app.prefix).dead_queue()).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].header("reason"), Some("no_order_id"));
    app.stop().await;
}

#[tokio::test]
async fn unknown_shop_is_dead_lettered() {
    let app = TestApp::spawn("unknownshop").await;
    let body = fixture("orders/create");
    let res = app
        .delivery_with("orders/create", "wh-other", &body, |h| {
            set(h, "X-Shopify-Shop-Domain", "stranger.myshopify.com".into())
        })
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let all = drain_all(&app.prefix, app.partitions).await;
    assert_eq!(all.len(), 1);
    assert!(all[0].queue.ends_with(".dead"));
    assert_eq!(all[0].header("reason"), Some("unknown_shop"));
    assert_eq!(all[0].header("shop"), Some("stranger.myshopify.com"));
    app.stop().await;
}

#[tokio::test]
async fn compliance_topics_go_to_the_compliance_queue_and_others_are_not_queued() {
    let app = TestApp::spawn("compliance").await;
    for topic in [
        "customers/data_request",
        "customers/redact",
        "shop/redact",
        "app/uninstalled",
    ] {
        let res = app
            .delivery(topic, &format!("wh-{topic}"), &fixture(topic))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{topic}");
    }
    let res = app
        .delivery("products/update", "wh-product", br#"{"id":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let all = drain_all(&app.prefix, app.partitions).await;
    assert_eq!(all.len(), 4, "products/update is not queued");
    assert!(all.iter().all(|m| m.queue.ends_with(".compliance")));
    assert!(
        app.metrics
            .encode()
            .contains(r#"orderflow_webhooks_total{topic="other",outcome="ignored"} 1"#)
    );
    app.stop().await;
}

#[tokio::test]
async fn fulfillment_order_topics_are_partitioned_by_the_fulfillment_order_and_marked() {
    let app = TestApp::spawn("fo").await;
    for topic in [
        "fulfillment_orders/placed_on_hold",
        "fulfillment_holds/added",
    ] {
        let res = app
            .delivery(topic, &format!("wh-{topic}"), &fixture(topic))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    let gid = "gid://shopify/FulfillmentOrder/1";
    let p = partition(SHOP, gid, app.partitions);
    let got = drain(&orderflow::queue::Names::new(&app.prefix).partition_queue(p)).await;
    assert_eq!(got.len(), 2);
    for m in got {
        assert_eq!(m.header("orderflow-kind"), Some("fulfillment_order"));
        assert_eq!(m.header("orderflow-fulfillment-order-id"), Some(gid));
    }
    app.stop().await;
}

#[tokio::test]
async fn every_order_topic_finds_its_order() {
    let app = TestApp::spawn("ordertopics").await;
    let topics = [
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/cancelled",
        "orders/edited",
        "orders/risk_assessment_changed",
        "refunds/create",
        "fulfillments/create",
    ];
    for topic in topics {
        let res = app
            .delivery(topic, &format!("wh-{topic}"), &fixture(topic))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{topic}");
    }
    let all = drain_all(&app.prefix, app.partitions).await;
    assert_eq!(all.len(), topics.len());
    for m in &all {
        assert_eq!(
            m.header("orderflow-order-id"),
            Some(ORDER_ID),
            "{:?}",
            m.message_id
        );
    }
    app.stop().await;
}
