//! Reads and cleans the test's queues through a connection of its own.

use std::collections::BTreeMap;

use std::time::Duration;

use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};

use super::AMQP_URL;

/// A message taken off a queue, with its headers as strings.
#[derive(Debug, Clone)]
pub struct Got {
    pub queue: String,
    pub body: Vec<u8>,
    pub headers: BTreeMap<String, String>,
    pub message_id: Option<String>,
    pub delivery_mode: Option<u8>,
}

impl Got {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// A connection to the broker (or cluster node) at `url`.
pub async fn connect_to(url: &str) -> Connection {
    Connection::connect(url, ConnectionProperties::default())
        .await
        .unwrap_or_else(|e| panic!("a broker at {url}: {e}"))
}

/// Takes every message currently in `queue` (destructively). Partition queues have a single
/// active consumer, which refuses `basic.get`: so count the ready messages, then consume and ack
/// exactly that many.
pub async fn drain(queue: &str) -> Vec<Got> {
    drain_at(AMQP_URL, queue).await
}

/// The ready messages of `queue`, by a passive declare on `ch` (the queue must exist).
pub async fn ready_on(ch: &lapin::Channel, queue: &str) -> usize {
    let declared = ch
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                passive: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await
        .unwrap_or_else(|e| panic!("{queue} exists: {e}"));
    declared.message_count() as usize
}

/// `drain` on the broker (or cluster node) at `url`.
pub async fn drain_at(url: &str, queue: &str) -> Vec<Got> {
    let conn = connect_to(url).await;
    let ch = conn.create_channel().await.expect("channel");
    let count = ready_on(&ch, queue).await;
    let mut out = Vec::new();
    if count > 0 {
        let mut consumer = ch
            .basic_consume(
                queue.into(),
                "test-probe".into(),
                BasicConsumeOptions::default(),
                FieldTable::default(),
            )
            .await
            .unwrap_or_else(|e| panic!("consume {queue}: {e}"));
        while out.len() < count {
            let d = tokio::time::timeout(Duration::from_secs(10), consumer.next())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "{queue}: {count} messages were counted, {} arrived",
                        out.len()
                    )
                })
                .expect("consumer open")
                .expect("delivery");
            d.ack(BasicAckOptions::default()).await.expect("ack");
            out.push(got(queue, &d));
        }
    }
    let _ = conn.close(200, "probe done".into()).await;
    out
}

fn got(queue: &str, d: &Delivery) -> Got {
    // Parsed the way the workers parse a delivery.
    let m = orderflow::queue::consumer::incoming(d);
    Got {
        queue: queue.to_owned(),
        body: m.body,
        headers: m.headers,
        message_id: m.message_id,
        delivery_mode: *d.properties.delivery_mode(),
    }
}

/// Every queue of a prefix with `partitions` partitions, drained.
pub async fn drain_all(prefix: &str, partitions: u16) -> Vec<Got> {
    let mut out = Vec::new();
    for q in all_queues(prefix, partitions) {
        out.extend(drain(&q).await);
    }
    out
}

pub fn all_queues(prefix: &str, partitions: u16) -> Vec<String> {
    let names = orderflow::queue::Names::new(prefix);
    let mut qs: Vec<String> = (0..partitions).map(|p| names.partition_queue(p)).collect();
    qs.push(names.dead_queue());
    qs.push(names.compliance_queue());
    qs.extend(orderflow::queue::delay::Tier::all().map(|t| names.delay_queue(t)));
    qs
}

/// Deletes the queues and exchanges of a test prefix.
pub async fn delete_prefix(prefix: &str, partitions: u16) {
    let admin = orderflow::queue::Admin::connect(&AMQP_URL.to_owned().into())
        .await
        .expect("test broker on 127.0.0.1:5672");
    admin
        .delete(&orderflow::queue::Names::new(prefix), partitions)
        .await
        .expect("cleanup");
    let _ = admin.close("cleanup").await;
}
