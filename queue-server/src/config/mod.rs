//! The hall's configuration: a TOML file, or the embedded demo hall.
//!
//! - [`file`]: the file's shape as written (serde, with spans);
//! - [`check`]: the checks that turn it into a [`Config`], each problem a
//!   `FILE:LINE` error with a fix ([`ConfigError`], shared by every program);
//! - [`generate`]: a first configuration with fresh secrets, for an install;
//! - this module: the hall as the server uses it, and its lookups.

use std::path::Path;

pub use hall_api::config_error::ConfigError;
use hall_api::{CounterState, I18nText};
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde::Deserialize;

use crate::rules::calendar::{Calendar, Closure, HeldCalendar};
use crate::rules::numbering;
use crate::rules::policy::ServedService;
use crate::tokens::sha256;

mod calendar;
pub use calendar::{holiday_year, sent_week};
mod check;
mod file;
pub mod generate;
mod live;
pub use live::LiveConfig;
mod services;
pub use services::sent_service_settings;
#[cfg(test)]
mod tests;

/// The embedded demo hall used when no `--config` is given.
pub const DEMO_TOML: &str = include_str!("../../demo.toml");

#[derive(Debug, Clone)]
pub struct Config {
    pub hall: HallConfig,
    pub services: Vec<ServiceConfig>,
    pub counters: Vec<CounterConfig>,
    pub devices: Vec<DeviceConfig>,
    pub webhooks: Vec<WebhookConfig>,
    pub billing: BillingConfig,
    pub ratings: RatingsConfig,
    /// Days a ticket's personal fields (account number, tracking code,
    /// billing reference) are kept; then they are removed for good.
    pub retention_days: u32,
    /// HTTPS on the hall network; `None`: plain HTTP only.
    pub tls: Option<TlsConfig>,
    /// Public holidays and extra working days as the hall's yearly files
    /// say; the calendar reads them with head office's years in their
    /// place (`store::queries::held_calendar`).
    pub filed_holidays: crate::rules::calendar::Holidays,
    /// The check-in window and priority of every appointment.
    pub appointments: AppointmentsConfig,
    /// Tickets taken before arriving; `None`: not offered.
    pub remote: Option<RemoteConfig>,
    /// The newest nightly backups kept (within the retention period).
    pub backups_kept: u32,
    /// The hall's own NTP servers (host names or addresses), for chrony;
    /// empty leaves chrony with its own.
    pub time_servers: Vec<String>,
    /// Shipping events to head office; `None`: the hall stands alone.
    pub head_office: Option<HeadOfficeConfig>,
}

/// Where and as whom the hall ships its events to head office.
#[derive(Debug, Clone)]
pub struct HeadOfficeConfig {
    /// This hall's id at head office (its subjects are `halls.<hall_id>.`).
    pub hall_id: String,
    /// `tls://host:port` of head office's NATS; plain text is refused.
    pub url: String,
    pub nkey_seed_file: std::path::PathBuf,
    pub ca: Option<std::path::PathBuf>,
    /// The kinds of change head office may push (`hall_api::head_office::PUSH_KINDS`).
    pub accept: Vec<String>,
    /// The HTTP proxy the link goes through (CONNECT), if any.
    pub proxy: Option<Proxy>,
}

/// An HTTP proxy on the hall's way out.
#[derive(Clone)]
pub struct Proxy {
    /// `host:port`.
    pub addr: String,
    /// The `Proxy-Authorization` value (`Basic …`) for a proxy that asks
    /// for a password, from `proxy_credentials_file`.
    pub authorization: Option<String>,
}

/// Never the password, should a configuration be logged.
impl std::fmt::Debug for Proxy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Proxy")
            .field("addr", &self.addr)
            .field(
                "authorization",
                &self
                    .authorization
                    .as_ref()
                    .map(|_| "(from the credentials file)"),
            )
            .finish()
    }
}

