//! Admin API tokens: where each shop's comes from and how orderflow proves what Shopify sends.
//!
//! - [`query_hmac`] (pure): the HMAC of an install or callback query string.
//! - [`session_token`] (pure): an App Bridge session token, validated.
//! - [`grant`]: the token endpoint (`{admin}/admin/oauth/access_token`) for every grant
//!   orderflow uses, answers turned into [`TokenGrant`]s with instants from the clock.
//! - [`tokens`]: [`Tokens`], the per-process source of each shop's current token in its mode
//!   (static, client credentials, oauth), renewed before expiry and after a 401.
//! - [`stored`]: oauth mode's side of the token store ([`TokenStore`]).
//!
//! Facts and their sources: `SHOPIFY-AUTH.md` (the shared facts sheet). Nothing here logs or
//! formats a token, a refresh token or a client secret.

pub mod grant;
pub mod query_hmac;
pub mod session_token;
pub mod stored;
pub mod tokens;

use jiff::Timestamp;
use secrecy::SecretString;

pub use grant::{Admin, GrantError, Grants};
pub use stored::{StoredTokens, TokenStore};
pub use tokens::{AuthError, Tokens};

/// What a grant returned, already turned into instants (`expires_in` → now + `expires_in`).
///
/// The same shape as the token store's grant; once the store lands this becomes a re-export of
/// it. `Debug` shows no token.
pub struct TokenGrant {
    pub access_token: SecretString,
    /// None: a non-expiring token.
    pub access_expires_at: Option<Timestamp>,
    pub refresh_token: Option<SecretString>,
    pub refresh_expires_at: Option<Timestamp>,
    /// Comma-separated, as Shopify sends it.
    pub scopes: String,
}

impl std::fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenGrant")
            .field("access_expires_at", &self.access_expires_at)
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("refresh_expires_at", &self.refresh_expires_at)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}
