//! Appointments (预约): booking a service's slot (capacity, how far ahead,
//! how late), cancelling and moving it, checking in at the kiosk (a ticket
//! with the appointment's priority inside the window, in walk-in order
//! after it) and the no-show of a booking nobody checked in by the end of
//! its window (a late customer that day is still let in, counted late). The slot and
//! window rules themselves are `rules::appointments`.

use hall_api::{BookingRequest, BookingStatus, IssueTicket, Ticket};

use super::Hall;
use super::remote::random_code;
use super::tickets::IssueAs;
use crate::error::{Error, Result};
use crate::rules::appointments::{
    Arrival, SlotRules, arrival, bookable, cancellable, no_show_after,
};
use crate::store::bookings::{self, BookingRow, NewBooking};
use crate::store::queries::{self, ms, ts};
use crate::tokens::{random_hex, sha256, to_hex};

/// Who books, for the per-client limit: the same as who takes a remote ticket.
pub use super::remote::RemoteAsk as BookingClient;

impl Hall<'_> {
    fn slot_rules(&self, service: &str) -> Result<(&crate::config::ServiceConfig, SlotRules)> {
        let cfg = self.known_service(service)?;
        let rules = cfg.slots.ok_or_else(|| {
            Error::Conflict(format!(
                "service \"{service}\" takes no appointments; take a ticket at the kiosk"
            ))
        })?;
        Ok((cfg, rules))
    }

    /// Checks `slot` of `service` can take one more booking now.
    fn check_slot(&self, service: &str, slot: jiff::Timestamp) -> Result<String> {
        let (cfg, rules) = self.slot_rules(service)?;
        let held = queries::held_calendar(self.tables.conn(), self.config)?;
        let closures = queries::closures_for(self.tables.conn(), service, self.at_ms())?;
        let cal = self.config.calendar(cfg, &held, &closures);
        let today = self.config.hall.business_day(self.now.at);
        bookable(&cal, &rules, self.now.at, today, slot).map_err(|why| {
            Error::Conflict(format!("the slot at {slot} {why}; choose another slot"))
        })?;
        // The writer runs one command at a time: counting here and
        // inserting below cannot be overtaken by another booking.
        if bookings::taken(self.tables.conn(), service, ms(slot))? >= rules.per_slot {
            return Err(Error::Conflict(format!(
                "the slot at {slot} is fully booked; choose another slot"
            )));
        }
        Ok(self.config.hall.business_day(slot).to_string())
    }

    /// Books a slot for `who`; the same idempotency key from the same
    /// channel answers the booking it made.
    pub fn book(
        &mut self,
        req: &BookingRequest,
        who: &BookingClient,
    ) -> Result<(BookingRow, bool)> {
        super::validate_text("idempotency_key", &req.idempotency_key, 128)?;
        if let Some(b) =
            bookings::by_idempotency(self.tables.conn(), &self.actor.name, &req.idempotency_key)?
        {
            return Ok((b, false));
        }
        let day = self.check_slot(&req.service, req.slot_start)?;
        let client = to_hex(&sha256(&who.client));
        let per_client = self.config.appointments.per_client_per_day;
        if bookings::held_by(self.tables.conn(), &day, &client)? >= per_client {
            return Err(Error::TooMany(
                format!(
                    "you already hold {per_client} bookings for {day}, the most this hall allows; \
                     cancel one to book another"
                ),
                60,
            ));
        }
        let code = self.free_code(&day)?;
        let tracking = random_hex::<16>("booking code")?;
        let id = bookings::insert(
            self.tables.conn(),
            &NewBooking {
                service: &req.service,
                slot_start: ms(req.slot_start),
                slot_day: &day,
                code: &code,
                tracking_code: &tracking,
                channel: &self.actor.name,
                idempotency_key: &req.idempotency_key,
                client: &client,
                lang: req.lang.map(|l| l.as_str()),
                created_at: self.at_ms(),
            },
        )?;
        Ok((bookings::by_id(self.tables.conn(), id)?, true))
    }

    /// A six-digit code no booking nor remote ticket of `day` has.
    pub(super) fn free_code(&self, day: &str) -> Result<String> {
        for _ in 0..20 {
            let code = random_code()?;
            if !bookings::code_taken(self.tables.conn(), day, &code)?
                && !self.tables.check_in_code_taken(day, &code)?
            {
                return Ok(code);
            }
        }
        Err(Error::Internal(
            "no free code found for the day; try again".into(),
        ))
    }

    fn own_booking(&self, tracking: &str) -> Result<BookingRow> {
        bookings::by_tracking(self.tables.conn(), tracking)?
            .ok_or_else(|| Error::NotFound("no booking has this code".into()))
    }

    fn still_movable(&self, b: &BookingRow) -> Result<SlotRules> {
        let (_, rules) = self.slot_rules(&b.service)?;
        if b.status != BookingStatus::Booked {
            return Err(Error::Conflict(format!(
                "the booking is {} and cannot be changed",
                b.status.as_str().replace('_', " ")
            )));
        }
        if !cancellable(&rules, self.now.at, ts(b.slot_start)) {
            return Err(Error::Conflict(format!(
                "bookings are changed or cancelled at least {} minutes before their slot",
                rules.cancel_until_min
            )));
        }
        Ok(rules)
    }

    pub fn cancel_booking(&mut self, tracking: &str) -> Result<BookingRow> {
        let b = self.own_booking(tracking)?;
        self.still_movable(&b)?;
        bookings::set_status(
            self.tables.conn(),
            b.id,
            BookingStatus::Cancelled,
            self.at_ms(),
        )?;
        bookings::by_id(self.tables.conn(), b.id)
    }

    /// Moves a booking to another slot of its service, keeping its codes.
    pub fn move_booking(&mut self, tracking: &str, slot: jiff::Timestamp) -> Result<BookingRow> {
        let b = self.own_booking(tracking)?;
        self.still_movable(&b)?;
        let day = self.check_slot(&b.service, slot)?;
        if day != b.slot_day && bookings::code_taken(self.tables.conn(), &day, &b.code)? {
            return Err(Error::Conflict(
                "cannot move this booking to that day; cancel it and book again".into(),
            ));
        }
        bookings::move_to(self.tables.conn(), b.id, ms(slot), &day)?;
        bookings::by_id(self.tables.conn(), b.id)
    }

    /// The booking with this code today, if any (the kiosk's keypad).
    pub(super) fn booking_today(&self, code: &str) -> Result<Option<BookingRow>> {
        bookings::by_code(self.tables.conn(), &self.business_day(), code)
    }

    /// Checks in a booking: inside its window a ticket with the
    /// appointment's priority, after it a ticket in walk-in order (late);
    /// before it, a refusal that says when check-in opens.
    pub(super) fn check_in_booking(&mut self, b: BookingRow) -> Result<Ticket> {
        // Checked in already (the answer to the kiosk was lost, or OK was
        // pressed twice): the same ticket again, printed again.
        if let (BookingStatus::CheckedIn, Some(id)) = (b.status, b.ticket) {
            let t = self.ticket(id)?;
            return queries::ticket_view(self.tables.conn(), self.config, &t, self.now.at);
        }
        // Marked no-show at the end of its window, a booking still lets a
        // late customer in that day, in walk-in order.
        if !matches!(b.status, BookingStatus::Booked | BookingStatus::NoShow) {
            return Err(Error::Conflict(format!(
                "this booking is {}; take a ticket at the kiosk",
                b.status.as_str().replace('_', " ")
            )));
        }
        let window = self.config.appointments.window;
        let slot = ts(b.slot_start);
        let on_time = match arrival(&window, self.now.at, slot) {
            Arrival::TooEarly { window_opens } => {
                let t = window_opens.to_zoned(self.config.hall.timezone.clone());
                return Err(Error::TooEarly(format!(
                    "check-in for this appointment opens at {:02}:{:02}; come back then, or take a ticket now",
                    t.hour(),
                    t.minute()
                )));
            }
            Arrival::OnTime => true,
            Arrival::Late => false,
        };
        let mut issue = IssueTicket::new(b.service.clone(), format!("booking-{}", b.id));
        issue.lang = b.lang.as_deref().and_then(hall_api::Lang::parse);
        let issued = self.issue_as(
            &issue,
            &IssueAs {
                appointment: on_time,
                ..IssueAs::default()
            },
        )?;
        bookings::checked_in(
            self.tables.conn(),
            b.id,
            self.at_ms(),
            !on_time,
            issued.ticket.id,
        )?;
        Ok(issued.ticket)
    }

    /// Marks the bookings nobody checked in by the end of their window as
    /// no-shows; answers how many.
    pub fn mark_booking_no_shows(&mut self) -> Result<usize> {
        let window = self.config.appointments.window;
        let late = i64::from(window.late_min) * 60_000;
        let missed = bookings::booked_before(self.tables.conn(), self.at_ms() - late)?;
        for b in &missed {
            debug_assert!(no_show_after(&window, ts(b.slot_start)) <= self.now.at);
            bookings::set_status(
                self.tables.conn(),
                b.id,
                BookingStatus::NoShow,
                self.at_ms(),
            )?;
        }
        Ok(missed.len())
    }
}
