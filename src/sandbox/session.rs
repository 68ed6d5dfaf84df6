//! App Bridge session (ID) tokens as the sandbox mints and checks them: HS256 JWTs signed with
//! the app's client secret, claims as SHOPIFY-AUTH.md §2 lists them (`iss`, `dest`, `aud`,
//! `sub`, `exp`, `nbf`, `iat`, `jti`, `sid`; Shopify's own `sig` claim is left out, since how it
//! is computed is not documented). Built from `hmac`, `sha2` and `base64`, already in the crate.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::id::ShopDomain;

/// A session token lives one minute (§2).
pub const LIFETIME_SECS: i64 = 60;

/// The claims of a session token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// `https://{shop}/admin`.
    pub iss: String,
    /// `https://{shop}`.
    pub dest: String,
    /// The app's client id.
    pub aud: String,
    /// The user id, as a string.
    pub sub: String,
    pub exp: i64,
    pub nbf: i64,
    pub iat: i64,
    pub jti: String,
    pub sid: String,
}

/// Why a subject token was refused (the sandbox answers them all alike, §2's 400).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    Malformed,
    Signature,
    Audience,
    Expired,
    NotYetValid,
    WrongShop,
}

/// Mints a session token for `user_id` on `shop`, valid from `now` for a minute.
pub fn mint(
    shop: &ShopDomain,
    user_id: u64,
    client_id: &str,
    secret: &SecretString,
    now: Timestamp,
) -> SecretString {
    let iat = now.as_second();
    let claims = Claims {
        iss: format!("https://{shop}/admin"),
        dest: format!("https://{shop}"),
        aud: client_id.to_owned(),
        sub: user_id.to_string(),
        exp: iat + LIFETIME_SECS,
        nbf: iat,
        iat,
        jti: uuid_v4(),
        sid: session_id(shop, user_id, client_id),
    };
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let signature = URL_SAFE_NO_PAD.encode(sign(signing_input.as_bytes(), secret));
    SecretString::from(format!("{signing_input}.{signature}"))
}

/// Checks a session token the way the sandbox's token exchange does: HS256 with the client
/// secret, `aud` is the client id, `nbf <= now < exp` with no tolerance (the sandbox mints
/// them on the same clock), and `dest` is `shop` (when the request named a shop).
pub fn verify(
    token: &str,
    client_id: &str,
    secret: &SecretString,
    shop: Option<&ShopDomain>,
    now: Timestamp,
) -> Result<(ShopDomain, Claims), Invalid> {
    let (signing_input, signature) = token.rsplit_once('.').ok_or(Invalid::Malformed)?;
    let (header, payload) = signing_input
        .split_once('.')
        .filter(|(_, p)| !p.contains('.'))
        .ok_or(Invalid::Malformed)?;
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(Invalid::Malformed)?;
    if header["alg"] != "HS256" {
        return Err(Invalid::Malformed);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| Invalid::Malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .map_err(|_| Invalid::Signature)?;
    mac.update(signing_input.as_bytes());
    mac.verify_slice(&signature)
        .map_err(|_| Invalid::Signature)?;
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|p| serde_json::from_slice(&p).ok())
        .ok_or(Invalid::Malformed)?;
    if claims.aud != client_id {
        return Err(Invalid::Audience);
    }
    let now = now.as_second();
    if now >= claims.exp {
        return Err(Invalid::Expired);
    }
    if now < claims.nbf {
        return Err(Invalid::NotYetValid);
    }
    let dest = claims
        .dest
        .strip_prefix("https://")
        .and_then(|d| ShopDomain::parse(d).ok())
        .ok_or(Invalid::WrongShop)?;
    if claims.iss != format!("https://{dest}/admin") || shop.is_some_and(|s| *s != dest) {
        return Err(Invalid::WrongShop);
    }
    Ok((dest, claims))
}

fn sign(input: &[u8], secret: &SecretString) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(input);
    mac.finalize().into_bytes().to_vec()
}

/// A random UUID (version 4), as `jti` is one (§2).
fn uuid_v4() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// One session id per user and app on a shop (§2: "`sid` session ID per user+app").
fn session_id(shop: &ShopDomain, user_id: u64, client_id: &str) -> String {
    let digest = Sha256::digest(format!("{client_id}/{shop}/{user_id}").as_bytes());
    hex(&digest[..16])
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shop() -> ShopDomain {
        ShopDomain::parse("acme.myshopify.com").expect("shop")
    }

    fn secret() -> SecretString {
        SecretString::from("hush")
    }

    fn at(s: i64) -> Timestamp {
        Timestamp::from_second(s).expect("instant")
    }

    #[test]
    fn a_minted_token_verifies_with_its_claims() {
        let token = mint(&shop(), 42, "client-1", &secret(), at(1_000));
        let (dest, claims) = verify(
            token.expose_secret(),
            "client-1",
            &secret(),
            Some(&shop()),
            at(1_030),
        )
        .expect("valid");
        assert_eq!(dest, shop());
        assert_eq!(claims.iss, "https://acme.myshopify.com/admin");
        assert_eq!(claims.dest, "https://acme.myshopify.com");
        assert_eq!(claims.sub, "42");
        assert_eq!((claims.iat, claims.nbf, claims.exp), (1_000, 1_000, 1_060));
        assert_eq!(claims.jti.len(), 36);
    }

    #[test]
    fn every_wrong_part_is_refused() {
        let token = mint(&shop(), 42, "client-1", &secret(), at(1_000));
        let t = token.expose_secret();
        let other = ShopDomain::parse("other.myshopify.com").expect("shop");
        let v = |t: &str, aud: &str, key: &str, shop: Option<&ShopDomain>, now: i64| {
            verify(t, aud, &SecretString::from(key), shop, at(now))
        };
        assert_eq!(
            v(t, "client-2", "hush", None, 1_001),
            Err(Invalid::Audience)
        );
        assert_eq!(
            v(t, "client-1", "nope", None, 1_001),
            Err(Invalid::Signature)
        );
        assert_eq!(v(t, "client-1", "hush", None, 1_060), Err(Invalid::Expired));
        assert_eq!(
            v(t, "client-1", "hush", None, 999),
            Err(Invalid::NotYetValid)
        );
        assert_eq!(
            v(t, "client-1", "hush", Some(&other), 1_001),
            Err(Invalid::WrongShop)
        );
        assert_eq!(
            v("a.b", "client-1", "hush", None, 1_001),
            Err(Invalid::Malformed)
        );
        let mut tampered = t.to_owned();
        tampered.insert(tampered.find('.').expect("dot") + 2, 'x');
        assert!(v(&tampered, "client-1", "hush", None, 1_001).is_err());
    }
}
