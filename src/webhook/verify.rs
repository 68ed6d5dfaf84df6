//! Pure HMAC verification: raw body bytes in, `Verified` out. Shopify signs the exact bytes it
//! sends with the app's client secret (HMAC-SHA256, base64 in `X-Shopify-Hmac-Sha256`). During a
//! secret rotation the old secret keeps signing for up to an hour, so every configured secret is
//! tried.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// A body whose signature has not been checked yet.
pub struct Unverified<'a> {
    pub body: &'a [u8],
    pub signature: Option<&'a str>,
}

/// A body signed by one of the configured secrets. Only `verify` makes one.
#[derive(Debug)]
pub struct Verified<'a> {
    pub body: &'a [u8],
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Shopify-Hmac-Sha256 header")]
    Missing,
    #[error("X-Shopify-Hmac-Sha256 does not match the body")]
    Mismatch,
}

impl<'a> Unverified<'a> {
    /// Checks the signature against every secret in constant time (per secret).
    pub fn verify(self, secrets: &[SecretString]) -> Result<Verified<'a>, SignatureError> {
        let signature = self.signature.ok_or(SignatureError::Missing)?;
        let expected = STANDARD
            .decode(signature.trim())
            .map_err(|_| SignatureError::Mismatch)?;
        // Evaluate every secret even after a match, so timing says nothing about which matched.
        let mut matched = false;
        for secret in secrets {
            let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
                .expect("HMAC accepts keys of any length");
            mac.update(self.body);
            matched |= mac.verify_slice(&expected).is_ok();
        }
        if matched {
            Ok(Verified { body: self.body })
        } else {
            Err(SignatureError::Mismatch)
        }
    }
}

/// The header value Shopify would send for `body` signed with `secret`.
pub fn sign(body: &[u8], secret: &SecretString) -> String {
    let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn matches_a_known_signature() {
        // Computed independently: printf 'hello' | openssl dgst -sha256 -hmac key -binary | base64
        assert_eq!(
            sign(b"hello", &secret("key")),
            "kwezuRXvtRcf8U2MtV+8x5jGwO8UVtZt7RpqpyOli3s="
        );
    }

    #[test]
    fn accepts_any_configured_secret_and_refuses_others() {
        let body = br#"{"id":1}"#;
        let secrets = [secret("new"), secret("old")];
        for s in ["new", "old"] {
            let sig = sign(body, &secret(s));
            let r = Unverified {
                body,
                signature: Some(&sig),
            }
            .verify(&secrets);
            assert!(r.is_ok(), "{s} must verify");
        }
        let sig = sign(body, &secret("other"));
        let r = Unverified {
            body,
            signature: Some(&sig),
        }
        .verify(&secrets);
        assert_eq!(r.unwrap_err(), SignatureError::Mismatch);
    }

    #[test]
    fn refuses_missing_garbage_and_tampered() {
        let secrets = [secret("k")];
        let body = b"{\"id\":1}";
        let sig = sign(body, &secrets[0]);
        let missing = Unverified {
            body,
            signature: None,
        }
        .verify(&secrets);
        assert_eq!(missing.unwrap_err(), SignatureError::Missing);
        let garbage = Unverified {
            body,
            signature: Some("not base64!"),
        }
        .verify(&secrets);
        assert_eq!(garbage.unwrap_err(), SignatureError::Mismatch);
        let tampered = Unverified {
            body: b"{\"id\":2}",
            signature: Some(&sig),
        }
        .verify(&secrets);
        assert_eq!(tampered.unwrap_err(), SignatureError::Mismatch);
    }
}
