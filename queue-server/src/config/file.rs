//! The configuration file's shape as written (serde), with spans so that
//! every later check in `check` can name a line. Defaults live here.

use hall_api::{CounterState, I18nText};
use serde::Deserialize;
use toml::Spanned;

use super::Role;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub(super) hall: RawHall,
    #[serde(default)]
    pub(super) service: Vec<RawService>,
    #[serde(default)]
    pub(super) counter: Vec<RawCounter>,
    #[serde(default)]
    pub(super) device: Vec<RawDevice>,
    #[serde(default)]
    pub(super) webhook: Vec<RawWebhook>,
    #[serde(default)]
    pub(super) billing: Option<RawBilling>,
    #[serde(default)]
    pub(super) ratings: Option<RawRatings>,
    #[serde(default)]
    pub(super) privacy: Option<RawPrivacy>,
    #[serde(default)]
    pub(super) tls: Option<RawTls>,
    #[serde(default)]
    pub(super) remote: Option<RawRemote>,
    #[serde(default)]
    pub(super) appointments: Option<RawAppointments>,
    #[serde(default)]
    pub(super) backup: Option<RawBackup>,
    #[serde(default)]
    pub(super) head_office: Option<RawHeadOffice>,
    #[serde(default)]
    pub(super) time: Option<RawTime>,
}

/// The hall's own time servers, for the box's NTP client (chrony).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTime {
    pub(super) servers: Spanned<Vec<Spanned<String>>>,
}

/// Shipping the hall's events to head office's NATS JetStream.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHeadOffice {
    pub(super) hall_id: Spanned<String>,
    pub(super) url: Spanned<String>,
    /// The hall's NATS user key (an nkey seed), in a file only the service reads.
    pub(super) nkey_seed_file: Spanned<String>,
    /// The CA that signed head office's certificate; the system's roots if absent.
    pub(super) ca: Option<String>,
    /// The kinds of change head office may push here; all if absent.
    pub(super) accept: Option<Spanned<Vec<String>>>,
    /// An HTTP proxy the hall's network requires for going out (CONNECT).
    pub(super) proxy: Option<Spanned<String>>,
    /// `user:password` for a proxy that asks for one, in a file only the service reads.
    pub(super) proxy_credentials_file: Option<Spanned<String>>,
}

/// The nightly backups.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBackup {
    pub(super) keep: Spanned<u32>,
}

/// Nightly backups kept unless the hall says otherwise: two weeks.
pub(super) const DEFAULT_BACKUPS_KEPT: u32 = 14;

/// A service's slots.
#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSlots {
    pub(super) slot_min: u32,
    #[serde(default = "one")]
    pub(super) per_slot: u32,
    #[serde(default = "default_days_ahead")]
    pub(super) days_ahead: u32,
    #[serde(default = "default_book_until")]
    pub(super) book_until_min: u32,
    #[serde(default = "default_book_until")]
    pub(super) cancel_until_min: u32,
}

fn one() -> u32 {
    1
}

fn default_days_ahead() -> u32 {
    7
}

fn default_book_until() -> u32 {
    30
}

/// The hall's rules for every service's appointments.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAppointments {
    #[serde(default = "default_early")]
    pub(super) early_min: u32,
    #[serde(default = "default_late")]
    pub(super) late_min: u32,
    #[serde(default = "default_appointment_priority")]
    pub(super) priority: u32,
    #[serde(default = "default_bookings_per_client")]
    pub(super) per_client_per_day: u32,
}

pub(super) fn default_early() -> u32 {
    10
}

pub(super) fn default_late() -> u32 {
    15
}

pub(super) fn default_appointment_priority() -> u32 {
    8
}

pub(super) fn default_bookings_per_client() -> u32 {
    2
}

/// Tickets taken before arriving: how long to check in, and the limits
/// that keep a flood from filling the queue.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRemote {
    #[serde(default = "default_check_in_within")]
    pub(super) check_in_within_min: Spanned<u32>,
    #[serde(default = "default_per_client")]
    pub(super) per_client_per_day: Spanned<u32>,
    #[serde(default = "default_waiting_per_service")]
    pub(super) waiting_per_service: Spanned<u32>,
    /// Carried by the QR posted in the hall; the phone checks in with it.
    pub(super) place_code: Option<Spanned<String>>,
}

