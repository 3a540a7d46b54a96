//! Secrets kept at rest sealed with the installation's key: a porting order's PIN (SPEC §5).
//! ChaCha20-Poly1305 with a fresh random nonce per value; a stored value is
//! `v1:<base64(nonce ‖ ciphertext)>`, so a later key or cipher can be told apart. The key comes
//! from configuration (`pin_key`, 64 hex digits) or from a key file the server makes in its
//! data directory on first start; it never appears in a log, a response or an export.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};

const PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

/// The key sealed values are sealed with. Its `Debug` shows nothing of it.
#[derive(Clone)]
pub struct SealKey(Key);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(…)")
    }
}

/// A sealed value that could not be opened: another key, or a damaged row.
#[derive(Debug, thiserror::Error)]
#[error("a sealed value could not be opened (another key, or damaged)")]
pub struct Unsealable;

impl SealKey {
    /// A key from 64 hex digits.
    pub fn from_hex(hex: &str) -> Result<SealKey, String> {
        let hex = hex.trim();
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err("pin_key: give 64 hex digits (32 random bytes)".into());
        }
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(hex.get(2 * i..2 * i + 2).unwrap_or("00"), 16)
                .map_err(|_| "pin_key: give 64 hex digits (32 random bytes)".to_string())?;
        }
        Ok(SealKey(Key::from(bytes)))
    }

    /// A fresh random key, as 64 hex digits (what a key file holds).
    pub fn generate_hex() -> String {
        ChaCha20Poly1305::generate_key(&mut OsRng)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// A random key held in memory only: for a service built without configuration (tests).
    pub fn ephemeral() -> SealKey {
        SealKey(ChaCha20Poly1305::generate_key(&mut OsRng))
    }

    /// `plain` sealed with a fresh nonce.
    pub fn seal(&self, plain: &str) -> String {
        let cipher = ChaCha20Poly1305::new(&self.0);
        let nonce = ChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encrypting into a Vec cannot fail for inputs of this size (the AEAD's only error is
        // a buffer too large for its counter).
        let sealed = cipher.encrypt(&nonce, plain.as_bytes()).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        format!("{PREFIX}{}", STANDARD.encode(out))
    }

    /// The plain text of a value [`SealKey::seal`] made with this key.
    pub fn open(&self, sealed: &str) -> Result<String, Unsealable> {
        let raw = sealed
            .strip_prefix(PREFIX)
            .and_then(|b| STANDARD.decode(b).ok())
            .ok_or(Unsealable)?;
        if raw.len() <= NONCE_LEN {
            return Err(Unsealable);
        }
        let (nonce, body) = raw.split_at(NONCE_LEN);
        let plain = ChaCha20Poly1305::new(&self.0)
            .decrypt(Nonce::from_slice(nonce), body)
            .map_err(|_| Unsealable)?;
        String::from_utf8(plain).map_err(|_| Unsealable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_with_its_key_only() {
        let k = SealKey::from_hex(&SealKey::generate_hex()).unwrap_or_else(|e| panic!("{e}"));
        let a = k.seal("1234");
        let b = k.seal("1234");
        assert_ne!(a, b, "a fresh nonce each time");
        assert!(!a.contains("1234"));
        assert_eq!(k.open(&a).ok().as_deref(), Some("1234"));
        assert!(SealKey::ephemeral().open(&a).is_err(), "another key");
        assert!(k.open("v1:AAAA").is_err());
        assert!(k.open("1234").is_err());
        assert!(SealKey::from_hex("abc").is_err());
        assert_eq!(format!("{k:?}"), "SealKey(…)");
    }
}
