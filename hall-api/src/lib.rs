//! The wire types of the hall queue API: one definition of each, shared by
//! queue-server and every client (kiosk, display board, counter tools, bench).
//!
//! Times are RFC 3339 timestamps in UTC; ids are SQLite row ids.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

#[cfg(feature = "client")]
pub mod client;
pub mod config_error;
#[cfg(feature = "logging")]
pub mod logging;
#[cfg(feature = "signature")]
pub mod signature;
pub mod sse;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// A text in both languages of the hall.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct I18nText {
    pub zh: String,
    pub en: String,
}

impl I18nText {
    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::Zh, Lang::En];

    /// The code used on the wire, in configuration files and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Lang> {
        Self::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The hall's other language (the kiosk's switch, the ticket's second half).
    pub fn other(self) -> Lang {
        match self {
            Lang::Zh => Lang::En,
            Lang::En => Lang::Zh,
        }
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Lang, String> {
        Lang::parse(s).ok_or_else(|| format!("unknown language \"{s}\"; use zh or en"))
    }
}

/// Where a ticket is in its life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Waiting,
    Called,
    Serving,
    Done,
    NoShow,
    Cancelled,
    Transferred,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 7] = [
        TicketStatus::Waiting,
        TicketStatus::Called,
        TicketStatus::Serving,
        TicketStatus::Done,
        TicketStatus::NoShow,
        TicketStatus::Cancelled,
        TicketStatus::Transferred,
    ];

    /// The name used on the wire and in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Waiting => "waiting",
            TicketStatus::Called => "called",
            TicketStatus::Serving => "serving",
            TicketStatus::Done => "done",
            TicketStatus::NoShow => "no_show",
            TicketStatus::Cancelled => "cancelled",
            TicketStatus::Transferred => "transferred",
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
    /// The ticket this one continues after a transfer.
    pub transferred_from: Option<i64>,
    /// The waiting ticket that continues this one after a transfer.
    pub transferred_to: Option<i64>,
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
}

/// `POST /api/v1/tickets`
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IssueTicket {
    pub service: String,
    /// Chosen by the client once per customer request; a retry with the same
    /// key returns the same ticket.
    pub idempotency_key: String,
    #[serde(default)]
    pub customer_ref: Option<String>,
    #[serde(default)]
    pub lang: Option<Lang>,
}

impl IssueTicket {
    /// A request for `service` with no account and no language.
    pub fn new(service: impl Into<String>, idempotency_key: impl Into<String>) -> Self {
        IssueTicket {
            service: service.into(),
            idempotency_key: idempotency_key.into(),
            customer_ref: None,
            lang: None,
        }
    }
}

/// The actions a counter can take, as they appear in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum CounterAction {
    CallNext,
    Recall,
    Start,
    Complete,
    NoShow,
    Transfer,
    Pause,
    Resume,
    Open,
    Close,
}

