//! Coalescing: skip the snapshot read when a webhook provably adds nothing to what the worker
//! already knows of its order. The handler is level-triggered (every message re-reads the
//! order), so under a real webhook mix an order would cost one read per webhook: the ones
//! Shopify sends for the order's creation and payment, the echoes of orderflow's own changes,
//! and the duplicates that land on another receiver. Two facts make most of them redundant:
//!
//! - **covered by a read**: the event happened before the last read of its order started, so
//!   that read already saw it. "Before" is told two ways: by the body's `updated_at` against the
//!   snapshot's own `updatedAt` (both Shopify's clock; orders/* bodies only, where `updated_at`
//!   is the order's), or by `X-Shopify-Triggered-At` at least [`SKEW_MARGIN`] before the read
//!   started by the worker's clock (any topic). A duplicate on a second receiver is the same
//!   event again, so it is covered the same way.
//! - **own echo**: the event announces a change orderflow itself made, recognised from what the
//!   mutation answered, never guessed: the order's `updatedAt` in the payload (tags, metafield,
//!   holds, fulfilments) against the body's `updated_at`, the created fulfilment's id against
//!   a fulfillments/create body, the placed or released hold's id against a hold topic's body.
//!   The plan that made the change already accounted for it (and asked for any wake-up it needs).
//!   A mutation that answers no `updatedAt` (the fulfil-by deadline's payload has only
//!   `success`) is bounded instead by the stamps of the steps before and after it in the same
//!   pass: one event strictly inside that window is its echo; a second one there means two
//!   changes happened in those milliseconds, and reads. If Shopify sent no webhook for ours,
//!   a person's change inside the window would be taken for it: the next wake-up or the sweep
//!   bring it in, as for the same-second case below.
//!
//! Only webhooks are candidates ([`candidate`]): a wake-up back from a delay tier (its plan
//! depends on the time), a retry, a redelivery, the sweep's and the CLI's wake-ups and `dlq
//! replay`'s messages always read. The memory is written only after a pass that ended well (a
//! failed step forgets the order: the retry reads), is bounded (LRU) and is dropped when a
//! consumer restarts; forgetting costs a read, never a wrong state. A person's change races
//! orderflow's own as its own event, with its own `updated_at` and trigger time after the read,
//! so it is read; when Shopify's second-precision times make it look like one of ours (the same
//! second as our change), the next wake-up or the sweep, which always read, bring it in.

use std::num::NonZeroUsize;
use std::sync::Mutex;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use lru::LruCache;
use serde::Deserialize;

use crate::event::{Incoming, Kind, header};

/// `X-Shopify-Triggered-At` is Shopify's clock and the read's start is ours: an event counts as
/// before the read only when it triggered this much earlier, so a worker clock up to this far
/// behind Shopify's never takes a later event for an earlier one.
pub const SKEW_MARGIN: Duration = Duration::from_secs(5);

/// Orders remembered; one not among the last this many costs a read at its next webhook.
pub const CAPACITY: usize = 100_000;

/// Echoes remembered per order (a few passes' worth of changes).
pub const MAX_ECHOES: usize = 32;

/// Why an event was skipped: the `reason` of `orderflow_events_coalesced_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    CoveredByRead,
    OwnEcho,
}

impl Reason {
    pub const ALL: [Reason; 2] = [Reason::CoveredByRead, Reason::OwnEcho];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::CoveredByRead => "covered_by_read",
            Reason::OwnEcho => "own_echo",
        }
    }
}

/// A change orderflow made, as its mutation answered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Echo {
    /// The order's `updatedAt` after the change.
    UpdatedAt(Timestamp),
    /// A fulfilment it created (`gid://shopify/Fulfillment/…`).
    Fulfillment(String),
    /// A hold it placed (`gid://shopify/FulfillmentHold/…`).
    HoldPlaced(String),
    /// A hold it released.
    HoldReleased(String),
    /// A change whose mutation answers no `updatedAt` (the fulfil-by deadline, a capture,
    /// closing the order): Shopify stamped it strictly between `after` and `before`, the
    /// `updatedAt`s orderflow saw just before and just after it in the same pass. The first
    /// event in that window is taken for it (`claimed`); another event in the window, with
    /// another `updated_at`, means a second change happened there, and reads.
    Between {
        after: Timestamp,
        before: Timestamp,
        claimed: Option<Timestamp>,
    },
}

/// The echoes of one pass, collected step by step in the order the mutations ran, so a change
/// without a stamp of its own is bounded by the stamps around it ([`Echo::Between`]).
#[derive(Debug, Default)]
pub struct PassEchoes {
    echoes: Vec<Echo>,
    /// The order's latest `updatedAt` known so far: the read's, then each mutation's.
    last_stamp: Option<Timestamp>,
    /// Changes made since `last_stamp` whose mutation answered no stamp.
    unstamped: usize,
}

