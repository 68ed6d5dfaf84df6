//! RabbitMQ, and the only module that speaks to it: topology, a supervised connection, a
//! publisher that counts a message as sent only when it is confirmed and routed, the consume
//! loops with deliveries settled by value, the dead-letter queue's reading passes, the sweep's lease, and an admin
//! connection for tools. Knows nothing about orders: messages are `event`'s.

pub mod admin;
pub mod connection;
pub mod consumer;
pub mod control;
pub mod dead_letter;
pub mod delay;
pub mod inspect;
pub mod lease;
pub mod names;
pub mod publisher;
pub mod topology;

use std::time::Duration;

pub use admin::Admin;
pub use connection::{Broker, Session};
pub use lease::Lease;
pub use names::Names;
pub use publisher::{Outgoing, Publisher};
pub use topology::Topology;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("not connected to the broker")]
    Unavailable,
    #[error("the broker did not confirm the publish within {0:?}")]
    ConfirmTimeout(Duration),
    #[error("the broker refused the message (nack)")]
    Nacked,
    #[error("the message could not be routed: {0}")]
    Unroutable(String),
    #[error("broker error: {0}")]
    Broker(String),
}

impl QueueError {
    /// lapin's errors are kept as text: they can be large and are not `Clone`; nothing in them
    /// is secret (the URL is never part of them; a test checks the logs).
    pub(crate) fn from_lapin(e: lapin::Error) -> Self {
        QueueError::Broker(e.to_string())
    }
}
