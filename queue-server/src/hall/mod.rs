//! The hall's commands and the rules they apply, one family per file:
//!
//! - [`tickets`]: issue and cancel;
//! - [`appointments`]: bookings of a service's slots, their check-in and no-shows;
//! - [`closures`]: the hall or some services closed for a time, with a reason;
//! - [`calendar`]: a year's holidays and a service's hours sent by head office;
//! - [`services`]: a service's name, target wait and papers sent by head office;
//! - [`counters`]: call next, recall, start, complete, no-show, transfer,
//!   and a counter's open / pause / resume / close;
//! - [`sessions`]: counter PINs and the sessions a sign-in opens;
//! - [`staff`]: staff accounts, their sign-in at a counter (attendance);
//! - [`managers`]: manager accounts, console sessions, the audit log;
//! - [`end_of_day`]: closing the counters and keeping the day's report;
//! - [`guide`]: the floor guide's session and the tickets it has printed at a kiosk;
//! - [`today`]: a service closed for the day, the boards' notice;
//! - [`deliveries`]: the outcome of a webhook delivery;
//! - [`ratings`]: 好差评 and the follow-up of bad ratings;
//! - [`remote`]: tickets taken before arriving, their check-in and expiry;
//! - [`privacy`]: personal data removed after the retention period.
//!
//! A command runs on the writer thread inside its own savepoint
//! (`store::writer`), sees the hall through [`Hall`], reaches storage only
//! through [`Tables`], and records every change as an event. The pure
//! rules it applies (life cycle, calling order, estimate, numbering) live
//! in `crate::rules`; the checks that need the hall's state live here.
//! Handlers call a command by name:
//! `writer.run(actor, move |hall| hall.call_next(counter))`.

use std::sync::Arc;

use hall_api::{Event, EventKind, EventRating, ServiceWaiting, StaffRef};

use crate::config::{Config, Role};
use crate::error::{Error, Result};
use crate::rules::numbering::Reading;
use crate::store::queries::{TicketRow, ms};
use crate::store::tables::{NewEvent, Tables};

pub mod appointments;
pub mod calendar;
pub mod closures;
pub mod counters;
pub mod deliveries;
pub mod end_of_day;
pub mod guide;
pub mod managers;
pub mod privacy;
pub mod pushes;
pub mod ratings;
pub mod remote;
pub mod services;
pub mod sessions;
pub mod staff;
pub mod tickets;
pub mod today;

#[cfg(test)]
mod order_tests;

/// Who asks: the device's (or session's) name and role, and the member of
/// staff when a person signed in.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub role: Role,
    pub staff: Option<StaffRef>,
}

impl Actor {
    /// A device or the server itself, no person.
    pub fn device(name: impl Into<String>, role: Role) -> Actor {
        Actor {
            name: name.into(),
            role,
            staff: None,
        }
    }
}

/// What an event says besides its kind, ticket and counter.
#[derive(Debug, Default)]
struct EventDetail {
    /// The member of staff concerned (who acted, who signed in or out, who served).
    staff: Option<StaffRef>,
    /// Why a counter paused, why someone signed out.
    reason: Option<String>,
    rating: Option<EventRating>,
    report: Option<hall_api::DayReportSummary>,
    service: Option<String>,
    notice: Option<hall_api::I18nText>,
    kiosk: Option<String>,
    closures: Option<Vec<hall_api::ClosureView>>,
}

/// An event as stored, ready to send: serialized once for all subscribers.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: i64,
    pub kind: EventKind,
    pub body: Arc<str>,
}

/// The hall as one command sees it: the configuration, the tables inside
/// the writer's transaction, the time of the change and who asks.
pub struct Hall<'a> {
    tables: Tables<'a>,
    config: &'a Config,
    now: Reading,
    actor: &'a Actor,
    next_event_id: &'a mut i64,
    events: Vec<StoredEvent>,
    /// Whether the command changed what is laid over the configuration.
    config_changed: bool,
}

