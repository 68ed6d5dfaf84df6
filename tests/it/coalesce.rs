//! Coalescing end to end: which webhooks the worker handles without reading the order again,
//! counted by the sandbox's snapshot reads and `orderflow_events_coalesced_total`.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use orderflow::clock::Clock;
use orderflow::rules;
use orderflow::shopify::snapshot::{RiskLevel, RiskRecommendation};

use crate::harness::e2e::Shop;
use crate::harness::eventually;

impl Shop {
    /// How many `OrderSnapshot` reads the sandbox answered.
    fn snapshot_reads(&self) -> usize {
        self.sandbox
            .queries()
            .iter()
            .filter(|q| q.operation_name.as_deref() == Some("OrderSnapshot"))
            .count()
    }

    fn coalesced(&self, reason: &str) -> u64 {
        let needle = format!("orderflow_events_coalesced_total{{reason=\"{reason}\"}} ");
        self.app
            .metrics
            .encode()
            .lines()
            .find_map(|l| l.strip_prefix(&needle)?.parse().ok())
            .unwrap_or(0)
    }

    /// The fixture's webhook body with `updated_at` set to `updated` (or removed).
    fn body(fixture: &str, updated: Option<Timestamp>) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/orders")
            .join(format!("{fixture}.webhook.json"));
        let mut json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(path).expect("body")).expect("JSON");
        match updated {
            Some(at) => json["updated_at"] = serde_json::json!(at.to_string()),
            None => {
                json.as_object_mut().expect("object").remove("updated_at");
            }
        }
        serde_json::to_vec(&json).expect("JSON")
    }

    /// Sends a webhook triggered at `triggered` (Shopify's clock).
    async fn send_triggered(&self, topic: &str, id: &str, body: &[u8], triggered: Timestamp) {
        let res = self
            .app
            .delivery_with(topic, id, body, |h| {
                for (k, v) in h.iter_mut() {
                    if *k == "X-Shopify-Hmac-Sha256" {
                        *v = crate::harness::signature(body, crate::harness::SECRET_NEW);
                    }
                    if *k == "X-Shopify-Triggered-At" {
                        *v = triggered.to_string();
                    }
                }
            })
            .send()
            .await
            .expect("receiver answers");
        assert_eq!(res.status(), 200);
    }

    /// What the example rules would still change on the order as it stands.
    async fn still_to_do(&self, fixture: &str) -> Vec<String> {
        let text = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/example.toml"),
        )
        .expect("example");
        let config = orderflow::config::Config::from_toml(
            &text,
            std::path::Path::new("example.toml"),
            &orderflow::config::Env::default(),
        )
        .expect("example config");
        let order = self.snapshot(fixture).await.to_rules_order();
        rules::plan(&order, &config.shops[0].rules, self.clock.now())
            .changes()
            .map(|s| format!("{:?}", s.action))
            .collect()
    }
}

#[tokio::test]
async fn the_echo_of_orderflows_own_change_costs_no_snapshot() {
    echoes_cost_no_snapshot("coalesce_echo", "digital", false).await;
}

/// The mixed order's plan sets Shopify's fulfil-by deadline between two stamped mutations; that
/// mutation answers no `updatedAt`, so its echo is known by the window the stamps around it leave.
#[tokio::test]
async fn the_echo_of_a_change_whose_mutation_answers_no_stamp_costs_no_snapshot() {
    let (operations, instants) =
        echoes_cost_no_snapshot("coalesce_echo_mixed", "mixed", true).await;
    assert!(
        operations
            .iter()
            .any(|o| o == "fulfillmentOrdersSetFulfillmentDeadline"),
        "the mixed order's plan sets the deadline: {operations:?}"
    );
    let mut distinct = instants.clone();
    distinct.dedup();
    assert_eq!(
        distinct, instants,
        "each change has an updatedAt of its own"
    );
}

