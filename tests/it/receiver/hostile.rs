//! Slow and hostile clients cannot hold the receiver: half-sent headers are cut, a body that
//! never finishes gets a 408, a connection flood is refused past `max_connections` with a fast
//! 503, oversized heads get a 431, and past `max_in_flight` a webhook is shed at once while the
//! accepted ones finish. Raw TCP, since a polite HTTP client cannot misbehave on purpose.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::harness::{Options, TestApp, fixture};

fn limits(toml: &str) -> Options {
    Options {
        server_toml: toml.to_owned(),
        ..Default::default()
    }
}

/// Reads until the server closes the connection or `within` passes; what it said, and whether
/// it closed.
async fn read_until_closed(stream: &mut TcpStream, within: Duration) -> (String, bool) {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
            Err(_) => return (String::from_utf8_lossy(&got).into_owned(), false),
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), true),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test]
async fn half_sent_headers_are_cut_at_the_header_timeout() {
    let app = TestApp::spawn_with("hostile-head", limits("header_read_timeout_ms = 300")).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(b"POST /webhooks HTTP/1.1\r\nHost: x\r\nX-Shopify-Topic: orders/cr")
        .await
        .unwrap();
    let (_, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    let took = started.elapsed();
    assert!(closed, "the connection is closed, not held");
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(3),
        "closed at the 300 ms header timeout, not at once and not much later: {took:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_body_that_never_finishes_gets_a_408_at_the_request_deadline() {
    let app = TestApp::spawn_with("hostile-body", limits("request_timeout_ms = 400")).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let started = Instant::now();
    stream
        .write_all(
            b"POST /webhooks HTTP/1.1\r\nHost: x\r\nX-Shopify-Topic: orders/create\r\nContent-Length: 5000\r\n\r\n{\"id\":1",
        )
        .await
        .unwrap();
    let (answer, closed) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    let took = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(closed, "and the connection is closed after it");
    assert!(
        took >= Duration::from_millis(350) && took < Duration::from_secs(3),
        "at the 400 ms deadline: {took:?}"
    );
    app.stop().await;
}

#[tokio::test]
async fn past_max_connections_a_connection_gets_a_fast_503_and_the_held_ones_still_work() {
    let app = TestApp::spawn_with("hostile-flood", limits("max_connections = 8")).await;
    // Seven idle connections, each accepted and held by the server...
    let mut idle = Vec::new();
    for _ in 0..7 {
        idle.push(TcpStream::connect(app.addr).await.unwrap());
    }
    // ...and a delivery on the eighth goes through: held connections cost a slot, not service.
    let body = fixture("orders/create");
    let res = app
        .delivery("orders/create", "wh-flood-ok", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // reqwest keeps its connection open: that is the eighth. The ninth is refused at once.
    let mut extra = TcpStream::connect(app.addr).await.unwrap();
    let started = Instant::now();
    let (answer, closed) = read_until_closed(&mut extra, Duration::from_secs(3)).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(closed);
    assert!(started.elapsed() < Duration::from_secs(1), "fast");
    // One idle connection goes away: its slot is free again.
    drop(idle.pop());
    let answered = crate::harness::eventually(
        Duration::from_secs(5),
        "a new connection to be served once a slot is free",
        || async {
            let mut s = TcpStream::connect(app.addr).await.ok()?;
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                .await
                .ok()?;
            let mut buf = [0u8; 64];
            let n = tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf))
                .await
                .ok()?
                .ok()?;
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            text.starts_with("HTTP/1.1 200").then_some(text)
        },
    )
    .await;
    assert!(answered.starts_with("HTTP/1.1 200"));
    drop(idle);
    app.stop().await;
}

#[tokio::test]
async fn a_head_over_max_header_bytes_gets_a_431() {
    let app = TestApp::spawn_with("hostile-headers", limits("max_header_bytes = 8192")).await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let mut head = String::from("POST /webhooks HTTP/1.1\r\nHost: x\r\n");
    for i in 0..40 {
        head.push_str(&format!("X-Padding-{i}: {}\r\n", "a".repeat(300)));
    }
    head.push_str("Content-Length: 0\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let (answer, _) = read_until_closed(&mut stream, Duration::from_secs(5)).await;
    assert!(answer.starts_with("HTTP/1.1 431"), "{answer:?}");
    app.stop().await;
}

#[tokio::test]
async fn past_max_in_flight_a_webhook_is_shed_at_once_and_the_accepted_one_finishes() {
    let (proxy, app) = TestApp::spawn_behind_proxy(
        "hostile-shed",
        Options {
            server_toml: "max_in_flight = 1".into(),
            confirm_timeout_ms: Some(2000),
            ..Default::default()
        },
    )
    .await;
    let body = fixture("orders/create");
    // The broker stops confirming: the first webhook waits for its confirm, holding the slot.
    proxy.stall();
    let first = tokio::spawn(app.delivery("orders/create", "wh-shed-1", &body).send());
    crate::harness::eventually(
        Duration::from_secs(5),
        "the first webhook's publish to be held by the stalled broker",
        || async { (proxy.held() > 0).then_some(()) },
    )
    .await;
    let started = Instant::now();
    let shed = app
        .delivery("orders/create", "wh-shed-2", &body)
        .send()
        .await
        .unwrap();
    assert_eq!(shed.status(), 503);
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "shed at once, not after the confirm budget: {:?}",
        started.elapsed()
    );
    let metrics = app.metrics.encode();
    assert!(
        metrics.contains(r#"outcome="shed""#),
        "counted as shed: {metrics}"
    );
    proxy.restore();
    // The first finishes one way or the other (its confirm, or a 503 at the budget).
    let first = first.await.unwrap().unwrap();
    assert!(
        first.status() == 200 || first.status() == 503,
        "{}",
        first.status()
    );
    app.stop().await;
}
