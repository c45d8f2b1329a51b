//! Issuing and cancelling tickets.

use hall_api::{EventKind, IssueTicket, Ticket};

use super::remote::RemoteAsk;
use super::{Hall, validate_text};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::rules::calendar::Openness;
use crate::rules::lifecycle::TicketStep;
use crate::rules::numbering::format_number;
use crate::rules::policy::{QueueRank, precedence_of};
use crate::store::queries;
use crate::store::tables::NewTicket;
use crate::tokens::random_hex;

/// What issuing answers: the ticket, and whether this request made it
/// (false: the device already had it under this idempotency key).
#[derive(Debug)]
pub struct Issued {
    pub ticket: Ticket,
    pub created: bool,
}

/// What a key account is called in `priority_reason`.
pub const KEY_ACCOUNT: &str = "key_account";
/// ...and a booking checked in inside its window.
pub const APPOINTMENT: &str = "appointment";

/// How a ticket comes to be, beyond its request.
#[derive(Debug, Default)]
pub struct IssueAs<'a> {
    /// The billing system says the account is a key account.
    pub key_account: bool,
    /// Taken before arriving: waits for a check-in.
    pub remote: Option<&'a RemoteAsk>,
    /// A booking checked in inside its window: the appointment's priority.
    pub appointment: bool,
}

