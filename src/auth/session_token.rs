//! An App Bridge session (ID) token, validated (facts sheet §2, Shopify's session-token page):
//! a JWT signed HS256 with the app's client secret; `aud` is the client ID; `exp` in the future
//! and `nbf` in the past, with 10 s of tolerance as Shopify's Node library allows; `iss`
//! (`https://{shop}/admin`) and `dest` (`https://{shop}`) on the same shop. Any failure refuses
//! the token.
//!
//! `jsonwebtoken` checks the signature and the algorithm only; every claim is checked here
//! against `now` from the caller's clock, so time stays an input. Pure: no I/O, no clock.

use jiff::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use crate::id::ShopDomain;

/// Seconds of clock skew allowed on `exp` and `nbf` (Shopify's Node library: `clockTolerance:
/// 10`).
pub const TOLERANCE_SECONDS: i64 = 10;

/// What a valid session token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionClaims {
    /// The shop, from `dest` (and the same in `iss`).
    pub shop: ShopDomain,
    /// `sub`: the user's ID.
    pub user_id: String,
    /// `sid`: the session ID per user and app, when present.
    pub session_id: Option<String>,
    pub expires_at: Timestamp,
}

/// Why a session token was refused. Never quotes the token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionTokenError {
    #[error("the session token is not a JWT with the expected claims")]
    Malformed,
    #[error("the session token is not signed HS256 with a configured client secret")]
    Signature,
    #[error("the session token is for another app (aud)")]
    Audience,
    #[error("the session token has expired")]
    Expired,
    #[error("the session token is not valid yet (nbf)")]
    NotYetValid,
    #[error("the session token's iss and dest do not name the same shop")]
    Shop,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    dest: String,
    aud: Audience,
    sub: String,
    exp: i64,
    nbf: i64,
    #[serde(default)]
    sid: Option<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Audience {
    One(String),
    Many(Vec<String>),
}

/// Validates `token` for the app `client_id`, trying every configured secret (the current one
/// and, during a rotation, the old), at `now`.
pub fn validate(
    token: &SecretString,
    client_id: &str,
    secrets: &[SecretString],
    now: Timestamp,
) -> Result<SessionClaims, SessionTokenError> {
    let mut validation = Validation::new(Algorithm::HS256);
    // Claims are checked below against the injected `now`, not the library's wall clock.
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    let mut claims = None;
    for secret in secrets {
        let key = DecodingKey::from_secret(secret.expose_secret().as_bytes());
        match jsonwebtoken::decode::<Claims>(token.expose_secret(), &key, &validation) {
            Ok(data) => {
                claims = Some(data.claims);
                break;
            }
            Err(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::InvalidSignature) => {}
            Err(_) => return Err(SessionTokenError::Malformed),
        }
    }
    let claims = claims.ok_or(SessionTokenError::Signature)?;
    let for_us = match &claims.aud {
        Audience::One(a) => a == client_id,
        Audience::Many(list) => list.iter().any(|a| a == client_id),
    };
    if !for_us {
        return Err(SessionTokenError::Audience);
    }
    let now_s = now.as_second();
    if now_s >= claims.exp + TOLERANCE_SECONDS {
        return Err(SessionTokenError::Expired);
    }
    if claims.nbf > now_s + TOLERANCE_SECONDS {
        return Err(SessionTokenError::NotYetValid);
    }
    let dest = shop_of(&claims.dest, "").ok_or(SessionTokenError::Shop)?;
    let iss = shop_of(&claims.iss, "/admin").ok_or(SessionTokenError::Shop)?;
    if dest != iss {
        return Err(SessionTokenError::Shop);
    }
    let expires_at =
        Timestamp::from_second(claims.exp).map_err(|_| SessionTokenError::Malformed)?;
    Ok(SessionClaims {
        shop: dest,
        user_id: claims.sub,
        session_id: claims.sid,
        expires_at,
    })
}

