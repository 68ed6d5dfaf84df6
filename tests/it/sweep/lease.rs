//! The sweep queue itself, through the library's lease: one holder receives every state, and
//! everything it held passes to the next consumer when it goes; a commit keeps exactly one.

use std::time::Duration;

use orderflow::queue::lease::{self, Lease};
use orderflow::queue::{Broker, Names, Publisher, Topology};
use orderflow::sweep::SweepState;

use crate::harness::{Options, eventually};

/// Receives the next state message a lease holds, if one comes within `wait`.
async fn next_within(lease: &mut Lease, wait: Duration) -> Option<Vec<u8>> {
    tokio::time::timeout(wait, lease.recv())
        .await
        .ok()
        .flatten()
}

#[tokio::test]
async fn the_sweep_queue_gives_every_state_to_one_holder_and_all_of_it_to_the_next() {
    crate::harness::logs::init();
    let prefix = crate::harness::unique_prefix("lease");
    let stop = tokio_util::sync::CancellationToken::new();
    let config = crate::harness::test_config(&prefix, &Options::default());
    let broker = Broker::start(
        config.amqp.urls.clone(),
        Topology::for_config(&config.amqp),
        stop.clone(),
    );
    broker
        .wait_connected(Duration::from_secs(10))
        .await
        .expect("the test broker answers");
    let publisher = Publisher::new(broker, Names::new(&prefix), Duration::from_secs(3));
    let mut one = Lease::open(&publisher).await.expect("first consumer");
    let mut two = Lease::open(&publisher).await.expect("second consumer");
    for n in 0..20 {
        let state =
            format!(r#"{{"version":1,"shops":{{"s{n}.myshopify.com":"2026-11-23T09:00:00Z"}}}}"#);
        lease::offer(&publisher, state.as_bytes())
            .await
            .expect("offered");
    }
    for n in 0..16 {
        let got = next_within(&mut one, Duration::from_secs(5)).await;
        assert!(got.is_some(), "the active consumer receives state {n}");
    }
    assert_eq!(one.held(), 16);
    assert!(
        next_within(&mut two, Duration::from_millis(500))
            .await
            .is_none(),
        "the standby receives nothing while the holder lives"
    );
    // The holder goes away without acking: everything it held passes to the standby.
    one.close().await;
    let mut shops = Vec::new();
    for _ in 0..16 {
        let body = next_within(&mut two, Duration::from_secs(5))
            .await
            .expect("the standby takes over what the holder held");
        let state = SweepState::from_json(&body).expect("a state");
        shops.extend(state.shops.into_keys());
    }
    shops.sort();
    shops.dedup();
    assert_eq!(shops.len(), 16, "{shops:?}");
    // A commit publishes the merged state before it acks what was held. The four the
    // prefetch kept back come next, then the commit itself: each a state until merged.
    two.commit(br#"{"version":1,"shops":{}}"#)
        .await
        .expect("committed");
    let mut after = Vec::new();
    while let Some(body) = next_within(&mut two, Duration::from_millis(500)).await {
        after.push(body);
    }
    assert_eq!(after.len(), 5);
    assert_eq!(after[4], br#"{"version":1,"shops":{}}"#);
    assert_eq!(two.held(), 5);
    two.commit(br#"{"version":1,"shops":{}}"#)
        .await
        .expect("committed");
    two.close().await;
    let admin = orderflow::queue::Admin::connect(&config.amqp.url)
        .await
        .expect("admin");
    eventually(
        Duration::from_secs(10),
        "one state left in the queue",
        || async {
            (admin.ready(&Names::new(&prefix).sweep_queue()).await.ok()? == 1).then_some(())
        },
    )
    .await;
    stop.cancel();
    crate::harness::broker::delete_prefix(&prefix, config.amqp.partitions).await;
}
