//! The receiver against the real broker: every answer, and what is (not) on the queues after it.

use std::collections::HashSet;
use std::time::Duration;

use futures_util::future::join_all;
use orderflow::event::partition;

use crate::harness::broker::{drain, drain_all};
use crate::harness::proxy::Proxy;
use crate::harness::{
    Options, SECRET_NEW, SECRET_OLD, SHOP, TestApp, eventually, fixture, signature,
};

const ORDER_ID: &str = "820982911946154508";

fn set(headers: &mut [(&'static str, String)], name: &str, value: String) {
    for (k, v) in headers.iter_mut() {
        if *k == name {
            *v = value.clone();
        }
    }
}

#[tokio::test]
async fn valid_delivery_is_confirmed_into_its_partition_with_headers_and_body() {
    let app = TestApp::spawn("valid").await;
    let body = fixture("orders/create");
    let res = app
        .delivery("orders/create", "wh-1", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let p = partition(SHOP, ORDER_ID, app.partitions);
    let names = orderflow::queue::Names::new(&app.prefix);
    let got = drain(&names.partition_queue(p)).await;
    assert_eq!(got.len(), 1, "exactly one message in partition {p}");
    let m = &got[0];
    assert_eq!(m.body, body, "the body travels byte for byte");
    assert_eq!(m.message_id.as_deref(), Some("wh-1"));
    assert_eq!(m.delivery_mode, Some(2), "persistent");
    assert_eq!(m.header("X-Shopify-Topic"), Some("orders/create"));
    assert_eq!(m.header("X-Shopify-Shop-Domain"), Some(SHOP));
    assert_eq!(m.header("X-Shopify-Webhook-Id"), Some("wh-1"));
    assert_eq!(m.header("X-Shopify-API-Version"), Some("2026-10"));
    assert_eq!(
        m.header("X-Shopify-Triggered-At"),
        Some("2026-11-23T10:00:00.000Z")
    );
    assert_eq!(m.header("X-Shopify-Event-Id"), Some("event-wh-1"));
    assert_eq!(m.header("orderflow-kind"), Some("order"));
    assert_eq!(m.header("orderflow-order-id"), Some(ORDER_ID));
    assert!(
        drain_all(&app.prefix, app.partitions).await.is_empty(),
        "nothing else anywhere"
    );
    app.stop().await;
}

#[tokio::test]
async fn wrong_missing_or_tampered_signature_gets_401_and_publishes_nothing() {
    let app = TestApp::spawn("hmac").await;
    let body = fixture("orders/create");
    let wrong = app.delivery_with("orders/create", "wh-wrong", &body, |h| {
        set(
            h,
            "X-Shopify-Hmac-Sha256",
            signature(&body, "not-our-secret"),
        )
    });
    let missing = app.delivery_with("orders/create", "wh-missing", &body, |h| {
        h.retain(|(k, _)| *k != "X-Shopify-Hmac-Sha256")
    });
    let mut tampered_body = body.clone();
    let i = tampered_body.len() / 2;
    tampered_body[i] ^= 0x01;
    let tampered = app
        .delivery("orders/create", "wh-tampered", &body)
        .body(tampered_body);
    for (what, req) in [
        ("wrong", wrong),
        ("missing", missing),
        ("tampered", tampered),
    ] {
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 401, "{what}");
    }
    // A 401 is answered without publishing, so the queues are already final.
    assert!(drain_all(&app.prefix, app.partitions).await.is_empty());
    let metrics = app.metrics.encode();
    assert!(
        metrics.contains("orderflow_hmac_failures_total 3"),
        "{metrics}"
    );
    app.stop().await;
}

#[tokio::test]
async fn old_and_new_secret_are_both_accepted_during_rotation() {
    let app = TestApp::spawn("rotation").await;
    let body = fixture("orders/paid");
    for (id, secret) in [("wh-new", SECRET_NEW), ("wh-old", SECRET_OLD)] {
        let res = app
            .delivery_with("orders/paid", id, &body, |h| {
                set(h, "X-Shopify-Hmac-Sha256", signature(&body, secret))
            })
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{secret}");
    }
    let ids: HashSet<_> = drain_all(&app.prefix, app.partitions)
        .await
        .into_iter()
        .filter_map(|m| m.message_id)
        .collect();
    assert_eq!(
        ids,
        HashSet::from(["wh-new".to_owned(), "wh-old".to_owned()])
    );
    app.stop().await;
}

#[tokio::test]
async fn body_over_the_limit_gets_413() {
    let app = TestApp::spawn_with(
        "limit",
        Options {
            extra_toml: String::new(),
            ..Default::default()
        },
    )
    .await;
    let big = vec![b' '; 5 * 1024 * 1024 + 1];
    let res = app
        .delivery("orders/create", "wh-big", &big)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    // Just under the limit is not refused for its size (it is signed JSON-less: dead-lettered).
    let ok = vec![b' '; 5 * 1024 * 1024];
    let res = app
        .delivery("orders/create", "wh-ok", &ok)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let all = drain_all(&app.prefix, app.partitions).await;
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].message_id.as_deref(), Some("wh-ok"));
    app.stop().await;
}