impl PassEchoes {
    /// A pass that starts from a read whose snapshot has `read_updated_at`.
    pub fn after_read(read_updated_at: Option<Timestamp>) -> Self {
        Self {
            last_stamp: read_updated_at,
            ..Self::default()
        }
    }

    /// A step that succeeded: what its mutation answered, and whether it changed the order
    /// without answering the order's `updatedAt`.
    pub fn step(&mut self, made: &[Echo], unstamped_change: bool) {
        for echo in made {
            if let Echo::UpdatedAt(stamp) = echo {
                if let Some(after) = self.last_stamp {
                    for _ in 0..self.unstamped {
                        self.echoes.push(Echo::Between {
                            after,
                            before: *stamp,
                            claimed: None,
                        });
                    }
                }
                self.unstamped = 0;
                self.last_stamp = Some(*stamp);
            }
            self.echoes.push(echo.clone());
        }
        let stamped = made.iter().any(|e| matches!(e, Echo::UpdatedAt(_)));
        if unstamped_change && !stamped {
            self.unstamped += 1;
        }
    }

    /// The echoes to remember. A change with no stamp after it has no window: its echo reads.
    pub fn finish(self) -> Vec<Echo> {
        self.echoes
    }
}

/// What the last pass over an order learnt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Memory {
    /// When the last read started, by the worker's clock.
    pub read_started: Timestamp,
    /// The snapshot's `updatedAt`: the last change that read reflects.
    pub read_updated_at: Option<Timestamp>,
    /// orderflow's own changes since (and of earlier passes), newest last.
    pub echoes: Vec<Echo>,
}

/// What a webhook says about its event, read off its headers and body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub triggered_at: Option<Timestamp>,
    /// The order's `updated_at` (orders/* bodies, which are the order).
    pub updated_at: Option<Timestamp>,
    /// The fulfilment a fulfillments/* body is.
    pub fulfillment: Option<String>,
    /// The hold a placed-on-hold or hold-added body announces.
    pub hold_placed: Option<String>,
    /// The hold a hold-released body announces.
    pub hold_released: Option<String>,
}

/// orders/* topics whose body is the order (so `updated_at` is the order's).
const ORDER_BODY_TOPICS: [&str; 6] = [
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
];

/// A webhook as Shopify delivered it, and nothing orderflow made or sent again: not a wake-up
/// or a retry (they carry the delay headers), not a redelivery (the pass before may not have
/// finished), not a replay, not the sweep's or the CLI's (`orderflow/…` topics).
pub fn candidate(msg: &Incoming) -> bool {
    !msg.redelivered
        && !msg.topic().starts_with("orderflow/")
        && msg.header(header::delay::WHY).is_none()
        && msg.header(header::delay::DUE_AT).is_none()
        && msg.header(header::REPLAYED).is_none()
        && msg.header(header::ATTEMPTS).is_none()
        && matches!(
            msg.message_kind(),
            Some(Kind::Order | Kind::FulfillmentOrder)
        )
}

#[derive(Deserialize)]
struct Body {
    updated_at: Option<Timestamp>,
    admin_graphql_api_id: Option<String>,
    fulfillment_hold: Option<Id>,
    created_fulfillment_hold: Option<Id>,
}

#[derive(Deserialize)]
struct Id {
    id: Option<String>,
}

/// The facts of a candidate webhook; `None` for anything that must read.
pub fn facts(msg: &Incoming) -> Option<Facts> {
    if !candidate(msg) {
        return None;
    }
    let topic = msg.topic();
    let mut facts = Facts {
        triggered_at: msg
            .header(header::TRIGGERED_AT)
            .and_then(|t| t.parse().ok()),
        ..Facts::default()
    };
    let order_body = ORDER_BODY_TOPICS.contains(&topic);
    let reads_body = order_body
        || topic.starts_with("fulfillments/")
        || topic.starts_with("fulfillment_holds/")
        || topic == "fulfillment_orders/placed_on_hold";
    if !reads_body {
        return Some(facts);
    }
    // A body that does not parse as expected only loses the body's facts.
    let Ok(body) = serde_json::from_slice::<Body>(&msg.body) else {
        return Some(facts);
    };
    let hold = |h: Option<Id>| h.and_then(|h| h.id);
    match topic {
        _ if order_body => facts.updated_at = body.updated_at,
        "fulfillments/create" => facts.fulfillment = body.admin_graphql_api_id,
        "fulfillment_holds/added" => facts.hold_placed = hold(body.fulfillment_hold),
        "fulfillment_orders/placed_on_hold" => {
            facts.hold_placed = hold(body.created_fulfillment_hold);
        }
        "fulfillment_holds/released" => facts.hold_released = hold(body.fulfillment_hold),
        _ => {}
    }
    Some(facts)
}

