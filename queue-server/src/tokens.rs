//! Device tokens, session tokens and tracking codes: random bytes, their
//! SHA-256 (what the server keeps) and hex.

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

pub fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn from_hex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// `n` random bytes as hex (session tokens, tracking codes).
pub fn random_hex<const N: usize>(what: &str) -> Result<String> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for the {what}: {e}")))?;
    Ok(to_hex(&bytes))
}
