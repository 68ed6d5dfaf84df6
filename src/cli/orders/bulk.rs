//! What every `orderflow orders …` command shares: reading the config and the selection flags,
//! resolving `--shop`, connecting to the broker only with `--apply`, listing the selected
//! orders (an `--order-id` found in no shop is a failed row, not silently nothing), and the
//! table and CSV of one row per order. Each command only decides what to do with an order.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::SelectionArgs;
use super::selection::Selection;
use crate::cli::ConfigArg;
use crate::cli::reconcile::{connect, instant};
use crate::cli::report::render::quote;
use crate::clock::{Clock, SystemClock};
use crate::config::Config;
use crate::id::ShopDomain;
use crate::queue::Publisher;
use crate::shopify::Client;
use crate::shopify::orders::UpdatedOrder;
use crate::sweep::wake::Waker;

/// One order of the selection: what was planned, what was done and why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Row {
    pub shop: String,
    pub name: String,
    pub id: u64,
    /// What the command would do to the order (`wake`, the holds to release, `nothing`).
    pub planned: String,
    /// `woken`, `released`, `failed`, or empty in a dry run.
    pub done: &'static str,
    pub reason: String,
}

impl Row {
    pub fn new(shop: &ShopDomain, order: &UpdatedOrder, planned: impl Into<String>) -> Self {
        Self {
            shop: shop.to_string(),
            name: order.name.clone(),
            id: order.id.0,
            planned: planned.into(),
            done: "",
            reason: String::new(),
        }
    }
}

/// A command ready to run: config read, shops resolved, broker connected when applying.
pub(super) struct Bulk {
    pub config: Config,
    pub client: Client,
    pub shops: Vec<ShopDomain>,
    pub selection: Selection,
    /// `Some` with `--apply` only.
    pub publisher: Option<Publisher>,
    stop: CancellationToken,
    /// Cancelled by Ctrl-C: the run stops, prints and writes what it did so far.
    pub(super) interrupt: CancellationToken,
    started: Instant,
    shop_arg: String,
    /// The client's points spent when the command started (for the progress line).
    points_at_start: u64,
}

/// What the selection matched, in shop and query order.
pub(super) struct Selected {
    pub orders: Vec<(ShopDomain, UpdatedOrder)>,
    /// The `--order-id`s no shop has, as failed rows (`planned` as the command names it).
    pub missing: Vec<u64>,
    /// A listing failed (said on stderr).
    pub failed: bool,
}

