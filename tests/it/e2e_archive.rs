//! End to end: Shopify's fulfil-by deadline follows orderflow's ship-by (issue 11, item 4), and
//! finished orders are archived (item 3). Real broker, real workers, the sandbox shop.

use std::time::Duration;

use orderflow::clock::Clock;
use orderflow::rules::decision::Previous;
use orderflow::rules::enums::OrderFulfillmentStatus;
use orderflow::sandbox::Fault;

use crate::harness::e2e::{E2eOptions, Shop};
use crate::harness::eventually;

/// How many times the shop received the mutation `field` for the fixture order.
fn count(shop: &Shop, fixture: &str, field: &str) -> usize {
    shop.mutations_of(fixture)
        .iter()
        .filter(|m| m.fields.iter().any(|f| f == field))
        .count()
}

async fn wait_count(shop: &Shop, fixture: &str, field: &str, n: usize) {
    eventually(
        Duration::from_secs(30),
        &format!("{n} {field} of {fixture}"),
        || async { (count(shop, fixture, field) >= n).then_some(()) },
    )
    .await;
}

/// Sends an order event and waits until the workers settled it.
async fn event(shop: &Shop, fixture: &str, webhook_id: &str) {
    let settled = shop.settled();
    shop.send(fixture, "orders/updated", webhook_id).await;
    shop.wait_settled(settled + 1).await;
}

#[tokio::test]
async fn the_deadline_is_set_to_the_ship_by_once_and_not_again() {
    let shop = Shop::start("e2edeadline").await;
    shop.send("handmade", "orders/create", "wh-d1").await;
    wait_count(
        &shop,
        "handmade",
        "fulfillmentOrdersSetFulfillmentDeadline",
        1,
    )
    .await;
    let snap = shop.snapshot("handmade").await;
    let Previous::Found(decision) =
        Previous::read(snap.decision.as_ref().map(|d| d.value.as_str()))
    else {
        panic!("a decision is recorded");
    };
    let at = decision.ship_by_at.expect("a ship-by instant");
    for fo in &snap.fulfillment_orders {
        assert_eq!(fo.fulfill_by, Some(at), "{}", fo.id);
    }
    event(&shop, "handmade", "wh-d2").await;
    assert_eq!(
        count(&shop, "handmade", "fulfillmentOrdersSetFulfillmentDeadline"),
        1,
        "a second pass sends nothing"
    );
    shop.stop().await;
}

fn archived(after: &'static str) -> E2eOptions {
    E2eOptions {
        archive_after: Some(after),
        ..Default::default()
    }
}

fn decision_of(shop: &Shop) -> orderflow::rules::decision::Decision {
    let raw = shop.order("digital").decision.map(|d| d.value);
    match Previous::read(raw.as_deref()) {
        Previous::Found(d) => d,
        other => panic!("no decision: {other:?}"),
    }
}

/// orders/create (orderflow fulfils the e-book), then the update that sees it fulfilled.
async fn fulfil_digital(shop: &Shop) {
    shop.send("digital", "orders/create", "wh-a1").await;
    wait_count(shop, "digital", "fulfillmentCreate", 1).await;
    eventually(Duration::from_secs(30), "the fulfilled status", || async {
        (shop.order("digital").display_fulfillment_status == OrderFulfillmentStatus::Fulfilled)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_paid_auto_fulfilled_order_is_closed_and_a_person_reopening_it_wins() {
    let shop = Shop::start_with("e2earchive", archived("0h")).await;
    fulfil_digital(&shop).await;
    event(&shop, "digital", "wh-a2").await;
    wait_count(&shop, "digital", "orderClose", 1).await;
    let order = shop.order("digital");
    assert!(order.closed && order.closed_at.is_some(), "{order:?}");
    eventually(Duration::from_secs(30), "our close recorded", || async {
        decision_of(&shop).closed_by_orderflow_at.map(|_| ())
    })
    .await;
    // The person reopens it: it is never closed again, and explain says why.
    assert!(shop.sandbox.reopen_order(&shop.shop, &order.id));
    event(&shop, "digital", "wh-a3").await;
    event(&shop, "digital", "wh-a4").await;
    assert_eq!(
        count(&shop, "digital", "orderClose"),
        1,
        "never closed again"
    );
    assert!(!shop.order("digital").closed);
    let snap = shop.snapshot("digital").await;
    let rules = orderflow::config::Config::from_toml(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/example.toml"),
        )
        .unwrap()
        .replace("when_fulfilled = false", "when_fulfilled = true"),
        std::path::Path::new("example.toml"),
        &Default::default(),
    )
    .unwrap()
    .shops[0]
        .rules
        .clone();
    let text = orderflow::rules::plan(&snap.to_rules_order(), &rules, shop.clock.now()).to_string();
    assert!(
        text.contains("a person reopened the order orderflow closed"),
        "{text}"
    );
    shop.stop().await;
}

#[tokio::test]
async fn with_after_2h_the_order_is_closed_only_once_the_clock_passes_it() {
    let shop = Shop::start_with("e2earchive2h", archived("2h")).await;
    fulfil_digital(&shop).await;
    event(&shop, "digital", "wh-b2").await;
    assert_eq!(count(&shop, "digital", "orderClose"), 0, "not before 2 h");
    shop.clock.advance(jiff::SignedDuration::from_mins(90));
    event(&shop, "digital", "wh-b3").await;
    assert_eq!(count(&shop, "digital", "orderClose"), 0, "not after 1.5 h");
    // The wake-up asked for fires once the manual clock passes the 2 h.
    shop.clock.advance(jiff::SignedDuration::from_mins(31));
    wait_count(&shop, "digital", "orderClose", 1).await;
    assert!(shop.order("digital").closed);
    shop.stop().await;
}

#[tokio::test]
async fn a_failed_record_after_the_close_still_closes_once_and_is_not_taken_for_a_reopening() {
    let shop = Shop::start_with("e2earchivefault", archived("0h")).await;
    fulfil_digital(&shop).await;
    // Requests of the next pass: 1 snapshot, 2 orderClose, 3 metafieldsSet (the record): a 500,
    // as if the worker crashed before recording; the message is retried.
    shop.sandbox.inject(Fault::Delay { millis: 0 }, 2);
    shop.sandbox.inject(Fault::Http500, 1);
    shop.send("digital", "orders/updated", "wh-c2").await;
    eventually(Duration::from_secs(30), "our close recorded", || async {
        shop.clock.advance(jiff::SignedDuration::from_secs(2));
        decision_of(&shop).closed_by_orderflow_at.map(|_| ())
    })
    .await;
    assert_eq!(count(&shop, "digital", "orderClose"), 1, "closed once");
    assert!(shop.order("digital").closed);
    let retries = shop
        .app
        .metrics
        .encode()
        .lines()
        .any(|l| l.starts_with("orderflow_messages_total{") && l.contains("\"retry\""));
    assert!(retries, "the failed record was retried");
    // A person reopens it: the record makes it theirs, never closed again.
    let gid = Shop::fixture("digital").id;
    assert!(shop.sandbox.reopen_order(&shop.shop, &gid));
    event(&shop, "digital", "wh-c3").await;
    assert_eq!(count(&shop, "digital", "orderClose"), 1);
    assert!(!shop.order("digital").closed);
    shop.stop().await;
}
