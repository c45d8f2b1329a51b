//! Tickets taken before arriving (线上取号), on a phone or the company's
//! app. A remote ticket takes its place in the queue at once but is not
//! called until its holder checks in at the hall: at a kiosk with its
//! six-digit code, or on the phone after scanning the QR posted in the
//! hall. Until then counters skip it and it keeps its place; not checked
//! in within `remote.check_in_within_min`, it expires. Limits per client
//! and per service keep remote tickets from filling the queue.

use hall_api::{EventKind, IssueTicket, RemoteTicketRequest, Ticket};

use super::Hall;
use super::tickets::Issued;
use crate::config::RemoteConfig;
use crate::error::{Error, Result};
use crate::rules::lifecycle::TicketStep;
use crate::store::queries::{self, TicketRow};
use crate::store::tables::NewRemote;
use crate::tokens::{sha256, to_hex};

/// Who takes a remote ticket, for the per-client limit: the app's own
/// customer id, or the address the phone page was asked from.
#[derive(Debug, Clone)]
pub struct RemoteAsk {
    pub client: String,
}

impl Hall<'_> {
    fn remote_config(&self) -> Result<&RemoteConfig> {
        self.config.remote.as_ref().ok_or_else(|| {
            Error::Conflict(
                "this hall does not take tickets before arrival; take one at the kiosk in the hall"
                    .into(),
            )
        })
    }

    /// Takes a remote ticket for `ask.client`.
    pub fn issue_remote(&mut self, req: &RemoteTicketRequest, ask: &RemoteAsk) -> Result<Issued> {
        self.remote_config()?;
        let mut issue = IssueTicket::new(req.service.clone(), req.idempotency_key.clone());
        issue.lang = req.lang;
        self.issue_as(
            &issue,
            &super::tickets::IssueAs {
                remote: Some(ask),
                ..Default::default()
            },
        )
    }

    /// The check-in fields of a new remote ticket, after the limits.
    pub(super) fn remote_slot(
        &mut self,
        service: &str,
        day: &str,
        ask: &RemoteAsk,
    ) -> Result<NewRemote> {
        let rc = self.remote_config()?.clone();
        // Kept as a hash: the limit needs only to tell clients apart.
        let client = to_hex(&sha256(&ask.client));
        let taken = self.tables.remote_taken_by(day, &client)?;
        if taken >= rc.per_client_per_day {
            let (_, day_ends) = self
                .config
                .hall
                .day_window(self.config.hall.business_day(self.now.at))
                .map_err(Error::Internal)?;
            let retry = (day_ends.as_second() - self.now.at.as_second()).max(60) as u64;
            return Err(Error::TooMany(
                format!(
                    "you already took {taken} tickets before arriving today, the most this hall allows; \
                     take one at the kiosk when you are here"
                ),
                retry,
            ));
        }
        let awaiting = self.tables.remote_awaiting(service)?;
        if awaiting >= rc.waiting_per_service {
            return Err(Error::Conflict(format!(
                "{awaiting} people are already on their way for service \"{service}\", as many as \
                 the hall takes; try again later or take a ticket at the kiosk"
            )));
        }
        let check_in_by = self.at_ms() + i64::from(rc.check_in_within_min) * 60_000;
        Ok(NewRemote {
            check_in_code: self.free_code(day)?,
            check_in_by,
            client,
        })
    }

    /// Checks in the remote ticket, or the appointment of today, with this
    /// code (a kiosk's keypad).
    pub fn check_in_by_code(&mut self, code: &str) -> Result<Ticket> {
        let day = self.business_day();
        let not_found = || {
            Error::NotFound(format!(
                "no ticket of today has check-in code {code}; check the six digits on your phone"
            ))
        };
        let code = code.trim();
        if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
            return Err(not_found());
        }
        let Some(id) = self.tables.ticket_by_check_in_code(&day, code)? else {
            // Not a number taken on a phone: perhaps an appointment's code.
            let booking = self.booking_today(code)?.ok_or_else(not_found)?;
            return self.check_in_booking(booking);
        };
        let t = self.ticket(id)?;
        let t = self.check_in(t)?;
        queries::ticket_view(self.tables.conn(), self.config, &t, self.now.at)
    }

    /// Checks in a remote ticket from its holder's phone, with the code
    /// the QR posted in the hall carries.
    pub fn check_in_at_place(&mut self, tracking_code: &str, place: &str) -> Result<TicketRow> {
        let expected = self.remote_config()?.place_code.clone().ok_or_else(|| {
            Error::Conflict(
                "this hall checks in at the kiosk only: type your check-in code there".into(),
            )
        })?;
        // Compared as hashes: the time taken says nothing of the code.
        if sha256(place) != sha256(&expected) {
            return Err(Error::BadRequest(
                "this is not the QR code of this hall: scan the one posted in the hall, or check in at the kiosk"
                    .into(),
            ));
        }
        let t = queries::ticket_by_tracking_code(self.tables.conn(), tracking_code)?
            .ok_or_else(|| Error::NotFound("no ticket has this code".into()))?;
        self.check_in(t)
    }

    fn check_in(&mut self, t: TicketRow) -> Result<TicketRow> {
        if t.check_in_code.is_none() {
            return Err(Error::Conflict(format!(
                "ticket {} was taken in the hall; it needs no check-in",
                t.number
            )));
        }
        if t.checked_in_at.is_some() {
            // Checked in twice (the kiosk, then the phone): nothing changes.
            return Ok(t);
        }
        if t.status != hall_api::TicketStatus::Waiting {
            return Err(Error::Conflict(format!(
                "ticket {} is {} and can no longer be checked in; take a new ticket at the kiosk",
                t.number,
                t.status.as_str().replace('_', " ")
            )));
        }
        self.tables.check_in(t.id, self.at_ms())?;
        let t = self.ticket(t.id)?;
        self.record(EventKind::TicketCheckedIn, Some(&t), None)?;
        Ok(t)
    }

    /// Expires the remote tickets whose check-in time ran out; answers how many.
    pub fn expire_overdue_remote(&mut self) -> Result<usize> {
        let overdue = self.tables.overdue_remote(self.at_ms())?;
        for &id in &overdue {
            let t = self.ticket(id)?;
            self.advance(t, TicketStep::Expire, None)?;
        }
        Ok(overdue.len())
    }
}

/// Six random digits.
pub(super) fn random_code() -> Result<String> {
    let mut bytes = [0u8; 4];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no random source for a check-in code: {e}")))?;
    Ok(format!("{:06}", u32::from_le_bytes(bytes) % 1_000_000))
}
