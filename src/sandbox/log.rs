//! The records tests and the demo read: every mutation and query the sandbox executed, and every request
//! to its token endpoint (never a token).

use serde::Serialize;

use crate::id::ShopDomain;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MutationRecord {
    pub shop: ShopDomain,
    /// The operation's name, e.g. `FulfillmentOrderHold`.
    pub operation_name: Option<String>,
    /// The root mutation fields it ran, e.g. `["fulfillmentOrderHold"]`.
    pub fields: Vec<String>,
    pub variables: serde_json::Value,
    /// From the sandbox's clock: also the `updatedAt` the mutation gave the order it changed.
    pub at: jiff::Timestamp,
}

/// A query (not a mutation) the sandbox executed: what tests of the sweep read to see which
/// windows of orders were asked for, and when.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryRecord {
    pub shop: ShopDomain,
    /// The operation's name, e.g. `OrdersUpdatedPage`.
    pub operation_name: Option<String>,
    pub variables: serde_json::Value,
    /// From the sandbox's clock.
    pub at: jiff::Timestamp,
}

/// Which grant a request to `/admin/oauth/access_token` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Grant {
    /// `code` (§1e).
    AuthorizationCode,
    /// `grant_type=refresh_token` (§3b).
    RefreshToken,
    /// `grant_type=client_credentials` (§4).
    ClientCredentials,
    /// Token exchange of a session (ID) token (§2).
    TokenExchange,
    /// Token exchange of a non-expiring offline token, `expiring=1` (§3e).
    Migration,
    /// None of the above (answered 400 `unsupported_grant_type`).
    Unsupported,
}

/// What became of one token request. Never holds a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TokenOutcome {
    /// Tokens issued and sent; `expiring` when the access token expires.
    Issued { expiring: bool },
    /// The grant was applied (tokens issued, older ones retired), then the answer was a 520
    /// without the tokens (`lose_next_token_response`).
    Lost,
    /// Refused: the HTTP status and the OAuth `error` code sent.
    Refused { status: u16, error: String },
    /// Answered `status` by `fail_token_requests`; nothing was applied.
    Injected { status: u16 },
}

/// One request to the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenRequestRecord {
    pub grant: Grant,
    /// The shop it was for, when the sandbox could tell.
    pub shop: Option<ShopDomain>,
    pub outcome: TokenOutcome,
    /// From the sandbox's clock.
    pub at: jiff::Timestamp,
}
