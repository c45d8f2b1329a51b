//! Counter PINs and the sessions a PIN sign-in opens. The PIN itself is
//! hashed and verified off the writer thread (Argon2 is slow on purpose);
//! these commands only keep the results.

use super::Hall;
use crate::error::{Error, Result};

impl Hall<'_> {
    /// Keeps a counter's new PIN hash and ends the sessions the old PIN opened.
    pub fn set_pin(&mut self, counter: u32, pin_hash: &str) -> Result<()> {
        self.config
            .counter(counter)
            .ok_or_else(|| Error::NotFound(format!("counter {counter} is not configured")))?;
        self.tables.set_pin(counter, pin_hash, self.at_ms())?;
        self.tables.end_counter_pin_sessions(counter)?;
        self.audit("counter.pin", &format!("set the PIN of counter {counter}"))
    }

    /// Opens a session acting as `counter` until `expires_at` (ms), after
    /// the counter's own PIN was verified; expired sessions are cleared on
    /// the way.
    pub fn open_session(
        &mut self,
        counter: u32,
        token_sha256: &[u8; 32],
        expires_at: i64,
    ) -> Result<()> {
        self.tables.end_expired_sessions(self.at_ms())?;
        self.tables
            .open_session(token_sha256, counter, self.at_ms(), expires_at, None)
    }

    /// Ends the session a token opened; a member of staff's ends their
    /// attendance there. A token that opened none (a device's) is left be.
    pub fn sign_out(&mut self, token_sha256: &[u8; 32]) -> Result<()> {
        let Some((counter, attendance)) = self.tables.session(token_sha256)? else {
            return Ok(());
        };
        match attendance {
            Some(id) => self.end_attendance(id, counter, "signed out"),
            None => self.tables.end_session(token_sha256),
        }
    }
}