/// The rule: whether `memory` already covers the event `facts` describes. Pure but for one
/// write: an event taken for a change without a stamp claims that change's window.
pub fn judge(facts: &Facts, memory: &mut Memory) -> Option<Reason> {
    let echoed = |e: &Echo| match e {
        Echo::UpdatedAt(at) => facts.updated_at == Some(*at),
        Echo::Fulfillment(id) => facts.fulfillment.as_ref() == Some(id),
        Echo::HoldPlaced(id) => facts.hold_placed.as_ref() == Some(id),
        Echo::HoldReleased(id) => facts.hold_released.as_ref() == Some(id),
        Echo::Between { claimed, .. } => claimed.is_some() && facts.updated_at == *claimed,
    };
    if let (Some(event), Some(read)) = (facts.updated_at, memory.read_updated_at)
        && event <= read
    {
        return Some(Reason::CoveredByRead);
    }
    let margin = SignedDuration::try_from(SKEW_MARGIN).unwrap_or(SignedDuration::ZERO);
    if let Some(triggered) = facts.triggered_at
        && triggered
            .checked_add(margin)
            .is_ok_and(|t| t <= memory.read_started)
    {
        return Some(Reason::CoveredByRead);
    }
    if memory.echoes.iter().any(echoed) {
        return Some(Reason::OwnEcho);
    }
    let event = facts.updated_at?;
    let window = memory.echoes.iter_mut().find_map(|e| match e {
        Echo::Between {
            after,
            before,
            claimed,
        } if claimed.is_none() && *after < event && event < *before => Some(claimed),
        _ => None,
    })?;
    *window = Some(event);
    Some(Reason::OwnEcho)
}

/// The worker's memory of its orders' last passes, shared by its partitions' consumers (each
/// order has one partition, so its entries are written by one consumer at a time).
pub struct Coalescer {
    inner: Mutex<Inner>,
}

struct Inner {
    orders: LruCache<(String, u64), Memory>,
    /// The holds orderflow placed or released, by shop and hold id: a hold topic arrives on the
    /// fulfilment order's partition, before its order is known, and is an echo by its id alone.
    holds: LruCache<(String, String), ()>,
}

impl Default for Coalescer {
    fn default() -> Self {
        Self::new(CAPACITY)
    }
}

impl std::fmt::Debug for Coalescer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Coalescer")
    }
}

impl Coalescer {
    pub fn new(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            inner: Mutex::new(Inner {
                orders: LruCache::new(capacity),
                holds: LruCache::new(capacity),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether an order message is covered by what this worker remembers of the order.
    pub fn covered(&self, shop: &str, order: u64, msg: &Incoming) -> Option<Reason> {
        let facts = facts(msg)?;
        let mut inner = self.lock();
        judge(&facts, inner.orders.get_mut(&(shop.to_owned(), order))?)
    }

    /// Whether a fulfilment order message (order not yet known) echoes a hold of ours.
    pub fn covered_hold(&self, shop: &str, msg: &Incoming) -> Option<Reason> {
        let facts = facts(msg)?;
        let hold = facts.hold_placed.or(facts.hold_released)?;
        let mut inner = self.lock();
        inner
            .holds
            .get(&(shop.to_owned(), hold))
            .map(|()| Reason::OwnEcho)
    }

    /// A pass that ended well: its read and the changes it made.
    pub fn remember(
        &self,
        shop: &str,
        order: u64,
        read_started: Timestamp,
        read_updated_at: Option<Timestamp>,
        echoes: Vec<Echo>,
    ) {
        let mut inner = self.lock();
        for e in &echoes {
            if let Echo::HoldPlaced(id) | Echo::HoldReleased(id) = e {
                inner.holds.put((shop.to_owned(), id.clone()), ());
            }
        }
        let key = (shop.to_owned(), order);
        let mut all = inner.orders.pop(&key).map(|m| m.echoes).unwrap_or_default();
        all.extend(echoes);
        let excess = all.len().saturating_sub(MAX_ECHOES);
        all.drain(..excess);
        inner.orders.put(
            key,
            Memory {
                read_started,
                read_updated_at,
                echoes: all,
            },
        );
    }

    /// A pass that did not end well: the next event of the order reads.
    pub fn forget(&self, shop: &str, order: u64) {
        self.lock().orders.pop(&(shop.to_owned(), order));
    }

    /// A consumer (re)started: another worker may have had its partition meanwhile. Starting
    /// afresh costs reads only.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.orders.clear();
        inner.holds.clear();
    }
}

#[cfg(test)]
#[path = "coalesce_tests.rs"]
mod tests;
