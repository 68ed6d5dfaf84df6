//! `orderflow reconcile`: the safety net for lost webhooks. Reads each shop's orders updated in
//! a window and publishes one order wake-up per order to the order's own partition, exactly
//! what the receiver publishes for an order webhook, so the worker handles it with the same
//! per-order serialisation and idempotence. `--dry-run` lists the orders and publishes nothing.

use std::time::{Duration, Instant};

use jiff::Timestamp;
use tokio_util::sync::CancellationToken;

use super::ReconcileArgs;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::queue::{Broker, Publisher, Topology};
use crate::sweep::wake::{Waker, wake};

/// The topic reconciliation wake-ups carry (AMQP `type` and the topic header).
pub use crate::sweep::wake::RECONCILE_TOPIC as TOPIC;

pub async fn run(args: ReconcileArgs) -> anyhow::Result<i32> {
    let Some(config) = super::load_config_or_report(&args.config.config) else {
        return Ok(1);
    };
    let Some((since, until)) = window(&args.since, args.until.as_deref()) else {
        return Ok(1);
    };
    let started = Instant::now();
    let (client, known) = super::shop_arg::open(&config).await?;
    let shops = match super::shop_arg::resolve(&config, &known, &args.shop) {
        Ok(shops) => shops,
        Err(e) => {
            eprintln!("{e}");
            return Ok(1);
        }
    };
    let stop = CancellationToken::new();
    let publisher = if args.dry_run {
        None
    } else {
        match connect(&config, stop.clone()).await {
            Some(p) => Some(p),
            None => return Ok(2),
        }
    };
    let (mut found, mut woken, mut failed) = (0usize, 0usize, 0usize);
    for shop in shops {
        let orders = match client.orders_updated(&shop, since, until).await {
            Ok(orders) => orders,
            Err(e) => {
                eprintln!(
                    "{}: cannot list the orders updated in the window: {e}",
                    shop
                );
                failed += 1;
                continue;
            }
        };
        found += orders.len();
        for order in &orders {
            match &publisher {
                None => println!(
                    "{} {} {} updated {}",
                    shop, order.name, order.id.0, order.updated_at
                ),
                Some(p) => match wake(
                    p,
                    waker(config.amqp.partitions),
                    shop.as_str(),
                    order,
                    false,
                )
                .await
                {
                    Ok(()) => woken += 1,
                    Err(e) => {
                        eprintln!("{} {}: not woken: {e}", shop, order.name);
                        failed += 1;
                    }
                },
            }
        }
    }
    stop.cancel();
    let took = started.elapsed().as_millis();
    if args.dry_run {
        println!(
            "found {found} order(s) updated from {since} to {until}; dry run: woke none; took {took} ms"
        );
    } else {
        println!(
            "found {found} order(s) updated from {since} to {until}; woke {woken}; took {took} ms"
        );
    }
    Ok(i32::from(failed > 0))
}

/// `--since` and `--until` (default now) as instants, reported when unreadable or reversed.
fn window(since: &str, until: Option<&str>) -> Option<(Timestamp, Timestamp)> {
    let parse = instant;
    let since = parse("--since", since)?;
    let until = match until {
        Some(text) => parse("--until", text)?,
        None => SystemClock.now(),
    };
    if since > until {
        eprintln!("--since {since} is after --until {until}: nothing to reconcile");
        return None;
    }
    Some((since, until))
}

/// `text` as an instant, or `None` after saying that `flag`'s value is not one.
pub(super) fn instant(flag: &str, text: &str) -> Option<Timestamp> {
    match text.parse::<Timestamp>() {
        Ok(t) => Some(t),
        Err(_) => {
            eprintln!(
                "{flag} `{text}` is not an instant: write RFC 3339, e.g. 2026-11-23T12:59:00+01:00"
            );
            None
        }
    }
}

/// A confirmed publisher, or `None` after saying RabbitMQ cannot be reached.
pub(super) async fn connect(config: &Config, stop: CancellationToken) -> Option<Publisher> {
    let topology = Topology::for_config(&config.amqp);
    let names = topology.names.clone();
    let broker = Broker::start(config.amqp.urls.clone(), topology, stop);
    if broker
        .wait_connected(Duration::from_secs(10))
        .await
        .is_err()
    {
        eprintln!(
            "cannot reach RabbitMQ at {}: start it (rabbitmq-server -detached) or fix amqp.url (amqp.urls for a cluster)",
            config.amqp.redacted_urls().join(", ")
        );
        return None;
    }
    Some(Publisher::new(broker, names, config.amqp.confirm_timeout))
}

fn waker(partitions: u16) -> Waker<'static> {
    Waker {
        topic: TOPIC,
        partitions,
        now: SystemClock.now(),
    }
}
