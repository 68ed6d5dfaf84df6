//! The test database guard lives in the harness (other suites use it too).

pub use crate::harness::db::{KEY, OTHER_KEY, TestDb};
