//! Tickets: their life cycle, what staff and the holder see, and the issue request.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::*;

/// Where a ticket is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Waiting,
    Called,
    Serving,
    /// Parked by its counter (挂起) while the customer fetches a paper or
    /// a check runs; the counter resumes it by number.
    Held,
    Done,
    NoShow,
    Cancelled,
    Transferred,
    /// A remote ticket not checked in before its time ran out.
    Expired,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 9] = [
        TicketStatus::Waiting,
        TicketStatus::Called,
        TicketStatus::Serving,
        TicketStatus::Held,
        TicketStatus::Done,
        TicketStatus::NoShow,
        TicketStatus::Cancelled,
        TicketStatus::Transferred,
        TicketStatus::Expired,
    ];

    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Waiting => "waiting",
            TicketStatus::Called => "called",
            TicketStatus::Serving => "serving",
            TicketStatus::Held => "held",
            TicketStatus::Done => "done",
            TicketStatus::NoShow => "no_show",
            TicketStatus::Cancelled => "cancelled",
            TicketStatus::Transferred => "transferred",
            TicketStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// A ticket in a final state never changes again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            TicketStatus::Done
                | TicketStatus::NoShow
                | TicketStatus::Cancelled
                | TicketStatus::Transferred
                | TicketStatus::Expired
        )
    }
}

/// A ticket as its holder and the staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Ticket {
    pub id: i64,
    /// Prefix and number as printed, e.g. "A012".
    pub number: String,
    /// Service id from the configuration.
    pub service: String,
    pub status: TicketStatus,
    /// When the customer first took a ticket (kept across transfers).
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub issued_at: Timestamp,
    /// The business day the number belongs to, in the hall's time zone.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub business_day: jiff::civil::Date,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub called_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub started_at: Option<Timestamp>,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub ended_at: Option<Timestamp>,
    /// The counter that called it, while called or serving and afterwards.
    pub counter: Option<u32>,
    pub recalls: u32,
    /// People ahead in the same service, while waiting.
    pub ahead: Option<u32>,
    /// Estimated seconds until called, while waiting; absent when no counter
    /// is open for the service.
    pub estimated_wait_s: Option<u32>,
    /// Unguessable code for the public status page behind the ticket's QR code.
    pub tracking_code: String,
    /// The device that issued it.
    pub channel: String,
    pub customer_ref: Option<String>,
    pub lang: Option<Lang>,
    pub transaction_ref: Option<String>,
    /// The member of staff who called it (absent at counters without staff accounts).
    #[serde(default)]
    pub staff: Option<StaffRef>,
    /// Seconds it spent held (parked) so far; not part of its service time.
    #[serde(default)]
    pub held_s: u32,
    /// The ticket this one continues after a transfer.
    pub transferred_from: Option<i64>,
    /// The waiting ticket that continues this one after a transfer.
    pub transferred_to: Option<i64>,
    /// Why it is called before others of its service: `key_account`, or
    /// one of the hall's priority reasons.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_reason: Option<String>,
    /// For a ticket taken before arriving (on a phone or the company's app).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteArrival>,
}

/// A remote ticket keeps its place in the queue but is not called until
/// its holder checks in at the hall; not checked in by `check_in_by`, it
/// expires.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RemoteArrival {
    /// Typed at a kiosk's keypad to check in: six digits, unique in the day.
    pub check_in_code: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub check_in_by: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub checked_in_at: Option<Timestamp>,
}

/// `POST /api/v1/remote-tickets` (the company's app, with its token) and
/// `POST /api/v1/public/remote-tickets` (the phone page, no token).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RemoteTicketRequest {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 32, pattern = "^[a-z0-9_-]+$")
    )]
    pub service: String,
    /// As for [`IssueTicket`]: a retry with the same key gets the same ticket.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 128, pattern = "^[0-9A-Za-z_-]+$")
    )]
    pub idempotency_key: String,
    #[serde(default)]
    pub lang: Option<Lang>,
    /// Who the app took it for (its own customer id); the per-client limit
    /// counts by it. The phone page does not send it: the server counts by
    /// the phone's address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "^[0-9A-Za-z_.:@-]+$")
    )]
    pub client: Option<String>,
}

/// What taking a remote ticket answers: where to follow it, and the code
/// to check in with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RemoteTicket {
    pub number: String,
    pub service: String,
    /// The key of the ticket's phone page, `/t/{tracking_code}`.
    pub tracking_code: String,
    pub remote: RemoteArrival,
    pub ahead: Option<u32>,
    pub estimated_wait_s: Option<u32>,
}

/// `GET /api/v1/public/remote-setup`: what the phone page offers before
/// arriving.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RemoteSetup {
    pub hall_name: I18nText,
    /// The hall's IANA time zone: times on the page are the hall's.
    pub timezone: String,
    pub services: Vec<crate::ServiceView>,
    /// Minutes from taking a ticket to checking in.
    pub check_in_within_min: u32,
    /// Whether the hall posts a QR to check in with (else: kiosks only).
    pub place_check_in: bool,
}

/// `POST /api/v1/check-in`: a kiosk checks in a remote ticket by its code.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CheckInRequest {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 16, pattern = "^[0-9]+$")
    )]
    pub code: String,
}

/// `POST /api/v1/public/tickets/{tracking_code}/check-in`: the holder's
/// phone, after scanning the QR posted in the hall (it carries `place`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PlaceCheckIn {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "^[0-9A-Za-z_-]+$")
    )]
    pub place: String,
}

