//! End to end: Shopify's fulfil-by deadline follows orderflow's ship-by (issue 11, item 4), and
//! finished orders are archived (item 3). Real broker, real workers, the sandbox shop.

use std::time::Duration;

use orderflow::rules::decision::Previous;

use crate::harness::e2e::Shop;
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
