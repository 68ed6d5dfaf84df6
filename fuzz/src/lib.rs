//! The checks every fuzz target runs; see `checks.rs`.

pub mod checks;
