//! Rebuilds the crate when a file under `migrations/` changes: `sqlx::migrate!` embeds them at
//! compile time, and cargo would not notice a new migration on its own.

fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
