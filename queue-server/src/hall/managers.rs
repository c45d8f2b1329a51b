//! Managers as people: accounts with a password, the console sessions a
//! sign-in opens, the lock that wrong passwords lead to, and the audit log
//! of every change a manager makes. Passwords are hashed and verified off
//! the writer thread; these commands keep the results.

use hall_api::ManagerAccount;
use jiff::SignedDuration;

use super::Hall;
use crate::config::Role;
use crate::error::{Error, Result};
use crate::store::queries::ms;

/// Wrong passwords in a row that lock an account.
pub const WRONG_BEFORE_LOCK: u32 = 5;
/// How long the lock lasts (another manager may lift it sooner by setting
/// a new password).
pub const LOCK: SignedDuration = SignedDuration::from_mins(15);
pub const PASSWORD_MIN: usize = 10;
pub const PASSWORD_MAX: usize = 128;

/// A manager's name: 1 to 32 letters, digits, '.', '-' or '_'.
pub fn valid_manager_name(name: &str) -> Result<()> {
    if (1..=32).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "manager name \"{name}\" must be 1 to 32 letters, digits, '.', '-' or '_'"
        )))
    }
}

pub fn valid_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if (PASSWORD_MIN..=PASSWORD_MAX).contains(&n) {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "a manager's password is {PASSWORD_MIN} to {PASSWORD_MAX} characters; a short sentence is easy to remember"
        )))
    }
}

/// What a wrong password led to.
pub enum WrongPassword {
    /// This many more tries before the account locks.
    TriesLeft(u32),
    LockedUntil(jiff::Timestamp),
}

impl Hall<'_> {
    /// Keeps a change a manager made in the audit log, in the change's own
    /// transaction: who, what, when. Changes by other roles are events.
    pub fn audit(&mut self, action: &str, detail: &str) -> Result<()> {
        if self.actor.role != Role::Manager {
            return Ok(());
        }
        let (at, who) = (self.at_ms(), self.actor.name.clone());
        self.tables.append_audit(at, &who, action, detail)
    }

    pub fn add_manager(&mut self, name: &str, password_hash: &str) -> Result<ManagerAccount> {
        valid_manager_name(name)?;
        if self.tables.manager(name)?.is_some() {
            return Err(Error::Conflict(format!(
                "there is already a manager named {name}; choose another name, or set their password"
            )));
        }
        let by = self.actor.name.clone();
        self.tables
            .insert_manager(name, password_hash, self.at_ms(), &by)?;
        self.audit("manager.add", &format!("added manager {name}"))?;
        Ok(self.existing_manager(name)?.account)
    }

    /// A new password: the manager's sessions end and a lock lifts.
    pub fn set_manager_password(&mut self, name: &str, password_hash: &str) -> Result<()> {
        self.existing_manager(name)?;
        self.tables.set_manager_password(name, password_hash)?;
        self.tables.end_manager_sessions_of(name)?;
        self.audit(
            "manager.password",
            &format!("set a new password for manager {name}"),
        )
    }

    /// A manager who left: signed out, and refused from now on (kept, so
    /// the audit log keeps naming them).
    pub fn disable_manager(&mut self, name: &str) -> Result<()> {
        self.existing_manager(name)?;
        self.tables.disable_manager(name, self.at_ms())?;
        self.tables.end_manager_sessions_of(name)?;
        self.audit("manager.disable", &format!("disabled manager {name}"))
    }

    /// After a right password: the count of wrong ones starts again and a
    /// console session opens until `expires_at` (ms).
    pub fn open_manager_session(
        &mut self,
        name: &str,
        token_sha256: &[u8; 32],
        expires_at: i64,
    ) -> Result<()> {
        let m = self.existing_manager(name)?;
        if m.account.disabled {
            return Err(Error::Forbidden(format!(
                "manager {name} is disabled; another manager can make a new account"
            )));
        }
        self.tables.set_manager_failures(name, 0, None)?;
        self.tables
            .open_manager_session(token_sha256, name, self.at_ms(), expires_at)
    }

    /// After a wrong password for an existing account: counted, and the
    /// fifth in a row locks it for [`LOCK`].
    pub fn wrong_manager_password(&mut self, name: &str) -> Result<WrongPassword> {
        let m = self.existing_manager(name)?;
        let failed = m.failed + 1;
        if failed >= WRONG_BEFORE_LOCK {
            let until = self
                .now
                .at
                .saturating_add(LOCK)
                .map_err(|e| Error::Internal(e.to_string()))?;
            self.tables.set_manager_failures(name, 0, Some(ms(until)))?;
            return Ok(WrongPassword::LockedUntil(until));
        }
        self.tables.set_manager_failures(name, failed, None)?;
        Ok(WrongPassword::TriesLeft(WRONG_BEFORE_LOCK - failed))
    }

    pub fn end_manager_session(&mut self, token_sha256: &[u8; 32]) -> Result<()> {
        self.tables.end_manager_session(token_sha256)
    }

    fn existing_manager(&self, name: &str) -> Result<crate::store::managers::ManagerRow> {
        self.tables
            .manager(name)?
            .ok_or_else(|| Error::NotFound(format!("no manager named {name}")))
    }
}

/// When the account's lock ends, if it is locked at `now`.
pub fn locked_until(account: &ManagerAccount, now: jiff::Timestamp) -> Option<jiff::Timestamp> {
    account.locked_until.filter(|&until| until > now)
}
