//! The integration test binary: one per crate, modules per area.

mod architecture;