/// What the event stream and the hall snapshot say about a ticket: nothing
/// that identifies the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketSummary {
    pub id: i64,
    pub number: String,
    pub service: String,
    pub status: TicketStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub issued_at: Timestamp,
    pub counter: Option<u32>,
    pub recalls: u32,
    /// True for the waiting entry made by a transfer.
    pub transferred: bool,
    /// Why it goes first, when it does (`key_account`, or a priority reason).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_reason: Option<String>,
    /// Taken before arriving (a phone's remote ticket): its wait starts
    /// when it is checked in.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub remote: bool,
}

/// `POST /api/v1/tickets`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IssueTicket {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 32, pattern = "^[a-z0-9_-]+$")
    )]
    pub service: String,
    /// Chosen by the client once per customer request; a retry with the same
    /// key returns the same ticket. Printable, no text-direction characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 128,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]+$"
        )
    )]
    pub idempotency_key: String,
    /// The customer's account number, if given. Printable, no
    /// text-direction characters.
    #[serde(default)]
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 64,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]+$"
        )
    )]
    pub customer_ref: Option<String>,
    #[serde(default)]
    pub lang: Option<Lang>,
    /// Why this customer goes first (one of the hall's `priority_reasons`,
    /// e.g. `elderly`); the floor guide and the manager may give one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 32, pattern = "^[a-z0-9_-]+$")
    )]
    pub priority_reason: Option<String>,
}

impl IssueTicket {
    /// A request for `service` with no account and no language.
    pub fn new(service: impl Into<String>, idempotency_key: impl Into<String>) -> Self {
        IssueTicket {
            service: service.into(),
            idempotency_key: idempotency_key.into(),
            customer_ref: None,
            lang: None,
            priority_reason: None,
        }
    }
}

/// `GET /api/v1/public/tickets/{tracking_code}`: what the holder of a ticket
/// may see of it, and nothing about anyone else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PublicTicket {
    pub hall_name: I18nText,
    /// The hall's IANA time zone: times on the page are the hall's.
    #[serde(default)]
    pub timezone: String,
    pub number: String,
    pub service: I18nText,
    pub status: TicketStatus,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub issued_at: Timestamp,
    pub ahead: Option<u32>,
    pub estimated_wait_s: Option<u32>,
    /// The counter to go to, once called.
    pub counter: Option<u32>,
    pub counter_name: Option<I18nText>,
    /// Completed, not rated yet, and still inside the time to rate it here.
    #[serde(default)]
    pub can_rate: bool,
    /// The rating given (at the counter or here).
    #[serde(default)]
    pub rated: Option<RatingLevel>,
    /// The papers to bring for this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bring: Option<I18nText>,
    /// A remote ticket: whether it is checked in, and until when it can be.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote: Option<RemoteArrival>,
    /// While its service's calendar closes it (a break, a holiday, a
    /// closure): why, the reason, and when it opens again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unavailable: Option<crate::Unavailable>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub opens_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_reason: Option<I18nText>,
}

/// A booking's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Booked,
    /// Checked in at the kiosk: it has its ticket.
    CheckedIn,
    Cancelled,
    /// Not checked in by the end of its window.
    NoShow,
}

impl BookingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BookingStatus::Booked => "booked",
            BookingStatus::CheckedIn => "checked_in",
            BookingStatus::Cancelled => "cancelled",
            BookingStatus::NoShow => "no_show",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            BookingStatus::Booked,
            BookingStatus::CheckedIn,
            BookingStatus::Cancelled,
            BookingStatus::NoShow,
        ]
        .into_iter()
        .find(|b| b.as_str() == s)
    }
}

/// `POST /api/v1/public/bookings` (the booking page) and
/// `POST /api/v1/bookings` (the company's app, with `client`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BookingRequest {
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 32, pattern = "^[a-z0-9_-]+$")
    )]
    pub service: String,
    /// One of the service's slots, as `GET …/slots` gives them.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub slot_start: Timestamp,
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 128, pattern = "^[0-9A-Za-z_-]+$")
    )]
    pub idempotency_key: String,
    #[serde(default)]
    pub lang: Option<Lang>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "^[0-9A-Za-z_.:@-]+$")
    )]
    pub client: Option<String>,
}

/// A booking as its holder sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Booking {
    pub service: String,
    pub service_name: I18nText,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub slot_start: Timestamp,
    /// Typed at the kiosk to check in: six digits.
    pub code: String,
    /// The key of the booking's page, `/booking/{tracking_code}`.
    pub tracking_code: String,
    pub status: BookingStatus,
    /// When check-in opens and until when it keeps the appointment's priority.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub check_in_from: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub check_in_until: Timestamp,
    /// The ticket's number once checked in.
    #[serde(default)]
    pub ticket_number: Option<String>,
    pub hall_name: I18nText,
    pub timezone: String,
}

/// A slot of a service with the places left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Slot {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub start: Timestamp,
    pub free: u32,
    /// False when it is too soon (or too far ahead) to book it.
    pub bookable: bool,
}

/// `PUT /api/v1/public/bookings/{tracking_code}`: move a booking to another slot.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct MoveBooking {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub slot_start: Timestamp,
}

/// `GET /api/v1/public/booking-setup`: what the booking page offers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BookingSetup {
    pub hall_name: I18nText,
    pub timezone: String,
    /// The business day today: slots are offered from it.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub today: jiff::civil::Date,
    pub services: Vec<BookableService>,
    /// Check-in opens this long before a slot and keeps its priority this long after.
    pub early_min: u32,
    pub late_min: u32,
}

/// A service that takes appointments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct BookableService {
    pub id: String,
    pub name: I18nText,
    pub slot_min: u32,
    pub days_ahead: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bring: Option<I18nText>,
}
