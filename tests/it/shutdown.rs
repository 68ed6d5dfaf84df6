//! How the whole app stops: one grace period for everything it drains, and no task of it left
//! running once `run_until_stopped` has returned. Times are measured, never slept.

use std::time::{Duration, Instant};

use futures_util::FutureExt;
use orderflow::app::Roles;

use crate::harness::{Options, TestApp, eventually, fixture};

#[tokio::test]
async fn a_stuck_shutdown_takes_one_grace_period_not_one_per_part() {
    const GRACE: Duration = Duration::from_millis(1500);
    // Receiver and workers, so both the HTTP server and the consumers have something to drain.
    let (proxy, app) = TestApp::spawn_behind_proxy(
        "grace",
        Options {
            roles: Some(Roles::ALL),
            shutdown_grace_ms: Some(GRACE.as_millis() as u64),
            // Longer than the grace: the stalled publish below cannot end on its own.
            confirm_timeout_ms: Some(4500),
            ..Default::default()
        },
    )
    .await;
    let body = fixture("orders/create");
    // With the broker stalled, the publish of an in-flight delivery never confirms, and the
    // consumers cannot close their channels: every part would use up its own grace.
    proxy.stall();
    let in_flight = tokio::spawn(app.delivery("orders/create", "wh-stuck", &body).send());
    eventually(
        Duration::from_secs(10),
        "the delivery's publish waiting on the broker",
        || async { (proxy.held() > 0).then_some(()) },
    )
    .await;
    let started = Instant::now();
    app.shutdown.cancel();
    tokio::time::timeout(GRACE * 4, app.stopped)
        .await
        .expect("stops")
        .expect("task joins")
        .expect("stops cleanly");
    let took = started.elapsed();
    assert!(
        took >= GRACE,
        "the stalled publish was given the grace period: {took:?}"
    );
    // Two graces in a row would be at least 2 x GRACE; the margin below that is for a busy
    // machine.
    assert!(
        took < GRACE * 7 / 4,
        "HTTP, workers and the broker's close share one grace period of {GRACE:?}: {took:?}"
    );
    in_flight.abort();
    // Once the broker answers again the supervisor's close completes and it ends.
    proxy.restore();
    tokio::time::timeout(Duration::from_secs(10), app.broker.closed())
        .await
        .expect("the broker connection closes once the broker answers");
    crate::harness::broker::delete_prefix(&app.prefix, app.partitions).await;
}

#[tokio::test]
async fn after_shutdown_no_task_of_the_app_is_left_running() {
    let app = TestApp::spawn_with(
        "notask",
        Options {
            roles: Some(Roles::ALL),
            ..Default::default()
        },
    )
    .await;
    let res = app
        .delivery("products/update", "wh-notask", br#"{"id":1}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    app.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(15), app.stopped)
        .await
        .expect("stops within the grace period")
        .expect("task joins")
        .expect("stops cleanly");
    // Checked without yielding: whatever the app had not finished would still be running.
    assert!(
        app.broker.closed().now_or_never().is_some(),
        "the broker supervisor (and its event reader) ended before the app returned"
    );
    assert!(
        app.broker.session().is_none(),
        "no broker session is left open"
    );
    assert!(
        tokio::net::TcpStream::connect(app.addr).await.is_err(),
        "nothing listens on the app's address any more"
    );
    crate::harness::broker::delete_prefix(&app.prefix, app.partitions).await;
}
