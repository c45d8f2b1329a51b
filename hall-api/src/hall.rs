//! The hall as a whole: its services, the snapshot, the calls, health and errors.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::*;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceView {
    pub id: String,
    pub prefix: String,
    pub name: I18nText,
    pub priority: i32,
    pub target_wait_min: u32,
    pub ask_account: bool,
    pub waiting: u32,
    /// Estimated wait for a ticket taken now; absent when no counter is open.
    pub estimated_wait_s: Option<u32>,
    /// Counters open now that serve this service.
    pub open_counters: u32,
    /// Seconds the longest-waiting ticket has waited so far.
    pub longest_wait_s: Option<u32>,
    /// Opening hours in the hall's time, `HH:MM-HH:MM`; absent when always open.
    #[serde(default)]
    pub hours: Option<String>,
    /// Why a ticket taken now would not be served; absent when it would.
    #[serde(default)]
    pub unavailable: Option<Unavailable>,
    /// The papers a customer needs for this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bring: Option<I18nText>,
    /// While closed by its calendar: when it opens next (absent when not
    /// within a year).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub opens_at: Option<jiff::Timestamp>,
    /// The holiday's name or the closure's reason, for customers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_reason: Option<I18nText>,
}

/// Why a service cannot serve anyone now (the kiosk shows it and greys the button out).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Unavailable {
    /// Outside the service's opening hours; the server refuses tickets.
    OutsideHours,
    /// No open counter serves it right now.
    NoCounterOpen,
    /// The manager closed it for the rest of the business day.
    ClosedToday,
    /// A break between its hours of the day (午休); `opens_at` says until when.
    Break,
    /// A public holiday (`closed_reason` names it).
    Holiday,
    /// Closed by the manager for a time (停电, 停业; `closed_reason` says why).
    Closure,
}

/// One call-out: what the board shows and the hall hears.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Call {
    pub event_id: i64,
    pub number: String,
    pub service: String,
    pub counter: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    pub recall: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HallInfo {
    pub name: I18nText,
    pub timezone: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub business_day: jiff::civil::Date,
    /// False while the system clock is behind the newest stored event (a
    /// Raspberry Pi after a power cut, before NTP): the server then keeps the
    /// last business day and never repeats a number.
    pub clock_trusted: bool,
    /// The address customers' phones reach the hall at (for the QR code on
    /// tickets); absent when not configured.
    #[serde(default)]
    pub public_url: Option<String>,
    /// The reasons a counter may pause for, in the order staff see them.
    #[serde(default)]
    pub pause_reasons: Vec<PauseReason>,
    /// The share of customers to call within their service's target wait
    /// (0–1); the manager console marks a service below it.
    #[serde(default = "default_service_level_target")]
    pub service_level_target: f64,
    /// Why a customer may go first, as the floor guide chooses them.
    #[serde(default)]
    pub priority_reasons: Vec<PriorityReason>,
    /// Whether customers may take tickets before arriving; the kiosk then
    /// offers to check them in.
    #[serde(default)]
    pub remote_tickets: bool,
}

/// `GET /api/v1/hall`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HallSnapshot {
    pub hall: HallInfo,
    pub services: Vec<ServiceView>,
    pub counters: Vec<CounterView>,
    /// Newest first.
    pub last_calls: Vec<Call>,
    /// Resume the event stream after this id to see every later change.
    pub last_event_id: i64,
    /// The notice the manager set for the boards; absent: each board's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notice: Option<I18nText>,
    /// Closures in force or to come (the boards show the hall's as it runs).
    #[serde(default)]
    pub closures: Vec<ClosureView>,
}

/// `PUT /api/v1/notice`: what the boards show at their foot.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NoticeRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 120))]
    pub zh: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 120))]
    pub en: String,
}

/// `GET /healthz`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Health {
    pub status: String,
    pub version: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub business_day: jiff::civil::Date,
    pub clock_trusted: bool,
    pub last_event_id: i64,
}

/// Every error answer: `{"error": {"code": "...", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ErrorDetail {
    /// Stable, machine-readable: `bad_request`, `unauthorized`, `forbidden`,
    /// `not_found`, `conflict`, `unavailable`, `internal`.
    pub code: String,
    /// For a person: what went wrong and what to do.
    pub message: String,
}

/// `GET /api/v1/access`: one time a customer's personal data was shown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AccessRecord {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// The device or session that read it.
    pub who: String,
    pub staff: Option<StaffRef>,
    /// The ticket whose customer it was (number and id).
    pub ticket_id: Option<i64>,
    pub number: Option<String>,
    /// `account_number` or `amount_due`.
    pub what: String,
}

fn default_service_level_target() -> f64 {
    0.8
}

/// A reason a customer is called before others of their service (适老化):
/// an elderly or disabled customer, say, with the priority it adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PriorityReason {
    pub id: String,
    pub name: I18nText,
    /// Added to the service's priority for this ticket.
    pub priority: u32,
}

/// `POST /api/v1/closures` (manager): the hall, or some services, closed
/// for a time (停电, 停业), with the reason customers are shown.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewClosure {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub from: jiff::Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub until: jiff::Timestamp,
    pub reason: I18nText,
    /// The services closed; absent: all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<String>>,
}

/// A closure as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ClosureView {
    pub id: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub from: jiff::Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub until: jiff::Timestamp,
    pub reason: I18nText,
    /// Absent: the whole hall.
    #[serde(default)]
    pub services: Option<Vec<String>>,
    pub created_by: String,
}
