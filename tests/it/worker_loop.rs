//! The consume-and-settle loop against the real broker, with a scripted handler: delays come
//! back when due, retries back off then dead-letter with headers, re-routes land in the order's
//! partition.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::Timestamp;
use orderflow::clock::{Clock, SystemClock};
use orderflow::event::DeadLetterReason;
use orderflow::id::OrderId;
use orderflow::queue::{Names, Publisher};
use orderflow::worker::{Consumers, Disposition, Handler, Incoming, Settler};
use tokio_util::sync::CancellationToken;

use crate::harness::broker::drain;
use crate::harness::{TestApp, eventually, fixture};

#[derive(Default)]
struct Scripted {
    seen: Mutex<Vec<(Timestamp, Incoming)>>,
    script: Mutex<VecDeque<Disposition>>,
}

impl Handler for Scripted {
    async fn handle(&self, msg: &Incoming) -> Disposition {
        self.seen
            .lock()
            .unwrap()
            .push((SystemClock.now(), msg.clone()));
        self.script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Disposition::Done { wake_up: None })
    }
}

impl Scripted {
    fn with(script: impl IntoIterator<Item = Disposition>) -> Arc<Self> {
        Arc::new(Self {
            seen: Mutex::default(),
            script: Mutex::new(script.into_iter().collect()),
        })
    }

    fn seen(&self) -> Vec<(Timestamp, Incoming)> {
        self.seen.lock().unwrap().clone()
    }
}

fn start(app: &TestApp, handler: Arc<Scripted>, max_attempts: u32) -> CancellationToken {
    let names = Names::new(&app.prefix);
    let publisher = Publisher::new(app.broker.clone(), names.clone(), Duration::from_secs(3));
    let consumers = Arc::new(Consumers {
        broker: app.broker.clone(),
        settler: Settler {
            publisher,
            partitions: app.partitions,
            max_attempts,
            max_delay_hop: Duration::from_secs(6 * 3600),
        },
        handler,
        observer: Arc::new(()),
        clock: Arc::new(SystemClock),
        queues: (0..app.partitions)
            .map(|p| names.partition_queue(p))
            .collect(),
        paused: None,
    });
    let stop = CancellationToken::new();
    tokio::spawn(consumers.run(stop.clone()));
    stop
}

#[tokio::test]
async fn a_wake_up_comes_back_to_the_handler_when_due() {
    let app = TestApp::spawn("wakeup").await;
    let due = SystemClock.now() + jiff::SignedDuration::from_secs(2);
    let handler = Scripted::with([Disposition::Done { wake_up: Some(due) }]);
    let stop = start(&app, handler.clone(), 5);
    let body = fixture("orders/create");
    assert_eq!(
        app.delivery("orders/create", "wh-wake", &body)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let seen = eventually(
        Duration::from_secs(15),
        "the wake-up to be handled",
        || async {
            let seen = handler.seen();
            (seen.len() >= 2).then_some(seen)
        },
    )
    .await;
    let (handled_at, wake) = &seen[1];
    assert!(*handled_at >= due, "not before its time");
    assert!(
        handled_at.duration_since(due) < jiff::SignedDuration::from_millis(1500),
        "within a second and a half of its time: {}",
        handled_at.duration_since(due)
    );
    assert_eq!(wake.header("orderflow-delayed-for"), Some("wake_up"));
    assert_eq!(wake.order_id(), Some(OrderId(820_982_911_946_154_508)));
    assert_eq!(
        wake.webhook_id(),
        "wh-wake",
        "the original headers travel with it"
    );
    stop.cancel();
    app.stop().await;
}

#[tokio::test]
async fn transient_failures_back_off_then_dead_letter_with_reason_attempts_and_error() {
    let app = TestApp::spawn("retry").await;
    let handler = Scripted::with([
        Disposition::Retry {
            error: "HTTP 502 from shop".into(),
        },
        Disposition::Retry {
            error: "HTTP 503 from shop".into(),
        },
    ]);
    let stop = start(&app, handler.clone(), 2);
    let body = fixture("orders/paid");
    assert_eq!(
        app.delivery("orders/paid", "wh-retry", &body)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let dead_queue = Names::new(&app.prefix).dead_queue();
    let dead = eventually(Duration::from_secs(15), "the dead letter", || async {
        let d = drain(&dead_queue).await;
        (!d.is_empty()).then_some(d)
    })
    .await;
    assert_eq!(dead.len(), 1);
    let d = &dead[0];
    assert_eq!(d.header("reason"), Some("max_attempts"));
    assert_eq!(d.header("attempts"), Some("2"));
    assert_eq!(d.header("last_error"), Some("HTTP 503 from shop"));
    assert_eq!(d.header("shop"), Some("acme.myshopify.com"));
    assert_eq!(d.header("order_id"), Some("820982911946154508"));
    assert_eq!(d.body, body, "the original body is kept for replay");
    let seen = handler.seen();
    assert_eq!(seen.len(), 2, "handled twice, then given up");
    assert_eq!(seen[1].1.attempts(), 1);
    assert!(
        seen[1].0.duration_since(seen[0].0) >= jiff::SignedDuration::from_millis(900),
        "backed off"
    );
    stop.cancel();
    app.stop().await;
}

#[tokio::test]
async fn a_permanent_failure_is_dead_lettered_once_at_once() {
    let app = TestApp::spawn("permanent").await;
    let handler = Scripted::with([Disposition::DeadLetter {
        reason: DeadLetterReason::Unauthorized,
        detail: "the shop's token was refused (401)".into(),
    }]);
    let stop = start(&app, handler.clone(), 8);
    let body = fixture("orders/updated");
    app.delivery("orders/updated", "wh-perm", &body)
        .send()
        .await
        .unwrap();
    let dead_queue = Names::new(&app.prefix).dead_queue();
    let dead = eventually(Duration::from_secs(10), "the dead letter", || async {
        let d = drain(&dead_queue).await;
        (!d.is_empty()).then_some(d)
    })
    .await;
    assert_eq!(dead[0].header("reason"), Some("unauthorized"));
    assert_eq!(dead[0].header("attempts"), Some("0"));
    assert_eq!(handler.seen().len(), 1);
    stop.cancel();
    app.stop().await;
}

#[tokio::test]
async fn a_rerouted_fulfillment_order_event_is_handled_as_its_order() {
    let app = TestApp::spawn("reroute").await;
    let handler = Scripted::with([Disposition::Reroute {
        order_id: OrderId(820_982_911_946_154_508),
    }]);
    let stop = start(&app, handler.clone(), 8);
    let topic = "fulfillment_orders/placed_on_hold";
    app.delivery(topic, "wh-fo", &fixture(topic))
        .send()
        .await
        .unwrap();
    let seen = eventually(Duration::from_secs(10), "the re-routed message", || async {
        let s = handler.seen();
        (s.len() >= 2).then_some(s)
    })
    .await;
    assert_eq!(seen[0].1.event_kind(), Some("fulfillment_order"));
    assert_eq!(seen[1].1.event_kind(), Some("order"));
    assert_eq!(seen[1].1.order_id(), Some(OrderId(820_982_911_946_154_508)));
    assert_eq!(seen[1].1.webhook_id(), "wh-fo");
    stop.cancel();
    app.stop().await;
}