/// Sends the order's `orders/create`, then Shopify's `orders/updated` for each change the plan
/// made, and checks none of them read the order; returns the mutations' operations and
/// instants. With `tick`, the shop's clock moves a second after each mutation (the sandbox
/// answers 50 ms late, time enough to see one before the next), so every change gets an
/// `updatedAt` of its own, as on Shopify, instead of all sharing the manual clock's instant.
async fn echoes_cost_no_snapshot(
    prefix: &str,
    fixture: &str,
    tick: bool,
) -> (Vec<String>, Vec<Timestamp>) {
    let shop = Shop::start(prefix).await;
    let handled = async {
        shop.send(fixture, "orders/create", "wh-create").await;
        shop.wait_settled(1).await;
    };
    if tick {
        shop.sandbox.set_latency(Duration::from_millis(50));
        let ticker = async {
            let mut seen = 0;
            loop {
                let now = shop.sandbox.mutations().len();
                if now != seen {
                    seen = now;
                    shop.clock.advance(SignedDuration::from_secs(1));
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        tokio::select! {
            () = handled => {}
            () = ticker => {}
        }
        shop.sandbox.set_latency(Duration::ZERO);
    } else {
        handled.await;
    }
    let mutations = shop.mutations_of(fixture);
    assert!(!mutations.is_empty(), "the plan changed the order");
    let reads = shop.snapshot_reads();
    // Shopify's orders/updated for each change, with the updatedAt that change gave the order.
    for (i, m) in mutations.iter().enumerate() {
        let body = Shop::body(fixture, Some(m.at));
        shop.send_triggered("orders/updated", &format!("wh-echo-{i}"), &body, m.at)
            .await;
    }
    shop.wait_settled(1 + mutations.len() as u64).await;
    assert_eq!(shop.snapshot_reads(), reads, "no echo read the order");
    assert_eq!(shop.coalesced("own_echo"), mutations.len() as u64);
    assert_eq!(shop.mutations_of(fixture).len(), mutations.len());
    let operations = mutations.iter().flat_map(|m| m.fields.clone()).collect();
    let instants = mutations.iter().map(|m| m.at).collect();
    shop.stop().await;
    (operations, instants)
}

#[tokio::test]
async fn an_event_before_the_last_read_is_coalesced_and_one_after_it_is_not() {
    let shop = Shop::start("coalesce_read").await;
    let read_at = shop.clock.now();
    shop.send("digital", "orders/create", "wh-create").await;
    shop.wait_settled(1).await;
    let reads = shop.snapshot_reads();
    // No updated_at in the body: only the trigger time can tell.
    let body = Shop::body("digital", None);
    let before = read_at - SignedDuration::from_secs(60);
    shop.send_triggered("orders/updated", "wh-before", &body, before)
        .await;
    shop.wait_settled(2).await;
    assert_eq!(shop.snapshot_reads(), reads);
    assert_eq!(shop.coalesced("covered_by_read"), 1);
    // Within the skew margin of the read's start: it may have come after, so it reads.
    shop.send_triggered("orders/updated", "wh-at", &body, read_at)
        .await;
    shop.wait_settled(3).await;
    assert_eq!(shop.snapshot_reads(), reads + 1);
    assert_eq!(shop.coalesced("covered_by_read"), 1);
    // The body's updated_at at or before what the last read saw: covered, whatever the trigger.
    let seen = shop.snapshot("digital").await.updated_at;
    let reads = shop.snapshot_reads();
    shop.send_triggered(
        "orders/paid",
        "wh-paid",
        &Shop::body("digital", seen),
        shop.clock.now(),
    )
    .await;
    shop.wait_settled(4).await;
    assert_eq!(shop.snapshot_reads(), reads);
    assert_eq!(shop.coalesced("covered_by_read"), 2);
    shop.stop().await;
}

#[tokio::test]
async fn a_wake_up_is_never_coalesced() {
    let shop = Shop::start("coalesce_wake").await;
    shop.send("handmade", "orders/create", "wh-hm").await;
    eventually(Duration::from_secs(20), "the processing hold", || async {
        (shop.hold_handles("handmade") == ["orderflow-processing"]).then_some(())
    })
    .await;
    let reads = shop.snapshot_reads();
    // The wake-up carries the webhook's headers and body, triggered long before the read it
    // comes back to; its plan depends on the time, so it reads.
    shop.clock.advance(SignedDuration::from_hours(4 * 24));
    eventually(Duration::from_secs(20), "the hold's release", || async {
        shop.hold_handles("handmade").is_empty().then_some(())
    })
    .await;
    assert!(shop.snapshot_reads() > reads);
    assert_eq!(
        shop.coalesced("covered_by_read") + shop.coalesced("own_echo"),
        0
    );
    shop.stop().await;
}

#[tokio::test]
async fn a_persons_change_racing_orderflows_own_converges() {
    let shop = Shop::start("coalesce_race").await;
    // Every Admin API request takes a while, so the person acts between read and mutations.
    shop.sandbox.set_latency(Duration::from_millis(400));
    shop.send("digital", "orders/create", "wh-create").await;
    eventually(Duration::from_secs(20), "the pass's read", || async {
        (shop.snapshot_reads() >= 1).then_some(())
    })
    .await;
    let gid = Shop::fixture("digital").id;
    assert!(shop.sandbox.set_risk(
        &shop.shop,
        &gid,
        RiskRecommendation::Cancel,
        &[RiskLevel::High]
    ));
    let changed = shop.order("digital").updated_at;
    assert!(
        shop.mutations_of("digital").is_empty(),
        "the person changed the order before orderflow's mutations"
    );
    shop.wait_settled(1).await;
    shop.sandbox.set_latency(Duration::ZERO);
    let reads = shop.snapshot_reads();
    // The person's webhook, delivered after orderflow's pass: its updated_at is neither what
    // the read saw nor one of orderflow's changes, so it reads and the order converges.
    shop.send_triggered(
        "orders/updated",
        "wh-person",
        &Shop::body("digital", changed),
        shop.clock.now(),
    )
    .await;
    shop.wait_settled(2).await;
    assert_eq!(shop.snapshot_reads(), reads + 1);
    assert_eq!(shop.still_to_do("digital").await, Vec::<String>::new());
    shop.stop().await;
}
