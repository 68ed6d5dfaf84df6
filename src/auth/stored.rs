//! oauth mode's side of the token store: what it needs of a shop's row ([`StoredTokens`]), the
//! locked refresh the store runs for it ([`TokenStore`]), and what that refresh does with the row
//! it finds once the lock is held ([`step`], pure).

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};

use super::TokenGrant;
use super::grant::{Admin, GrantError, Grants};
use super::tokens::{AuthError, renewal_due};
use crate::clock::Clock;
use crate::id::ShopDomain;

/// What oauth mode needs of a shop's stored row.
pub struct StoredTokens {
    pub access_token: Option<SecretString>,
    pub access_expires_at: Option<Timestamp>,
    pub refresh_token: Option<SecretString>,
    /// The refresh token used by the last refresh, kept until its successor is used (Shopify,
    /// 2026-08: a lost refresh may be retried with it).
    pub previous_refresh_token: Option<SecretString>,
}

/// The refresh run with the shop's row locked: `Ok(None)` keeps the stored token.
pub type Refresh = Box<
    dyn FnOnce(StoredTokens) -> BoxFuture<'static, Result<Option<TokenGrant>, GrantError>> + Send,
>;

/// The token store as oauth mode uses it (backed by the store's `refresh`).
pub trait TokenStore: Send + Sync + 'static {
    /// Runs `refresh` with `shop`'s row locked (across processes; waiting at most
    /// `lock_timeout` for another holder), writes the grant it returns atomically, and gives
    /// the row as it is afterwards. A shop without a row is [`AuthError::NotInstalled`].
    fn refresh<'a>(
        &'a self,
        shop: &'a ShopDomain,
        lock_timeout: Duration,
        now: Timestamp,
        refresh: Refresh,
    ) -> BoxFuture<'a, Result<Result<StoredTokens, GrantError>, AuthError>>;
}

/// What the locked refresh does with the row it found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// The stored token is good: another process may have just refreshed it, or it never
    /// expires and there is nothing to refresh it with.
    Keep,
    /// Refresh with the stored refresh token.
    Refresh,
}

/// The stored access token is kept while it is not due for renewal and is not the token
/// Shopify just refused (`rejected`); a row without a refresh token is kept as it is.
pub fn step(row: &StoredTokens, rejected: Option<&SecretString>, now: Timestamp) -> Step {
    let usable = row.access_token.as_ref().is_some_and(|token| {
        let refused = rejected.is_some_and(|r| r.expose_secret() == token.expose_secret());
        !refused && !renewal_due(row.access_expires_at, now)
    });
    if usable || row.refresh_token.is_none() {
        Step::Keep
    } else {
        Step::Refresh
    }
}

/// The refresh oauth mode hands the store.
pub(super) fn refresh(
    grants: Grants,
    admin: Admin,
    clock: Arc<dyn Clock>,
    rejected: Option<SecretString>,
) -> Refresh {
    Box::new(move |row: StoredTokens| {
        Box::pin(async move {
            if step(&row, rejected.as_ref(), clock.now()) == Step::Keep {
                return Ok(None);
            }
            let Some(current) = row.refresh_token else {
                return Ok(None);
            };
            let mut outcome = grants.refresh(&admin, &current).await;
            if let Err(e) = &outcome
                && e.is_transient()
            {
                // A 5xx (520 above all) or a cut connection may mean Shopify applied the
                // refresh and the answer was lost. Shopify (2026-08) accepts the stored refresh
                // token again until its successor is used, so it is retried once, the lock
                // still held: a lost answer is recovered before anyone else can refresh.
                tracing::info!(shop = %admin.shop, error = %e, "refresh failed, retrying it once");
                outcome = grants.refresh(&admin, &current).await;
            }
            match outcome {
                Ok(grant) => Ok(Some(grant)),
                // Refused: the last refresh's answer may have been lost after Shopify applied
                // it; the previous refresh token stays usable until its successor is used.
                Err(e) if !e.is_transient() => match row.previous_refresh_token {
                    Some(previous) => grants.refresh(&admin, &previous).await.map(Some),
                    None => Err(e),
                },
                Err(e) => Err(e),
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use jiff::SignedDuration;

    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn now() -> Timestamp {
        "2026-12-01T09:00:00Z".parse().unwrap()
    }

    fn row(token: Option<&str>, expires_in_mins: i64, refresh: Option<&str>) -> StoredTokens {
        StoredTokens {
            access_token: token.map(secret),
            access_expires_at: Some(now() + SignedDuration::from_mins(expires_in_mins)),
            refresh_token: refresh.map(secret),
            previous_refresh_token: None,
        }
    }

    #[test]
    fn a_fresh_stored_token_is_kept() {
        let r = row(Some("at1"), 30, Some("rt1"));
        assert_eq!(step(&r, None, now()), Step::Keep);
    }

    #[test]
    fn a_token_within_five_minutes_of_expiry_is_refreshed() {
        assert_eq!(
            step(&row(Some("at1"), 5, Some("rt1")), None, now()),
            Step::Refresh
        );
        assert_eq!(
            step(&row(Some("at1"), 6, Some("rt1")), None, now()),
            Step::Keep
        );
        assert_eq!(
            step(&row(Some("at1"), -1, Some("rt1")), None, now()),
            Step::Refresh
        );
    }

    #[test]
    fn the_refused_token_is_refreshed_but_one_another_process_just_wrote_is_kept() {
        let r = row(Some("at1"), 30, Some("rt1"));
        assert_eq!(step(&r, Some(&secret("at1")), now()), Step::Refresh);
        let renewed_elsewhere = row(Some("at2"), 60, Some("rt2"));
        assert_eq!(
            step(&renewed_elsewhere, Some(&secret("at1")), now()),
            Step::Keep
        );
    }

    #[test]
    fn without_a_refresh_token_the_row_is_kept_and_without_an_access_token_it_is_refreshed() {
        let mut non_expiring = row(Some("shpat"), 0, None);
        non_expiring.access_expires_at = None;
        assert_eq!(step(&non_expiring, None, now()), Step::Keep);
        assert_eq!(
            step(&row(None, 30, Some("rt1")), None, now()),
            Step::Refresh
        );
    }
}
