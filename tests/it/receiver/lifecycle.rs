//! The receiver's life around the requests: what it counts, and how it stops.

use std::collections::HashSet;
use std::time::Duration;

use crate::harness::broker::drain_all;
use crate::harness::{Options, TestApp, eventually, fixture};

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
    let (proxy, app) = TestApp::spawn_behind_proxy("shutdown", Options::default()).await;
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
