//! Secrets at rest: bytes sealed with XChaCha20-Poly1305 under the installation's 32-byte
//! master key. Each sealed value carries its own random 24-byte nonce (XChaCha's nonce is
//! large enough for random ones to never repeat in practice), and is bound to its owner by
//! associated data (what it is, the organisation id and the object id), so a sealed value
//! copied to another row or organisation no longer opens.
//!
//! Layout: one version byte (1), the nonce, then the ciphertext with its 16-byte tag. The
//! version leaves room for a key rotation that re-seals under a new key.
//!
//! Replicas sharing one database must share the key: a value sealed by one is opened by
//! another. `serve` takes it from the configuration or from `DATA_DIR/master.key`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead as _, KeyInit as _, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::Rng as _;

/// Bytes in a master key.
pub const KEY_LEN: usize = 32;
const NONCE_LEN: usize = 24;
const VERSION: u8 = 1;

/// The key every sealed secret of the installation is sealed under. Its `Debug` shows
/// nothing of it.
#[derive(Clone)]
pub struct MasterKey([u8; KEY_LEN]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SecretsError {
    /// The key as configured is not 32 bytes of base64.
    #[error("the master key must be {KEY_LEN} bytes in base64 ({} characters)", KEY_LEN.div_ceil(3) * 4)]
    BadKey,
    /// Tampered, truncated, sealed under another key or for another owner.
    #[error(
        "a sealed secret cannot be opened: it was altered, or sealed under another master key or for another object"
    )]
    Open,
    #[error("a secret could not be sealed")]
    Seal,
}

impl MasterKey {
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(bytes)
    }

    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_LEN];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    /// The key from its base64 form (surrounding whitespace ignored).
    pub fn from_base64(text: &str) -> Result<Self, SecretsError> {
        let bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| SecretsError::BadKey)?;
        let bytes: [u8; KEY_LEN] = bytes.try_into().map_err(|_| SecretsError::BadKey)?;
        Ok(Self(bytes))
    }

    /// The base64 form, for writing the key file.
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&self.0.into())
    }

    /// Seals `plain` for the owner described by `aad`.
    pub fn seal(&self, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>, SecretsError> {
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let sealed = self
            .cipher()
            .encrypt(&XNonce::from(nonce), Payload { msg: plain, aad })
            .map_err(|_| SecretsError::Seal)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens what `seal` made with the same key and `aad`.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, SecretsError> {
        let Some((&VERSION, rest)) = sealed.split_first() else {
            return Err(SecretsError::Open);
        };
        if rest.len() < NONCE_LEN {
            return Err(SecretsError::Open);
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| SecretsError::Open)?;
        self.cipher()
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map_err(|_| SecretsError::Open)
    }
}

/// The associated data binding a sealed value to what it is and whose it is.
pub(crate) fn owner_aad(purpose: &str, org: uuid::Uuid, object: uuid::Uuid) -> Vec<u8> {
    let mut aad = Vec::with_capacity(purpose.len() + 1 + 32);
    aad.extend_from_slice(purpose.as_bytes());
    aad.push(0);
    aad.extend_from_slice(org.as_bytes());
    aad.extend_from_slice(object.as_bytes());
    aad
}

#[cfg(test)]
mod tests {

    use super::*;

    fn aad(org: u128, object: u128) -> Vec<u8> {
        owner_aad(
            "totp",
            uuid::Uuid::from_u128(org),
            uuid::Uuid::from_u128(object),
        )
    }

    #[test]
    fn sealed_bytes_open_with_the_same_key_and_owner() {
        let key = MasterKey::generate();
        let sealed = key.seal(&aad(1, 2), b"twenty bytes secret!").unwrap();
        assert_eq!(sealed.len(), 1 + 24 + 20 + 16);
        assert!(!sealed.windows(20).any(|w| w == b"twenty bytes secret!"));
        assert_eq!(
            key.open(&aad(1, 2), &sealed).unwrap(),
            b"twenty bytes secret!"
        );
        // A fresh nonce each time: the same secret seals differently.
        assert_ne!(
            key.seal(&aad(1, 2), b"twenty bytes secret!").unwrap(),
            sealed
        );
    }

    #[test]
    fn any_altered_byte_is_refused() {
        let key = MasterKey::generate();
        let sealed = key.seal(&aad(1, 2), b"secret").unwrap();
        for i in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[i] ^= 0x01;
            assert_eq!(
                key.open(&aad(1, 2), &tampered),
                Err(SecretsError::Open),
                "byte {i}"
            );
        }
        assert_eq!(
            key.open(&aad(1, 2), &sealed[..sealed.len() - 1]),
            Err(SecretsError::Open)
        );
        assert_eq!(key.open(&aad(1, 2), &[]), Err(SecretsError::Open));
        assert_eq!(key.open(&aad(1, 2), &[VERSION]), Err(SecretsError::Open));
    }

    #[test]
    fn another_owner_or_key_cannot_open() {
        let key = MasterKey::generate();
        let sealed = key.seal(&aad(1, 2), b"secret").unwrap();
        assert_eq!(
            key.open(&aad(1, 3), &sealed),
            Err(SecretsError::Open),
            "other device"
        );
        assert_eq!(
            key.open(&aad(9, 2), &sealed),
            Err(SecretsError::Open),
            "other organisation"
        );
        assert_eq!(
            key.open(
                &owner_aad("other", uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2)),
                &sealed
            ),
            Err(SecretsError::Open),
            "other purpose"
        );
        assert_eq!(
            MasterKey::generate().open(&aad(1, 2), &sealed),
            Err(SecretsError::Open)
        );
    }

    #[test]
    fn keys_read_from_base64_of_exactly_32_bytes() {
        let key = MasterKey::generate();
        let again = MasterKey::from_base64(&format!(" {}\n", key.to_base64())).unwrap();
        let sealed = key.seal(b"x", b"y").unwrap();
        assert_eq!(again.open(b"x", &sealed).unwrap(), b"y");
        assert_eq!(
            MasterKey::from_base64("c2hvcnQ=").err(),
            Some(SecretsError::BadKey)
        );
        assert_eq!(
            MasterKey::from_base64("not base64!").err(),
            Some(SecretsError::BadKey)
        );
        assert_eq!(format!("{key:?}"), "MasterKey(<redacted>)");
    }
}
