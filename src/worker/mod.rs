//! Workers: consume the partition queues and bring each order to the state its shop's rules
//! ask for. This module owns the policy: what a message's `Disposition` is (the order logic is
//! a `Handler`) and how each is settled (ack, delay, retry, dead-letter, re-route). The consume
//! loops, acks and the broker itself are `queue`'s; the message contract is `event`'s.

pub mod coalesce;
pub mod compliance;
pub mod consumer;
pub mod disposition;
pub mod holds;
pub mod missed;
pub mod order;
pub mod paused;

pub use crate::event::Incoming;
pub use consumer::{Consumers, Handler, Observer};
pub use disposition::{Disposition, Settled, Settler};
