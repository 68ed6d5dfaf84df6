//! What can go wrong with the token store, and which of it is worth retrying. No variant
//! carries a token or the key: the database's own messages never see a plaintext token (the
//! store sends only ciphertexts), and decryption failures name the shop and the column only.

use std::time::Duration;

use crate::id::ShopDomain;

#[derive(thiserror::Error, Debug)]
pub enum StoreError {
    #[error("the token store's database failed")]
    Database(#[from] sqlx::Error),
    #[error("the token store's migrations could not be applied")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("store.encryption_key is not the base64 of exactly 32 bytes")]
    Key,
    #[error("the {column} of {shop} could not be encrypted")]
    Encrypt {
        shop: ShopDomain,
        column: &'static str,
    },
    #[error(
        "the {column} of {shop} does not decrypt: store.encryption_key is not the key it was written with, or the value is damaged"
    )]
    Decrypt {
        shop: ShopDomain,
        column: &'static str,
    },
    #[error("the token store holds a row it cannot read ({problem})")]
    Corrupt { problem: String },
    #[error("{0} has no tokens in the store: it is not installed, or it was uninstalled")]
    NotInstalled(ShopDomain),
    #[error("another process held the refresh lock of {shop} for more than {waited:?}")]
    LockTimeout { shop: ShopDomain, waited: Duration },
    #[error(
        "the token store's notification connection was lost: changes may have been missed, re-read the installed shops"
    )]
    ChangesLost,
}

/// SQLSTATE classes and codes that mean "try again later": connection exceptions (08),
/// insufficient resources (53), operator intervention such as a shutdown (57P01..57P03),
/// serialization failure and deadlock (40001, 40P01), lock not available (55P03).
fn transient_sqlstate(code: &str) -> bool {
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "40001" | "40P01" | "55P03"
        )
}

fn transient_sqlx(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::BeginFailed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|c| transient_sqlstate(&c)),
        _ => false,
    }
}

impl StoreError {
    /// True when the same call may succeed later: the database is down, unreachable, restarting
    /// or busy, another process holds the shop's refresh lock, or the change stream lost its
    /// connection. A wrong key, a damaged row or a shop that is not installed stays so.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Database(e) => transient_sqlx(e),
            StoreError::Migrate(
                sqlx::migrate::MigrateError::Execute(e)
                | sqlx::migrate::MigrateError::ExecuteMigration(e, _),
            ) => transient_sqlx(e),
            StoreError::LockTimeout { .. } | StoreError::ChangesLost => true,
            StoreError::Migrate(_)
            | StoreError::Key
            | StoreError::Encrypt { .. }
            | StoreError::Decrypt { .. }
            | StoreError::Corrupt { .. }
            | StoreError::NotInstalled(_) => false,
        }
    }

    /// True for PostgreSQL's "lock not available" (the `lock_timeout` ran out).
    pub(super) fn is_lock_timeout(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if db.code().as_deref() == Some("55P03"))
    }
}

impl StoreError {
    /// The store's message and the database's reason under it, for logs and errors. A
    /// configuration error's text is left out: it is about the URL, which may hold a password.
    pub fn describe(&self) -> String {
        match self {
            StoreError::Database(sqlx::Error::Configuration(_)) => self.to_string(),
            e => match std::error::Error::source(e) {
                Some(source) => format!("{e}: {source}"),
                None => e.to_string(),
            },
        }
    }
}
