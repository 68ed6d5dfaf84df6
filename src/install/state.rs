//! The OAuth `state` nonce and the signed cookie that carries it from `/auth/install` to
//! `/auth/callback` (facts sheet §1b: a random nonce per request, also set in a signed cookie;
//! Shopify's Node library signs it with the client secret, gives it 60 s, `SameSite=Lax`,
//! `Secure`, path = the callback's). Pure: no I/O, no clock (instants are arguments).
//!
//! Cookie value: `{nonce}.{expires}.{mac}`, where `expires` is Unix seconds and `mac` the
//! lower-case hex HMAC-SHA256, keyed with the client secret, of `{nonce}.{shop}.{expires}`: the
//! cookie is good for one shop's callback only, until it expires.

use hmac::{Hmac, Mac};
use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::id::ShopDomain;

/// The cookie's name.
pub const COOKIE: &str = "orderflow_oauth_state";
/// Where the browser sends it: the callback only.
pub const COOKIE_PATH: &str = "/auth/callback";
/// How long an install may take from our redirect to Shopify's callback: Shopify's Node
/// library's 60 s.
pub const LIFETIME: SignedDuration = SignedDuration::from_secs(60);

/// Why a callback's state was refused. Never quotes the cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StateError {
    #[error("no state cookie: the install did not start here, or the cookie was blocked")]
    NoCookie,
    #[error("the state cookie is not one orderflow signed")]
    BadCookie,
    #[error("the state cookie has expired")]
    Expired,
    #[error("the callback's state does not match the cookie")]
    Mismatch,
}

/// A fresh random nonce: 128 bits from the thread's CSPRNG, hex.
pub fn nonce() -> String {
    hex(&rand::random::<[u8; 16]>())
}

/// The `Set-Cookie` value that carries `nonce` for `shop` until `now` + [`LIFETIME`].
pub fn set_cookie(nonce: &str, shop: &ShopDomain, now: Timestamp, secret: &SecretString) -> String {
    let expires = now.as_second() + LIFETIME.as_secs();
    let mac = mac(secret, nonce, shop, expires);
    format!(
        "{COOKIE}={nonce}.{expires}.{mac}; Max-Age={}; Path={COOKIE_PATH}; HttpOnly; Secure; SameSite=Lax",
        LIFETIME.as_secs()
    )
}

/// The `Set-Cookie` value that deletes the cookie once the callback has used it.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Max-Age=0; Path={COOKIE_PATH}; HttpOnly; Secure; SameSite=Lax")
}

/// Checks a callback's `state` against the cookies of its request (each `Cookie` header's
/// value), for `shop`, at `now`, under any configured secret.
pub fn verify<'a>(
    state: Option<&str>,
    cookie_headers: impl IntoIterator<Item = &'a str>,
    shop: &ShopDomain,
    secrets: &[SecretString],
    now: Timestamp,
) -> Result<(), StateError> {
    let value = cookie_headers
        .into_iter()
        .flat_map(|h| h.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .ok_or(StateError::NoCookie)?;
    let mut parts = value.splitn(3, '.');
    let (Some(nonce), Some(expires), Some(given)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(StateError::BadCookie);
    };
    let expires: i64 = expires.parse().map_err(|_| StateError::BadCookie)?;
    let given = unhex(given).ok_or(StateError::BadCookie)?;
    let signed = secrets.iter().any(|secret| {
        keyed(secret, nonce, shop, expires)
            // Constant time.
            .verify_slice(&given)
            .is_ok()
    });
    if !signed {
        return Err(StateError::BadCookie);
    }
    if now.as_second() >= expires {
        return Err(StateError::Expired);
    }
    if state != Some(nonce) {
        return Err(StateError::Mismatch);
    }
    Ok(())
}

fn keyed(secret: &SecretString, nonce: &str, shop: &ShopDomain, expires: i64) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(format!("{nonce}.{shop}.{expires}").as_bytes());
    mac
}

fn mac(secret: &SecretString, nonce: &str, shop: &ShopDomain, expires: i64) -> String {
    hex(&keyed(secret, nonce, shop, expires).finalize().into_bytes())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> ShopDomain {
        ShopDomain::parse("acme.myshopify.com").unwrap()
    }

    fn now() -> Timestamp {
        Timestamp::from_second(1_767_225_600).unwrap()
    }

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    /// The `Cookie` header a browser sends back for a `Set-Cookie` value.
    fn cookie_of(set_cookie: &str) -> String {
        set_cookie.split(';').next().unwrap().to_owned()
    }

    fn check(state: Option<&str>, cookie: &str, at: Timestamp) -> Result<(), StateError> {
        verify(
            state,
            [cookie],
            &shop(),
            &[secret("new"), secret("old")],
            at,
        )
    }

    #[test]
    fn the_cookie_is_http_only_secure_lax_short_lived_and_scoped_to_the_callback() {
        let c = set_cookie("n1", &shop(), now(), &secret("new"));
        for attribute in [
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/auth/callback",
            "Max-Age=60",
        ] {
            assert!(c.split("; ").any(|a| a == attribute), "{attribute} in {c}");
        }
    }

    #[test]
    fn the_state_in_its_own_signed_cookie_is_accepted_under_any_secret() {
        let n = nonce();
        assert_eq!(n.len(), 32);
        assert_ne!(n, nonce());
        for key in ["new", "old"] {
            let c = cookie_of(&set_cookie(&n, &shop(), now(), &secret(key)));
            assert_eq!(check(Some(&n), &format!("other=1; {c}"), now()), Ok(()));
        }
    }

    #[test]
    fn a_mismatch_no_cookie_a_forged_or_expired_cookie_or_another_shop_is_refused() {
        let c = cookie_of(&set_cookie("n1", &shop(), now(), &secret("new")));
        assert_eq!(check(Some("n2"), &c, now()), Err(StateError::Mismatch));
        assert_eq!(check(None, &c, now()), Err(StateError::Mismatch));
        assert_eq!(
            check(Some("n1"), "other=1", now()),
            Err(StateError::NoCookie)
        );
        let forged = cookie_of(&set_cookie("n1", &shop(), now(), &secret("attacker")));
        assert_eq!(
            check(Some("n1"), &forged, now()),
            Err(StateError::BadCookie)
        );
        let garbage = format!("{COOKIE}=n1.x.zz");
        assert_eq!(
            check(Some("n1"), &garbage, now()),
            Err(StateError::BadCookie)
        );
        let late = now() + LIFETIME;
        assert_eq!(check(Some("n1"), &c, late), Err(StateError::Expired));
        let other = ShopDomain::parse("evil.myshopify.com").unwrap();
        assert_eq!(
            verify(Some("n1"), [c.as_str()], &other, &[secret("new")], now()),
            Err(StateError::BadCookie)
        );
    }
}
