//! The periodic reconciliation sweep: the safety net for webhooks that never came. Every
//! `[sweep] every`, each known shop's orders updated since its last sweep's start (minus the
//! overlap) are woken on their partitions, like webhooks, so any order whose webhook was lost
//! is brought to the rules' state within one interval. One process sweeps at a time, whatever
//! the number of replicas: the lock and the durable watermarks are a message in a
//! single-active-consumer queue (`queue::lease`). `state` is the pure core (windows, merges,
//! watermarks); `runner` the task `orderflow run` and `work` start; `wake` the one wake-up
//! message, shared with `orderflow reconcile`.

mod runner;
pub mod state;
pub mod wake;

pub use runner::{SweepError, Sweeper};
pub use state::{SweepState, Window};