impl Bulk {
    /// Everything before the first order, or the exit code after saying what is wrong:
    /// 1 for bad input, 2 when `--apply` cannot reach the broker.
    pub async fn open(
        config: &ConfigArg,
        selection: &SelectionArgs,
        apply: bool,
    ) -> anyhow::Result<Result<Self, i32>> {
        let started = Instant::now();
        let Some(config) = crate::cli::load_config_or_report(&config.config) else {
            return Ok(Err(1));
        };
        let Some(parsed) = parse(selection) else {
            return Ok(Err(1));
        };
        let (client, known) = crate::cli::shop_arg::open(&config).await?;
        let shops = match crate::cli::shop_arg::resolve(&config, &known, &selection.shop) {
            Ok(shops) => shops,
            Err(e) => {
                eprintln!("{e}");
                return Ok(Err(1));
            }
        };
        let stop = CancellationToken::new();
        let publisher = if apply {
            match connect(&config, stop.clone()).await {
                Some(p) => Some(p),
                None => return Ok(Err(2)),
            }
        } else {
            None
        };
        let interrupt = CancellationToken::new();
        let on_ctrl_c = interrupt.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                on_ctrl_c.cancel();
            }
        });
        let points_at_start = client.metrics().actual_cost;
        Ok(Ok(Self {
            config,
            client,
            shops,
            selection: parsed,
            publisher,
            stop,
            interrupt,
            started,
            shop_arg: selection.shop.clone(),
            points_at_start,
        }))
    }

    /// Every order the selection matches in every shop.
    pub async fn select(&self) -> Selected {
        let mut orders = Vec::new();
        let mut found_ids = Vec::new();
        let mut failed = false;
        for shop in &self.shops {
            for (id, query) in self.selection.queries() {
                let matched = match self.client.orders_matching(shop, &query).await {
                    Ok(matched) => matched,
                    Err(e) => {
                        eprintln!("{shop}: cannot list the orders matching `{query}`: {e}");
                        failed = true;
                        continue;
                    }
                };
                if let (Some(id), false) = (id, matched.is_empty()) {
                    found_ids.push(id);
                }
                orders.extend(matched.into_iter().map(|o| (shop.clone(), o)));
            }
        }
        let mut missing: Vec<u64> = self
            .selection
            .queries()
            .into_iter()
            .filter_map(|(id, _)| id)
            .filter(|id| !found_ids.contains(id))
            .collect();
        missing.dedup();
        Selected {
            orders,
            missing,
            failed,
        }
    }

    /// A run's rows followed by a failed one for each `--order-id` no shop has (`planned` as
    /// the command names it), and whether anything failed, the listing included.
    pub fn rows_with_missing(
        &self,
        selected: &Selected,
        ran: super::progress::Ran,
        planned: &str,
    ) -> (Vec<Row>, bool) {
        let failed = selected.failed || ran.failed() || !selected.missing.is_empty();
        let mut rows = ran.rows;
        rows.extend(
            selected
                .missing
                .iter()
                .map(|id| self.missing_row(*id, planned)),
        );
        (rows, failed)
    }

    /// The failed row of an `--order-id` no shop has.
    pub fn missing_row(&self, id: u64, planned: &str) -> Row {
        Row {
            shop: self.shop_arg.clone(),
            name: String::new(),
            id,
            planned: planned.to_owned(),
            done: "failed",
            reason: "no such order matches the selection".into(),
        }
    }

    /// The wake-ups this command publishes, on topic `topic`, stamped now.
    pub fn waker(&self, topic: &'static str) -> Waker<'static> {
        Waker {
            topic,
            partitions: self.config.amqp.partitions,
            now: SystemClock.now(),
        }
    }

    /// Milliseconds since the command started.
    pub fn took_ms(&self) -> u128 {
        self.started.elapsed().as_millis()
    }

    /// Points the client spent since the command started (`actualQueryCost` summed).
    pub fn points_spent(&self) -> u64 {
        self.client.metrics().actual_cost - self.points_at_start
    }

    /// The cost of reading `reads` orders at `read_points` each and sending `mutations`,
    /// against the selected shops' buckets (the smallest restore rate and room: each shop has
    /// its own bucket, and the slowest decides how long the run waits).
    pub fn estimate(&self, reads: usize, read_points: f64, mutations: Option<usize>) -> String {
        let (available, restore_rate) = self
            .shops
            .iter()
            .map(|s| self.client.bucket(s))
            .fold(None, |acc: Option<(f64, f64)>, (a, r)| {
                Some(acc.map_or((a, r), |(a0, r0)| (a0.min(a), r0.min(r))))
            })
            .unwrap_or((0.0, 1.0));
        super::progress::estimate_line(&super::progress::Estimate {
            reads,
            read_points: read_points.ceil() as u64,
            mutations,
            available,
            restore_rate,
        })
    }

    /// Prints the table and `summary`, writes `--csv`; false when the CSV cannot be written.
    /// `interrupted`: Ctrl-C stopped the run before all `total` orders; said after the summary.
    pub fn finish(
        &self,
        rows: &[Row],
        summary: &str,
        csv_path: Option<&Path>,
        interrupted: Option<usize>,
    ) -> bool {
        self.stop.cancel();
        print!("{}", table(rows, self.publisher.is_some()));
        println!("{summary}");
        if let Some(total) = interrupted {
            println!(
                "interrupted: {} of {total} order(s) handled (the table and --csv hold them); run the same command again to finish, it skips what is done",
                rows.iter().filter(|r| r.done != "interrupted").count()
            );
        }
        if let Some(path) = csv_path
            && let Err(e) = std::fs::write(path, csv(rows))
        {
            eprintln!("--csv {}: cannot write: {e}", path.display());
            return false;
        }
        true
    }
}

/// The flags as a [`Selection`], or `None` after saying what is wrong with them.
fn parse(args: &SelectionArgs) -> Option<Selection> {
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

pub(super) fn table(rows: &[Row], applied: bool) -> String {
    let mut out = String::new();
    let shop_w = rows.iter().map(|r| r.shop.len()).max().unwrap_or(0).max(4);
    let name_w = rows.iter().map(|r| r.name.len()).max().unwrap_or(0).max(5);
    let id_w = rows
        .iter()
        .map(|r| r.id.to_string().len())
        .max()
        .unwrap_or(0)
        .max(2);
    let planned_w = rows
        .iter()
        .map(|r| r.planned.len())
        .max()
        .unwrap_or(0)
        .max(7);
    let _ = write!(
        out,
        "{:shop_w$}  {:name_w$}  {:id_w$}  {:planned_w$}",
        "shop", "order", "id", "planned"
    );
    if applied {
        out.push_str("  done");
    }
    out.truncate(out.trim_end().len());
    out.push('\n');
    for r in rows {
        let _ = write!(
            out,
            "{:shop_w$}  {:name_w$}  {:id_w$}  {:planned_w$}",
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

pub(super) fn csv(rows: &[Row]) -> String {
    let mut out = String::from("shop,name,id,planned,done,reason\n");
    for r in rows {
        let fields = [
            quote(&r.shop),
            quote(&r.name),
            r.id.to_string(),
            quote(&r.planned),
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
            planned: "wake".into(),
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

    #[test]
    fn a_longer_plan_widens_its_column() {
        let mut long = row("released", "");
        long.planned = "release orderflow-fraud".into();
        let text = table(&[row("woken", ""), long], true);
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(
            lines[0],
            "shop                order  id  planned                  done"
        );
        assert_eq!(
            lines[1],
            "acme.myshopify.com  #1001  42  wake                     woken"
        );
    }
}