impl<'a> Hall<'a> {
    /// `next_event_id` is the writer's counter: it moves on with each
    /// recorded event (the writer puts it back when the command is refused).
    pub fn new(
        tables: Tables<'a>,
        config: &'a Config,
        now: Reading,
        actor: &'a Actor,
        next_event_id: &'a mut i64,
    ) -> Hall<'a> {
        Hall {
            tables,
            config,
            now,
            actor,
            next_event_id,
            events: Vec::new(),
            config_changed: false,
        }
    }

    /// The events this command recorded, to publish after the commit, and
    /// whether it changed head office's settings of the configuration.
    pub fn into_events(self) -> (Vec<StoredEvent>, bool) {
        (self.events, self.config_changed)
    }

    fn at_ms(&self) -> i64 {
        ms(self.now.at)
    }

    /// The configured service `id`, or why not in words that list the known ones.
    fn known_service(&self, id: &str) -> Result<&'a crate::config::ServiceConfig> {
        self.config.service(id).ok_or_else(|| {
            Error::BadRequest(format!(
                "unknown service \"{id}\"; known services: {}",
                self.config.service_ids()
            ))
        })
    }

    fn business_day(&self) -> String {
        self.config.hall.business_day(self.now.at).to_string()
    }

    fn ticket(&self, id: i64) -> Result<TicketRow> {
        self.tables
            .ticket(id)?
            .ok_or_else(|| Error::NotFound(format!("no ticket with id {id}")))
    }

    /// Appends an event to the log and to each subscribed webhook's outbox,
    /// in this command's transaction: if the change happened, so did its
    /// event and its deliveries.
    fn record(
        &mut self,
        kind: EventKind,
        ticket: Option<&TicketRow>,
        counter: Option<u32>,
    ) -> Result<()> {
        let detail = EventDetail {
            staff: self.actor.staff.clone(),
            ..Default::default()
        };
        self.record_full(kind, ticket, counter, detail)
    }

    /// [`Hall::record`] with what else the event says.
    fn record_full(
        &mut self,
        kind: EventKind,
        ticket: Option<&TicketRow>,
        counter: Option<u32>,
        detail: EventDetail,
    ) -> Result<()> {
        let transferred_to = match ticket.and_then(|t| t.transferred_to) {
            Some(id) if kind == EventKind::TicketTransferred => Some(self.ticket(id)?),
            _ => None,
        };
        let mut waiting = Vec::new();
        for service in queues_moved(kind, ticket, transferred_to.as_ref()) {
            waiting.push(ServiceWaiting {
                service: service.to_string(),
                waiting: self.tables.waiting_count(service)?,
            });
        }
        let id = *self.next_event_id;
        let event = Event {
            id,
            kind,
            at: self.now.at,
            ticket: ticket.map(TicketRow::summary),
            counter,
            transferred_to: transferred_to.as_ref().map(TicketRow::summary),
            by: self.actor.name.clone(),
            staff: detail.staff,
            reason: detail.reason,
            rating: detail.rating,
            report: detail.report,
            service: detail.service,
            notice: detail.notice,
            kiosk: detail.kiosk,
            closures: detail.closures,
            waiting,
        };
        let body = serde_json::to_string(&event).map_err(|e| Error::Internal(e.to_string()))?;
        let day = self.business_day();
        let row = NewEvent {
            id,
            at: self.at_ms(),
            business_day: &day,
            kind: kind.as_str(),
            ticket: ticket.map(|t| t.id),
            counter,
            body: &body,
        };
        self.tables.append_event(&row)?;
        for w in self
            .config
            .webhooks
            .iter()
            .filter(|w| w.events.contains(&kind))
        {
            self.tables.enqueue_delivery(&w.name, &row)?;
        }
        *self.next_event_id += 1;
        self.events.push(StoredEvent {
            id,
            kind,
            body: body.into(),
        });
        Ok(())
    }
}

/// The services whose waiting count an event changes: a ticket joins its
/// queue (issued), leaves it (called, or cancelled while waiting), or a
/// transfer puts its new entry in the target's.
fn queues_moved<'t>(
    kind: EventKind,
    ticket: Option<&'t TicketRow>,
    transferred_to: Option<&'t TicketRow>,
) -> Vec<&'t str> {
    match kind {
        EventKind::TicketIssued
        | EventKind::TicketCalled
        | EventKind::TicketCancelled
        | EventKind::TicketExpired => ticket.map(|t| t.service.as_str()).into_iter().collect(),
        EventKind::TicketTransferred => transferred_to
            .map(|t| t.service.as_str())
            .into_iter()
            .collect(),
        _ => Vec::new(),
    }
}

/// Free text from a client: 1 to `max` characters, none of them control
/// characters (they would break a printed ticket or a log line) or
/// direction overrides (they make "1234" display as another number).
fn validate_text(field: &str, value: &str, max: usize) -> Result<()> {
    if value.is_empty()
        || value.chars().count() > max
        || value.chars().any(|c| c.is_control() || is_bidi_control(c))
    {
        return Err(Error::BadRequest(format!(
            "{field} must be 1 to {max} printable characters, without control or text-direction characters"
        )));
    }
    Ok(())
}

/// Unicode's Bidi_Control characters.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
