//! The tokens the sandbox issued for one shop, judged on the sandbox's clock: authorization
//! codes, access tokens with their expiry, expiring offline pairs with their rotation, and
//! migrations of non-expiring tokens. Lifetimes and rotation rules are SHOPIFY-AUTH.md's
//! (§1e, §3a–§3e, §4); where it says "not documented", the choice is written beside the rule.
//!
//! The shop's non-expiring offline token is not kept here: it is [`ShopState::token`], the
//! token `Sandbox::add_shop` registers (§3a: re-authorizing returns that same token).
//!
//! [`ShopState::token`]: crate::sandbox::state::ShopState::token

use std::fmt;

use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretString};

use super::session::hex;

/// `expires_in` of an expiring offline access token (§1e, §3a).
pub const ACCESS_SECS: i64 = 3_600;
/// `refresh_token_expires_in` (§1e, §3a: 90 days).
pub const REFRESH_SECS: i64 = 7_776_000;
/// `expires_in` of a client-credentials token (§4: always 86399).
pub const CLIENT_CREDENTIALS_SECS: i64 = 86_399;
/// An authorization code's life is not documented (§1e); the sandbox takes RFC 6749 §4.1.2's
/// recommended maximum, ten minutes, and lets each code be used once.
pub const CODE_SECS: i64 = 600;
/// A used refresh token can be retried for at most 30 days after its first use (§3c).
const RETRY_WINDOW_SECS: i64 = 30 * 86_400;
/// A lost migration can be recovered for 7 days (§3e).
const MIGRATION_RECOVERY_SECS: i64 = 7 * 86_400;

/// What a successful grant answers: §1e's and §3b's fields.
pub struct Issued {
    pub access_token: SecretString,
    pub scope: String,
    /// `None`: a non-expiring token (the answer has only `access_token` and `scope`).
    pub expires_in: Option<i64>,
    /// The refresh token and its `refresh_token_expires_in`.
    pub refresh: Option<(SecretString, i64)>,
}

struct Code {
    value: SecretString,
    scope: String,
    expires_at: Timestamp,
    used: bool,
}

struct Access {
    value: SecretString,
    /// `None`: never expires (until the shop is revoked).
    expires_at: Option<Timestamp>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RefreshState {
    /// Never used: refreshing with it rotates the pair.
    Live,
    /// Used once; usable for a retry until its successor's refresh token is used (§3c).
    Used {
        successor: u64,
        first_used_at: Timestamp,
    },
    /// Refused from now on.
    Dead,
}

struct Pair {
    id: u64,
    access: SecretString,
    refresh: SecretString,
    refresh_expires_at: Timestamp,
    scope: String,
    state: RefreshState,
}

struct Migration {
    original: SecretString,
    pair: u64,
    at: Timestamp,
}

/// One shop's issued tokens. `Debug` shows counts only.
#[derive(Default)]
pub struct ShopTokens {
    /// What the last authorization granted (authorize's `scope`).
    pub granted_scope: Option<String>,
    codes: Vec<Code>,
    access: Vec<Access>,
    pairs: Vec<Pair>,
    migrations: Vec<Migration>,
    next_pair: u64,
}

impl fmt::Debug for ShopTokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShopTokens")
            .field("granted_scope", &self.granted_scope)
            .field("codes", &self.codes.len())
            .field("access_tokens", &self.access.len())
            .field("pairs", &self.pairs.len())
            .finish_non_exhaustive()
    }
}

/// A fresh random token with Shopify's prefix (`shpat_`, `shprt_`; §1e).
pub fn mint(prefix: &str) -> SecretString {
    let bytes: [u8; 16] = rand::random();
    SecretString::from(format!("{prefix}{}", hex(&bytes)))
}

fn plus(now: Timestamp, secs: i64) -> Timestamp {
    now.saturating_add(SignedDuration::from_secs(secs))
        .unwrap_or(Timestamp::MAX)
}

fn same(a: &SecretString, b: &str) -> bool {
    a.expose_secret() == b
}

impl ShopTokens {
    /// A code for the token endpoint, remembering the scope it grants.
    pub fn issue_code(&mut self, scope: &str, now: Timestamp) -> SecretString {
        let value = mint("");
        self.codes.push(Code {
            value: value.clone(),
            scope: scope.to_owned(),
            expires_at: plus(now, CODE_SECS),
            used: false,
        });
        self.granted_scope = Some(scope.to_owned());
        value
    }

    /// Whether `code` is one of this shop's (used or not).
    pub fn has_code(&self, code: &str) -> bool {
        self.codes.iter().any(|c| same(&c.value, code))
    }

    /// Uses a code once: its scope, or `None` when unknown, used or expired.
    pub fn take_code(&mut self, code: &str, now: Timestamp) -> Option<String> {
        let c = self.codes.iter_mut().find(|c| same(&c.value, code))?;
        if c.used || now >= c.expires_at {
            return None;
        }
        c.used = true;
        Some(c.scope.clone())
    }

    /// Whether an Admin API call with `token` is accepted at `now`.
    pub fn accepts(&self, token: &str, now: Timestamp) -> bool {
        self.access
            .iter()
            .any(|a| same(&a.value, token) && a.expires_at.is_none_or(|e| now < e))
    }

    /// A client-credentials token (§4). Earlier ones keep working until their own expiry: the
    /// sheet does not say a new one revokes them, and two processes may each hold one.
    pub fn client_credentials(&mut self, scope: &str, now: Timestamp) -> Issued {
        let value = mint("shpat_");
        self.access.push(Access {
            value: value.clone(),
            expires_at: Some(plus(now, CLIENT_CREDENTIALS_SECS)),
        });
        Issued {
            access_token: value,
            scope: scope.to_owned(),
            expires_in: Some(CLIENT_CREDENTIALS_SECS),
            refresh: None,
        }
    }