/// The shop of `https://{shop}{path}` (a trailing `/` allowed), strictly parsed.
fn shop_of(url: &str, path: &str) -> Option<ShopDomain> {
    let rest = url.strip_prefix("https://")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let host = rest.strip_suffix(path)?;
    ShopDomain::parse(host).ok()
}

#[cfg(test)]
mod tests {
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_767_225_600;
    const CLIENT_ID: &str = "app-client-id";

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn token(claims: serde_json::Value, key: &str) -> SecretString {
        let t = encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(key.as_bytes()),
        )
        .unwrap();
        SecretString::from(t)
    }

    fn claims() -> serde_json::Value {
        json!({
            "iss": "https://acme.myshopify.com/admin",
            "dest": "https://acme.myshopify.com",
            "aud": CLIENT_ID,
            "sub": "42",
            "exp": NOW + 60,
            "nbf": NOW - 1,
            "iat": NOW - 1,
            "jti": "00000000-0000-4000-8000-000000000000",
            "sid": "session-1",
        })
    }

    fn check(t: &SecretString) -> Result<SessionClaims, SessionTokenError> {
        validate(
            t,
            CLIENT_ID,
            &[secret("current"), secret("old")],
            Timestamp::from_second(NOW).unwrap(),
        )
    }

    fn with(key: &str, value: serde_json::Value) -> serde_json::Value {
        let mut c = claims();
        c[key] = value;
        c
    }

    #[test]
    fn a_valid_token_gives_the_shop_and_the_user() {
        let c = check(&token(claims(), "current")).unwrap();
        assert_eq!(c.shop.as_str(), "acme.myshopify.com");
        assert_eq!(c.user_id, "42");
        assert_eq!(c.session_id.as_deref(), Some("session-1"));
        // Signed with the old secret during a rotation: still accepted.
        assert!(check(&token(claims(), "old")).is_ok());
    }

    #[test]
    fn a_wrong_secret_is_refused() {
        assert_eq!(
            check(&token(claims(), "someone-else")),
            Err(SessionTokenError::Signature)
        );
    }

    #[test]
    fn another_apps_audience_is_refused() {
        let t = token(with("aud", json!("other-app")), "current");
        assert_eq!(check(&t), Err(SessionTokenError::Audience));
    }

    #[test]
    fn exp_and_nbf_allow_ten_seconds_and_no_more() {
        let expired = token(with("exp", json!(NOW - 10)), "current");
        assert_eq!(check(&expired), Err(SessionTokenError::Expired));
        let just = token(with("exp", json!(NOW - 9)), "current");
        assert!(check(&just).is_ok());
        let future = token(with("nbf", json!(NOW + 11)), "current");
        assert_eq!(check(&future), Err(SessionTokenError::NotYetValid));
        let skewed = token(with("nbf", json!(NOW + 10)), "current");
        assert!(check(&skewed).is_ok());
    }

    #[test]
    fn iss_and_dest_must_name_the_same_shop() {
        let t = token(
            with("iss", json!("https://evil.myshopify.com/admin")),
            "current",
        );
        assert_eq!(check(&t), Err(SessionTokenError::Shop));
        let t = token(with("dest", json!("https://acme.example.com")), "current");
        assert_eq!(check(&t), Err(SessionTokenError::Shop));
        let t = token(
            with("iss", json!("http://acme.myshopify.com/admin")),
            "current",
        );
        assert_eq!(check(&t), Err(SessionTokenError::Shop));
    }

    #[test]
    fn another_algorithm_or_garbage_is_refused() {
        let t = encode(
            &Header::new(Algorithm::HS512),
            &claims(),
            &EncodingKey::from_secret(b"current"),
        )
        .unwrap();
        assert!(check(&SecretString::from(t)).is_err());
        assert_eq!(
            check(&secret("not.a.jwt")),
            Err(SessionTokenError::Malformed)
        );
        let mut c = claims();
        c.as_object_mut().unwrap().remove("exp");
        assert_eq!(
            check(&token(c, "current")),
            Err(SessionTokenError::Malformed)
        );
    }
}