#[tokio::test]
async fn each_missing_required_header_gets_400_naming_it() {
    let app = TestApp::spawn("headers").await;
    let body = fixture("orders/create");
    for header in [
        "X-Shopify-Topic",
        "X-Shopify-Shop-Domain",
        "X-Shopify-Webhook-Id",
    ] {
        let res = app
            .delivery_with("orders/create", "wh-h", &body, |h| {
                h.retain(|(k, _)| *k != header)
            })
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{header}");
        assert!(res.text().await.unwrap().contains(header));
    }
    assert!(drain_all(&app.prefix, app.partitions).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn duplicate_webhook_id_is_published_once() {
    let app = TestApp::spawn("dedupe").await;
    let body = fixture("orders/updated");
    for _ in 0..3 {
        let res = app
            .delivery("orders/updated", "wh-dup", &body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }
    assert_eq!(drain_all(&app.prefix, app.partitions).await.len(), 1);
    assert!(
        app.metrics
            .encode()
            .contains("orderflow_dedupe_hits_total 2")
    );
    app.stop().await;
}

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

#[tokio::test]
async fn broker_unreachable_gets_503_and_not_ready() {
    // Nothing listens on port 1: the receiver never connects.
    let app = TestApp::spawn_with(
        "nobroker",
        Options {
            amqp_url: Some("amqp://guest:guest@127.0.0.1:1/%2f".into()),
            ..Default::default()
        },
    )
    .await;
    let body = fixture("orders/create");
    let started = std::time::Instant::now();
    let res = app
        .delivery("orders/create", "wh-503", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "503 at once, not after a timeout"
    );
    let ready = app.http.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 503);
    let health = app.http.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "alive, just not ready");
    app.stop().await;
}

#[tokio::test]
async fn broker_outage_gives_503_then_reconnects_and_nothing_is_lost() {
    let proxy = Proxy::start("127.0.0.1:5672".parse().unwrap()).await;
    let app = TestApp::spawn_with(
        "outage",
        Options {
            amqp_url: Some(proxy.amqp_url()),
            ..Default::default()
        },
    )
    .await;
    app.broker
        .wait_connected(Duration::from_secs(10))
        .await
        .expect("connects through the proxy");
    let body = fixture("orders/create");
    assert_eq!(
        app.delivery("orders/create", "wh-before", &body)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    proxy.cut();
    eventually(
        Duration::from_secs(10),
        "the receiver to notice the outage",
        || async {
            let r = app
                .delivery("orders/create", "wh-during", &body)
                .send()
                .await
                .unwrap();
            (r.status() == 503).then_some(())
        },
    )
    .await;
    assert_eq!(
        app.http
            .get(app.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        503
    );

    proxy.restore();
    eventually(
        Duration::from_secs(15),
        "the receiver to reconnect",
        || async {
            let r = app
                .delivery("orders/create", "wh-after", &body)
                .send()
                .await
                .unwrap();
            (r.status() == 200).then_some(())
        },
    )
    .await;
    // Shopify retries the 503'd delivery with the same webhook id: now it is queued.
    assert_eq!(
        app.delivery("orders/create", "wh-during", &body)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let ids: HashSet<_> = drain_all(&app.prefix, app.partitions)
        .await
        .into_iter()
        .filter_map(|m| m.message_id)
        .collect();
    assert_eq!(
        ids,
        HashSet::from(["wh-before", "wh-during", "wh-after"].map(String::from)),
        "each 200 is a message; no 503 was"
    );
    app.stop().await;
}

#[tokio::test]
async fn two_hundred_concurrent_deliveries_are_two_hundred_messages() {
    let app = TestApp::spawn("concurrent").await;
    let body = fixture("orders/create");
    let requests = (0..200).map(|i| {
        let id = format!("wh-c-{i}");
        let req = app.delivery("orders/create", &id, &body);
        async move { (id, req.send().await.map(|r| r.status().as_u16())) }
    });
    let answers = join_all(requests).await;
    let ok: HashSet<String> = answers
        .into_iter()
        .filter_map(|(id, status)| (status.ok() == Some(200)).then_some(id))
        .collect();
    assert_eq!(ok.len(), 200, "every delivery answered 200");
    let got: Vec<_> = drain_all(&app.prefix, app.partitions).await;
    let ids: HashSet<String> = got.iter().filter_map(|m| m.message_id.clone()).collect();
    assert_eq!(got.len(), 200, "no duplicates");
    assert_eq!(ids, ok, "each 200 matched by its message");
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_outcomes_and_confirm_latency() {
    let app = TestApp::spawn("metrics").await;
    let body = fixture("orders/create");
    app.delivery("orders/create", "wh-m", &body)
        .send()
        .await
        .unwrap();
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(r#"orderflow_webhooks_total{topic="orders/create",outcome="published"} 1"#),
        "{text}"
    );
    assert!(
        text.contains("orderflow_publish_confirm_seconds_count 1"),
        "{text}"
    );
    assert!(text.contains("orderflow_broker_connected 1"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn shutdown_lets_in_flight_deliveries_finish() {
    let proxy = Proxy::start("127.0.0.1:5672".parse().unwrap()).await;
    let app = TestApp::spawn_with(
        "shutdown",
        Options {
            amqp_url: Some(proxy.amqp_url()),
            ..Default::default()
        },
    )
    .await;
    app.broker
        .wait_connected(Duration::from_secs(10))
        .await
        .expect("connects through the proxy");
    let body = fixture("orders/create");
    // Hold the publishes at the proxy, so the deliveries are surely in flight at shutdown.
    proxy.stall();
    let requests: Vec<_> = (0..20)
        .map(|i| {
            let id = format!("wh-s-{i}");
            let req = app.delivery("orders/create", &id, &body);
            tokio::spawn(async move { (id, req.send().await.map(|r| r.status().as_u16())) })
        })
        .collect();
    eventually(
        Duration::from_secs(10),
        "publishes waiting on the broker",
        || async { (proxy.held() > 0).then_some(()) },
    )
    .await;
    app.shutdown.cancel();
    proxy.restore();
    let mut ok = HashSet::new();
    for r in requests {
        let (id, status) = r.await.unwrap();
        if status.ok() == Some(200) {
            ok.insert(id);
        }
    }
    assert!(
        !ok.is_empty(),
        "deliveries in flight at shutdown were finished and answered 200"
    );
    let prefix = app.prefix.clone();
    let partitions = app.partitions;
    tokio::time::timeout(Duration::from_secs(10), app.stopped)
        .await
        .expect("stops within the grace period")
        .unwrap()
        .expect("clean stop");
    let ids: HashSet<String> = drain_all(&prefix, partitions)
        .await
        .into_iter()
        .filter_map(|m| m.message_id)
        .collect();
    assert!(
        ok.is_subset(&ids),
        "every 200 given during shutdown is on the queue"
    );
    crate::harness::broker::delete_prefix(&prefix, partitions).await;
}

#[tokio::test]
async fn a_broker_that_stops_confirming_gets_503_within_the_confirm_budget() {
    let proxy = Proxy::start("127.0.0.1:5672".parse().unwrap()).await;
    let app = TestApp::spawn_with(
        "stall",
        Options {
            amqp_url: Some(proxy.amqp_url()),
            confirm_timeout_ms: Some(300),
            ..Default::default()
        },
    )
    .await;
    app.broker
        .wait_connected(Duration::from_secs(10))
        .await
        .expect("connects through the proxy");
    let body = fixture("orders/create");
    // Like a memory alarm: the connection stays open, nothing is confirmed.
    proxy.stall();
    let started = std::time::Instant::now();
    let res = app
        .delivery("orders/create", "wh-stalled", &body)
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_eq!(res.status(), 503);
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(2),
        "answered after the 300 ms budget, well inside Shopify's 5 s: {took:?}"
    );
    proxy.restore();
    eventually(
        Duration::from_secs(15),
        "a retry to be accepted",
        || async {
            let r = app
                .delivery("orders/create", "wh-stalled", &body)
                .send()
                .await
                .unwrap();
            (r.status() == 200).then_some(())
        },
    )
    .await;
    // The stalled publish may land late as well: at least once, never zero times.
    let got = drain_all(&app.prefix, app.partitions).await;
    assert!(!got.is_empty());
    assert!(
        got.iter()
            .all(|m| m.message_id.as_deref() == Some("wh-stalled"))
    );
    app.stop().await;
}
