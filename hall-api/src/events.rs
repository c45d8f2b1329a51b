//! The event stream: one change of the hall each, with a gapless id.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub enum EventKind {
    #[serde(rename = "ticket.issued")]
    TicketIssued,
    #[serde(rename = "ticket.called")]
    TicketCalled,
    #[serde(rename = "ticket.recalled")]
    TicketRecalled,
    #[serde(rename = "ticket.started")]
    TicketStarted,
    #[serde(rename = "ticket.completed")]
    TicketCompleted,
    #[serde(rename = "ticket.no_show")]
    TicketNoShow,
    #[serde(rename = "ticket.cancelled")]
    TicketCancelled,
    #[serde(rename = "ticket.transferred")]
    TicketTransferred,
    #[serde(rename = "counter.opened")]
    CounterOpened,
    #[serde(rename = "counter.closed")]
    CounterClosed,
    #[serde(rename = "counter.paused")]
    CounterPaused,
    #[serde(rename = "counter.resumed")]
    CounterResumed,
    #[serde(rename = "ticket.held")]
    TicketHeld,
    #[serde(rename = "ticket.resumed")]
    TicketResumed,
    #[serde(rename = "staff.signed_in")]
    StaffSignedIn,
    #[serde(rename = "staff.signed_out")]
    StaffSignedOut,
    #[serde(rename = "ticket.rated")]
    TicketRated,
    /// The end of the day: counters closed, the day's report made and kept.
    #[serde(rename = "day.reported")]
    DayReported,
    /// The manager closed a service for the rest of the day (`service`).
    #[serde(rename = "service.closed")]
    ServiceClosed,
    /// ...and opened it again.
    #[serde(rename = "service.reopened")]
    ServiceReopened,
    /// The boards' notice changed (`notice`; absent: the boards' own).
    #[serde(rename = "notice.changed")]
    NoticeChanged,
    /// A remote ticket's holder arrived (at a kiosk or by the hall's QR):
    /// from now on it can be called.
    #[serde(rename = "ticket.checked_in")]
    TicketCheckedIn,
    /// A remote ticket nobody checked in before its time ran out.
    #[serde(rename = "ticket.expired")]
    TicketExpired,
    /// A ticket is to be printed at a kiosk (`kiosk`): the floor guide's.
    #[serde(rename = "print.requested")]
    PrintRequested,
    /// The manager set or lifted a closure (`closures`: all in force or to come).
    #[serde(rename = "closures.changed")]
    ClosuresChanged,
    /// Head office changed a service's name, target wait or papers
    /// (`service`): screens that show services take the hall again.
    #[serde(rename = "service.changed")]
    ServiceChanged,
}

impl EventKind {
    pub const ALL: [EventKind; 26] = [
        EventKind::TicketIssued,
        EventKind::TicketCalled,
        EventKind::TicketRecalled,
        EventKind::TicketStarted,
        EventKind::TicketCompleted,
        EventKind::TicketNoShow,
        EventKind::TicketCancelled,
        EventKind::TicketTransferred,
        EventKind::CounterOpened,
        EventKind::CounterClosed,
        EventKind::CounterPaused,
        EventKind::CounterResumed,
        EventKind::TicketHeld,
        EventKind::TicketResumed,
        EventKind::StaffSignedIn,
        EventKind::StaffSignedOut,
        EventKind::TicketRated,
        EventKind::DayReported,
        EventKind::ServiceClosed,
        EventKind::ServiceReopened,
        EventKind::NoticeChanged,
        EventKind::TicketCheckedIn,
        EventKind::TicketExpired,
        EventKind::PrintRequested,
        EventKind::ClosuresChanged,
        EventKind::ServiceChanged,
    ];

    /// The name used as the SSE event type and in webhooks.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::TicketIssued => "ticket.issued",
            EventKind::TicketCalled => "ticket.called",
            EventKind::TicketRecalled => "ticket.recalled",
            EventKind::TicketStarted => "ticket.started",
            EventKind::TicketCompleted => "ticket.completed",
            EventKind::TicketNoShow => "ticket.no_show",
            EventKind::TicketCancelled => "ticket.cancelled",
            EventKind::TicketTransferred => "ticket.transferred",
            EventKind::CounterOpened => "counter.opened",
            EventKind::CounterClosed => "counter.closed",
            EventKind::CounterPaused => "counter.paused",
            EventKind::CounterResumed => "counter.resumed",
            EventKind::TicketHeld => "ticket.held",
            EventKind::TicketResumed => "ticket.resumed",
            EventKind::StaffSignedIn => "staff.signed_in",
            EventKind::StaffSignedOut => "staff.signed_out",
            EventKind::TicketRated => "ticket.rated",
            EventKind::DayReported => "day.reported",
            EventKind::ServiceClosed => "service.closed",
            EventKind::ServiceReopened => "service.reopened",
            EventKind::NoticeChanged => "notice.changed",
            EventKind::TicketCheckedIn => "ticket.checked_in",
            EventKind::TicketExpired => "ticket.expired",
            EventKind::PrintRequested => "print.requested",
            EventKind::ClosuresChanged => "closures.changed",
            EventKind::ServiceChanged => "service.changed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One change in the hall. Ids increase by one with every change, so a
/// client that saw id N and asks for what came after misses nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Event {
    pub id: i64,
    pub kind: EventKind,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// The ticket concerned, as it is after the change.
    pub ticket: Option<TicketSummary>,
    pub counter: Option<u32>,
    /// For `ticket.transferred`: the new waiting entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transferred_to: Option<TicketSummary>,
    /// The device that made the change.
    pub by: String,
    /// The member of staff who made it (or, for `staff.*`, who signed in or out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staff: Option<StaffRef>,
    /// For `counter.paused`: the pause reason's id; for `staff.signed_out`:
    /// why (signed out, replaced, disabled, PIN changed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For `ticket.rated`: the rating (level, reasons, channel; who served
    /// is in `staff`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<EventRating>,
    /// For `day.reported`: the day's figures and where its report is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<DayReportSummary>,
    /// For `service.closed` and `service.reopened`: the service's id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// For `notice.changed`: the notice now shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<I18nText>,
    /// For `print.requested`: the kiosk that is to print the ticket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kiosk: Option<String>,
    /// For `closures.changed`: every closure in force or to come.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closures: Option<Vec<ClosureView>>,
    /// The waiting count of each service this change moved (an issue, a
    /// call, a cancel, a transfer), so screens follow the queues from the
    /// stream alone, without fetching the hall after every event.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub waiting: Vec<ServiceWaiting>,
}

/// How many wait for one service, after the event that carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceWaiting {
    pub service: String,
    pub waiting: u32,
}

/// A rating as the event stream and webhooks carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct EventRating {
    pub level: RatingLevel,
    pub reasons: Vec<String>,
    pub channel: RatingChannel,
    pub transaction_ref: Option<String>,
}
