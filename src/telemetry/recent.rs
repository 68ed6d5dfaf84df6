//! What the ops page shows that is not a number: the last decisions this process made and each
//! shop's last error. Kept in memory, bounded, per process (like the metrics): a restart starts
//! empty, and two workers each show their own.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

/// How many decisions the page lists.
pub const RECENT_DECISIONS: usize = 50;

/// One order planned by this process's workers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionEntry {
    /// When it was planned (Unix seconds, the app's clock).
    pub at: i64,
    pub shop: String,
    pub order_id: u64,
    pub order_name: String,
    /// The rules behind the plan's changes, in order, each once.
    pub rules: Vec<String>,
    /// The kinds of the actions applied (`hold`, `fulfill`, …), in order; empty when the order
    /// was already as the rules want it.
    pub actions: Vec<String>,
    /// `applied`, `nothing to do`, `dry run`, or `failed: …`.
    pub outcome: String,
}

/// A shop's last failure, as the worker settled it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopError {
    pub at: i64,
    /// `retry` or `dead_letter`.
    pub disposition: String,
    pub error: String,
}

#[derive(Debug, Default)]
pub struct Recent {
    decisions: Mutex<VecDeque<DecisionEntry>>,
    errors: Mutex<BTreeMap<String, ShopError>>,
}

impl Recent {
    pub fn decision(&self, entry: DecisionEntry) {
        let mut d = self.decisions.lock().unwrap_or_else(|p| p.into_inner());
        if d.len() == RECENT_DECISIONS {
            d.pop_front();
        }
        d.push_back(entry);
    }

    /// The last decisions, newest first.
    pub fn decisions(&self) -> Vec<DecisionEntry> {
        let d = self.decisions.lock().unwrap_or_else(|p| p.into_inner());
        d.iter().rev().cloned().collect()
    }

    pub fn error(&self, shop: &str, error: ShopError) {
        let mut e = self.errors.lock().unwrap_or_else(|p| p.into_inner());
        e.insert(shop.to_owned(), error);
    }

    /// Each shop's last error, by shop.
    pub fn errors(&self) -> BTreeMap<String, ShopError> {
        self.errors
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u64) -> DecisionEntry {
        DecisionEntry {
            at: n as i64,
            shop: "acme.myshopify.com".into(),
            order_id: n,
            order_name: format!("#{n}"),
            rules: vec![],
            actions: vec![],
            outcome: "nothing to do".into(),
        }
    }

    #[test]
    fn keeps_the_last_fifty_newest_first() {
        let r = Recent::default();
        for n in 0..60 {
            r.decision(entry(n));
        }
        let d = r.decisions();
        assert_eq!(d.len(), RECENT_DECISIONS);
        assert_eq!(d[0].order_id, 59);
        assert_eq!(d[49].order_id, 10);
    }

    #[test]
    fn a_shops_last_error_replaces_the_one_before() {
        let r = Recent::default();
        for (at, error) in [(1, "first"), (2, "second")] {
            r.error(
                "acme.myshopify.com",
                ShopError {
                    at,
                    disposition: "retry".into(),
                    error: error.into(),
                },
            );
        }
        let e = r.errors();
        assert_eq!(e.len(), 1);
        assert_eq!(e["acme.myshopify.com"].error, "second");
    }
}
