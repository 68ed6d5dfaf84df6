//! `orderflow orders reevaluate`: wakes the selected orders so today's rules apply. Each
//! wake-up goes to the order's own partition exactly like reconciliation's and the sweep's
//! (`sweep::wake`), so the worker handles it with the same per-order serialisation and
//! idempotence: re-running is harmless, an order already as the rules want gets nothing sent.
//! Dry run by default.

use std::fmt::Write as _;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::ReevaluateArgs;
use super::selection::Selection;
use crate::cli::reconcile::{connect, instant};
use crate::cli::report::render::quote;
use crate::clock::{Clock, SystemClock};
use crate::sweep::wake::{REEVALUATE_TOPIC, Waker, wake};

/// One order of the selection: what was planned, what was done and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Row {
    shop: String,
    name: String,
    id: u64,
    /// Always `wake` for this command.
    planned: &'static str,
    /// `woken`, `failed`, or empty in a dry run.
    done: &'static str,
    reason: String,
}

pub async fn run(args: ReevaluateArgs) -> anyhow::Result<i32> {
    let Some(config) = crate::cli::load_config_or_report(&args.config.config) else {
        return Ok(1);
    };
    let Some(selection) = selection(&args.selection) else {
        return Ok(1);
    };
    let started = Instant::now();
    let (client, known) = crate::cli::shop_arg::open(&config).await?;
    let shops = match crate::cli::shop_arg::resolve(&config, &known, &args.selection.shop) {
        Ok(shops) => shops,
        Err(e) => {
            eprintln!("{e}");
            return Ok(1);
        }
    };
    let stop = CancellationToken::new();
    let publisher = if args.apply {
        match connect(&config, stop.clone()).await {
            Some(p) => Some(p),
            None => return Ok(2),
        }
    } else {
        None
    };
    let waker = Waker {
        topic: REEVALUATE_TOPIC,
        partitions: config.amqp.partitions,
        now: SystemClock.now(),
    };
    let mut rows = Vec::new();
    let mut found_ids = Vec::new();
    let mut failed = false;
    for shop in &shops {
        for (id, query) in selection.queries() {
            let orders = match client.orders_matching(shop, &query).await {
                Ok(orders) => orders,
                Err(e) => {
                    eprintln!("{shop}: cannot list the orders matching `{query}`: {e}");
                    failed = true;
                    continue;
                }
            };
            if let (Some(id), false) = (id, orders.is_empty()) {
                found_ids.push(id);
            }
            for order in orders {
                let mut row = Row {
                    shop: shop.to_string(),
                    name: order.name.clone(),
                    id: order.id.0,
                    planned: "wake",
                    done: "",
                    reason: String::new(),
                };
                if let Some(p) = &publisher {
                    match wake(p, waker, shop.as_str(), &order, false).await {
                        Ok(()) => row.done = "woken",
                        Err(e) => {
                            row.done = "failed";
                            row.reason = e.to_string();
                            failed = true;
                        }
                    }
                }
                rows.push(row);
            }
        }
    }
    // An id asked for by name and found in no shop is a failure, not silently nothing.
    let mut missing: Vec<u64> = selection
        .queries()
        .into_iter()
        .filter_map(|(id, _)| id)
        .filter(|id| !found_ids.contains(id))
        .collect();
    missing.dedup();
    for id in missing {
        rows.push(Row {
            shop: args.selection.shop.clone(),
            name: String::new(),
            id,
            planned: "wake",
            done: "failed",
            reason: "no such order matches the selection".into(),
        });
        failed = true;
    }
    stop.cancel();
    print!("{}", table(&rows, args.apply));
    let took = started.elapsed().as_millis();
    let selected = rows.iter().filter(|r| !r.name.is_empty()).count();
    if args.apply {
        let woken = rows.iter().filter(|r| r.done == "woken").count();
        let not = rows.iter().filter(|r| r.done == "failed").count();
        println!("re-evaluated: woke {woken} order(s), {not} failed; took {took} ms");
    } else {
        println!("dry run: {selected} order(s) would be re-evaluated; pass --apply");
    }
    if let Some(path) = &args.csv
        && let Err(e) = std::fs::write(path, csv(&rows))
    {
        eprintln!("--csv {}: cannot write: {e}", path.display());
        return Ok(1);
    }
    Ok(i32::from(failed))
}

/// The flags as a [`Selection`], or `None` after saying what is wrong with them.
fn selection(args: &super::SelectionArgs) -> Option<Selection> {
    let since = match &args.since {
        Some(text) => Some(instant("--since", text)?),
        None => None,
    };
    let until = match &args.until {
        Some(text) => Some(instant("--until", text)?),
        None => None,
    };
    if let (Some(since), Some(until)) = (since, until)
        && since > until
    {
        eprintln!("--since {since} is after --until {until}: nothing to select");
        return None;
    }
    let selection = Selection {
        since,
        until,
        tag: args.tag.clone(),
        order_ids: args.order_ids.clone(),
        query: args.query.clone(),
    };
    if selection.is_empty() {
        eprintln!(
            "select the orders: --since, --until, --tag, --order-id or --query (refusing every order of the shop)"
        );
        return None;
    }
    Some(selection)
}

fn table(rows: &[Row], applied: bool) -> String {
    let mut out = String::new();
    let shop_w = rows.iter().map(|r| r.shop.len()).max().unwrap_or(0).max(4);
    let name_w = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(5);
    let id_w = rows
        .iter()
        .map(|r| r.id.to_string().len())
        .max()
        .unwrap_or(0)
        .max(2);
    let _ = write!(
        out,
        "{:shop_w$}  {:name_w$}  {:id_w$}  planned",
        "shop", "order", "id"
    );
    if applied {
        out.push_str("  done");
    }
    out.push('\n');
    for r in rows {
        let _ = write!(
            out,
            "{:shop_w$}  {:name_w$}  {:id_w$}  {:7}",
            r.shop, r.name, r.id, r.planned
        );
        if applied || !r.done.is_empty() {
            let _ = write!(out, "  {}", r.done);
        }
        if !r.reason.is_empty() {
            let _ = write!(out, "  {}", r.reason);
        }
        out.truncate(out.trim_end().len());
        out.push('\n');
    }
    out
}

fn csv(rows: &[Row]) -> String {
    let mut out = String::from("shop,name,id,planned,done,reason\n");
    for r in rows {
        let fields = [
            quote(&r.shop),
            quote(&r.name),
            r.id.to_string(),
            r.planned.to_owned(),
            r.done.to_owned(),
            quote(&r.reason),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(done: &'static str, reason: &str) -> Row {
        Row {
            shop: "acme.myshopify.com".into(),
            name: "#1001".into(),
            id: 42,
            planned: "wake",
            done,
            reason: reason.into(),
        }
    }

    #[test]
    fn the_csv_has_one_row_per_order_with_reasons_quoted() {
        let text = csv(&[row("woken", ""), row("failed", "broker said no, twice")]);
        assert_eq!(
            text,
            "shop,name,id,planned,done,reason\n\
             acme.myshopify.com,#1001,42,wake,woken,\n\
             acme.myshopify.com,#1001,42,wake,failed,\"broker said no, twice\"\n"
        );
    }

    #[test]
    fn the_dry_run_table_has_no_done_column() {
        let text = table(&[row("", "")], false);
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines[0], "shop                order  id  planned");
        assert_eq!(lines[1], "acme.myshopify.com  #1001  42  wake");
    }
}
