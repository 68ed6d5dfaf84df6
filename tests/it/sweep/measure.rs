//! The measurement behind the sweep's numbers in README.md and BENCHMARKS.md.

use std::time::Duration;

use super::{metric, minutes, sweeping_shop, wait_windows};
use crate::harness::e2e::{Shop, start_instant};
use orderflow::sandbox::Sandbox;

/// What the README's and BENCHMARKS.md's sweep numbers come from: `ORDERS` orders already as
/// the rules want (clones of the cancelled fixture, whose plan is empty) updated in one window,
/// swept on a bucket of 1,000 points restoring 100 points/s. Measures the listing's points per
/// page, the points per woken order, and orders swept per second against the bucket's
/// ceiling in the same run. `cargo test --test it measure_sweep -- --ignored
/// --nocapture`.
#[tokio::test]
#[ignore = "a measurement (about a minute); run by hand for BENCHMARKS.md"]
async fn measure_sweep_cost_against_the_bucket() {
    const ORDERS: u64 = 300;
    let (capacity, restore) = (1000.0, 100.0);
    let shop = sweeping_shop("sweepmeasure").await;
    wait_windows(&shop.sandbox, 1).await;
    shop.sandbox.set_bucket(orderflow::sandbox::BucketConfig {
        maximum_available: capacity,
        restore_rate: restore,
    });
    let updated = start_instant() + minutes(1);
    for n in 0..ORDERS {
        let order = Shop::fixture_clone("cancelled", n + 1);
        let gid = order.id.clone();
        shop.sandbox.insert_order(&shop.shop, order);
        assert!(shop.sandbox.touch_order(&shop.shop, &gid, updated));
    }
    // The listing alone, through the same client and document.
    let page_queries = |sandbox: &Sandbox| {
        sandbox
            .queries()
            .iter()
            .filter(|q| q.operation_name.as_deref() == Some("OrdersUpdatedPage"))
            .count()
    };
    let before = shop.sandbox.actual_cost_total();
    let before_pages = page_queries(&shop.sandbox);
    let listed = shop
        .client
        .orders_updated(&shop.shop, start_instant(), updated)
        .await
        .expect("listed");
    assert_eq!(listed.len() as u64, ORDERS);
    let pages = page_queries(&shop.sandbox) - before_pages;
    let list_points = (shop.sandbox.actual_cost_total() - before) as f64;
    // Let the bucket refill, so the sweep starts from a full one, as the ceiling assumes.
    tokio::time::sleep(Duration::from_secs_f64(list_points / restore + 1.0)).await;

    let before_points = shop.sandbox.actual_cost_total();
    let before_settled = shop.settled();
    let started = std::time::Instant::now();
    shop.clock.advance(minutes(10));
    shop.wait_settled_within(before_settled + ORDERS, Duration::from_secs(600))
        .await;
    let took = started.elapsed().as_secs_f64();
    let points = (shop.sandbox.actual_cost_total() - before_points) as f64;
    let per_order = points / ORDERS as f64;
    let rate = ORDERS as f64 / took;
    let ceiling = restore / per_order;
    let ceiling_with_credit = (capacity + restore * took) / per_order / took;
    let text = shop.app.metrics.encode();
    let throttled = metric(&text, "orderflow_shopify_throttled").unwrap_or(0.0);
    assert!(
        shop.sandbox.mutations().is_empty(),
        "converged orders: nothing sent"
    );
    println!(
        "MEASURE orders={ORDERS} listing_pages={pages} listing_points={list_points} \
         sweep_points={points} points_per_swept_order={per_order:.2} took_s={took:.1} \
         orders_per_s={rate:.2} ceiling_orders_per_s={ceiling:.2} ratio={:.2} \
         ceiling_with_credit={ceiling_with_credit:.2} ratio_with_credit={:.2} \
         throttled_absorbed={throttled}",
        rate / ceiling,
        rate / ceiling_with_credit,
    );
    shop.stop().await;
}