    /// A new acquisition (code, token exchange, migration) of an expiring pair: every older
    /// pair's refresh token dies at once, their access tokens live out their hour (§3a), and a
    /// pending migration can no longer be recovered (§3e).
    pub fn acquire(&mut self, scope: &str, now: Timestamp) -> (u64, Issued) {
        for p in &mut self.pairs {
            p.state = RefreshState::Dead;
        }
        self.new_pair(scope, now)
    }

    fn new_pair(&mut self, scope: &str, now: Timestamp) -> (u64, Issued) {
        self.next_pair += 1;
        let id = self.next_pair;
        let access = mint("shpat_");
        let refresh = mint("shprt_");
        self.access.push(Access {
            value: access.clone(),
            expires_at: Some(plus(now, ACCESS_SECS)),
        });
        self.pairs.push(Pair {
            id,
            access: access.clone(),
            refresh: refresh.clone(),
            refresh_expires_at: plus(now, REFRESH_SECS),
            scope: scope.to_owned(),
            state: RefreshState::Live,
        });
        let issued = Issued {
            access_token: access,
            scope: scope.to_owned(),
            expires_in: Some(ACCESS_SECS),
            refresh: Some((refresh, REFRESH_SECS)),
        };
        (id, issued)
    }

    /// Whether `refresh_token` is one of this shop's (in any state).
    pub fn has_refresh_token(&self, refresh_token: &str) -> bool {
        self.pairs.iter().any(|p| same(&p.refresh, refresh_token))
    }

    /// The refresh grant (§3b, §3c). A live refresh token rotates: a new pair, and the used
    /// token stays usable for a retry until the new refresh token is used (at most 30 days
    /// after its first use, never past its own 90 days). The old access token lives out its
    /// hour.
    ///
    /// Whether a retry returns the identical pair is not documented (§3c): the sandbox mints a
    /// fresh pair and retires the one the retry replaces (its refresh token dies, its access
    /// token lives out its hour). That is the stricter reading: a client relying on getting
    /// the lost pair back would fail here.
    ///
    /// `None`: an unknown, expired or retired refresh token.
    pub fn refresh(&mut self, refresh_token: &str, now: Timestamp) -> Option<Issued> {
        let i = self
            .pairs
            .iter()
            .position(|p| same(&p.refresh, refresh_token))?;
        if now >= self.pairs[i].refresh_expires_at {
            return None;
        }
        let scope = self.pairs[i].scope.clone();
        let id = self.pairs[i].id;
        let first_used_at = match self.pairs[i].state {
            RefreshState::Dead => return None,
            RefreshState::Live => {
                // The replacement of the predecessors is used now: they retire (§3c).
                for p in &mut self.pairs {
                    if matches!(p.state, RefreshState::Used { successor, .. } if successor == id) {
                        p.state = RefreshState::Dead;
                    }
                }
                now
            }
            RefreshState::Used {
                successor,
                first_used_at,
            } => {
                if now >= plus(first_used_at, RETRY_WINDOW_SECS) {
                    return None;
                }
                let s = self.pairs.iter_mut().find(|p| p.id == successor)?;
                if s.state != RefreshState::Live {
                    return None;
                }
                s.state = RefreshState::Dead;
                first_used_at
            }
        };
        let (successor, issued) = self.new_pair(&scope, now);
        self.pairs[i].state = RefreshState::Used {
            successor,
            first_used_at,
        };
        Some(issued)
    }

    /// The migration of the non-expiring `original` to a new pair (§3e), remembered for a
    /// recovery.
    pub fn migrate(&mut self, original: &SecretString, scope: &str, now: Timestamp) -> Issued {
        let (pair, issued) = self.acquire(scope, now);
        self.migrations.push(Migration {
            original: original.clone(),
            pair,
            at: now,
        });
        issued
    }

    /// A retried migration (§3e): within 7 days, while its pair was neither refreshed nor
    /// replaced by a later acquisition, the same pair again, its access token's expiry
    /// extended to a full hour from now, the refresh token's expiry unchanged.
    pub fn recover_migration(&mut self, original: &str, now: Timestamp) -> Option<Issued> {
        let m =
            self.migrations.iter().rev().find(|m| {
                same(&m.original, original) && now < plus(m.at, MIGRATION_RECOVERY_SECS)
            })?;
        let pair = self
            .pairs
            .iter()
            .find(|p| p.id == m.pair && p.state == RefreshState::Live)?;
        if now >= pair.refresh_expires_at {
            return None;
        }
        let expires_at = plus(now, ACCESS_SECS);
        let access = self
            .access
            .iter_mut()
            .find(|a| same(&a.value, pair.access.expose_secret()))?;
        access.expires_at = access.expires_at.map(|e| e.max(expires_at));
        Some(Issued {
            access_token: pair.access.clone(),
            scope: pair.scope.clone(),
            expires_in: Some(ACCESS_SECS),
            refresh: Some((
                pair.refresh.clone(),
                pair.refresh_expires_at.as_second() - now.as_second(),
            )),
        })
    }

    /// Uninstall: every issued token and code stops working at once (§6).
    pub fn revoke_all(&mut self) {
        *self = Self {
            next_pair: self.next_pair,
            ..Self::default()
        };
    }
}

#[cfg(test)]
mod tests;
