//! `orderflow dlq`: presentation of the dead-letter operations in `dlq`, and the shops a replay
//! routes to (the configured ones and, with a `[store]`, the installed ones).

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{DlqAction, DlqFilter};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::dlq::{self, DeadLetter, Filter};
use crate::id::ShopDomain;
use crate::queue::{Broker, Publisher, Topology};
use crate::store::Store;

pub async fn run(config_path: &Path, action: DlqAction) -> anyhow::Result<i32> {
    let Some(config) = super::load_config_or_report(config_path) else {
        return Ok(1);
    };
    let stop = CancellationToken::new();
    let topology = Topology::for_config(&config.amqp);
    let names = topology.names.clone();
    let broker = Broker::start(config.amqp.urls.clone(), topology, stop.clone());
    if broker
        .wait_connected(Duration::from_secs(10))
        .await
        .is_err()
    {
        eprintln!(
            "cannot reach RabbitMQ at {}: start it (rabbitmq-server -detached) or fix amqp.url (amqp.urls for a cluster)",
            config.amqp.redacted_urls().join(", ")
        );
        return Ok(2);
    }
    let publisher = Publisher::new(broker, names, config.amqp.confirm_timeout);
    let code = match action {
        DlqAction::List(f) => {
            let report = dlq::list(&publisher, &filter(f)).await?;
            print_table(&report.matched);
            0
        }
        DlqAction::Replay(f) => {
            let Some(shops) = replay_shops(&config).await else {
                stop.cancel();
                return Ok(2);
            };
            let report =
                dlq::replay(&publisher, &filter(f), &shops, config.amqp.partitions).await?;
            println!("replayed {}", report.matched.len());
            for (letter, why) in &report.kept {
                println!(
                    "kept {} ({}): {why}",
                    letter.message.message_id.as_deref().unwrap_or("?"),
                    letter.reason
                );
            }
            i32::from(!report.kept.is_empty())
        }
        DlqAction::Purge { filter: f, yes } => {
            if !yes {
                eprintln!("purging deletes dead letters for good: add --yes to confirm");
                2
            } else {
                let report = dlq::purge(&publisher, &filter(f)).await?;
                println!("purged {}", report.matched.len());
                0
            }
        }
    };
    stop.cancel();
    Ok(code)
}

/// The shops a replay routes to: the configured `[[shops]]` and, with a `[store]`, every shop
/// installed in it now, read once. An uninstalled shop is left out: its tokens are gone, so its
/// letters would only come back as `unauthorized`; they stay until it is installed again. A
/// store that does not answer is reported (`None`) rather than replaying with the configured
/// shops alone, which would keep an installed shop's letters and call the shop unknown.
async fn replay_shops(config: &Config) -> Option<HashSet<ShopDomain>> {
    let mut shops: HashSet<_> = config.shops.iter().map(|s| s.domain.clone()).collect();
    let Some(store_config) = &config.store else {
        return Some(shops);
    };
    let installed = match Store::connect(store_config).await {
        Ok(store) => {
            let rows = store.installed().await;
            store.close().await;
            rows
        }
        Err(e) => Err(e),
    };
    match installed {
        Ok(rows) => {
            shops.extend(rows.into_iter().map(|r| r.domain));
            Some(shops)
        }
        Err(e) => {
            eprintln!(
                "cannot read the installed shops from the token store at {}: {}; replay routes to them too, so start PostgreSQL or fix [store] url and run it again",
                store_config.redacted_url(),
                e.describe()
            );
            None
        }
    }
}

fn filter(f: DlqFilter) -> Filter {
    Filter {
        reason: f.reason,
        shop: f.shop,
        limit: f.limit,
    }
}

fn print_table(letters: &[DeadLetter]) {
    let now = SystemClock.now();
    println!(
        "{:<8} {:<24} {:<34} {:<28} {:<20} {:>8}  webhook id",
        "age", "reason", "topic", "shop", "order", "attempts"
    );
    for l in letters {
        let m = &l.message;
        let age = l
            .dead_lettered_at
            .map(|t| human_age(now.duration_since(t)))
            .unwrap_or_else(|| "?".into());
        println!(
            "{:<8} {:<24} {:<34} {:<28} {:<20} {:>8}  {}",
            age,
            l.reason,
            m.topic(),
            m.shop().unwrap_or("?"),
            m.order_id()
                .map(|o| o.0.to_string())
                .or_else(|| m.fulfillment_order_id().map(str::to_owned))
                .unwrap_or_else(|| "-".into()),
            m.attempts(),
            m.webhook_id()
        );
    }
    println!("{} dead letter(s)", letters.len());
}

fn human_age(d: jiff::SignedDuration) -> String {
    let s = d.as_secs().max(0);
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m", s / 60),
        3600..86_400 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}
