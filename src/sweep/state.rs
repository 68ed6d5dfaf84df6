//! The pure core of the sweep: the shared state (each shop's watermark, the start of its last
//! sweep), how two copies merge, which shop is due, the window its sweep covers, which updates
//! it judges for missed webhooks, and the watermark afterwards. No I/O and no clock: "now" is
//! an argument, so every rule here is a unit test.

use std::collections::BTreeMap;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// The layout this code writes and reads.
pub const VERSION: u32 = 1;

/// How long a webhook may still be in flight: an update younger than this at a sweep's start
/// is judged by the next sweep, not this one.
pub const GRACE: Duration = Duration::from_secs(60);

/// The sweep state, the one message of the `<prefix>.sweep` queue:
/// `{ "version": 1, "shops": { "<domain>": "<RFC 3339 watermark>" } }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SweepState {
    pub version: u32,
    /// Per shop, the start of its last sweep.
    pub shops: BTreeMap<String, Timestamp>,
}

impl Default for SweepState {
    fn default() -> Self {
        Self {
            version: VERSION,
            shops: BTreeMap::new(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("the sweep state is not JSON of the expected shape: {0}")]
    Shape(#[from] serde_json::Error),
    #[error("the sweep state has version {0}; this release reads version {VERSION}")]
    Version(u32),
}

/// What one shop's sweep covers, decided at its start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The sweep's start: the window's end and the shop's next watermark.
    pub start: Timestamp,
    /// The watermark the sweep started from (the previous sweep's start, or `start - every`
    /// for a shop never swept).
    pub watermark: Timestamp,
    /// `watermark - overlap`: the first `updatedAt` the sweep asks for.
    pub since: Timestamp,
}

impl Window {
    /// Whether the sweep judges an update at `updated_at` for a missed webhook: only within
    /// `[watermark - grace, start - grace)`, so consecutive sweeps judge each update once and a
    /// webhook still in flight has `GRACE` to arrive. The grace is never more than the overlap:
    /// the next sweep lists from `start - overlap`, so an update it is left to judge must lie
    /// in that listing.
    pub fn judges(&self, updated_at: Timestamp) -> bool {
        let overlap = self.watermark.duration_since(self.since);
        let grace = signed(GRACE).min(overlap).max(SignedDuration::ZERO);
        let from = self
            .watermark
            .saturating_sub(grace)
            .unwrap_or(self.watermark);
        let to = self.start.saturating_sub(grace).unwrap_or(self.start);
        updated_at >= from && updated_at < to
    }
}

fn signed(d: Duration) -> SignedDuration {
    SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)
}

fn minus(t: Timestamp, d: Duration) -> Timestamp {
    t.saturating_sub(signed(d)).unwrap_or(Timestamp::MIN)
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    t.saturating_add(signed(d)).unwrap_or(Timestamp::MAX)
}

impl SweepState {
    /// Reads a state message; a later version is refused rather than misread.
    pub fn from_json(bytes: &[u8]) -> Result<Self, StateError> {
        let state: SweepState = serde_json::from_slice(bytes)?;
        if state.version != VERSION {
            return Err(StateError::Version(state.version));
        }
        Ok(state)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a map of strings to instants serialises")
    }

    /// Merges another copy in: per shop the earlier watermark wins. A duplicate sweep only
    /// costs overlap; a later watermark could leave a gap no sweep covers.
    pub fn merge(&mut self, other: &SweepState) {
        for (shop, &theirs) in &other.shops {
            self.shops
                .entry(shop.clone())
                .and_modify(|ours| *ours = (*ours).min(theirs))
                .or_insert(theirs);
        }
    }

    /// The shop's watermark, or `now - every` for a shop never swept (its first sweep covers
    /// one interval plus the overlap, not the shop's whole history).
    pub fn watermark(&self, shop: &str, now: Timestamp, every: Duration) -> Timestamp {
        self.shops
            .get(shop)
            .copied()
            .unwrap_or_else(|| minus(now, every))
    }

    /// When the shop's next sweep is due.
    pub fn due_at(&self, shop: &str, now: Timestamp, every: Duration) -> Timestamp {
        plus(self.watermark(shop, now, every), every)
    }

    /// The window of the shop's sweep if it is due at `now`.
    pub fn due(
        &self,
        shop: &str,
        now: Timestamp,
        every: Duration,
        overlap: Duration,
    ) -> Option<Window> {
        if self.due_at(shop, now, every) > now {
            return None;
        }
        let watermark = self.watermark(shop, now, every);
        Some(Window {
            start: now,
            watermark,
            since: minus(watermark, overlap),
        })
    }

    /// After the shop's sweep of `window`: its watermark becomes the sweep's start, unless a
    /// state merged meanwhile lowered it below the one the sweep started from (that copy's
    /// window was not covered by this sweep: keep it, the next sweep covers it).
    pub fn swept(&mut self, shop: &str, window: &Window) {
        match self.shops.get_mut(shop) {
            Some(current) if *current < window.watermark => {}
            Some(current) => *current = (*current).max(window.start),
            None => {
                self.shops.insert(shop.to_owned(), window.start);
            }
        }
    }
}

#[cfg(test)]
mod tests;
