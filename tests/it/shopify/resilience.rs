//! The client under faults, throttling and revoked tokens; and what it refuses to send.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use orderflow::id::ShopDomain;
use orderflow::sandbox::{BucketConfig, Fault, SandboxConfig};
use orderflow::shopify::{Client, ShopifyError};

use super::{TOKEN, fast_retries, harness, harness_with, order_id, shop_config, shopify_config};

#[tokio::test]
async fn three_http_500s_then_success_is_absorbed_by_retries() {
    let h = harness().await;
    h.sandbox.inject(Fault::Http500, 3);
    let snapshot = h
        .client
        .fetch_snapshot(&h.shop, order_id(1))
        .await
        .expect("snapshot");
    assert_eq!(snapshot.name, "#1001");
    assert_eq!(h.sandbox.request_count(), 4);
    assert_eq!(h.client.metrics().retries, 3);
}

#[tokio::test]
async fn persistent_500s_end_as_a_transient_error_after_bounded_attempts() {
    let h = harness().await;
    h.sandbox.inject(Fault::Http500, 100);
    let err = h
        .client
        .fetch_snapshot(&h.shop, order_id(1))
        .await
        .expect_err("fails");
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(
        h.sandbox.request_count(),
        u64::from(fast_retries().max_attempts)
    );
}

#[tokio::test]
async fn a_dropped_connection_a_throttled_answer_and_a_429_are_retried() {
    let h = harness().await;
    h.sandbox.inject(Fault::Drop, 1);
    h.sandbox.inject(Fault::Throttled, 1);
    h.sandbox.inject(
        Fault::Http429 {
            retry_after_secs: 0,
        },
        1,
    );
    h.sandbox.inject(Fault::delay(Duration::from_millis(20)), 1);
    h.client
        .fetch_snapshot(&h.shop, order_id(1))
        .await
        .expect("snapshot");
    assert_eq!(h.sandbox.request_count(), 4);
    assert_eq!(h.client.metrics().throttled, 2);
}

#[tokio::test]
async fn a_request_slower_than_the_timeout_is_retried() {
    let mut retry = fast_retries();
    retry.request_timeout = Duration::from_millis(200);
    let h = harness_with(SandboxConfig::default(), retry).await;
    h.sandbox.inject(Fault::delay(Duration::from_secs(2)), 1);
    h.client
        .fetch_snapshot(&h.shop, order_id(1))
        .await
        .expect("snapshot");
    assert_eq!(h.sandbox.request_count(), 2);
}

#[tokio::test]
async fn a_revoked_token_is_unauthorized_and_permanent() {
    let h = harness().await;
    h.sandbox.revoke_token(&h.shop);
    let err = h
        .client
        .fetch_snapshot(&h.shop, order_id(1))
        .await
        .expect_err("401");
    assert!(
        matches!(err, ShopifyError::Unauthorized { status: 401, .. }),
        "{err:?}"
    );
    assert!(!err.is_transient());
    assert_eq!(h.sandbox.request_count(), 1, "a 401 is not retried");
}

