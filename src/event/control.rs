//! The control log's contract: what `orderflow pause` and `orderflow resume` append to the
//! control stream, and the fold every reader (each worker process, `pause --list`) turns the
//! log into. One fold for all readers, so a worker and the list can never disagree on which
//! shops are paused. Pure: bytes and timestamps in, the paused set and what changed out.
//!
//! The log is append-only and read from its start: a pause and a resume issued at the same
//! time land in one order, the broker's, and every reader folds them in that order.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// The `v` of events written by this release; a reader skips versions it does not know.
pub const VERSION: u32 = 1;

/// One entry of the control log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ControlEvent {
    /// Stop acting on `shop`'s messages until a resume. Again on a paused shop: the new
    /// reason replaces the old one; `since` stays the first pause's.
    Pause {
        shop: String,
        reason: Option<String>,
        at: Timestamp,
        /// Who asked (`user@host`), when the command could tell.
        by: Option<String>,
    },
    /// Act on `shop`'s messages again; the parked ones come back within one delay tier.
    Resume {
        shop: String,
        at: Timestamp,
        by: Option<String>,
    },
    /// Changes nothing: a reader appends one with an id of its own and reads until it sees it,
    /// so it knows it has folded everything written before it started.
    Mark { id: String },
}

/// An event on the wire: versioned, so a later release can change the shape.
#[derive(Serialize, Deserialize)]
struct Wire {
    v: u32,
    #[serde(flatten)]
    event: ControlEvent,
}

impl ControlEvent {
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(&Wire {
            v: VERSION,
            event: self.clone(),
        })
        .expect("a control event always serializes")
    }

    /// `None` for bytes that are not an event of a version this release reads (skipped: a
    /// newer release's event, or something else someone published to the stream).
    pub fn decode(bytes: &[u8]) -> Option<ControlEvent> {
        let wire: Wire = serde_json::from_slice(bytes).ok()?;
        (wire.v == VERSION).then_some(wire.event)
    }
}

/// Why a shop is paused, since when, and by whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pause {
    pub reason: Option<String>,
    pub since: Timestamp,
    pub by: Option<String>,
}

/// What one event changed, for the log line and the metric.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change<'a> {
    Paused {
        shop: &'a str,
        pause: &'a Pause,
    },
    ReasonUpdated {
        shop: &'a str,
        pause: &'a Pause,
    },
    Resumed {
        shop: &'a str,
    },
    /// A resume of a shop that was not paused, or a mark.
    Nothing,
}

/// The paused shops, as the log says so far.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Paused {
    shops: BTreeMap<String, Pause>,
}

impl Paused {
    /// Folds `events` from the log's start.
    pub fn fold<'e>(events: impl IntoIterator<Item = &'e ControlEvent>) -> Self {
        let mut paused = Paused::default();
        for e in events {
            paused.apply(e);
        }
        paused
    }

    /// Folds one more event.
    pub fn apply<'a>(&'a mut self, event: &'a ControlEvent) -> Change<'a> {
        match event {
            ControlEvent::Pause {
                shop,
                reason,
                at,
                by,
            } => {
                let updated = self.shops.contains_key(shop);
                let pause = self.shops.entry(shop.clone()).or_insert_with(|| Pause {
                    reason: None,
                    since: *at,
                    by: None,
                });
                pause.reason = reason.clone();
                pause.by = by.clone();
                if updated {
                    Change::ReasonUpdated { shop, pause }
                } else {
                    Change::Paused { shop, pause }
                }
            }
            ControlEvent::Resume { shop, .. } => match self.shops.remove(shop) {
                Some(_) => Change::Resumed { shop },
                None => Change::Nothing,
            },
            ControlEvent::Mark { .. } => Change::Nothing,
        }
    }

    pub fn get(&self, shop: &str) -> Option<&Pause> {
        self.shops.get(shop)
    }

    pub fn contains(&self, shop: &str) -> bool {
        self.shops.contains_key(shop)
    }

    /// The paused shops, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Pause)> {
        self.shops.iter().map(|(s, p)| (s.as_str(), p))
    }

    pub fn is_empty(&self) -> bool {
        self.shops.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("instant")
    }

    fn pause(shop: &str, reason: &str, when: &str) -> ControlEvent {
        ControlEvent::Pause {
            shop: shop.into(),
            reason: Some(reason.into()),
            at: at(when),
            by: Some("ops@host".into()),
        }
    }

    fn resume(shop: &str, when: &str) -> ControlEvent {
        ControlEvent::Resume {
            shop: shop.into(),
            at: at(when),
            by: None,
        }
    }

    #[test]
    fn a_pause_holds_until_its_resume_and_the_log_order_decides() {
        let log = [
            pause("a.myshopify.com", "incident", "2026-12-01T10:00:00Z"),
            pause("b.myshopify.com", "stock count", "2026-12-01T10:01:00Z"),
            resume("a.myshopify.com", "2026-12-01T10:05:00Z"),
            ControlEvent::Mark { id: "w1".into() },
        ];
        let paused = Paused::fold(&log);
        assert!(!paused.contains("a.myshopify.com"));
        let b = paused.get("b.myshopify.com").expect("b stays paused");
        assert_eq!(b.reason.as_deref(), Some("stock count"));
        assert_eq!(b.since, at("2026-12-01T10:01:00Z"));
        // A pause after the resume pauses again, from its own time.
        let mut again = paused.clone();
        again.apply(&pause("a.myshopify.com", "again", "2026-12-01T11:00:00Z"));
        assert_eq!(
            again.get("a.myshopify.com").map(|p| p.since),
            Some(at("2026-12-01T11:00:00Z"))
        );
    }

    #[test]
    fn pausing_a_paused_shop_updates_the_reason_and_keeps_since() {
        let mut paused = Paused::default();
        let first = pause("a.myshopify.com", "incident", "2026-12-01T10:00:00Z");
        assert!(matches!(paused.apply(&first), Change::Paused { .. }));
        let second = pause("a.myshopify.com", "still broken", "2026-12-01T10:30:00Z");
        match paused.apply(&second) {
            Change::ReasonUpdated { pause, .. } => {
                assert_eq!(pause.reason.as_deref(), Some("still broken"));
                assert_eq!(pause.since, at("2026-12-01T10:00:00Z"));
            }
            other => panic!("expected a reason update, got {other:?}"),
        }
    }

    #[test]
    fn resuming_a_shop_not_paused_changes_nothing() {
        let mut paused = Paused::default();
        assert_eq!(
            paused.apply(&resume("a.myshopify.com", "2026-12-01T10:00:00Z")),
            Change::Nothing
        );
        assert!(paused.is_empty());
    }

    #[test]
    fn events_round_trip_and_unknown_versions_or_bytes_are_skipped() {
        let e = pause("a.myshopify.com", "incident", "2026-12-01T10:00:00Z");
        assert_eq!(ControlEvent::decode(&e.encode()), Some(e));
        let mark = ControlEvent::Mark { id: "x".into() };
        assert_eq!(ControlEvent::decode(&mark.encode()), Some(mark));
        assert_eq!(
            ControlEvent::decode(br#"{"v":2,"kind":"mark","id":"x"}"#),
            None
        );
        assert_eq!(ControlEvent::decode(b"not json"), None);
    }
}
