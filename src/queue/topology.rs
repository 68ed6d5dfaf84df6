//! Declares every exchange and queue, idempotently, at each (re)connect. Each argument says why
//! it is there: getting one wrong loses messages silently.

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, LongString, ShortString};
use lapin::{Channel, ExchangeKind};

use super::delay::Tier;
use super::names::{Names, key};
use crate::config::AmqpConfig;

/// What to declare.
#[derive(Debug, Clone)]
pub struct Topology {
    pub names: Names,
    pub partitions: u16,
    pub delivery_limit: u32,
    /// Replicas per queue; `None` leaves it to RabbitMQ: one on every cluster member.
    pub quorum_group_size: Option<u16>,
}

fn table(entries: Vec<(&str, AMQPValue)>) -> FieldTable {
    let mut t = FieldTable::default();
    for (k, v) in entries {
        t.insert(ShortString::from(k), v);
    }
    t
}

fn text(s: &str) -> AMQPValue {
    AMQPValue::LongString(LongString::from(s))
}

impl Topology {
    /// Arguments every queue of ours shares.
    fn durable_quorum(&self, mut extra: Vec<(&'static str, AMQPValue)>) -> FieldTable {
        // Quorum queues replicate every message across the cluster and are always durable.
        extra.push(("x-queue-type", text("quorum")));
        // Only when configured: unset, RabbitMQ puts a replica on every member, and queues
        // declared before the key existed (without the argument) stay equivalent. RabbitMQ
        // compares the argument on every declaration: all processes of a deployment must
        // agree, and changing it for existing queues is refused (PRECONDITION_FAILED, the
        // connection retried and logged) until they are re-created or a new prefix is used;
        // `rabbitmq-queues grow`/`shrink` move replicas of existing queues instead.
        if let Some(n) = self.quorum_group_size {
            extra.push(("x-quorum-initial-group-size", AMQPValue::LongInt(n.into())));
        }
        table(extra)
    }
}

fn durable() -> QueueDeclareOptions {
    QueueDeclareOptions {
        durable: true,
        ..Default::default()
    }
}

impl Topology {
    /// The topology `amqp` describes: what every process of one deployment declares.
    pub fn for_config(amqp: &AmqpConfig) -> Self {
        Self {
            names: Names::new(amqp.prefix.clone()),
            partitions: amqp.partitions,
            delivery_limit: amqp.delivery_limit,
            quorum_group_size: amqp.quorum_group_size,
        }
    }

    pub async fn declare(&self, ch: &Channel) -> Result<(), lapin::Error> {
        let n = &self.names;
        let events = n.events_exchange();
        ch.exchange_declare(
            events.as_str().into(),
            ExchangeKind::Direct,
            ExchangeDeclareOptions {
                durable: true,
                ..Default::default()
            },
            FieldTable::default(),
        )
        .await?;

        // The dead-letter queue: nothing in it expires or is dropped; ops list and replay it.
        let dead = n.dead_queue();
        ch.queue_declare(dead.as_str().into(), durable(), self.durable_quorum(vec![]))
            .await?;
        self.bind(ch, &dead, &events, key::DEAD).await?;

        let compliance = n.compliance_queue();
        ch.queue_declare(
            compliance.as_str().into(),
            durable(),
            self.durable_quorum(vec![]),
        )
        .await?;
        self.bind(ch, &compliance, &events, key::COMPLIANCE).await?;

        // The sweep's state and lock. Single active consumer: only one process receives the
        // state, so only one sweeps. No delivery limit and no dead-lettering: the message is
        // state, held unacked by the sweeper and returned at every failover; it must never be
        // dropped or dead-lettered however often it comes back.
        let sweep = n.sweep_queue();
        ch.queue_declare(
            sweep.as_str().into(),
            durable(),
            self.durable_quorum(vec![("x-single-active-consumer", AMQPValue::Boolean(true))]),
        )
        .await?;
        self.bind(ch, &sweep, &events, key::SWEEP).await?;

        for p in 0..self.partitions {
            let q = n.partition_queue(p);
            let args = self.durable_quorum(vec![
                // One consumer at a time per partition: two events of one order never race,
                // whatever the number of worker replicas.
                ("x-single-active-consumer", AMQPValue::Boolean(true)),
                // A message redelivered this often is poison: stop looping on it.
                (
                    "x-delivery-limit",
                    AMQPValue::LongInt(self.delivery_limit as i32),
                ),
                // Poison messages go to the dead-letter queue through the events exchange.
                ("x-dead-letter-exchange", text(&events)),
                ("x-dead-letter-routing-key", text(key::DEAD)),
                // Dead-letter at least once (the default is at most once) ...
                ("x-dead-letter-strategy", text("at-least-once")),
                // ... which silently falls back to at-most-once unless overflow rejects
                // publishes instead of dropping the oldest.
                ("x-overflow", text("reject-publish")),
            ]);
            ch.queue_declare(q.as_str().into(), durable(), args).await?;
            self.bind(ch, &q, &events, &key::partition(p)).await?;
        }

        self.declare_control(ch).await?;

        for tier in Tier::all() {
            let exchange = n.delay_exchange(tier);
            ch.exchange_declare(
                exchange.as_str().into(),
                // Fanout: the message keeps its final routing key (`p.<n>`) for the way back.
                ExchangeKind::Fanout,
                ExchangeDeclareOptions {
                    durable: true,
                    ..Default::default()
                },
                FieldTable::default(),
            )
            .await?;
            let q = n.delay_queue(tier);
            let args = self.durable_quorum(vec![
                // One TTL per queue: messages expire in order, none waits behind a longer one.
                (
                    "x-message-ttl",
                    AMQPValue::LongLongInt(tier.ttl().as_millis() as i64),
                ),
                // Expired messages go back to the events exchange with their own routing key.
                ("x-dead-letter-exchange", text(&events)),
                ("x-dead-letter-strategy", text("at-least-once")),
                ("x-overflow", text("reject-publish")),
            ]);
            ch.queue_declare(q.as_str().into(), durable(), args).await?;
            ch.queue_bind(
                q.as_str().into(),
                exchange.as_str().into(),
                "".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        }
        Ok(())
    }

    /// The control log of `orderflow pause`/`resume`. A stream, not a queue: reading does not
    /// consume it, so every worker process reads the whole log from its start (at every start
    /// and reconnect) and folds it into the paused shops; replicated and durable like the
    /// quorum queues. No retention limit on purpose: truncating the log would forget a pause
    /// still in effect. It grows by ~200 bytes per command and per worker (re)connect.
    /// Public so the commands can declare it alone (idempotent).
    pub async fn declare_control(&self, ch: &Channel) -> Result<(), lapin::Error> {
        let mut args = vec![("x-queue-type", text("stream"))];
        // A stream's counterpart of the quorum queues' initial group size.
        if let Some(n) = self.quorum_group_size {
            args.push(("x-initial-cluster-size", AMQPValue::LongInt(n.into())));
        }
        let stream = self.names.control_stream();
        ch.queue_declare(stream.as_str().into(), durable(), table(args))
            .await?;
        Ok(())
    }

    async fn bind(
        &self,
        ch: &Channel,
        queue: &str,
        exchange: &str,
        routing_key: &str,
    ) -> Result<(), lapin::Error> {
        ch.queue_bind(
            queue.into(),
            exchange.into(),
            routing_key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
    }
}