fn default_check_in_within() -> Spanned<u32> {
    Spanned::new(0..0, 60)
}

fn default_per_client() -> Spanned<u32> {
    Spanned::new(0..0, 2)
}

fn default_waiting_per_service() -> Spanned<u32> {
    Spanned::new(0..0, 20)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTls {
    pub(super) listen: Spanned<String>,
    pub(super) dir: Option<String>,
    #[serde(default)]
    pub(super) names: Vec<String>,
    #[serde(default = "default_cert_days")]
    pub(super) cert_days: Spanned<u32>,
    #[serde(default = "default_renew_before")]
    pub(super) renew_before_days: u32,
    pub(super) cert: Option<Spanned<String>>,
    pub(super) key: Option<String>,
    /// A plain-HTTP listener on the LAN that only redirects to HTTPS.
    pub(super) redirect_from: Option<Spanned<String>>,
}

fn default_cert_days() -> Spanned<u32> {
    Spanned::new(0..0, 397)
}

fn default_renew_before() -> u32 {
    30
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPrivacy {
    pub(super) retention_days: Spanned<u32>,
}

/// Days the personal fields of a ticket are kept unless the hall says otherwise.
pub(super) const DEFAULT_RETENTION_DAYS: u32 = 90;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRatings {
    #[serde(default = "default_rater_window")]
    pub(super) rater_window_min: u32,
    #[serde(default = "default_phone_window")]
    pub(super) phone_window_h: u32,
    #[serde(default = "default_follow_up_days")]
    pub(super) follow_up_working_days: u32,
    pub(super) reasons: Option<Spanned<Vec<RawPauseReason>>>,
}

pub(super) fn default_rater_window() -> u32 {
    5
}

pub(super) fn default_phone_window() -> u32 {
    24
}

pub(super) fn default_follow_up_days() -> u32 {
    3
}

/// What a customer may say was wrong, unless the hall lists its own.
pub(super) const DEFAULT_RATING_REASONS: [(&str, &str, &str); 6] = [
    ("waited_too_long", "等候时间长", "Waited too long"),
    ("attitude", "服务态度不好", "Staff attitude"),
    ("not_solved", "问题没解决", "Not solved"),
    ("slow", "办理太慢", "Too slow"),
    ("unclear", "解释不清楚", "Not explained clearly"),
    ("other", "其他", "Other"),
];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWebhook {
    pub(super) name: Spanned<String>,
    pub(super) url: Spanned<String>,
    pub(super) secret: Spanned<String>,
    pub(super) events: Vec<Spanned<String>>,
    #[serde(default = "default_alert_after")]
    pub(super) alert_after_min: u32,
    #[serde(default = "default_retry_max")]
    pub(super) retry_max_s: u32,
}

fn default_alert_after() -> u32 {
    10
}

fn default_retry_max() -> u32 {
    60
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBilling {
    pub(super) account_url: Option<Spanned<String>>,
    /// A CA (PEM) the billing system's https certificate is signed by,
    /// besides the system's own store.
    pub(super) ca: Option<Spanned<String>>,
    #[serde(default = "default_lookup_timeout")]
    pub(super) timeout_ms: u32,
    /// Added to the service's priority for an account the billing system
    /// marks as a key account (大客户); 0 turns it off.
    #[serde(default = "default_key_account_priority")]
    pub(super) key_account_priority: u32,
}

fn default_key_account_priority() -> u32 {
    5
}

fn default_lookup_timeout() -> u32 {
    800
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawHall {
    pub(super) name: I18nText,
    pub(super) timezone: Spanned<String>,
    #[serde(default = "default_day_start")]
    pub(super) day_starts_at: Spanned<String>,
    #[serde(default)]
    pub(super) recalls_before_no_show: u32,
    #[serde(default = "default_last_calls")]
    pub(super) last_calls: u32,
    /// Default opening hours of every service, "HH:MM-HH:MM[, HH:MM-HH:MM…]".
    pub(super) hours: Option<Spanned<String>>,
    /// Hours of particular weekdays, for every service.
    pub(super) week: Option<super::calendar::RawWeek>,
    /// Whose hours an extra working day (调休) keeps: "mon" when absent.
    pub(super) extra_workday_hours: Option<Spanned<String>>,
    /// The yearly holiday files.
    #[serde(default)]
    pub(super) holidays: Vec<Spanned<String>>,
    /// Where customers' phones reach the hall (QR codes on tickets).
    pub(super) public_url: Option<Spanned<String>>,
    /// Why a counter may pause; the built-in list when absent.
    pub(super) pause_reasons: Option<Spanned<Vec<RawPauseReason>>>,
    /// Why a customer may go first (the floor guide's choice); the
    /// built-in list when absent.
    pub(super) priority_reasons: Option<Spanned<Vec<RawPriorityReason>>>,
    /// When the hall's day ends, "HH:MM": counters still open are closed
    /// and the day's report is made.
    pub(super) closes_at: Option<Spanned<String>>,
    /// The share of customers to call within their service's target wait,
    /// in percent; the manager console marks a service below it.
    pub(super) service_level_target: Option<Spanned<u32>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPriorityReason {
    pub(super) id: Spanned<String>,
    pub(super) name: I18nText,
    #[serde(default = "default_reason_priority")]
    pub(super) priority: u32,
}

/// What a built-in priority reason adds to its service's priority.
pub(super) const DEFAULT_REASON_PRIORITY: u32 = 5;

fn default_reason_priority() -> u32 {
    DEFAULT_REASON_PRIORITY
}

/// Who may go first when the hall lists none of its own (适老化).
pub(super) const DEFAULT_PRIORITY_REASONS: [(&str, &str, &str); 4] = [
    ("elderly", "老年人", "Elderly"),
    ("disabled", "残障人士", "Disabled"),
    ("pregnant", "孕妇", "Pregnant"),
    ("military", "军人", "Military"),
];

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawPauseReason {
    pub(super) id: Spanned<String>,
    pub(super) name: I18nText,
}

/// The pause reasons a hall has unless it lists its own.
pub(super) const DEFAULT_PAUSE_REASONS: [(&str, &str, &str); 5] = [
    ("break", "休息", "Break"),
    ("meal", "用餐", "Meal"),
    ("meeting", "会议", "Meeting"),
    ("training", "培训", "Training"),
    ("other", "其他", "Other"),
];

fn default_day_start() -> Spanned<String> {
    Spanned::new(0..0, "05:00".to_string())
}

fn default_last_calls() -> u32 {
    10
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawService {
    pub(super) id: Spanned<String>,
    pub(super) prefix: Spanned<String>,
    pub(super) name: I18nText,
    #[serde(default = "default_target_wait")]
    pub(super) target_wait_min: u32,
    #[serde(default)]
    pub(super) priority: i32,
    #[serde(default)]
    pub(super) ask_account: bool,
    #[serde(default = "default_service_min")]
    pub(super) expected_service_min: Spanned<u32>,
    pub(super) hours: Option<Spanned<String>>,
    pub(super) week: Option<super::calendar::RawWeek>,
    /// Slots customers may book (预约).
    pub(super) appointments: Option<Spanned<RawSlots>>,
    /// The papers a customer needs for it, shown and printed with the ticket.
    pub(super) bring: Option<Spanned<I18nText>>,
}

fn default_target_wait() -> u32 {
    15
}

fn default_service_min() -> Spanned<u32> {
    Spanned::new(0..0, 5)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCounter {
    pub(super) number: Spanned<u32>,
    pub(super) name: I18nText,
    pub(super) services: Spanned<Vec<Spanned<String>>>,
    #[serde(default = "default_counter_state")]
    pub(super) initial_state: CounterState,
}

fn default_counter_state() -> CounterState {
    CounterState::Closed
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDevice {
    pub(super) name: Spanned<String>,
    pub(super) role: Role,
    pub(super) token: Option<Spanned<String>>,
    pub(super) token_sha256: Option<Spanned<String>>,
    pub(super) counter: Option<Spanned<u32>>,
}