impl CounterAction {
    pub const ALL: [CounterAction; 10] = [
        CounterAction::CallNext,
        CounterAction::Recall,
        CounterAction::Start,
        CounterAction::Complete,
        CounterAction::NoShow,
        CounterAction::Transfer,
        CounterAction::Pause,
        CounterAction::Resume,
        CounterAction::Open,
        CounterAction::Close,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CounterAction::CallNext => "call-next",
            CounterAction::Recall => "recall",
            CounterAction::Start => "start",
            CounterAction::Complete => "complete",
            CounterAction::NoShow => "no-show",
            CounterAction::Transfer => "transfer",
            CounterAction::Pause => "pause",
            CounterAction::Resume => "resume",
            CounterAction::Open => "open",
            CounterAction::Close => "close",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Body of `POST /api/v1/counters/{number}/{action}`; every field optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CounterActionBody {
    /// For `complete`: the billing system's transaction reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_ref: Option<String>,
    /// For `transfer`: the service the customer goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
}

impl CounterActionBody {
    /// For `transfer`: send the customer to `service`.
    pub fn transfer_to(service: impl Into<String>) -> Self {
        CounterActionBody {
            service: Some(service.into()),
            transaction_ref: None,
        }
    }

    /// For `complete`: the billing system's transaction reference.
    pub fn completing(transaction_ref: impl Into<String>) -> Self {
        CounterActionBody {
            transaction_ref: Some(transaction_ref.into()),
            service: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CounterState {
    Closed,
    Open,
    Paused,
}

impl CounterState {
    pub fn as_str(self) -> &'static str {
        match self {
            CounterState::Closed => "closed",
            CounterState::Open => "open",
            CounterState::Paused => "paused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            CounterState::Closed,
            CounterState::Open,
            CounterState::Paused,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// A counter's answer to an action: its state and its current ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CounterView {
    pub number: u32,
    pub name: I18nText,
    /// Service ids in the order this counter prefers them.
    pub services: Vec<String>,
    pub state: CounterState,
    pub current: Option<TicketSummary>,
}

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
}

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
}

impl EventKind {
    pub const ALL: [EventKind; 12] = [
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

/// Mean, median and 90th percentile of a set of durations, in seconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Distribution {
    pub count: u32,
    pub mean_s: Option<f64>,
    pub median_s: Option<f64>,
    pub p90_s: Option<f64>,
}

/// Counts and times of one group of tickets (a service, or the whole hall).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct TicketGroupStats {
    pub issued: u32,
    pub called: u32,
    pub done: u32,
    pub no_show: u32,
    pub cancelled: u32,
    pub transferred: u32,
    /// Waiting now (not yet called).
    pub waiting: u32,
    /// Call time minus issue time, first call only.
    pub wait: Distribution,
    /// End minus start of service.
    pub service_time: Distribution,
    /// Share of called tickets called within the service's target wait.
    pub service_level: Option<f64>,
    pub no_show_rate: Option<f64>,
    pub cancel_rate: Option<f64>,
    pub transfer_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceDayStats {
    pub service: String,
    pub target_wait_min: u32,
    #[serde(flatten)]
    pub stats: TicketGroupStats,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CounterDayStats {
    pub counter: u32,
    pub called: u32,
    pub done: u32,
    pub no_show: u32,
    pub service_time: Distribution,
    /// Seconds in the open state (not paused, not closed) during the day.
    pub open_s: u64,
    /// Seconds spent serving (start to end).
    pub serving_s: u64,
    /// serving_s / open_s.
    pub utilisation: Option<f64>,
    /// Completed tickets per open hour.
    pub throughput_per_hour: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct HourStats {
    /// Local hour of the day, 0–23.
    pub hour: u8,
    pub issued: u32,
    pub called: u32,
    pub done: u32,
    pub wait: Distribution,
}

/// `GET /api/v1/stats/day`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DayStats {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: jiff::civil::Date,
    pub timezone: String,
    pub hall: TicketGroupStats,
    pub services: Vec<ServiceDayStats>,
    pub counters: Vec<CounterDayStats>,
    /// Only hours with any activity.
    pub hours: Vec<HourStats>,
    /// The hour with the most tickets issued.
    pub peak_hour: Option<u8>,
    /// Seconds the longest-waiting ticket still waiting has waited (today only).
    pub longest_current_wait_s: Option<u32>,
}

/// `GET /api/v1/accounts/{ref}`: what the billing system says of an
/// account, for the kiosk to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AccountInfo {
    pub account_ref: String,
    /// The holder's name with most of it hidden, e.g. "张*明".
    pub name_masked: String,
    /// Amount due in the smallest currency unit (fen, cents).
    pub amount_due_minor: i64,
    pub currency: String,
}

/// One webhook's delivery state, for the manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookStatus {
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    /// Events not yet acknowledged, oldest first in delivery.
    pub pending: u32,
    pub delivered: u32,
    /// Seconds the oldest pending event has waited.
    pub oldest_pending_s: Option<u32>,
    /// Failed attempts on the oldest pending event.
    pub attempts: u32,
    pub last_error: Option<String>,
    /// True when an event has waited longer than the webhook's alert time:
    /// the billing system has missed it for too long and staff should look.
    pub overdue: bool,
}

/// `GET /api/v1/me`: who the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Whoami {
    pub name: String,
    /// kiosk, display, counter, billing or manager.
    pub role: String,
    /// For counter devices and PIN sessions: the counter they act on.
    pub counter: Option<u32>,
}

/// `PUT /api/v1/counters/{number}/pin` (manager) and
/// `POST /api/v1/counters/{number}/sign-in` (anyone with the PIN).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PinRequest {
    /// 4 to 8 digits.
    pub pin: String,
}

/// A counter session opened with the counter's PIN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CounterSession {
    /// Bearer token acting as this counter only, until `expires_at`.
    pub token: String,
    pub counter: u32,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: Timestamp,
}

/// `GET /api/v1/public/tickets/{tracking_code}`: what the holder of a ticket
/// may see of it, and nothing about anyone else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PublicTicket {
    pub hall_name: I18nText,
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

/// What a printer reported when last asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PrinterState {
    /// Online with paper.
    Ready,
    /// Printing normally, but the roll is nearly used up: change it soon.
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    /// Asked for its status and did not answer in time (off, unplugged, wrong port or speed).
    NotAnswering,
    /// Answered with an error (cutter jam, overheated head…), or the port failed.
    Error,
    /// The transport cannot answer status requests (a file, or status checks turned off).
    Unknown,
}

impl PrinterState {
    /// Whether a ticket may be printed in this state.
    pub fn can_print(self) -> bool {
        matches!(self, Self::Ready | Self::PaperNearEnd | Self::Unknown)
    }
}

/// How a device is doing, as it reports itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeviceHealth {
    Ok,
    /// Working, but staff should look (paper near end).
    Warning,
    /// Out of order: customers cannot use it until staff act.
    Fault,
}

/// `POST /api/v1/devices/heartbeat`: a device (a kiosk, a board) tells the
/// server how it is, every `interval_s` seconds and at once when that changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Heartbeat {
    pub health: DeviceHealth,
    /// The printer's state, for devices with one.
    #[serde(default)]
    pub printer: Option<PrinterState>,
    /// A sentence for staff, e.g. "printer out of paper: load a new roll".
    #[serde(default)]
    pub message: Option<String>,
    /// Seconds until the next heartbeat; the server marks the device
    /// unreachable after three missed ones.
    pub interval_s: u32,
    /// The device program's version.
    #[serde(default)]
    pub version: Option<String>,
}

/// `GET /api/v1/devices`: one configured device and what it last reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeviceStatus {
    pub name: String,
    pub role: String,
    /// False when the device never reported or missed three heartbeats.
    pub reachable: bool,
    /// Seconds since the last heartbeat; absent when none arrived since the server started.
    pub last_seen_s: Option<u64>,
    /// The last report, absent when none arrived since the server started.
    pub last: Option<Heartbeat>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for a in CounterAction::ALL {
            assert_eq!(CounterAction::parse(a.as_str()), Some(a));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.as_str())
            );
        }
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        assert_eq!(TicketStatus::parse("nope"), None);
    }

    #[test]
    fn issue_request_refuses_unknown_fields() {
        let err = serde_json::from_str::<IssueTicket>(
            r#"{"service":"pay","idempotency_key":"k","colour":"red"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }
}
