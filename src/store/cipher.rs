//! Tokens at rest: AES-256-GCM (RustCrypto `aes-gcm`), a fresh random 12-byte nonce per value,
//! stored as `nonce || ciphertext` (the tag is the ciphertext's last 16 bytes). The column and
//! the shop are the associated data, so a ciphertext copied into another column or another
//! shop's row does not decrypt.

use std::fmt;
use std::sync::Arc;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretString};

use super::StoreError;
use crate::config::decode_encryption_key;
use crate::id::ShopDomain;

const NONCE_BYTES: usize = 12;

/// The columns that hold a ciphertext, by name (the name is part of the associated data).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Access,
    Refresh,
    PreviousRefresh,
}

impl Column {
    pub fn name(self) -> &'static str {
        match self {
            Column::Access => "access_token",
            Column::Refresh => "refresh_token",
            Column::PreviousRefresh => "previous_refresh_token",
        }
    }
}

#[derive(Clone)]
pub(super) struct Cipher(Arc<Aes256Gcm>);

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cipher([redacted])")
    }
}

fn associated_data(shop: &ShopDomain, column: Column) -> String {
    format!("orderflow.shops.{}:{shop}", column.name())
}

impl Cipher {
    /// The cipher of `[store] encryption_key` (the base64 of 32 bytes).
    pub fn new(key: &SecretString) -> Result<Self, StoreError> {
        let bytes = decode_encryption_key(key.expose_secret()).ok_or(StoreError::Key)?;
        Ok(Self(Arc::new(Aes256Gcm::new(&Key::<Aes256Gcm>::from(
            bytes,
        )))))
    }

    pub fn seal(
        &self,
        shop: &ShopDomain,
        column: Column,
        plain: &SecretString,
    ) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_BYTES];
        // The thread RNG is a CSPRNG seeded from the OS. Random 96-bit nonces stay within
        // NIST SP 800-38D's bound (2^-32 odds of a repeat) for 2^32 values under one key; the
        // store writes a few values per shop per hour.
        rand::rng().fill_bytes(&mut nonce);
        let aad = associated_data(shop, column);
        let sealed = self
            .0
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: plain.expose_secret().as_bytes(),
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| StoreError::Encrypt {
                shop: shop.clone(),
                column: column.name(),
            })?;
        let mut out = Vec::with_capacity(NONCE_BYTES + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The plaintext, or [`StoreError::Decrypt`] (a wrong key, a damaged value, a value moved
    /// from another column or shop): never a panic, never a byte of the value in the error.
    pub fn open(
        &self,
        shop: &ShopDomain,
        column: Column,
        sealed: &[u8],
    ) -> Result<SecretString, StoreError> {
        let error = || StoreError::Decrypt {
            shop: shop.clone(),
            column: column.name(),
        };
        let (nonce, ciphertext) = sealed.split_at_checked(NONCE_BYTES).ok_or_else(error)?;
        let nonce: [u8; NONCE_BYTES] = nonce.try_into().map_err(|_| error())?;
        let aad = associated_data(shop, column);
        let plain = self
            .0
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad: aad.as_bytes(),
                },
            )
            .map_err(|_| error())?;
        String::from_utf8(plain)
            .map(SecretString::from)
            .map_err(|_| error())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

    fn shop(s: &str) -> ShopDomain {
        ShopDomain::parse(s).unwrap()
    }

    #[test]
    fn a_value_round_trips_and_each_seal_uses_a_fresh_nonce() {
        let c = Cipher::new(&SecretString::from(KEY)).unwrap();
        let token = SecretString::from("shpat_round_trip");
        let a = c
            .seal(&shop("a.myshopify.com"), Column::Access, &token)
            .unwrap();
        let b = c
            .seal(&shop("a.myshopify.com"), Column::Access, &token)
            .unwrap();
        assert_ne!(a[..NONCE_BYTES], b[..NONCE_BYTES]);
        assert_eq!(a.len(), NONCE_BYTES + "shpat_round_trip".len() + 16);
        let back = c
            .open(&shop("a.myshopify.com"), Column::Access, &a)
            .unwrap();
        assert_eq!(back.expose_secret(), "shpat_round_trip");
    }

    #[test]
    fn a_value_moved_to_another_column_or_shop_or_cut_short_does_not_open() {
        let c = Cipher::new(&SecretString::from(KEY)).unwrap();
        let a = shop("a.myshopify.com");
        let sealed = c
            .seal(&a, Column::Refresh, &SecretString::from("shprt_x"))
            .unwrap();
        assert!(c.open(&a, Column::Access, &sealed).is_err());
        assert!(
            c.open(&shop("b.myshopify.com"), Column::Refresh, &sealed)
                .is_err()
        );
        assert!(c.open(&a, Column::Refresh, &sealed[..5]).is_err());
        assert!(c.open(&a, Column::Refresh, &[]).is_err());
    }

    #[test]
    fn a_key_that_is_not_32_bytes_is_refused() {
        assert!(matches!(
            Cipher::new(&SecretString::from("c2hvcnQ=")),
            Err(StoreError::Key)
        ));
    }
}
