//! End to end: a person cancels a fulfilment orderflow created, in the sandbox's admin, and
//! orderflow never fulfils those lines again (issue 11, item 1). Real broker, real workers.

use std::time::Duration;

use orderflow::clock::Clock;
use orderflow::rules;
use orderflow::rules::enums::{FulfillmentOrderStatus, FulfillmentStatus};
use orderflow::sandbox::Fault;
use orderflow::shopify::snapshot::OrderSnapshot;

use crate::harness::e2e::Shop;
use crate::harness::eventually;

/// Every `fulfillmentCreate` the shop received (a new fulfilment order after a cancellation has
/// an id no fixture knows, so this does not filter by order).
fn creates(shop: &Shop) -> usize {
    shop.sandbox
        .mutations()
        .iter()
        .filter(|m| m.fields.iter().any(|f| f == "fulfillmentCreate"))
        .count()
}

async fn wait_creates(shop: &Shop, n: usize) {
    eventually(
        Duration::from_secs(30),
        &format!("{n} fulfilments"),
        || async { (creates(shop) >= n).then_some(()) },
    )
    .await;
}

/// Sends an order event and waits until the workers settled it.
async fn event(shop: &Shop, body: &[u8], webhook_id: &str) {
    let settled = shop.settled();
    shop.send_body("orders/updated", webhook_id, body).await;
    shop.wait_settled(settled + 1).await;
}

fn webhook(gid: &str) -> Vec<u8> {
    let n = gid.rsplit('/').next().unwrap();
    format!(r#"{{"id": {n}, "admin_graphql_api_id": "{gid}"}}"#).into_bytes()
}

fn digital_webhook() -> Vec<u8> {
    webhook(&Shop::fixture("digital").id)
}

async fn explain(shop: &Shop, gid: &str) -> String {
    let id = orderflow::id::OrderId::from_gid(gid).unwrap();
    let snap = shop.client.fetch_snapshot(&shop.shop, id).await.unwrap();
    let text = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/config/example.toml"),
    )
    .unwrap();
    let c = orderflow::config::Config::from_toml(
        &text,
        std::path::Path::new("example.toml"),
        &Default::default(),
    )
    .unwrap();
    rules::plan(&snap.to_rules_order(), &c.shops[0].rules, shop.clock.now()).to_string()
}

#[tokio::test]
async fn a_person_cancelling_our_fulfilment_with_restock_is_never_overridden() {
    let shop = Shop::start("e2etakeback").await;
    let gid = Shop::fixture("digital").id;
    shop.send("digital", "orders/create", "wh-1").await;
    wait_creates(&shop, 1).await;
    // The fulfilment shows before the worker settles the event (tags come after): a later
    // `event` must not count this settlement as its own.
    shop.wait_settled(1).await;
    let ours = shop.sandbox.fulfillments(&shop.shop, &gid);
    assert_eq!(ours.len(), 1);
    // The person cancels it in the admin, restocking the item.
    shop.sandbox
        .cancel_fulfillment(&shop.shop, &ours[0].id, true)
        .expect("cancelled");
    let after = shop.sandbox.fulfillments(&shop.shop, &gid);
    assert_eq!(after[0].status, FulfillmentStatus::Cancelled);
    assert_eq!(after[0].restocked, Some(true));
    let order = shop.order("digital");
    assert_eq!(
        order.fulfillment_orders[0].status,
        FulfillmentOrderStatus::Closed,
        "an entirely fulfilled fulfilment order stays closed"
    );
    let again = &order.fulfillment_orders[1];
    assert_eq!(
        again.status,
        FulfillmentOrderStatus::Open,
        "a new one holds the line"
    );
    assert_eq!(again.line_items[0].remaining_quantity, 1);
    assert!(
        shop.sandbox
            .cancel_fulfillment(&shop.shop, &ours[0].id, true)
            .is_err(),
        "a cancellation cannot be repeated"
    );

    event(&shop, &digital_webhook(), "wh-2").await;
    assert_eq!(creates(&shop), 1, "the person's decision wins");
    let order = shop.order("digital");
    assert!(
        order.tags.contains(&"orderflow:manual".to_owned()),
        "{:?}",
        order.tags
    );
    let decision = shop
        .snapshot("digital")
        .await
        .decision
        .expect("decision")
        .value;
    assert!(
        decision.contains(
            r#""taken_back_by_person":[{"line_item":"gid://shopify/LineItem/487817672276298555""#
        ),
        "{decision}"
    );
    let text = explain(&shop, &gid).await;
    assert!(text.contains("taken back by a person"), "{text}");
    assert!(text.contains("fulfilment.taken_back_by_person"), "{text}");
    assert!(text.contains("Nothing to do"), "{text}");

    // Any later event: still nothing.
    let before = shop.sandbox.mutations().len();
    event(&shop, &digital_webhook(), "wh-3").await;
    assert_eq!(shop.sandbox.mutations().len(), before, "nothing sent");
    shop.stop().await;
}

