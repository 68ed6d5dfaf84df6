//! `orderflow pause`, `orderflow resume` and `orderflow pause --list`: entries appended to the
//! control stream, which every worker process follows (`worker::paused`). The commands read
//! the same log to its end first, so they can say what was already so (a paused shop's reason
//! updated, a shop that was not paused) and list the paused shops the way the workers see them.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::{PauseArgs, ResumeArgs};
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::event::control::{ControlEvent, Paused};
use crate::id::ShopDomain;
use crate::queue::{Publisher, control};
use crate::worker::paused;

/// How long reading the control log may take before the command gives up.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn pause(args: PauseArgs) -> anyhow::Result<i32> {
    let Some(config) = super::load_config_or_report(&args.config.config) else {
        return Ok(1);
    };
    let shops = match args.shop.as_deref() {
        Some(arg) => match known(&config, arg).await? {
            Ok(shops) => shops,
            Err(e) => {
                eprintln!("{e}");
                return Ok(1);
            }
        },
        None => Vec::new(),
    };
    let stop = CancellationToken::new();
    let Some(publisher) = super::reconcile::connect(&config, stop.clone()).await else {
        return Ok(2);
    };
    let state = paused::current(&publisher, READ_TIMEOUT).await?;
    if args.list {
        print!("{}", table(&state));
        close(&publisher, &stop).await;
        return Ok(0);
    }
    let by = who();
    for shop in shops {
        let event = ControlEvent::Pause {
            shop: shop.to_string(),
            reason: args.reason.clone(),
            at: SystemClock.now(),
            by: by.clone(),
        };
        append(&publisher, &event).await?;
        match state.get(shop.as_str()) {
            Some(p) => println!(
                "{shop}: already paused since {}; {}",
                p.since,
                match args.reason.as_deref() {
                    Some(r) => format!("reason updated to \"{r}\""),
                    None => "reason cleared".to_owned(),
                }
            ),
            None => println!(
                "{shop}: paused ({}); every worker parks its messages within seconds, webhooks are still accepted; `orderflow resume --shop {shop}` to resume",
                shown(args.reason.as_deref())
            ),
        }
    }
    close(&publisher, &stop).await;
    Ok(0)
}

pub async fn resume(args: ResumeArgs) -> anyhow::Result<i32> {
    let Some(config) = super::load_config_or_report(&args.config.config) else {
        return Ok(1);
    };
    let stop = CancellationToken::new();
    let Some(publisher) = super::reconcile::connect(&config, stop.clone()).await else {
        return Ok(2);
    };
    let state = paused::current(&publisher, READ_TIMEOUT).await?;
    // A paused shop can always be resumed, even one the config no longer lists.
    let shops: Vec<String> = if args.shop == "all" {
        state.iter().map(|(s, _)| s.to_owned()).collect()
    } else if state.contains(&args.shop) {
        vec![args.shop.clone()]
    } else {
        match known(&config, &args.shop).await? {
            Ok(_) => println!("{}: not paused: nothing to do", args.shop),
            Err(e) => {
                eprintln!("{e}");
                close(&publisher, &stop).await;
                return Ok(1);
            }
        }
        Vec::new()
    };
    if args.shop == "all" && shops.is_empty() {
        println!("no shop is paused: nothing to do");
    }
    let by = who();
    for shop in shops {
        let since = state.get(&shop).map(|p| p.since);
        let event = ControlEvent::Resume {
            shop: shop.clone(),
            at: SystemClock.now(),
            by: by.clone(),
        };
        append(&publisher, &event).await?;
        match since {
            Some(since) => println!(
                "{shop}: resumed (paused since {since}); its waiting messages are processed within seconds"
            ),
            None => println!("{shop}: resumed"),
        }
    }
    close(&publisher, &stop).await;
    Ok(0)
}

/// The shops `arg` names among the known ones (configured, or installed in the store).
async fn known(config: &Config, arg: &str) -> anyhow::Result<Result<Vec<ShopDomain>, String>> {
    let (_client, shops) = super::shop_arg::open(config).await?;
    Ok(super::shop_arg::resolve(config, &shops, arg))
}

/// Closes the broker connection, briefly: what was appended is confirmed already.
async fn close(publisher: &Publisher, stop: &CancellationToken) {
    stop.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(2), publisher.broker().closed()).await;
}

async fn append(publisher: &Publisher, event: &ControlEvent) -> anyhow::Result<()> {
    let id = format!("control-{:016x}", rand::random::<u64>());
    control::append(publisher, &id, &event.encode())
        .await
        .map_err(|e| anyhow::anyhow!("cannot append to the control stream: {e}"))
}

/// `user@host`, when the environment tells; for `pause --list` and the workers' logs.
fn who() -> Option<String> {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty());
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    match (user, host) {
        (Some(u), Some(h)) => Some(format!("{u}@{h}")),
        (Some(u), None) => Some(u),
        (None, Some(h)) => Some(h),
        (None, None) => None,
    }
}

fn shown(reason: Option<&str>) -> String {
    match reason {
        Some(r) => format!("reason: {r}"),
        None => "no reason given".to_owned(),
    }
}

/// The `pause --list` table: shop, since (RFC 3339), by, reason.
fn table(state: &Paused) -> String {
    if state.is_empty() {
        return "no shop is paused\n".to_owned();
    }
    let rows: Vec<[String; 4]> = state
        .iter()
        .map(|(shop, p)| {
            [
                shop.to_owned(),
                p.since.to_string(),
                p.by.clone().unwrap_or_else(|| "-".into()),
                p.reason.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let header = ["SHOP", "SINCE", "BY", "REASON"].map(str::to_owned);
    let mut widths = [0usize; 3];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        out.push_str(&format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {}\n",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_is_a_table_with_since_in_rfc_3339() {
        let log = [ControlEvent::Pause {
            shop: "a.myshopify.com".into(),
            reason: Some("carrier outage".into()),
            at: "2026-12-01T10:00:00Z".parse().expect("instant"),
            by: Some("ops@host".into()),
        }];
        let text = table(&Paused::fold(&log));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert!(lines[0].starts_with("SHOP"), "{text}");
        assert!(
            lines[1].starts_with("a.myshopify.com  2026-12-01T10:00:00Z  ops@host  carrier outage"),
            "{text}"
        );
        assert_eq!(table(&Paused::default()), "no shop is paused\n");
    }
}
