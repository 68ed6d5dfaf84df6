//! Faults injected into whole processes: the worker killed at random moments.

mod kills;
