//! Faults of the broker under load: a three-node cluster losing the node that leads the
//! queues, a node cut off from orderflow, a memory alarm. Each test holds the shared cluster
//! (`harness::cluster`) alone and is bounded in time.

mod cluster;
mod load;
mod topology;
