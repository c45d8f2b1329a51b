//! Issuing and cancelling tickets.

use hall_api::{EventKind, IssueTicket, Ticket};

use super::{Hall, validate_text};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::rules::lifecycle::TicketStep;
use crate::rules::numbering::format_number;
use crate::rules::policy::QueueRank;
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

impl Hall<'_> {
    /// Issues a ticket for a customer, or hands back the one this device
    /// already issued under the same idempotency key, whatever has changed
    /// since (a kiosk retrying after the closing time still gets its ticket).
    pub fn issue(&mut self, req: &IssueTicket) -> Result<Issued> {
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
                ticket: queries::ticket_view(self.tables.conn(), self.config, &existing)?,
                created: false,
            });
        }
        let service = self.config.service(&req.service).ok_or_else(|| {
            Error::BadRequest(format!(
                "unknown service \"{}\"; known services: {}",
                req.service,
                self.config.service_ids()
            ))
        })?;
        // Nobody should wait for a counter that will not open today.
        if !self.config.hands_out(service, self.now.at) {
            let hours = service.hours.map(|h| h.to_string()).unwrap_or_default();
            return Err(Error::Conflict(format!(
                "service \"{}\" hands out tickets {hours} only; come back then",
                service.id
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
        let day = self.business_day();
        let seq = self.tables.next_number(&service.id, &day)?;
        let mut load = self.tables.hall_load()?;
        let ahead = load.waiting.get(&service.id).copied().unwrap_or(0);
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
        })?;
        let row = self.ticket(id)?;
        *load.waiting.entry(service.id.clone()).or_default() += 1;
        let estimate = load.estimate(self.tables.conn(), self.config, &service.id, ahead)?;
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
