//! A business day's metrics (`GET /api/v1/stats/day`).

use serde::{Deserialize, Serialize};

use crate::*;
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

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
    /// Taken before arriving (remote), of those issued.
    #[serde(default)]
    pub remote: u32,
    /// Remote tickets never checked in.
    #[serde(default)]
    pub expired: u32,
    /// Waiting now (not yet called).
    pub waiting: u32,
    /// Call time minus issue time (a remote ticket's: minus its check-in
    /// time, when its holder arrived), first call only.
    pub wait: Distribution,
    /// End minus start of service, less the time it was held.
    pub service_time: Distribution,
    /// Tickets held (parked) at least once.
    #[serde(default)]
    pub held: u32,
    /// Time held, of the tickets held: counted apart from service time.
    #[serde(default)]
    pub held_time: Distribution,
    /// Share of called tickets called within the service's target wait.
    pub service_level: Option<f64>,
    pub no_show_rate: Option<f64>,
    pub cancel_rate: Option<f64>,
    pub transfer_rate: Option<f64>,
    /// 好差评 of the tickets completed that day.
    #[serde(default)]
    pub ratings: RatingStats,
}

/// Ratings of a group of completed tickets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RatingStats {
    pub rated: u32,
    /// Rated ÷ completed.
    pub coverage: Option<f64>,
    /// (非常满意 + 满意) ÷ rated.
    pub satisfaction_rate: Option<f64>,
    /// How many at each level, best first.
    pub levels: Vec<LevelCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LevelCount {
    pub level: RatingLevel,
    pub count: u32,
}

/// A pattern in a counter's ratings a manager should look at.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RatingFlag {
    pub counter: u32,
    pub kind: RatingFlagKind,
    /// For a person: what was seen.
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RatingFlagKind {
    /// Most of the rater's ratings came within a second of completion:
    /// faster than a customer reads the question.
    Instant,
    /// A long run of 非常满意 far above the share the rest of the hall gets.
    UniformTop,
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
    /// Seconds spent serving (start to end, less time held).
    pub serving_s: u64,
    /// serving_s / open_s.
    pub utilisation: Option<f64>,
    /// Completed tickets per open hour.
    pub throughput_per_hour: Option<f64>,
    /// Seconds its tickets spent held.
    #[serde(default)]
    pub held_s: u64,
    /// Seconds paused during the day, by reason.
    #[serde(default)]
    pub paused: Vec<ReasonTime>,
    #[serde(default)]
    pub ratings: RatingStats,
}

/// Time spent paused for one reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ReasonTime {
    pub reason: String,
    pub seconds: u64,
}

/// One member of staff's day: the tickets they called, their attendance.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StaffDayStats {
    pub staff: StaffRef,
    pub called: u32,
    /// Completed.
    pub served: u32,
    pub no_show: u32,
    pub transferred: u32,
    /// Wait of the customers they called (first call − issue).
    pub wait: Distribution,
    /// Start to end, less time held.
    pub service_time: Distribution,
    pub serving_s: u64,
    pub held_s: u64,
    /// Seconds paused while signed in, by reason.
    pub paused: Vec<ReasonTime>,
    /// Seconds signed in at any counter during the day (attendance).
    pub signed_in_s: u64,
    /// serving_s ÷ (signed_in_s − paused time).
    pub utilisation: Option<f64>,
    #[serde(default)]
    pub ratings: RatingStats,
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
    /// Members of staff who signed in or called a ticket that day.
    #[serde(default)]
    pub staff: Vec<StaffDayStats>,
    /// Tickets still held when the day ended (or now, for today): parked
    /// and never resumed, so somebody should find out what became of them.
    #[serde(default)]
    pub unresumed_holds: Vec<TicketSummary>,
    /// Customers who went first, per reason (`key_account`, or one of the
    /// hall's priority reasons), by id.
    #[serde(default)]
    pub priority: Vec<PriorityCount>,
    /// 不满意 and 非常不满意 ratings of the day, with their reasons.
    #[serde(default)]
    pub low_rated: Vec<Rating>,
    #[serde(default)]
    pub rating_flags: Vec<RatingFlag>,
    /// The day's appointments (预约), for the services that take them.
    #[serde(default)]
    pub appointments: AppointmentStats,
}

/// The day's appointments: how many were kept, how long their customers
/// waited beside the walk-ins, how full the slots were, how far ahead
/// customers booked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AppointmentStats {
    /// Bookings for the day not cancelled.
    pub booked: u32,
    pub cancelled: u32,
    pub checked_in: u32,
    /// Checked in after the window: queued as walk-ins.
    pub late: u32,
    /// Not checked in by the end of the window (and not at all since).
    pub no_show: u32,
    /// Places the day's slots offered (slots × places per slot).
    pub places: u32,
    /// Checked in, of the places offered.
    pub slot_utilisation: Option<f64>,
    /// Call time minus the slot's start, for those called (negative: early).
    pub wait_from_slot: Distribution,
    /// Call time minus check-in, for those called.
    pub wait_from_check_in: Distribution,
    /// The walk-ins' own wait (issue, or a remote ticket's check-in, to call), beside these.
    pub walk_in_wait: Distribution,
    /// Slot start minus the time of booking, in seconds.
    pub booked_ahead: Distribution,
}

/// How many customers went first for one reason, and how long they waited.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PriorityCount {
    pub reason: String,
    pub issued: u32,
    pub wait: Distribution,
}
