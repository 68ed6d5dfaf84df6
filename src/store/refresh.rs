//! One refresh of one shop at a time, across processes: the shop's row is locked
//! (`SELECT … FOR UPDATE` in a transaction whose `lock_timeout` bounds the wait) for the whole
//! call to Shopify, and the new pair is written in the same transaction. A process that waited
//! gets the row as the holder left it, so it sees the token just written and need not refresh.

use std::future::Future;
use std::time::Duration;

use jiff::Timestamp;
use secrecy::ExposeSecret;

use super::cipher::Column;
use super::row::{self, COLUMNS, instant, micros, trusted};
use super::{Store, StoreError, StoredShop, TokenGrant};
use crate::id::ShopDomain;

impl Store {
    /// Runs `refresh` with the shop's row locked (one process per shop at a time, across
    /// processes; waits at most `lock_timeout` for another holder, then
    /// [`StoreError::LockTimeout`]), and writes the grant it returns atomically (version + 1,
    /// `last_refresh_at = now`). `refresh` gets the row as it is once the lock is held, so a
    /// waiter sees the token another process just wrote and can return `Ok(None)` to keep it.
    ///
    /// On a grant, the refresh token the row held becomes `previous_refresh_token` (unless the
    /// grant returned that same token), so a later refresh whose answer is lost can be retried
    /// with it. If `refresh` fails, nothing is written: the old pair stays, and the error comes
    /// back as the inner `Err`. If the write itself fails after Shopify answered, the old pair
    /// also stays; Shopify (2026-08) accepts the refresh token used until its successor is
    /// used, so the next refresh recovers. An empty `scopes` in the grant keeps the stored one.
    /// A shop not in the store, or uninstalled, is [`StoreError::NotInstalled`] and `refresh`
    /// is not called.
    pub async fn refresh<F, Fut, E>(
        &self,
        shop: &ShopDomain,
        lock_timeout: Duration,
        now: Timestamp,
        refresh: F,
    ) -> Result<Result<StoredShop, E>, StoreError>
    where
        F: FnOnce(StoredShop) -> Fut,
        Fut: Future<Output = Result<Option<TokenGrant>, E>>,
    {
        let mut tx = self.pool.begin().await?;
        // `SET LOCAL` takes no parameters; `set_config(…, true)` is its function form. Zero
        // would mean "wait forever", so the timeout is at least a millisecond.
        let timeout_ms = lock_timeout.as_millis().clamp(1, i32::MAX as u128);
        sqlx::query("SELECT set_config('lock_timeout', $1, true)")
            .bind(format!("{timeout_ms}ms"))
            .execute(&mut *tx)
            .await?;
        let sql = format!("SELECT {COLUMNS} FROM shops WHERE domain = $1 FOR UPDATE");
        let locked = sqlx::query(trusted(sql))
            .bind(shop.as_str())
            .fetch_optional(&mut *tx)
            .await
            .map_err(|e| {
                if StoreError::is_lock_timeout(&e) {
                    StoreError::LockTimeout {
                        shop: shop.clone(),
                        waited: lock_timeout,
                    }
                } else {
                    StoreError::Database(e)
                }
            })?;
        let current = match locked {
            Some(r) => row::decode(&r, &self.cipher)?,
            None => return Err(StoreError::NotInstalled(shop.clone())),
        };
        if current.uninstalled_at.is_some() || current.access_token.is_none() {
            return Err(StoreError::NotInstalled(shop.clone()));
        }
        let previous = current.refresh_token.clone();
        let kept_previous = current.previous_refresh_token.clone();
        let grant = match refresh(current.clone()).await {
            // Dropping the transaction rolls it back and releases the lock.
            Err(e) => return Ok(Err(e)),
            Ok(None) => {
                tx.commit().await?;
                return Ok(Ok(current));
            }
            Ok(Some(grant)) => grant,
        };
        let same_refresh_token = match (&previous, &grant.refresh_token) {
            (Some(old), Some(new)) => old.expose_secret() == new.expose_secret(),
            _ => false,
        };
        let previous = if same_refresh_token {
            kept_previous
        } else {
            previous
        };
        let access = self
            .cipher
            .seal(shop, Column::Access, &grant.access_token)?;
        let refresh_token =
            self.seal_optional(shop, Column::Refresh, grant.refresh_token.as_ref())?;
        let previous = self.seal_optional(shop, Column::PreviousRefresh, previous.as_ref())?;
        let sql = format!(
            "UPDATE shops SET access_token = $2, access_expires_at = {}, \
                 refresh_token = $4, refresh_expires_at = {}, previous_refresh_token = $6, \
                 scopes = COALESCE(NULLIF($7, ''), scopes), last_refresh_at = {}, \
                 version = version + 1 \
             WHERE domain = $1 RETURNING {COLUMNS}",
            instant(3),
            instant(5),
            instant(8)
        );
        let written = sqlx::query(trusted(sql))
            .bind(shop.as_str())
            .bind(access)
            .bind(micros(grant.access_expires_at))
            .bind(refresh_token)
            .bind(micros(grant.refresh_expires_at))
            .bind(previous)
            .bind(&grant.scopes)
            .bind(now.as_microsecond())
            .fetch_one(&mut *tx)
            .await?;
        let written = row::decode(&written, &self.cipher)?;
        tx.commit().await?;
        Ok(Ok(written))
    }
}