/// The digital fixture with a second fulfilment order (another location) holding a second
/// digital line: orderflow creates two fulfilments.
fn two_locations() -> OrderSnapshot {
    let mut o = Shop::fixture("digital");
    o.id = "gid://shopify/Order/820982911946159001".into();
    o.name = "#1901".into();
    let mut line = o.line_items[0].clone();
    line.id = "gid://shopify/LineItem/487817672276299002".into();
    line.name = Some("Audio book".into());
    o.line_items.push(line.clone());
    o.line_items[0].id = "gid://shopify/LineItem/487817672276299001".into();
    let mut fo = o.fulfillment_orders[0].clone();
    o.fulfillment_orders[0].id = "gid://shopify/FulfillmentOrder/6493184229183719001".into();
    o.fulfillment_orders[0].line_items[0].id =
        "gid://shopify/FulfillmentOrderLineItem/7012938471109309001".into();
    o.fulfillment_orders[0].line_items[0].line_item.id = o.line_items[0].id.clone();
    fo.id = "gid://shopify/FulfillmentOrder/6493184229183719002".into();
    fo.line_items[0].id = "gid://shopify/FulfillmentOrderLineItem/7012938471109309002".into();
    fo.line_items[0].line_item.id = line.id;
    o.fulfillment_orders.push(fo);
    o
}

#[tokio::test]
async fn a_partial_cancellation_without_restock_leaves_only_the_cancelled_lines() {
    let shop = Shop::start("e2epartial").await;
    let order = two_locations();
    let gid = order.id.clone();
    shop.sandbox.insert_order(&shop.shop, order);
    event(&shop, &webhook(&gid), "wh-1").await;
    wait_creates(&shop, 2).await;
    let ours = shop.sandbox.fulfillments(&shop.shop, &gid);
    assert_eq!(ours.len(), 2, "one fulfilment per fulfilment order");
    let audio = ours
        .iter()
        .find(|f| f.lines[0].line_item.ends_with("299002"))
        .unwrap();
    shop.sandbox
        .cancel_fulfillment(&shop.shop, &audio.id, false)
        .expect("cancelled");
    assert_eq!(
        shop.sandbox.fulfillments(&shop.shop, &gid)[1].restocked,
        Some(false)
    );
    event(&shop, &webhook(&gid), "wh-2").await;
    assert_eq!(creates(&shop), 2, "neither line is fulfilled again");
    let snap = shop.sandbox.order(&shop.shop, &gid).unwrap();
    let decision = snap.decision.expect("decision").value;
    assert!(decision.contains("299002"), "{decision}");
    let d: serde_json::Value = serde_json::from_str(&decision).unwrap();
    let taken: Vec<&str> = d["taken_back_by_person"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["line_item"].as_str().unwrap())
        .collect();
    assert_eq!(taken, ["gid://shopify/LineItem/487817672276299002"]);
    assert_eq!(d["fulfilments"].as_array().unwrap().len(), 2);
    let text = explain(&shop, &gid).await;
    assert!(
        text.contains("Rust for Shopkeepers (e-book) ×0: auto (rule \"digital goods\")"),
        "the other line is still ours, done: {text}"
    );
    assert!(text.contains("Audio book ×1: manual"), "{text}");
    shop.stop().await;
}

#[tokio::test]
async fn failed_decision_writes_neither_refuse_our_first_fulfilment_nor_let_it_return() {
    let shop = Shop::start("e2etakebackfault").await;
    let gid = Shop::fixture("digital").id;
    // Requests: 1 snapshot, 2 metafieldsSet (the decision with the record of the fulfilment
    // about to be created): a 500, so the create is not sent; the retry re-plans.
    shop.sandbox.inject(Fault::Delay { millis: 0 }, 1);
    shop.sandbox.inject(Fault::Http500, 1);
    shop.send("digital", "orders/create", "wh-1").await;
    // The retry is due 1 s later by the workers' (manual) clock: move it along while waiting.
    eventually(
        Duration::from_secs(30),
        "our fulfilment after the retry",
        || async {
            shop.clock.advance(jiff::SignedDuration::from_secs(2));
            (creates(&shop) >= 1).then_some(())
        },
    )
    .await;
    let ours = shop.sandbox.fulfillments(&shop.shop, &gid);
    assert_eq!(ours.len(), 1, "our first fulfilment, once");
    shop.sandbox
        .cancel_fulfillment(&shop.shop, &ours[0].id, true)
        .unwrap();
    // The write after the person's cancellation (which records it and the fulfilment's id)
    // fails too: the retry must still see the cancellation, from the snapshot.
    shop.sandbox.inject(Fault::Delay { millis: 0 }, 1);
    shop.sandbox.inject(Fault::Http500, 1);
    shop.send_body("orders/updated", "wh-2", &digital_webhook())
        .await;
    eventually(
        Duration::from_secs(30),
        "the take-back recorded",
        || async {
            shop.clock.advance(jiff::SignedDuration::from_secs(2));
            let order = shop.order("digital");
            (order.tags.contains(&"orderflow:manual".to_owned())
                && order
                    .decision
                    .is_some_and(|d| d.value.contains("taken_back_by_person\":[{")))
            .then_some(())
        },
    )
    .await;
    assert_eq!(creates(&shop), 1, "never fulfilled again");
    let retries: u64 = shop
        .app
        .metrics
        .encode()
        .lines()
        .filter(|l| l.starts_with("orderflow_messages_total{") && l.contains("\"retry\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    assert_eq!(
        retries, 2,
        "both decision writes failed once and were retried"
    );
    shop.stop().await;
}
