//! The plan: what orderflow will do to one order and why. A value the worker executes in order,
//! `explain` prints (its `Display`, in [`explain`](mod@super::explain)) and `--json` serialises.

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;

use super::decision::Decision;
use super::enums::FulfillmentHoldReason;
use super::policy::FulfilmentAction;

/// The hold handles orderflow places (see [`super::model::HOLD_HANDLE_PREFIX`]).
pub const FRAUD_HANDLE: &str = "orderflow-fraud";
pub const PROCESSING_HANDLE: &str = "orderflow-processing";

/// `fulfillmentCreate` and the hold inputs take at most 250 line items per list.
pub const MAX_LINES_PER_FULFILMENT: usize = 250;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub order_id: String,
    pub order_name: String,
    pub time_zone: String,
    #[serde(skip)]
    pub zone: TimeZone,
    pub planned_at: Timestamp,
    /// Why the order was left alone before any rule ran (cancelled, closed, test).
    pub skipped: Option<String>,
    pub fraud: FraudVerdict,
    pub ship_by: Option<ShipBy>,
    /// What is done about an authorized payment ([`super::capture`]).
    pub payment: super::capture::Verdict,
    pub lines: Vec<LineDecision>,
    /// Things a merchant should know that are not actions (a hold a person released, a
    /// fulfilment order held by another app, an unreadable previous decision).
    pub notes: Vec<String>,
    /// In the order they must be applied: releases, holds, decision, fulfilments, deadline,
    /// capture, tags, wake-up (the decision before the fulfilments: it records them, see [`super::taken_back`]).
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum FraudVerdict {
    /// No risk level or recommendation is configured to hold on.
    Off,
    /// Nothing to hold on.
    Clear,
    /// A provider is still assessing: nothing is fulfilled until it is done.
    Pending,
    /// The rules want a fraud hold.
    Hold { rule: String, reason: String },
    /// Shopify recommends accepting; our fraud holds are released.
    Accepted,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShipBy {
    pub date: Date,
    /// The cut-off instant of `date` in the shop's zone.
    pub at: Timestamp,
    pub days: u32,
    pub rule: String,
}

/// The fulfilment decision for one fulfilment-order line (or an order line no fulfilment order
/// holds any more).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineDecision {
    pub fulfillment_order: Option<String>,
    pub line_item: String,
    pub name: String,
    pub remaining: u32,
    pub action: FulfilmentAction,
    pub action_rule: String,
    pub days: u32,
    pub days_rule: String,
    pub ship_by: Date,
    /// What happens to it now, in words.
    pub outcome: String,
}

/// One action with the rule that caused it and a sentence a merchant understands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub action: Action,
    pub rule: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// `fulfillmentOrderReleaseHold` with exactly these hold ids (never without: that would
    /// release everyone's holds).
    Release {
        fulfillment_order: String,
        hold_ids: Vec<String>,
    },
    /// `fulfillmentOrderHold` on the whole fulfilment order.
    Hold {
        fulfillment_order: String,
        handle: String,
        reason: FulfillmentHoldReason,
        notes: String,
        notify_merchant: bool,
    },
    /// `fulfillmentCreate` for some or all of a fulfilment order's lines.
    Fulfill {
        fulfillment_order: String,
        lines: Vec<FulfillLine>,
        notify_customer: bool,
    },
    TagsAdd {
        tags: Vec<String>,
    },
    TagsRemove {
        tags: Vec<String>,
    },
    /// `metafieldsSet` of the decision metafield.
    SetDecision {
        decision: Decision,
    },
    /// `fulfillmentOrdersSetFulfillmentDeadline`: Shopify's own deadline (`fulfillBy`) on these
    /// fulfilment orders becomes the order's ship-by instant, so the admin and other apps see it.
    SetDeadline {
        fulfillment_orders: Vec<String>,
        at: Timestamp,
    },
    /// `orderClose`: archive the finished order.
    Close,
    /// `orderCapture` of what is left of one authorization (see [`super::capture`]).
    Capture {
        parent_transaction: String,
        amount: rust_decimal::Decimal,
        /// The presentment currency, sent when it differs from the shop's.
        currency: Option<String>,
        final_capture: Option<bool>,
    },
    /// Plan this order again at `at` (not a change: a plan with only this is empty).
    WakeUp {
        at: Timestamp,
    },
}

impl Action {
    /// A short stable name: the `kind` label of the actions metric, and what tests compare.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::Release { .. } => "release",
            Action::Hold { .. } => "hold",
            Action::Fulfill { .. } => "fulfill",
            Action::TagsAdd { .. } => "tags_add",
            Action::TagsRemove { .. } => "tags_remove",
            Action::SetDecision { .. } => "set_decision",
            Action::SetDeadline { .. } => "set_deadline",
            Action::Close => "close",
            Action::Capture { .. } => "capture",
            Action::WakeUp { .. } => "wake_up",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FulfillLine {
    /// The fulfilment-order line item id.
    pub id: String,
    pub quantity: u32,
}

/// A date as a merchant reads it: "Wed 25 Nov".
pub fn day(date: Date) -> String {
    date.strftime("%a %-d %b").to_string()
}

impl Plan {
    /// Nothing to change on the order: the rules are already satisfied. A wake-up alone is
    /// not a change.
    pub fn is_empty(&self) -> bool {
        self.changes().next().is_none()
    }

    /// The steps that change the order (everything but the wake-up).
    pub fn changes(&self) -> impl Iterator<Item = &Step> {
        self.steps
            .iter()
            .filter(|s| !matches!(s.action, Action::WakeUp { .. }))
    }

    pub fn wake_up(&self) -> Option<Timestamp> {
        self.steps.iter().find_map(|s| match s.action {
            Action::WakeUp { at } => Some(at),
            _ => None,
        })
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a plan serialises")
    }
}
