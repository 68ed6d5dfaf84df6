//! Faults under load, each test bounded in time: a three-node broker cluster losing the node
//! that leads the queues, a node cut off from orderflow, a memory alarm (each of those holds the
//! shared cluster, `harness::cluster`, alone); and whole worker processes killed at random
//! moments.

mod cluster;
pub(crate) mod kills;
mod load;
mod topology;