/// HTTPS on the hall's network.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// Where HTTPS listens (the LAN address); plain HTTP then stays on loopback.
    pub listen: std::net::SocketAddr,
    /// Where the hall CA and the server certificate live; `None`: beside the database.
    pub dir: Option<std::path::PathBuf>,
    /// DNS names and IP addresses the certificate is for (this host's name,
    /// localhost and loopback are always added).
    pub names: Vec<String>,
    pub cert_days: u32,
    pub renew_before_days: u32,
    /// The hall's own certificate chain and key, instead of the hall CA's.
    pub own: Option<(std::path::PathBuf, std::path::PathBuf)>,
    /// Where plain HTTP is answered with a redirect to HTTPS (and nothing else).
    pub redirect_from: Option<std::net::SocketAddr>,
}

/// How appointments are called: the check-in window and their priority.
#[derive(Debug, Clone, Copy)]
pub struct AppointmentsConfig {
    pub window: crate::rules::appointments::Window,
    /// Added to the service's priority for a customer checked in on time.
    pub priority: u32,
    /// Bookings one client makes for one business day.
    pub per_client_per_day: u32,
}

/// Tickets taken on a phone or the company's app before arriving.
#[derive(Debug, Clone)]
pub struct RemoteConfig {
    /// A remote ticket not checked in this long after it was taken expires.
    pub check_in_within_min: u32,
    /// Remote tickets one client (the app's customer id, or the phone's
    /// address) may take in a business day.
    pub per_client_per_day: u32,
    /// Remote tickets of one service waiting to be checked in at once.
    pub waiting_per_service: u32,
    /// What the QR posted in the hall carries; `None`: kiosk check-in only.
    pub place_code: Option<String>,
}

/// 好差评: when ratings are taken and how bad ones are followed up.
#[derive(Debug, Clone)]
pub struct RatingsConfig {
    /// A counter's rater takes a rating this long after completion.
    pub rater_window_min: u32,
    /// The ticket's phone page, this long.
    pub phone_window_h: u32,
    /// A bad rating's follow-up is due this many working days after it.
    pub follow_up_working_days: u32,
    /// Offered with 不满意 and 非常不满意.
    pub reasons: Vec<hall_api::PauseReason>,
}

/// An outbound webhook: events POSTed, signed, in order, until acknowledged.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub name: String,
    pub url: String,
    pub secret: String,
    pub events: Vec<hall_api::EventKind>,
    /// Undelivered this long: shown to the manager as overdue.
    pub alert_after_min: u32,
    /// Longest wait between two attempts.
    pub retry_max_s: u32,
}

/// The billing system's account lookup, for the kiosk.
#[derive(Debug, Clone, Default)]
pub struct BillingConfig {
    /// With `{ref}` where the account number goes.
    pub account_url: Option<String>,
    pub timeout_ms: u32,
    /// Certificates (PEM) trusted for the billing system's https besides
    /// the system's store, for webhooks and account lookups alike.
    pub ca_pem: Option<Vec<u8>>,
    /// Added to a ticket's priority when the account is a key account.
    pub key_account_priority: u32,
}

impl BillingConfig {
    /// The HTTP client for the billing link: https trusting the system's
    /// CA store and the configured CA (the configured one alone on a system
    /// without a store), plain http as before.
    pub fn client(&self, timeout: std::time::Duration) -> reqwest::Client {
        hall_api::client::trusting_system_roots(
            || {
                reqwest::Client::builder()
                    .connect_timeout(std::time::Duration::from_secs(3))
                    .timeout(timeout)
            },
            || {
                self.ca_pem
                    .as_ref()
                    .and_then(|pem| reqwest::Certificate::from_pem_bundle(pem).ok())
                    .unwrap_or_default()
            },
        )
    }
}

