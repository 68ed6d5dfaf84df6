//! What a bulk command says while it runs and before: a one-line progress indicator on a
//! terminal (orders done of the total, points spent, an estimate of the time left), rewritten
//! in place with `\r` and only when stderr is a terminal, so pipes and tests see clean output;
//! and the cost estimate against the shop's bucket (points to read the selection and per
//! mutation, the time at the shop's restore rate). The client's throttle already keeps every
//! request under the bucket; the estimate says how long that makes the run. The formatting is
//! pure (time and points are arguments) and unit-tested.

use std::io::{IsTerminal, Write as _};
use std::time::{Duration, Instant};

use super::bulk::{Bulk, Row};
use crate::id::ShopDomain;
use crate::shopify::cost::MUTATION_COST;
use crate::shopify::orders::UpdatedOrder;

/// The rows of a run, and whether Ctrl-C stopped it.
pub(super) struct Ran {
    pub rows: Vec<Row>,
    pub interrupted: bool,
}

impl Ran {
    pub fn failed(&self) -> bool {
        self.rows.iter().any(|r| r.done == "failed")
    }
}

impl Bulk {
    /// Runs `one` over the orders in turn with the progress line, until done or Ctrl-C. The
    /// order in progress when Ctrl-C comes is left mid-way (every command's steps are safe to
    /// stop between: a re-run finishes it) and gets an `interrupted` row.
    pub async fn each<'a, F, Fut>(
        &'a self,
        orders: &'a [(ShopDomain, UpdatedOrder)],
        mut one: F,
    ) -> Ran
    where
        F: FnMut(&'a ShopDomain, &'a UpdatedOrder) -> Fut,
        Fut: std::future::Future<Output = Row> + 'a,
    {
        let progress = Progress::new(orders.len());
        let mut rows = Vec::with_capacity(orders.len());
        let mut interrupted = false;
        for (done, (shop, order)) in orders.iter().enumerate() {
            progress.tick(done, self.points_spent());
            if self.interrupt.is_cancelled() {
                interrupted = true;
                break;
            }
            tokio::select! {
                row = one(shop, order) => rows.push(row),
                () = self.interrupt.cancelled() => {
                    let mut row = Row::new(shop, order, "unknown");
                    row.done = "interrupted";
                    row.reason = "stopped while in progress: run again to finish it".into();
                    rows.push(row);
                    interrupted = true;
                    break;
                }
            }
        }
        progress.clear();
        Ran { rows, interrupted }
    }
}

/// `12/50 orders, 340 points, about 9 s left`.
pub(super) fn line(done: usize, total: usize, points: u64, elapsed: Duration) -> String {
    let left = if done == 0 || done >= total {
        String::new()
    } else {
        let per = elapsed.as_secs_f64() / done as f64;
        format!(", about {} left", seconds(per * (total - done) as f64))
    };
    format!("{done}/{total} orders, {points} points{left}")
}

/// Whole seconds, or minutes and seconds past a minute.
fn seconds(s: f64) -> String {
    let s = s.ceil() as u64;
    if s < 60 {
        format!("{s} s")
    } else {
        format!("{} min {} s", s / 60, s % 60)
    }
}

/// What a run costs in the shop's bucket, before it runs.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Estimate {
    /// Orders to read one by one.
    pub reads: usize,
    /// The requested cost of one order's read (what the bucket must hold before it runs; the
    /// unused part is refunded afterwards, so this is an upper bound).
    pub read_points: u64,
    /// Mutations to send, when known (a dry run knows them; `None` before reading).
    pub mutations: Option<usize>,
    /// Points available in the bucket now, and its restore rate per second.
    pub available: f64,
    pub restore_rate: f64,
}

impl Estimate {
    pub fn points(&self) -> u64 {
        self.reads as u64 * self.read_points + self.mutations.unwrap_or(0) as u64 * MUTATION_COST
    }

    /// How long the bucket makes the run take at least: what it does not hold now, refilled at
    /// the restore rate.
    pub fn time(&self) -> Duration {
        let short = (self.points() as f64 - self.available).max(0.0);
        Duration::from_secs_f64(short / self.restore_rate.max(1.0))
    }
}

/// `cost: 50 read(s) × 472 points + 60 mutation(s) × 10 = up to 24200 points, about 3 min 52 s
/// at 100 points/s (1000 in the bucket now)`.
pub(super) fn estimate_line(e: &Estimate) -> String {
    let mutations = match e.mutations {
        Some(n) => format!(" + {n} mutation(s) × {MUTATION_COST}"),
        None => format!(" + {MUTATION_COST} per mutation (the dry run counts them)"),
    };
    let time = e.time();
    let time = if time.is_zero() {
        "no wait".to_owned()
    } else {
        format!(
            "about {} at {} points/s",
            seconds(time.as_secs_f64()),
            e.restore_rate
        )
    };
    format!(
        "cost: {} read(s) × {} points{mutations} = up to {} points, {time} ({} in the bucket now)",
        e.reads,
        e.read_points,
        e.points(),
        e.available.floor(),
    )
}

/// The progress line on stderr, when it is a terminal.
pub(super) struct Progress {
    total: usize,
    started: Instant,
    terminal: bool,
}

impl Progress {
    pub fn new(total: usize) -> Self {
        Self {
            total,
            started: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    pub fn tick(&self, done: usize, points: u64) {
        if !self.terminal {
            return;
        }
        let text = line(done, self.total, points, self.started.elapsed());
        // Clear to the end of the line: the previous one may have been longer.
        eprint!("\r{text}\x1b[K");
        let _ = std::io::stderr().flush();
    }

    /// Removes the line before the table is printed.
    pub fn clear(&self) {
        if self.terminal {
            eprint!("\r\x1b[K");
            let _ = std::io::stderr().flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_counts_orders_points_and_extrapolates_the_time_left() {
        assert_eq!(
            line(0, 50, 0, Duration::ZERO),
            "0/50 orders, 0 points",
            "nothing to extrapolate from yet"
        );
        assert_eq!(
            line(10, 50, 340, Duration::from_secs(5)),
            "10/50 orders, 340 points, about 20 s left"
        );
        assert_eq!(
            line(1, 200, 12, Duration::from_secs(2)),
            "1/200 orders, 12 points, about 6 min 38 s left"
        );
        assert_eq!(
            line(50, 50, 900, Duration::from_secs(30)),
            "50/50 orders, 900 points"
        );
    }

    #[test]
    fn the_estimate_charges_reads_and_mutations_and_waits_only_for_what_the_bucket_lacks() {
        let e = Estimate {
            reads: 50,
            read_points: 472,
            mutations: Some(60),
            available: 1000.0,
            restore_rate: 100.0,
        };
        assert_eq!(e.points(), 50 * 472 + 600);
        assert_eq!(e.time(), Duration::from_secs(232));
        assert_eq!(
            estimate_line(&e),
            "cost: 50 read(s) × 472 points + 60 mutation(s) × 10 = up to 24200 points, about 3 min 52 s at 100 points/s (1000 in the bucket now)"
        );
        let small = Estimate {
            reads: 1,
            mutations: None,
            ..e
        };
        assert_eq!(
            estimate_line(&small),
            "cost: 1 read(s) × 472 points + 10 per mutation (the dry run counts them) = up to 472 points, no wait (1000 in the bucket now)"
        );
    }
}
