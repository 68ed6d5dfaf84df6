//! The HMAC Shopify puts on the install request and the OAuth callback (`?…&hmac=<hex>`), which
//! differs from a webhook's: the message is the query itself, sorted, and the digest is hex.
//!
//! Rules (facts sheet §1d, Shopify's authorization-code page and its Node library): drop `hmac`
//! (and `signature`, as the library does); sort the remaining parameters by key; join
//! `key=value` pairs with `&`; HMAC-SHA256 keyed with the client secret; lower-case hex;
//! compare in constant time. Pure: no I/O, no clock.
//!
//! Values are the decoded ones, as in Shopify's Ruby example (`params.except(:hmac)` joined
//! raw). Shopify's Node library re-encodes each value first (`URLSearchParams`, `+` → `%20`);
//! for the characters Shopify's parameters carry the two agree, and where they would not,
//! `verify` accepts either form: both are keyed with the secret, so neither can be forged.

use hmac::{Hmac, Mac};
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a query's HMAC was refused. Says nothing about the expected value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryHmacError {
    #[error("the query has no hmac parameter")]
    Missing,
    #[error("the query has more than one hmac parameter")]
    Repeated,
    #[error("the hmac parameter is not hex")]
    NotHex,
    #[error("the hmac matches no configured client secret")]
    Mismatch,
}

