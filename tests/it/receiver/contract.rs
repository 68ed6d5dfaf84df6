//! The receiver's HTTP contract: what each request is answered, and that every 200 is exactly
//! one message (signatures, size, headers, duplicates, concurrency).

use std::collections::HashSet;

use futures_util::future::join_all;
use orderflow::event::partition;

use super::{ORDER_ID, set};
use crate::harness::broker::{drain, drain_all};
use crate::harness::{Options, SECRET_NEW, SECRET_OLD, SHOP, TestApp, fixture, signature};

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
