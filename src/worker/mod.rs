//! Workers: consume the partition queues and bring each order to the state its shop's rules
//! ask for. This module owns the consume loops and how a message is settled (ack, delay,
//! retry, dead-letter, re-route); the order logic is a `Handler`.

pub mod compliance;
pub mod consumer;
pub mod disposition;
pub mod order;

pub use crate::event::Incoming;
pub use consumer::{Consumers, Handler, Observer};
pub use disposition::{Disposition, Settled, Settler};
