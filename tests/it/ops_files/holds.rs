//! `orderflow_holds_outstanding` and `_oldest_timestamp_seconds` follow an order's holds through
//! the real pipeline: placed, kept with their first-seen time when the order is planned again,
//! gone once released.

use std::time::Duration;

use orderflow::clock::Clock;

use super::sample;
use crate::harness::e2e::Shop;
use crate::harness::{SHOP, eventually};

async fn metrics(shop: &Shop) -> Option<String> {
    reqwest::get(shop.app.url("/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()
}

#[tokio::test]
async fn a_processing_hold_is_counted_from_when_it_was_placed_until_its_release() {
    let shop = Shop::start("ops_holds").await;
    let held = format!(r#"orderflow_holds_outstanding{{shop="{SHOP}",reason="processing"}}"#);
    let oldest =
        format!(r#"orderflow_holds_oldest_timestamp_seconds{{shop="{SHOP}",reason="processing"}}"#);
    let placed_at = shop.clock.now().as_second() as f64;
    shop.send("handmade", "orders/create", "ops-holds-1").await;
    let text = eventually(
        Duration::from_secs(30),
        "the processing hold counted",
        || async {
            let text = metrics(&shop).await?;
            (sample(&text, &held) == Some(1.0)).then_some(text)
        },
    )
    .await;
    assert_eq!(sample(&text, &oldest), Some(placed_at), "{text}");

    // An hour later the order is planned again and keeps its hold: still one, first seen then.
    shop.clock.advance(jiff::SignedDuration::from_hours(1));
    shop.send("handmade", "orders/updated", "ops-holds-2").await;
    let text = eventually(
        Duration::from_secs(30),
        "the second webhook handled",
        || async {
            let text = metrics(&shop).await?;
            (sample(&text, "orderflow_event_lag_seconds_count") >= Some(2.0)).then_some(text)
        },
    )
    .await;
    assert_eq!(sample(&text, &held), Some(1.0), "{text}");
    assert_eq!(sample(&text, &oldest), Some(placed_at), "{text}");

    // Past the ship-by cut-off the hold is released: nothing outstanding, no series.
    shop.clock.advance(jiff::SignedDuration::from_hours(4 * 24));
    eventually(
        Duration::from_secs(30),
        "the released hold uncounted",
        || async {
            let text = metrics(&shop).await?;
            (shop.hold_handles("handmade").is_empty() && sample(&text, &held).is_none())
                .then_some(())
        },
    )
    .await;
    shop.stop().await;
}