#[derive(Debug, Clone)]
pub struct HallConfig {
    pub name: I18nText,
    pub timezone_name: String,
    pub timezone: TimeZone,
    /// Local time at which numbering starts again at 1.
    pub day_starts_at: Time,
    /// Recalls a called ticket needs before staff may mark it a no-show.
    pub recalls_before_no_show: u32,
    /// How many recent calls the hall snapshot lists.
    pub last_calls: u32,
    /// Where customers' phones reach the hall, for the QR code on tickets.
    pub public_url: Option<String>,
    /// Why a counter may pause, in the order staff see them.
    pub pause_reasons: Vec<hall_api::PauseReason>,
    /// Why a customer may go first, each with the priority it adds.
    pub priority_reasons: Vec<hall_api::PriorityReason>,
    /// When the day ends (counters closed, report made); see [`Config::day_ends`].
    pub closes_at: Option<Time>,
    /// Whose hours an extra working day (调休) keeps (`extra_workday_hours`).
    pub extra_workday_like: jiff::civil::Weekday,
    /// The share of customers to call within their target wait (0–1).
    pub service_level_target: f64,
}

#[derive(Debug, Clone)]
pub struct ServiceConfig {
    pub id: String,
    pub prefix: String,
    pub name: I18nText,
    pub target_wait_min: u32,
    /// Higher is called first.
    pub priority: i32,
    pub ask_account: bool,
    /// Service time assumed before the hall has its own history.
    pub expected_service_min: u32,
    /// When tickets for it are handed out, per weekday with breaks; `None`:
    /// at all hours (holidays and closures still close it).
    pub week: Option<crate::rules::calendar::Week>,
    /// What a customer must bring (papers), shown and printed with the ticket.
    pub bring: Option<I18nText>,
    /// The slots it offers for booking; `None`: walk-ins only.
    pub slots: Option<crate::rules::appointments::SlotRules>,
}

#[derive(Debug, Clone)]
pub struct CounterConfig {
    pub number: u32,
    pub name: I18nText,
    /// Service ids, most preferred first.
    pub services: Vec<String>,
    /// The state the counter has the first time the database sees it.
    pub initial_state: CounterState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Kiosk,
    Display,
    Counter,
    Billing,
    Manager,
    /// The customer-facing satisfaction rater at one counter.
    Rater,
    /// The floor guide's handheld (导购): issues tickets for customers.
    Guide,
}

#[derive(Debug, Clone)]
pub struct DeviceConfig {
    pub name: String,
    pub role: Role,
    /// SHA-256 of the bearer token; the token itself is never kept.
    pub token_sha256: [u8; 32],
    pub counter: Option<u32>,
}

