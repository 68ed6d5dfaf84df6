//! Admin API tokens: where each shop's comes from and how orderflow proves what Shopify sends.
//!
//! - [`query_hmac`] (pure): the HMAC of an install or callback query string.
//! - [`session_token`] (pure): an App Bridge session token, validated.
//! - [`grant`]: the token endpoint (`{admin}/admin/oauth/access_token`) for every grant
//!   orderflow uses, answers turned into [`TokenGrant`]s with instants from the clock.
//! - [`tokens`]: [`Tokens`], the per-process source of each shop's current token in its mode
//!   (static, client credentials, oauth), renewed before expiry and after a 401.
//! - [`stored`]: oauth mode's side of the token store ([`TokenStore`]).
//! - [`store_backed`]: [`TokenStore`] for the PostgreSQL store, and [`LazyStore`], the store
//!   opened without waiting for the database.
//!
//! Facts and their sources: `SHOPIFY-AUTH.md` (the shared facts sheet). Nothing here logs or
//! formats a token, a refresh token or a client secret.

pub mod grant;
pub mod query_hmac;
pub mod session_token;
pub mod store_backed;
pub mod stored;
pub mod tokens;

pub use crate::store::{LazyStore, open_store};
pub use grant::{Admin, GrantError, Grants};
pub use stored::{StoredTokens, TokenStore};
pub use tokens::{AuthError, Tokens};

/// What a grant returned, already turned into instants: the token store's type, so a grant is
/// stored as it came. `Debug` shows no token (its tokens are `SecretString`s).
pub use crate::store::TokenGrant;
