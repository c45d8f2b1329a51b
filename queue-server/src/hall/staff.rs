//! Staff as people: accounts (never deleted, so past days keep their
//! names), signing in at a counter with their own PIN, and the attendance
//! those sign-ins make. PINs are hashed and verified off the writer
//! thread; these commands keep the results.

use hall_api::{EventKind, StaffRef};

use super::{EventDetail, Hall, validate_text};
use crate::error::{Error, Result};

/// A staff number: 1 to 16 letters, digits, '-' or '_'.
pub fn valid_staff_number(number: &str) -> Result<()> {
    if (1..=16).contains(&number.len())
        && number
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err(Error::BadRequest(format!(
            "staff number \"{number}\" must be 1 to 16 letters, digits, '-' or '_'"
        )))
    }
}

impl Hall<'_> {
    pub fn add_staff(&mut self, number: &str, name: &str, pin_hash: &str) -> Result<StaffRef> {
        valid_staff_number(number)?;
        validate_text("name", name, 32)?;
        if let Some(existing) = self.tables.staff(number)? {
            return Err(Error::Conflict(format!(
                "staff number {number} already belongs to {}{}; staff numbers are never reused",
                existing.name,
                if existing.disabled { " (disabled)" } else { "" }
            )));
        }
        self.tables
            .insert_staff(number, name, pin_hash, self.at_ms())?;
        self.audit("staff.add", &format!("added {number} {name}"))?;
        Ok(StaffRef {
            number: number.into(),
            name: name.into(),
        })
    }

    /// A new PIN; the sessions the old one opened end.
    pub fn set_staff_pin(&mut self, number: &str, pin_hash: &str) -> Result<()> {
        self.existing_staff(number)?;
        self.tables.set_staff_pin(number, pin_hash)?;
        self.audit("staff.pin", &format!("set the PIN of {number}"))?;
        self.sign_out_staff(number, "PIN changed")
    }

    /// A member of staff who left: signed out, and refused from now on.
    pub fn disable_staff(&mut self, number: &str) -> Result<()> {
        self.existing_staff(number)?;
        self.tables.disable_staff(number, self.at_ms())?;
        self.audit("staff.disable", &format!("disabled {number}"))?;
        self.sign_out_staff(number, "disabled")
    }

    /// Ends a member of staff's attendance wherever they are signed in.
    pub fn sign_out_staff(&mut self, number: &str, why: &str) -> Result<()> {
        self.tables.end_expired_sessions(self.at_ms())?;
        self.tables.end_guide_sessions_of(number)?;
        for (id, staff, counter) in self.tables.signed_in(self.at_ms())? {
            if staff == number {
                self.end_attendance(id, counter, why)?;
            }
        }
        Ok(())
    }

    /// Signs a member of staff in at `counter` after their PIN was
    /// verified: a session until `expires_at` (ms) and an attendance row.
    /// They may be signed in at one counter only; whoever was signed in at
    /// this counter before is signed out (the post changed hands).
    pub fn sign_in_staff(
        &mut self,
        counter: u32,
        number: &str,
        token_sha256: &[u8; 32],
        expires_at: i64,
    ) -> Result<StaffRef> {
        let staff = self.active_staff(number)?;
        self.config
            .counter(counter)
            .ok_or_else(|| Error::NotFound(format!("counter {counter} is not configured")))?;
        let now = self.at_ms();
        self.tables.end_expired_sessions(now)?;
        let live = self.tables.signed_in(now)?;
        if let Some((_, _, elsewhere)) = live.iter().find(|(_, s, c)| s == number && *c != counter)
        {
            return Err(Error::Conflict(format!(
                "staff {number} ({}) is signed in at counter {elsewhere}; sign out there first \
                 (or ask the manager to sign you out)",
                staff.name
            )));
        }
        for (id, _, c) in &live {
            if *c == counter {
                self.end_attendance(*id, counter, "replaced")?;
            }
        }
        let attendance = self
            .tables
            .start_attendance(number, counter, now, expires_at)?;
        self.tables
            .open_session(token_sha256, counter, now, expires_at, Some(attendance))?;
        let who = StaffRef {
            number: staff.number,
            name: staff.name,
        };
        let detail = EventDetail {
            staff: Some(who.clone()),
            ..Default::default()
        };
        self.record_full(EventKind::StaffSignedIn, None, Some(counter), detail)?;
        Ok(who)
    }

    /// Ends one attendance row (and its sessions) and says so on the stream.
    pub(super) fn end_attendance(&mut self, id: i64, counter: u32, why: &str) -> Result<()> {
        let staff = self.tables.attendance_staff(id)?.map(|s| StaffRef {
            number: s.number,
            name: s.name,
        });
        self.tables.end_attendance(id, self.at_ms(), why)?;
        let detail = EventDetail {
            staff,
            reason: Some(why.to_string()),
            ..Default::default()
        };
        self.record_full(EventKind::StaffSignedOut, None, Some(counter), detail)
    }

    pub fn staff_exists(&self, number: &str) -> Result<bool> {
        Ok(self.tables.staff(number)?.is_some())
    }

    /// A member of staff who may sign in: known and not disabled.
    pub(super) fn active_staff(&self, number: &str) -> Result<crate::store::queries::StaffRow> {
        let staff = self.existing_staff(number)?;
        if staff.disabled {
            return Err(Error::Forbidden(format!(
                "staff {number} ({}) is disabled; ask the manager",
                staff.name
            )));
        }
        Ok(staff)
    }

    pub(super) fn existing_staff(&self, number: &str) -> Result<crate::store::queries::StaffRow> {
        self.tables
            .staff(number)?
            .ok_or_else(|| Error::NotFound(format!("no member of staff has number {number}")))
    }
}
