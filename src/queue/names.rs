//! Every exchange, queue and routing key, derived from `amqp.prefix`, so a test's prefix isolates
//! it completely.

use super::delay::Tier;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    prefix: String,
}

impl Names {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
        }
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The direct exchange every message is published to.
    pub fn events_exchange(&self) -> String {
        format!("{}.events", self.prefix)
    }

    pub fn partition_queue(&self, partition: u16) -> String {
        format!("{}.orders.{partition}", self.prefix)
    }

    pub fn dead_queue(&self) -> String {
        format!("{}.dead", self.prefix)
    }

    pub fn compliance_queue(&self) -> String {
        format!("{}.compliance", self.prefix)
    }

    /// The sweep's state and lock: one message, consumed by a single active consumer.
    pub fn sweep_queue(&self) -> String {
        format!("{}.sweep", self.prefix)
    }

    /// The control log (`orderflow pause`/`resume`): a stream every worker reads from its start.
    pub fn control_stream(&self) -> String {
        format!("{}.control", self.prefix)
    }

    /// One fanout exchange per tier, so a delayed message keeps its final routing key.
    pub fn delay_exchange(&self, tier: Tier) -> String {
        format!("{}.delay.{}", self.prefix, tier.name())
    }

    pub fn delay_queue(&self, tier: Tier) -> String {
        format!("{}.delay.{}", self.prefix, tier.name())
    }
}

/// Routing keys on the events exchange.
pub mod key {
    pub fn partition(partition: u16) -> String {
        format!("p.{partition}")
    }
    pub const COMPLIANCE: &str = "compliance";
    pub const DEAD: &str = "dead";
    pub const SWEEP: &str = "sweep";
}
