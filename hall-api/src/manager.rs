//! The manager console: manager accounts and their sessions, the audit log
//! of what managers changed, and reports over any range of days.

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::*;

/// `POST /api/v1/manager/sign-in`: a manager's name and password.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ManagerSignIn {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 32))]
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub password: String,
}

/// Who is signed in to the console, until when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ManagerSession {
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: Timestamp,
}

/// `POST /api/v1/managers`: a new manager account.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewManager {
    /// 1 to 32 letters, digits, '.', '-' or '_'.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 32, pattern = "^[A-Za-z0-9._-]+$")
    )]
    pub name: String,
    /// At least 10 characters.
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 128))]
    pub password: String,
}

/// `PUT /api/v1/managers/{name}/password`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordRequest {
    #[cfg_attr(feature = "openapi", schema(min_length = 10, max_length = 128))]
    pub password: String,
}

/// A manager account as the console lists it (never its password).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ManagerAccount {
    pub name: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// Who made the account (a manager, or the terminal).
    pub created_by: String,
    pub disabled: bool,
    /// Locked after too many wrong passwords, until then.
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub locked_until: Option<Timestamp>,
}

/// One change a manager made: who, what, when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: Timestamp,
    /// The manager (or device) who made the change.
    pub who: String,
    /// What kind of change, e.g. `counter.pin`, `staff.add`, `manager.add`.
    pub action: String,
    /// What it was made to, in words.
    pub detail: String,
}

/// One weekday over a report's period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WeekdayStats {
    /// 1 = Monday … 7 = Sunday.
    pub weekday: u8,
    /// Business days of this weekday in the period.
    pub days: u32,
    pub stats: TicketGroupStats,
}

/// One business day in a report: its totals and each service's level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DailyRow {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    pub issued: u32,
    pub done: u32,
    pub service_level: Option<f64>,
    pub mean_wait_s: Option<f64>,
    /// Each service's level that day, in configuration order.
    pub services: Vec<ServiceLevelOfDay>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ServiceLevelOfDay {
    pub service: String,
    pub service_level: Option<f64>,
}

/// How many customers waited up to `up_to_min` minutes (the last bucket: longer).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WaitBucket {
    /// The bucket holds waits from the previous bucket's bound up to this
    /// many minutes; `None` for the last, open-ended one.
    pub up_to_min: Option<u32>,
    pub count: u32,
}

/// The hall-wide figures of a period, to compare one with the one before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PeriodSummary {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub from: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub to: Date,
    pub hall: TicketGroupStats,
    pub services: Vec<ServiceDayStats>,
    /// Serving ÷ open, over every counter.
    pub utilisation: Option<f64>,
    /// Tickets completed per hour that counters were open.
    pub completed_per_open_hour: Option<f64>,
}

/// `GET /api/v1/reports?from=&to=`: a period's metrics, by the definitions
/// of a day's, with the period of the same length before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Report {
    pub summary: PeriodSummary,
    /// Business days in the period.
    pub days: u32,
    /// Per service, counter, member of staff and hour of day over the
    /// whole period (`date` is its first day).
    pub stats: DayStats,
    pub weekdays: Vec<WeekdayStats>,
    /// Customers issued a ticket, `[weekday − 1][hour]` (Monday first, hours 0–23).
    pub arrivals: Vec<Vec<u32>>,
    /// Waits of the customers called, in minute buckets.
    pub wait_histogram: Vec<WaitBucket>,
    pub daily: Vec<DailyRow>,
    /// The same figures for the period of the same length just before.
    pub previous: PeriodSummary,
}

/// The day's report as the end of the day announces it (event
/// `day.reported`, to webhooks such as head office's).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DayReportSummary {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    pub issued: u32,
    pub done: u32,
    pub no_show: u32,
    pub service_level: Option<f64>,
    pub mean_wait_s: Option<f64>,
    pub utilisation: Option<f64>,
    /// Counters the end of the day closed.
    pub counters_closed: Vec<u32>,
    /// Where the kept report is: the printable page and the workbook.
    pub page: String,
    pub workbook: String,
}

/// A day whose report was kept at its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KeptReport {
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: Date,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub made_at: Timestamp,
}
