//! The topology on a cluster: `amqp.quorum_group_size` sets each queue's replicas, a second
//! process declares the same topology again on another node, and one with another group size
//! is refused by the broker (RabbitMQ compares the argument on every declaration).

use std::time::Duration;

use orderflow::queue::{Broker, Topology};
use tokio_util::sync::CancellationToken;

use super::load::{body, send};
use crate::harness::{Options, TestApp, cluster, logs, test_config};

/// The members of every partition queue of `prefix`, as `list_queues` shows them.
async fn members(prefix: &str) -> Vec<usize> {
    let out = cluster::ctl(&["list_queues", "--silent", "name", "members"]).await;
    out.lines()
        .filter(|l| l.starts_with(prefix) && l.contains(".orders."))
        .map(|l| l.matches("ofc").count())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quorum_group_size_sets_the_replicas_and_any_node_takes_the_same_topology_again() {
    let _cluster = cluster::exclusive().await;
    let first = TestApp::spawn_with(
        "cltopo",
        Options {
            amqp_urls: Some(cluster::urls()),
            amqp_toml: "quorum_group_size = 2".into(),
            ..Default::default()
        },
    )
    .await;
    let prefix = first.prefix.clone();
    let replicas = members(&prefix).await;
    assert_eq!(
        replicas.len(),
        usize::from(first.partitions),
        "{replicas:?}"
    );
    assert!(
        replicas.iter().all(|&n| n == 2),
        "two replicas each: {replicas:?}"
    );

    // Another process of the deployment, on node 3 first: the same declarations, equivalent.
    let other = TestApp::spawn_with(
        "cltopo",
        Options {
            prefix: Some(prefix.clone()),
            amqp_urls: Some(vec![cluster::url(3), cluster::url(1), cluster::url(2)]),
            amqp_toml: "quorum_group_size = 2".into(),
            ..Default::default()
        },
    )
    .await;
    let http = reqwest::Client::new();
    let id = format!("{prefix}-other");
    assert_eq!(send(&http, other.addr, &id, &body("digital")).await, 200);

    // A process with the key unset declares no group size: the broker refuses the queue as
    // inequivalent, so that process never connects (the README says so).
    let stop = CancellationToken::new();
    let config = test_config(
        &prefix,
        &Options {
            amqp_urls: Some(cluster::urls()),
            ..Default::default()
        },
    );
    let refused = Broker::start(
        config.amqp.urls.clone(),
        Topology::for_config(&config.amqp),
        stop.clone(),
    );
    assert!(
        refused
            .wait_connected(Duration::from_secs(3))
            .await
            .is_err(),
        "a different group size is not silently accepted"
    );
    assert!(
        logs::captured().contains("inequivalent arg 'x-quorum-initial-group-size'"),
        "the broker's reason is logged"
    );
    stop.cancel();
    refused.closed().await;
    assert!(
        members(&prefix).await.iter().all(|&n| n == 2),
        "replicas are chosen when a queue is created, not at each declaration"
    );
    other.stop_keeping_queues().await;
    let partitions = first.partitions;
    first.stop_keeping_queues().await;
    cluster::delete_prefix(1, &prefix, partitions).await;
}
