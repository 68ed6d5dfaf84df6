//! Percentiles and rates: the arithmetic of the report, with no knowledge of orders.

use jiff::SignedDuration;
use serde::Serialize;

/// A distribution of durations: how many, and the nearest-rank p50, p90 and the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Durations {
    pub count: usize,
    /// Seconds; `None` when `count` is 0.
    pub p50_seconds: Option<i64>,
    pub p90_seconds: Option<i64>,
    pub max_seconds: Option<i64>,
}

impl Durations {
    pub fn of(values: &[SignedDuration]) -> Self {
        let mut secs: Vec<i64> = values.iter().map(|d| d.as_secs()).collect();
        secs.sort_unstable();
        Durations {
            count: secs.len(),
            p50_seconds: percentile(&secs, 50),
            p90_seconds: percentile(&secs, 90),
            max_seconds: secs.last().copied(),
        }
    }
}

/// The nearest-rank percentile of sorted values: the smallest value with at least `p`% of the
/// values at or below it. Nearest rank returns a value that was observed, never an
/// interpolation, so "p90 = 2 days" is a time some order really took.
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (p as usize * n).div_ceil(100).max(1);
    Some(sorted[rank.min(n) - 1])
}

/// `part / whole`, `None` for an empty whole (a rate of nothing is not 0 %).
pub fn rate(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// A duration as a person reads it: `2d 3h`, `4h 05m`, `12m`, `40s`; negative with a `-`.
pub fn human(seconds: i64) -> String {
    let sign = if seconds < 0 { "-" } else { "" };
    let s = seconds.unsigned_abs();
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    let body = if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m:02}m")
    } else if m > 0 {
        format!("{m}m")
    } else {
        format!("{s}s")
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles_are_observed_values() {
        let v: Vec<i64> = (1..=10).collect();
        assert_eq!(percentile(&v, 50), Some(5));
        assert_eq!(percentile(&v, 90), Some(9));
        assert_eq!(percentile(&v, 100), Some(10));
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile(&[7], 90), Some(7));
        assert_eq!(percentile(&[1, 2, 3], 50), Some(2));
        assert_eq!(percentile(&[1, 2, 3], 90), Some(3));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn durations_sort_before_taking_ranks() {
        let d = Durations::of(&[
            SignedDuration::from_hours(5),
            SignedDuration::from_hours(1),
            SignedDuration::from_hours(3),
        ]);
        assert_eq!(d.count, 3);
        assert_eq!(d.p50_seconds, Some(3 * 3600));
        assert_eq!(d.p90_seconds, Some(5 * 3600));
        assert_eq!(d.max_seconds, Some(5 * 3600));
        assert_eq!(Durations::of(&[]).p50_seconds, None);
    }

    #[test]
    fn a_rate_of_nothing_is_none() {
        assert_eq!(rate(3, 4), Some(0.75));
        assert_eq!(rate(0, 0), None);
    }

    #[test]
    fn human_durations() {
        assert_eq!(human(40), "40s");
        assert_eq!(human(12 * 60), "12m");
        assert_eq!(human(4 * 3600 + 5 * 60), "4h 05m");
        assert_eq!(human(2 * 86_400 + 3 * 3600), "2d 3h");
        assert_eq!(human(-3600), "-1h 00m");
    }
}
