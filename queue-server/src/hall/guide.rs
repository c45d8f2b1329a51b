//! The floor guide: a member of staff signs in on a handheld, takes numbers
//! for customers (with a priority reason the hall allows, see
//! `tickets::own_priority`) and has them printed at a chosen kiosk. A print
//! job is kept until the kiosk says what its printer did, so a kiosk that
//! was restarting prints it when it is back, and the guide sees a refusal
//! (out of paper) with its reason.

use hall_api::{EventKind, PrintDone, StaffRef};

use super::{EventDetail, Hall, validate_text};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::store::queries::{self, PrintJobRow};

impl Hall<'_> {
    /// Opens a floor guide session for `number` after their PIN was verified.
    pub fn open_guide_session(
        &mut self,
        number: &str,
        token_sha256: &[u8; 32],
        expires_at: i64,
    ) -> Result<StaffRef> {
        let staff = self.active_staff(number)?;
        self.tables
            .open_guide_session(token_sha256, number, self.at_ms(), expires_at)?;
        Ok(StaffRef {
            number: staff.number,
            name: staff.name,
        })
    }

    /// Ends a floor guide's session; false when the token opened none.
    pub fn end_guide_session(&mut self, token_sha256: &[u8; 32]) -> Result<bool> {
        self.tables.end_guide_session(token_sha256)
    }

    /// Asks `kiosk` to print ticket `id`: a waiting or called ticket, at a
    /// kiosk of this hall.
    pub fn request_print(&mut self, id: i64, kiosk: &str) -> Result<PrintJobRow> {
        let is_kiosk = self
            .config
            .devices
            .iter()
            .any(|d| d.name == kiosk && d.role == Role::Kiosk);
        if !is_kiosk {
            let kiosks: Vec<&str> = self
                .config
                .devices
                .iter()
                .filter(|d| d.role == Role::Kiosk)
                .map(|d| d.name.as_str())
                .collect();
            return Err(Error::BadRequest(format!(
                "\"{kiosk}\" is not a kiosk of this hall; its kiosks: {}",
                kiosks.join(", ")
            )));
        }
        let t = self.ticket(id)?;
        if t.status.is_final() {
            return Err(Error::Conflict(format!(
                "ticket {} is {}; there is nothing to print for it",
                t.number,
                t.status.as_str().replace('_', " ")
            )));
        }
        let job = self
            .tables
            .insert_print_job(kiosk, id, &self.actor.name, self.at_ms())?;
        let detail = EventDetail {
            staff: self.actor.staff.clone(),
            kiosk: Some(kiosk.to_string()),
            ..Default::default()
        };
        self.record_full(EventKind::PrintRequested, Some(&t), None, detail)?;
        queries::print_job(self.tables.conn(), job)?
            .ok_or_else(|| Error::Internal(format!("print job {job} vanished")))
    }

    /// Keeps what the kiosk's printer did with job `id` (the kiosk itself).
    pub fn finish_print(&mut self, id: i64, done: &PrintDone) -> Result<PrintJobRow> {
        if let Some(problem) = &done.problem {
            validate_text("problem", problem, 200)?;
        }
        let job = queries::print_job(self.tables.conn(), id)?
            .ok_or_else(|| Error::NotFound(format!("no print job {id}")))?;
        if job.kiosk != self.actor.name {
            return Err(Error::Forbidden(format!(
                "print job {id} is for {}, not for {}",
                job.kiosk, self.actor.name
            )));
        }
        // A second answer (a retry after a lost reply) changes nothing.
        self.tables
            .finish_print_job(id, self.at_ms(), done.printed, done.problem.as_deref())?;
        queries::print_job(self.tables.conn(), id)?
            .ok_or_else(|| Error::Internal(format!("print job {id} vanished")))
    }
}