#[tokio::test]
async fn a_header_supplied_or_unconfigured_shop_is_refused_before_any_request() {
    let h = harness().await;
    for raw in [
        "evil.example.com",
        "127.0.0.1:9900",
        "other.myshopify.com",
        "ACME.myshopify.com",
    ] {
        let err = h.client.configured_shop(raw).expect_err("refused");
        assert!(
            matches!(err, ShopifyError::UnknownShop(_)),
            "{raw}: {err:?}"
        );
    }
    assert_eq!(
        h.client
            .configured_shop("acme.myshopify.com")
            .expect("configured"),
        h.shop
    );
    let other = ShopDomain::parse("other.myshopify.com").expect("valid");
    let err = h
        .client
        .fetch_snapshot(&other, order_id(1))
        .await
        .expect_err("refused");
    assert!(matches!(err, ShopifyError::UnknownShop(_)), "{err:?}");
    assert_eq!(h.sandbox.request_count(), 0, "nothing was sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_against_a_small_bucket_waits_instead_of_being_throttled() {
    // A bucket that holds about one snapshot query, refilling fast enough for a short test.
    let bucket = BucketConfig {
        maximum_available: 800.0,
        restore_rate: 2000.0,
    };
    let config = SandboxConfig {
        bucket,
        ..SandboxConfig::default()
    };
    let h = harness_with(config, fast_retries()).await;
    let requested = requested_snapshot_cost(&h).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let client = h.client.clone();
        let shop = h.shop.clone();
        tasks.push(tokio::spawn(async move {
            client.fetch_snapshot(&shop, order_id(3)).await
        }));
    }
    for task in tasks {
        task.await
            .expect("task")
            .expect("no error reaches the caller");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let charged = h.sandbox.actual_cost_total() as f64;
    // The bucket must have restored everything charged beyond its size...
    let lower = (charged - bucket.maximum_available) / bucket.restore_rate;
    // ...and the client waits at most for a full requested cost per query on top of that.
    let upper = lower + 100.0 * requested / bucket.restore_rate + 2.0;
    eprintln!(
        "burst: {elapsed:.2}s, charged {charged}, bounds [{lower:.2}, {upper:.2}], {:?}",
        h.client.metrics()
    );
    assert_eq!(h.client.metrics().throttled, 0, "the client waited instead");
    assert!(
        elapsed >= lower * 0.9,
        "{elapsed}s is faster than the bucket allows ({lower}s)"
    );
    assert!(
        elapsed <= upper,
        "{elapsed}s is slower than waiting for room explains ({upper}s)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_mutations_runs_at_the_restore_rate_without_throttled_errors() {
    // Mutations cost 10 requested and actual, so the restore rate alone sets the pace.
    let bucket = BucketConfig {
        maximum_available: 100.0,
        restore_rate: 400.0,
    };
    let config = SandboxConfig {
        bucket,
        ..SandboxConfig::default()
    };
    let h = harness_with(config, fast_retries()).await;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..100 {
        let client = h.client.clone();
        let shop = h.shop.clone();
        let tags = vec![format!("burst-{i}")];
        tasks.push(tokio::spawn(async move {
            client.add_tags(&shop, &super::order_gid(1), &tags).await
        }));
    }
    for task in tasks {
        task.await
            .expect("task")
            .expect("no error reaches the caller");
    }
    let elapsed = started.elapsed().as_secs_f64();
    let lower = (100.0 * 10.0 - bucket.maximum_available) / bucket.restore_rate;
    eprintln!(
        "mutation burst: {elapsed:.2}s, lower bound {lower:.2}s, {:?}",
        h.client.metrics()
    );
    assert!(
        elapsed >= lower * 0.95,
        "{elapsed}s beats the restore rate ({lower}s)"
    );
    assert!(
        elapsed <= lower * 1.5 + 1.0,
        "{elapsed}s is far slower than the restore rate ({lower}s)"
    );
    assert_eq!(h.client.metrics().throttled, 0, "the client waited instead");
    assert_eq!(
        h.sandbox
            .order(&h.shop, &super::order_gid(1))
            .expect("order")
            .tags
            .len(),
        101
    );
}

async fn requested_snapshot_cost(h: &super::Harness) -> f64 {
    let doc = orderflow::shopify::schema::validate(
        orderflow::shopify::documents::ORDER_SNAPSHOT.text(),
        "s",
    )
    .expect("valid");
    let op = doc.operations.get(None).expect("op");
    let vars = serde_json::from_value(serde_json::json!({"id": "x"})).expect("vars");
    let _ = h;
    orderflow::shopify::cost::requested(orderflow::shopify::schema::schema(), &doc, op, &vars)
        .expect("cost") as f64
}

/// A `MakeWriter` that keeps everything written, for searching.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn the_access_token_never_appears_in_logs_errors_or_debug() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let h = harness().await;
    let mut outputs = Vec::new();
    h.sandbox.inject(Fault::Http500, 2);
    h.sandbox.inject(Fault::Drop, 1);
    h.client
        .fetch_snapshot(&h.shop, order_id(6))
        .await
        .expect("snapshot");
    let fo = h
        .sandbox
        .order(&h.shop, &super::order_gid(6))
        .expect("order")
        .fulfillment_orders[0]
        .id
        .clone();
    let err = h
        .client
        .release_holds(
            &h.shop,
            &fo,
            &["gid://shopify/FulfillmentHold/1".to_owned()],
        )
        .await
        .expect_err("unknown hold");
    outputs.push(format!("{err} {err:?}"));
    h.sandbox.revoke_token(&h.shop);
    let err = h
        .client
        .fetch_snapshot(&h.shop, order_id(1))
        .await
        .expect_err("401");
    outputs.push(format!("{err} {err:?}"));
    outputs.push(format!("{:?}", h.client));
    let config = shop_config("acme.myshopify.com", "http://127.0.0.1:1", TOKEN);
    outputs.push(format!("{config:?}"));
    let unreachable =
        Client::with_retry(&shopify_config(), &[config], fast_retries()).expect("client");
    let err = unreachable
        .fetch_snapshot(&h.shop, order_id(1))
        .await
        .expect_err("no server");
    assert!(err.is_transient());
    outputs.push(format!("{err} {err:?}"));

    let logs =
        String::from_utf8_lossy(&captured.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    assert!(
        logs.contains("retrying Shopify call"),
        "the capture works: {logs}"
    );
    assert!(!logs.contains(TOKEN), "token in logs");
    for output in outputs {
        assert!(!output.contains(TOKEN), "token in {output}");
    }
}

#[tokio::test]
async fn a_mutation_whose_answer_is_lost_is_not_sent_again() {
    let h = harness().await;
    let gid = super::order_gid(1);
    // The first answer is a 500: did the tags land? The client cannot know, so it does not
    // send the mutation again; the worker re-reads the order and plans anew.
    h.sandbox.inject(Fault::Http500, 1);
    let err = h
        .client
        .add_tags(&h.shop, &gid, &["orderflow:test".to_owned()])
        .await
        .expect_err("the ambiguous failure is reported");
    assert!(err.is_transient(), "{err:?}");
    assert_eq!(h.sandbox.request_count(), 1, "sent once");
}