impl Hall<'_> {
    /// A ticket's own priority (as the policy's precedence) and why: the
    /// reason a floor guide or manager gave, a key account, or the larger
    /// of the two when both apply.
    fn own_priority(&self, req: &IssueTicket, key_account: bool) -> Result<(i32, Option<String>)> {
        let mut best: (u32, Option<String>) = (0, None);
        if let Some(id) = &req.priority_reason {
            if !matches!(self.actor.role, Role::Guide | Role::Manager) {
                return Err(Error::Forbidden(format!(
                    "device \"{}\" may not give a priority reason; the floor guide and the manager may",
                    self.actor.name
                )));
            }
            let reasons = &self.config.hall.priority_reasons;
            let reason = reasons.iter().find(|r| &r.id == id).ok_or_else(|| {
                Error::BadRequest(format!(
                    "\"{id}\" is not one of this hall's priority reasons: {}",
                    reasons
                        .iter()
                        .map(|r| r.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
            })?;
            best = (reason.priority, Some(reason.id.clone()));
        }
        let key = self.config.billing.key_account_priority;
        if key_account && key > best.0 {
            best = (key, Some(KEY_ACCOUNT.to_string()));
        }
        Ok((precedence_of(best.0), best.1))
    }

    /// Issues a ticket for a customer, or hands back the one this device
    /// already issued under the same idempotency key, whatever has changed
    /// since (a kiosk retrying after the closing time still gets its ticket).
    /// `key_account`: the billing system said the customer's account is one.
    pub fn issue(&mut self, req: &IssueTicket, key_account: bool) -> Result<Issued> {
        self.issue_as(
            req,
            &IssueAs {
                key_account,
                ..IssueAs::default()
            },
        )
    }

    /// [`Hall::issue`] for a walk-in, a customer not in the hall yet whose
    /// ticket waits for a check-in (`remote`), or a booking checked in on
    /// time (`appointment`).
    pub(super) fn issue_as(&mut self, req: &IssueTicket, how: &IssueAs<'_>) -> Result<Issued> {
        let key_account = how.key_account;
        let remote = how.remote;
        validate_text("idempotency_key", &req.idempotency_key, 128)?;
        if let Some(existing) = self
            .tables
            .ticket_by_idempotency(&self.actor.name, &req.idempotency_key)?
        {
            if existing.service != req.service {
                return Err(Error::Conflict(format!(
                    "idempotency key \"{}\" already issued ticket {} for service \"{}\"; use a new key for a new ticket",
                    req.idempotency_key, existing.number, existing.service
                )));
            }
            return Ok(Issued {
                ticket: queries::ticket_view(
                    self.tables.conn(),
                    self.config,
                    &existing,
                    self.now.at,
                )?,
                created: false,
            });
        }
        let service = self.known_service(&req.service)?;
        // Nobody should wait through a break, a holiday or a closure.
        let held = queries::held_calendar(self.tables.conn(), self.config)?;
        let closures = queries::closures_for(self.tables.conn(), &service.id, self.at_ms())?;
        // A booking checked in for a slot right after a break waits through it.
        if let (false, Openness::Closed { why, next }) = (
            how.appointment,
            self.config
                .calendar(service, &held, &closures)
                .at(self.now.at),
        ) {
            return Err(Error::Conflict(format!(
                "service \"{}\" is closed now ({}); {}",
                service.id,
                crate::rules::calendar::why_in_words(&why),
                crate::rules::calendar::next_in_words(
                    &self.config.hall.timezone,
                    self.now.at,
                    next
                )
            )));
        }
        if self.closed_today(&service.id)? {
            return Err(Error::Conflict(format!(
                "service \"{}\" is closed for today; the hall's staff can say where to go instead",
                service.id
            )));
        }
        if let Some(r) = &req.customer_ref {
            validate_text("customer_ref", r, 64)?;
        }
        let (mut precedence, mut priority_reason) = self.own_priority(req, key_account)?;
        let appointment = self.config.appointments.priority;
        if how.appointment && precedence_of(appointment) < precedence {
            (precedence, priority_reason) = (precedence_of(appointment), Some(APPOINTMENT.into()));
        }
        let day = self.business_day();
        let remote = match remote {
            Some(ask) => Some(self.remote_slot(&service.id, &day, ask)?),
            None => None,
        };
        let seq = self.tables.next_number(&service.id, &day)?;
        let mut load = self.tables.hall_load()?;
        let mut ahead = load.waiting.get(&service.id).copied().unwrap_or(0);
        let id = self.tables.insert_ticket(&NewTicket {
            number: &format_number(&service.prefix, seq),
            service: &service.id,
            business_day: &day,
            rank: QueueRank::Fresh,
            issued_at: self.at_ms(),
            created_at: self.at_ms(),
            channel: &self.actor.name,
            idempotency_key: Some(&req.idempotency_key),
            tracking_code: &random_hex::<16>("tracking code")?,
            customer_ref: req.customer_ref.as_deref(),
            lang: req.lang.map(|l| l.as_str()),
            transferred_from: None,
            precedence,
            priority_reason: priority_reason.as_deref(),
            remote,
        })?;
        let row = self.ticket(id)?;
        if precedence != 0 {
            // Called before some who came earlier: count those really ahead.
            ahead = queries::ahead_of(self.tables.conn(), &row)?;
        }
        *load.waiting.entry(service.id.clone()).or_default() += 1;
        let estimate = load.estimate(
            self.tables.conn(),
            self.config,
            &held,
            &service.id,
            ahead,
            self.now.at,
        )?;
        self.record(EventKind::TicketIssued, Some(&row), None)?;
        Ok(Issued {
            ticket: row.to_ticket(Some((ahead, estimate))),
            created: true,
        })
    }

    /// Cancels a waiting or called ticket (a kiosk: only its own, e.g. one
    /// it could not print).
    pub fn cancel(&mut self, id: i64) -> Result<Ticket> {
        let t = self.ticket(id)?;
        if self.actor.role == Role::Kiosk && t.channel != self.actor.name {
            return Err(Error::Forbidden(format!(
                "a kiosk may only cancel tickets it issued; {} came from {}",
                t.number, t.channel
            )));
        }
        let counter = t.counter;
        let t = self.advance(t, TicketStep::Cancel, counter)?;
        self.audit(
            "ticket.cancelled",
            &format!("cancelled ticket {}", t.number),
        )?;
        Ok(t.to_ticket(None))
    }
}