/// The signed message: every parameter but `hmac` and `signature`, sorted by key (then value),
/// as `key=value` joined by `&`.
pub fn message(params: &[(String, String)]) -> String {
    let mut kept: Vec<(&str, &str)> = params
        .iter()
        .filter(|(k, _)| k != "hmac" && k != "signature")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    kept.sort();
    kept.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// The lower-case hex HMAC-SHA256 of `params` (decoded pairs) under `secret`: what Shopify
/// sends as `hmac`.
pub fn sign(params: &[(String, String)], secret: &SecretString) -> String {
    hex(&mac(secret, &message(params)).finalize().into_bytes())
}

/// Checks the `hmac` of a raw query string (`shop=…&timestamp=…&hmac=…`, without the `?`)
/// against every configured secret (the current one and, during a rotation, the old), in
/// constant time.
pub fn verify(query: &str, secrets: &[SecretString]) -> Result<(), QueryHmacError> {
    let params: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let mut given = params.iter().filter(|(k, _)| k == "hmac");
    let hmac = given.next().ok_or(QueryHmacError::Missing)?;
    if given.next().is_some() {
        return Err(QueryHmacError::Repeated);
    }
    let expected = unhex(&hmac.1).ok_or(QueryHmacError::NotHex)?;
    let decoded = message(&params);
    let encoded = message(
        &params
            .iter()
            .map(|(k, v)| (k.clone(), library_encode(v)))
            .collect::<Vec<_>>(),
    );
    let mut messages = vec![decoded];
    if encoded != messages[0] {
        messages.push(encoded);
    }
    let matched = secrets.iter().any(|secret| {
        messages
            .iter()
            // `verify_slice` compares in constant time.
            .any(|m| mac(secret, m).verify_slice(&expected).is_ok())
    });
    if matched {
        Ok(())
    } else {
        Err(QueryHmacError::Mismatch)
    }
}

/// A value as Shopify's Node library writes it before signing: form-encoded, `+` as `%20`.
fn library_encode(v: &str) -> String {
    form_urlencoded::byte_serialize(v.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn mac(secret: &SecretString, message: &str) -> HmacSha256 {
    // HMAC takes a key of any length.
    let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes())
        .expect("HMAC accepts keys of any length");
    mac.update(message.as_bytes());
    mac
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

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    /// The callback's parameters as the authorization-code page lists them: the message is
    /// `code=…&host=…&shop=…&state=…&timestamp=…`.
    #[test]
    fn message_is_sorted_pairs_without_hmac_and_signature() {
        let p = pairs(&[
            ("timestamp", "1337178173"),
            ("shop", "some-shop.myshopify.com"),
            ("hmac", "ignored"),
            ("code", "0907a61c0c8d55e99db179b68161bc00"),
            ("signature", "ignored-too"),
            ("host", "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc29tZS1zaG9w"),
            ("state", "nonce-1"),
        ]);
        assert_eq!(
            message(&p),
            "code=0907a61c0c8d55e99db179b68161bc00&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvc29tZS1zaG9w&shop=some-shop.myshopify.com&state=nonce-1&timestamp=1337178173"
        );
    }

    #[test]
    fn sign_is_lower_case_hex_hmac_sha256_of_the_message() {
        let p = pairs(&[("shop", "a.myshopify.com"), ("timestamp", "1")]);
        let mut m = HmacSha256::new_from_slice(b"hush").unwrap();
        m.update(b"shop=a.myshopify.com&timestamp=1");
        let want: String = m
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let got = sign(&p, &secret("hush"));
        assert_eq!(got, want);
        assert_eq!(got.len(), 64);
        assert!(
            got.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
    }

    fn signed_query(secret_text: &str) -> String {
        let p = pairs(&[
            ("shop", "acme.myshopify.com"),
            ("timestamp", "1767225600"),
            ("host", "YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ"),
        ]);
        let hmac = sign(&p, &secret(secret_text));
        format!(
            "timestamp=1767225600&hmac={hmac}&shop=acme.myshopify.com&host=YWRtaW4uc2hvcGlmeS5jb20vc3RvcmUvYWNtZQ"
        )
    }

    #[test]
    fn verify_accepts_any_configured_secret_in_any_parameter_order() {
        let q = signed_query("old-secret");
        assert_eq!(
            verify(&q, &[secret("new-secret"), secret("old-secret")]),
            Ok(())
        );
        assert_eq!(verify(&q, &[secret("old-secret")]), Ok(()));
    }

    #[test]
    fn verify_refuses_a_wrong_secret_a_changed_value_and_a_missing_or_bad_hmac() {
        let q = signed_query("s");
        assert_eq!(verify(&q, &[secret("t")]), Err(QueryHmacError::Mismatch));
        let tampered = q.replace("acme.myshopify.com", "evil.myshopify.com");
        assert_eq!(
            verify(&tampered, &[secret("s")]),
            Err(QueryHmacError::Mismatch)
        );
        let added = format!("{q}&extra=1");
        assert_eq!(
            verify(&added, &[secret("s")]),
            Err(QueryHmacError::Mismatch)
        );
        assert_eq!(
            verify("shop=acme.myshopify.com", &[secret("s")]),
            Err(QueryHmacError::Missing)
        );
        assert_eq!(
            verify("shop=a&hmac=zz", &[secret("s")]),
            Err(QueryHmacError::NotHex)
        );
        let twice = format!("{q}&hmac=00");
        assert_eq!(
            verify(&twice, &[secret("s")]),
            Err(QueryHmacError::Repeated)
        );
        assert_eq!(verify(&q, &[]), Err(QueryHmacError::Mismatch));
    }

    #[test]
    fn a_percent_encoded_value_is_signed_decoded_and_also_accepted_library_encoded() {
        // Ruby's example signs the decoded value; the Node library the re-encoded one.
        let decoded = pairs(&[("shop", "a.myshopify.com"), ("state", "a b/c")]);
        let q = format!(
            "shop=a.myshopify.com&state=a%20b%2Fc&hmac={}",
            sign(&decoded, &secret("s"))
        );
        assert_eq!(verify(&q, &[secret("s")]), Ok(()));
        let library = pairs(&[("shop", "a.myshopify.com"), ("state", "a%20b%2Fc")]);
        let q = format!(
            "shop=a.myshopify.com&state=a%20b%2Fc&hmac={}",
            sign(&library, &secret("s"))
        );
        assert_eq!(verify(&q, &[secret("s")]), Ok(()));
    }

    #[test]
    fn errors_never_show_the_secret_or_the_expected_hmac() {
        let q = signed_query("sentinel-secret");
        let err = verify(&q, &[secret("other-sentinel")]).unwrap_err();
        let shown = format!("{err} {err:?}");
        assert!(!shown.contains("sentinel"), "{shown}");
    }
}
