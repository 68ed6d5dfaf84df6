//! A `shops` row in and out of SQL: the column list every read selects, instants as whole
//! microseconds since the epoch (PostgreSQL's `timestamptz` precision; sqlx has no `jiff`
//! support, so the conversion is written in SQL), and the decryption of the token columns.

use jiff::Timestamp;
use sqlx::Row as _;
use sqlx::postgres::PgRow;

use super::cipher::{Cipher, Column};
use super::{StoreError, StoredShop};
use crate::id::ShopDomain;

/// The columns of a [`StoredShop`], instants as microseconds; every `SELECT` and `RETURNING`
/// uses this list, and [`decode`] reads it by name.
pub(super) const COLUMNS: &str = "domain, \
    (extract(epoch FROM installed_at) * 1000000)::int8 AS installed_us, \
    (extract(epoch FROM uninstalled_at) * 1000000)::int8 AS uninstalled_us, \
    scopes, time_zone, access_token, \
    (extract(epoch FROM access_expires_at) * 1000000)::int8 AS access_expires_us, \
    refresh_token, \
    (extract(epoch FROM refresh_expires_at) * 1000000)::int8 AS refresh_expires_us, \
    previous_refresh_token, \
    (extract(epoch FROM last_refresh_at) * 1000000)::int8 AS last_refresh_us, \
    version";

/// A statement assembled from this module's constants ([`COLUMNS`], [`instant`]) and never
/// from input: every value is a bind parameter.
pub(super) fn trusted(sql: String) -> sqlx::AssertSqlSafe<String> {
    sqlx::AssertSqlSafe(sql)
}

/// The SQL that turns bind parameter `$n` (microseconds, or NULL) into a `timestamptz`.
pub(super) fn instant(n: u8) -> String {
    format!("('epoch'::timestamptz + ${n}::int8 * interval '1 microsecond')")
}

/// An instant as the microseconds the SQL of [`instant`] reads (sub-microsecond parts are
/// dropped, as PostgreSQL would).
pub(super) fn micros(t: Option<Timestamp>) -> Option<i64> {
    t.map(Timestamp::as_microsecond)
}

fn timestamp(row: &PgRow, column: &str) -> Result<Option<Timestamp>, StoreError> {
    row.try_get::<Option<i64>, _>(column)?
        .map(|us| {
            Timestamp::from_microsecond(us).map_err(|e| StoreError::Corrupt {
                problem: format!("{column}: {e}"),
            })
        })
        .transpose()
}

pub(super) fn decode(row: &PgRow, cipher: &Cipher) -> Result<StoredShop, StoreError> {
    let domain: String = row.try_get("domain")?;
    let domain = ShopDomain::parse(&domain).map_err(|e| StoreError::Corrupt {
        problem: format!("domain: {e}"),
    })?;
    let token = |column: Column| {
        row.try_get::<Option<Vec<u8>>, _>(column.name())?
            .map(|sealed| cipher.open(&domain, column, &sealed))
            .transpose()
    };
    Ok(StoredShop {
        installed_at: timestamp(row, "installed_us")?.ok_or_else(|| StoreError::Corrupt {
            problem: "installed_at is NULL".to_owned(),
        })?,
        uninstalled_at: timestamp(row, "uninstalled_us")?,
        scopes: row.try_get("scopes")?,
        time_zone: row.try_get("time_zone")?,
        access_token: token(Column::Access)?,
        access_expires_at: timestamp(row, "access_expires_us")?,
        refresh_token: token(Column::Refresh)?,
        refresh_expires_at: timestamp(row, "refresh_expires_us")?,
        previous_refresh_token: token(Column::PreviousRefresh)?,
        last_refresh_at: timestamp(row, "last_refresh_us")?,
        version: row.try_get("version")?,
        domain,
    })
}