impl Config {
    /// The embedded demo hall.
    pub fn demo() -> Config {
        Config::parse("demo.toml (embedded)", DEMO_TOML)
            .expect("the embedded demo configuration is valid")
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            ConfigError::in_file(
                &path.display().to_string(),
                format!("cannot read the configuration: {e}"),
                "check the path given to --config and that the service user may read it",
            )
        })?;
        Config::parse(&path.display().to_string(), &text)
    }

    /// Checks `text` (from `file`, for the messages) and makes it a hall.
    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        check::check(file, text)
    }

    pub fn service(&self, id: &str) -> Option<&ServiceConfig> {
        self.services.iter().find(|s| s.id == id)
    }

    pub fn counter(&self, number: u32) -> Option<&CounterConfig> {
        self.counters.iter().find(|c| c.number == number)
    }

    /// The device whose token this is.
    pub fn device_by_token(&self, token: &str) -> Option<&DeviceConfig> {
        let hash = sha256(token);
        self.devices.iter().find(|d| d.token_sha256 == hash)
    }

    /// The services a counter serves, in its order of preference, as the
    /// call-next policy ranks them.
    pub fn served_by(&self, counter: &CounterConfig) -> Vec<ServedService<'_>> {
        counter
            .services
            .iter()
            .filter_map(|id| self.service(id))
            .map(|s| ServedService {
                id: &s.id,
                priority: s.priority,
            })
            .collect()
    }

    /// The calendar as `service` sees it: its week (head office's in place
    /// of its own, from `held`), the hall's holidays (`held`, read by
    /// `store::queries::held_calendar`), and `closures` (those that apply to it). The one place opening time
    /// is read: the issue command refuses by it, the snapshot greys the
    /// kiosk's button by it, the estimate waits through its breaks.
    pub fn calendar<'a>(
        &'a self,
        service: &'a ServiceConfig,
        held: &'a HeldCalendar,
        closures: &'a [Closure],
    ) -> Calendar<'a> {
        Calendar {
            tz: &self.hall.timezone,
            week: held
                .weeks
                .get(&service.id)
                .or(service.week.as_ref())
                .unwrap_or(&ALL_HOURS),
            holidays: &held.holidays,
            closures,
        }
    }

    /// `service`'s hours on `date` as the kiosk shows them,
    /// "08:30-12:00, 13:30-17:00"; `None` when it has no hours of its own.
    pub fn hours_text(
        &self,
        service: &ServiceConfig,
        held: &HeldCalendar,
        date: Date,
    ) -> Option<String> {
        if !held.weeks.contains_key(&service.id) {
            service.week.as_ref()?;
        }
        let spans = self.calendar(service, held, &[]).hours_of(date).clone();
        Some(
            spans
                .iter()
                .map(|s| format!("{}-{}", hh_mm(s.from), hh_mm(s.until)))
                .collect::<Vec<_>>()
                .join(", "),
        )
    }

    /// When business day `date` ends for the hall: `closes_at` when set,
    /// else an hour after the last service stops handing out tickets, else
    /// when the next business day starts. Counters still open then are
    /// closed and the day's report is made.
    pub fn day_ends(&self, held: &HeldCalendar, date: Date) -> Result<Timestamp, String> {
        let (start, next) = self.hall.day_window(date)?;
        let local = match self.hall.closes_at {
            Some(t) => t,
            None => match self
                .services
                .iter()
                .filter(|s| s.week.is_some() || held.weeks.contains_key(&s.id))
                .filter_map(|s| {
                    self.calendar(s, held, &[])
                        .hours_of(date)
                        .last()
                        .map(|h| h.until)
                })
                .max()
            {
                Some(last) => last
                    .checked_add(jiff::SignedDuration::from_hours(1))
                    .ok()
                    .filter(|t| *t > last)
                    .unwrap_or(Time::MAX),
                None => return Ok(next),
            },
        };
        let at = date
            .to_datetime(local)
            .to_zoned(self.hall.timezone.clone())
            .map_err(|e| e.to_string())?
            .timestamp();
        // A closing time before the day's start (after midnight) is the next calendar day's.
        let at = if at < start {
            at.checked_add(jiff::SignedDuration::from_hours(24))
                .map_err(|e| e.to_string())?
        } else {
            at
        };
        Ok(at.min(next))
    }

    pub fn service_ids(&self) -> String {
        self.services
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl HallConfig {
    /// The business day `at` belongs to.
    pub fn business_day(&self, at: Timestamp) -> Date {
        numbering::business_day(at, &self.timezone, self.day_starts_at)
    }

    /// When business day `date` starts and the next one starts.
    pub fn day_window(&self, date: Date) -> Result<(Timestamp, Timestamp), String> {
        numbering::day_window(date, &self.timezone, self.day_starts_at)
    }
}

/// The daily window in which a service hands out tickets, in the hall's time.
/// The hours of a service that sets none: every day, all day.
static ALL_HOURS: std::sync::LazyLock<crate::rules::calendar::Week> =
    std::sync::LazyLock::new(|| {
        crate::rules::calendar::Week::every_day(vec![crate::rules::calendar::Span {
            from: Time::MIN,
            until: Time::MAX,
        }])
    });

/// "HH:MM"; the end of the day shows as 24:00.
fn hh_mm(t: Time) -> String {
    if t == Time::MAX {
        "24:00".into()
    } else {
        format!("{:02}:{:02}", t.hour(), t.minute())
    }
}
