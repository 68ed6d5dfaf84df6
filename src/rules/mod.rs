//! The rules engine: pure `(order, rules, now) -> Plan`.
//!
//! No I/O, no clock, no async, no logging: the worker passes the order it fetched, the shop's
//! [`Rules`] and the time, and gets back a [`Plan`], a value listing every action with the rule
//! that caused it and a sentence that explains it. Its `Display` is what `orderflow explain`
//! prints; it serialises for `--json`.
//!
//! - [`model`]: the order as the rules see it;
//! - [`policy`], [`matcher`]: the merchant's rules, typed (config's loader validates them);
//! - [`plan`](mod@plan) and [`reconcile`]: the desired state diffed against the order;
//! - [`decision`]: what we record on the order and read back next time;
//! - [`archive`]: closing finished orders, and a person's reopening winning;
//! - [`capture`]: capturing authorized payments, before they expire at the latest;
//! - [`deadline`]: Shopify's fulfil-by deadline kept equal to our ship-by instant;
//! - [`taken_back`]: our fulfilments, and the lines a person took back by cancelling one;
//! - [`explain`](mod@explain): the plan in words;
//! - [`compare`]: two plans of one order under two rule sets, what `simulate` reports.

pub mod archive;
pub mod cancel;
pub mod capture;
pub mod compare;
pub mod deadline;
pub mod decision;
pub mod enums;
pub mod explain;
mod fraud;
mod fulfil;
mod holds;
mod line;
pub mod matcher;
pub mod model;
pub mod plan;
pub mod policy;
pub mod reconcile;
mod tags;
pub mod taken_back;
mod work;

pub use explain::explain;
pub use model::{
    Fulfillment, FulfillmentLine, FulfillmentOrder, FulfillmentOrderLineItem, Hold, LineItem,
    Order, Risk,
};
pub use plan::{Action, Plan, Step};
pub use policy::{FulfilmentAction, Rules};
pub use reconcile::plan;
