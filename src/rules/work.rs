//! The two values every part of the planner shares: `Cx`, what the parts read, and `Work`, what
//! they write. They live apart from `plan` so that `holds` and `fulfil` depend on these values
//! and not on the planner that calls them (no file cycle inside the engine).

use std::collections::BTreeSet;

use jiff::Timestamp;

use super::decision::{Decision, FulfilmentRecord, HoldKey, HoldRecord};
use super::fraud::Fraud;
use super::line::Classified;
use super::plan::Step;
use super::policy::Rules;

/// What every part of the plan reads.
pub(super) struct Cx<'a> {
    pub rules: &'a Rules,
    pub now: Timestamp,
    pub lines: &'a [Classified<'a>],
    pub fraud: &'a Fraud,
    pub prev: Option<&'a Decision>,
}

/// What the parts of the plan write, gathered so the steps come out in apply order.
pub(super) struct Work {
    pub releases: Vec<Step>,
    pub holds: Vec<Step>,
    pub fulfils: Vec<Step>,
    /// A record per fulfilment this plan creates, for the decision.
    pub fulfil_records: Vec<FulfilmentRecord>,
    /// Our holds once the plan is applied.
    pub after_holds: Vec<HoldRecord>,
    pub released_by_person: BTreeSet<HoldKey>,
    /// Per classified line, what happens to it.
    pub outcomes: Vec<String>,
    pub notes: Vec<String>,
    /// The earliest wake-up asked for: (at, rule, reason).
    pub(super) wake: Option<(Timestamp, String, String)>,
}

impl Work {
    /// Asks for a wake-up; the reason is only worded when it is the earliest so far.
    pub fn wake_at(&mut self, at: Timestamp, rule: &str, reason: impl FnOnce() -> String) {
        if self.wake.as_ref().is_none_or(|(w, _, _)| at < *w) {
            self.wake = Some((at, rule.to_owned(), reason()));
        }
    }
}
