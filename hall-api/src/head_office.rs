//! What a hall ships to head office over NATS JetStream, and the subjects
//! it ships under. A hall publishes only under `halls.<hall_id>.`; head
//! office refuses a message whose subject and payload name different halls.

use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::{CounterState, DeviceStatus, Event, I18nText, NewClosure};

/// The JetStream stream every hall's messages go to.
pub const STREAM: &str = "HALLS";
/// The subjects of [`STREAM`].
pub const STREAM_SUBJECTS: [&str; 2] = ["halls.*.events", "halls.*.profile"];

/// The longest a hall id may be.
pub const HALL_ID_MAX: usize = 32;

/// A hall id: 1 to 32 of `a-z`, `0-9`, `-`. No dots or wildcards, so it
/// is one NATS subject token, and it names the hall's own inbox prefix.
pub fn valid_hall_id(id: &str) -> bool {
    (1..=HALL_ID_MAX).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !id.starts_with('-')
}

/// Where a hall's events go.
pub fn events_subject(hall: &str) -> String {
    format!("halls.{hall}.events")
}

/// Where a hall's profile goes.
pub fn profile_subject(hall: &str) -> String {
    format!("halls.{hall}.profile")
}

/// Where a hall says how it and its devices are, every
/// [`STATUS_INTERVAL_S`] and at once when a device's health changes. Plain
/// NATS, not the stream: only the newest matters, and a hall that stops
/// sending it has gone silent.
pub fn status_subject(hall: &str) -> String {
    format!("halls.{hall}.status")
}

/// Where head office sends a hall its changes, as a request: the hall
/// answers with a [`PushAnswer`]. A hall may subscribe here and nowhere
/// else but its inbox, and may answer only requests it received.
pub fn push_subject(hall: &str) -> String {
    format!("office.{hall}.push")
}

/// Where head office relays a phone's request for one of the hall's public
/// pages (request/reply over the hall's own outbound connection, so a
/// phone on mobile data reaches a hall that opens no port). The request's
/// method, path and client go in the NATS headers below, its body as the
/// payload; the answer likewise.
pub fn relay_subject(hall: &str) -> String {
    format!("office.{hall}.public")
}

/// Where head office serves a hall's public pages: `/h/<hall_id>/t/<code>`
/// is the hall's `/t/<code>`. A ticket's QR points here when the hall's
/// `public_url` is head office's address followed by this.
pub fn relay_prefix(hall: &str) -> String {
    format!("/h/{hall}")
}

/// NATS headers of a relayed request and its answer.
pub mod relay_header {
    /// The request's method (`GET`, `POST`, `PUT`).
    pub const METHOD: &str = "Hall-Method";
    /// The path inside the hall, with its query: `/t/XK7P2Q?lang=en`.
    pub const PATH: &str = "Hall-Path";
    /// The phone's IP address, for the hall's per-client limits.
    pub const CLIENT: &str = "Hall-Client";
    /// The answer's HTTP status.
    pub const STATUS: &str = "Hall-Status";
    /// HTTP headers carried as they are, both ways (the hall's page
    /// policy among them, so a relayed page is as locked down as at the hall).
    pub const CARRIED: [&str; 7] = [
        "Content-Type",
        "Accept-Language",
        "Cache-Control",
        "Retry-After",
        "Content-Security-Policy",
        "X-Frame-Options",
        "X-Content-Type-Options",
    ];
}

/// The largest body relayed either way: the public pages, their scripts
/// and a booking's QR are far below it.
pub const RELAY_BODY_MAX: usize = 256 * 1024;

/// Whether a hall path may be reached through head office: the phone's
/// pages (ticket, remote ticket, entrance, booking), their assets and the
/// public API; never a staff page or an endpoint that needs a token.
pub fn is_relayed_path(path: &str) -> bool {
    const PAGES: [&str; 2] = ["/take", "/book"];
    const UNDER: [&str; 4] = ["/t/", "/here/", "/booking/", "/api/v1/public/"];
    const ASSETS: [&str; 6] = [
        "/assets/style.css",
        "/assets/ticket.js",
        "/assets/rating.js",
        "/assets/take.js",
        "/assets/here.js",
        "/assets/book.js",
    ];
    !path.contains("/../")
        && !path.contains("//")
        && (PAGES.contains(&path)
            || ASSETS.contains(&path)
            || UNDER
                .iter()
                .any(|p| path.strip_prefix(p).is_some_and(|rest| !rest.is_empty())))
}

/// One change head office sets for halls, applied by each with the same
/// command and rules as its own manager's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PushChange {
    /// The notice every board shows; absent: each board's own.
    Notice { notice: Option<I18nText> },
    /// The hall, or some of its services, closed for a time.
    Closure { closure: NewClosure },
    /// A new member of staff; the PIN only as head office hashed it.
    Staff {
        number: String,
        name: String,
        pin_hash: String,
    },
    /// A member of staff who left: signed out and refused from now on.
    StaffDisable { number: String },
    /// A year's public holidays and extra working days (调休), as a holiday
    /// file (the README's format): it takes the place of that year in the
    /// hall's own files.
    Holidays { year: i16, file: String },
    /// A service's opening hours in place of its own; none: its own again.
    ServiceHours {
        service: String,
        #[serde(default)]
        hours: Option<ServiceHours>,
    },
    /// What a service is called, what it promises and what to bring, in
    /// place of the hall's own; none: its own again.
    Service {
        service: String,
        #[serde(default)]
        settings: Option<ServiceSettings>,
    },
}

/// How head office names a service, the wait it promises and the papers
/// customers bring. A field left out keeps the hall's own. Which services
/// a hall has, their prefixes and counters stay the hall's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<I18nText>,
    /// Minutes within which a customer should be called (the service level).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_wait_min: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bring: Option<I18nText>,
}

/// A service's opening hours in the words of a hall's configuration:
/// `every_day` ("08:30-12:00, 14:30-18:00"), `week` for the days that
/// differ (`{"sun": ""}`, "" closed); every day must be said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceHours {
    #[serde(default)]
    pub every_day: Option<String>,
    #[serde(default)]
    pub week: std::collections::BTreeMap<String, String>,
}

/// The kinds of [`PushChange`], as a hall's configuration names those it accepts.
pub const PUSH_KINDS: [&str; 6] = [
    "notice", "closure", "staff", "calendar", "hours", "services",
];

impl PushChange {
    pub fn kind(&self) -> &'static str {
        match self {
            PushChange::Notice { .. } => "notice",
            PushChange::Closure { .. } => "closure",
            PushChange::Staff { .. } | PushChange::StaffDisable { .. } => "staff",
            PushChange::Holidays { .. } => "calendar",
            PushChange::ServiceHours { .. } => "hours",
            PushChange::Service { .. } => "services",
        }
    }
}

/// A push to one hall: its changes are applied in one transaction, all or
/// none. `id` is head office's: a hall answers a push it applied before
/// with its first answer, and does not apply it again.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Push {
    pub id: i64,
    /// Who at head office set it.
    pub by: String,
    pub changes: Vec<PushChange>,
}

/// A hall's answer to a [`Push`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushAnswer {
    pub id: i64,
    pub applied: bool,
    /// Why not, in words a person at head office can act on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refused: Option<String>,
}

/// How often a hall sends its [`HallStatus`].
pub const STATUS_INTERVAL_S: u32 = 30;

/// The inbox prefix a hall's connection uses for replies (JetStream's
/// acknowledgements): its account may subscribe there and nowhere else.
pub fn inbox_prefix(hall: &str) -> String {
    format!("_INBOX_{hall}")
}

/// The JetStream message id of a hall's event: a resend within the
/// stream's duplicate window is dropped by the server.
pub fn event_message_id(hall: &str, event_id: i64) -> String {
    format!("{hall}:{event_id}")
}

/// What a subject says: which hall, and what kind of message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shipped<'a> {
    Events(&'a str),
    Profile(&'a str),
    Status(&'a str),
}

/// The hall and kind a subject names, if it is one of [`STREAM_SUBJECTS`]
/// or a [`status_subject`].
pub fn parse_subject(subject: &str) -> Option<Shipped<'_>> {
    let mut parts = subject.split('.');
    let (Some("halls"), Some(hall), Some(kind), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    if !valid_hall_id(hall) {
        return None;
    }
    match kind {
        "events" => Some(Shipped::Events(hall)),
        "profile" => Some(Shipped::Profile(hall)),
        "status" => Some(Shipped::Status(hall)),
        _ => None,
    }
}

/// One event of a hall, as shipped: the hall's own event, and the hall it
/// is from (checked against the subject).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShippedEvent {
    pub hall: String,
    pub event: Event,
}

/// What head office needs of a hall's configuration to compute its day
/// as the hall does: the time zone, when the business day starts, the
/// services with their targets and the counters with their first state.
/// Shipped at start and whenever it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct HallProfile {
    pub hall: String,
    pub name: I18nText,
    /// IANA time zone name.
    pub timezone: String,
    /// "HH:MM", local time.
    pub day_starts_at: String,
    pub services: Vec<ProfileService>,
    pub counters: Vec<ProfileCounter>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfileService {
    pub id: String,
    pub target_wait_min: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProfileCounter {
    pub number: u32,
    pub initial_state: CounterState,
}

/// A hall's heartbeat to head office: its devices as the manager sees
/// them, and when it will say again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HallStatus {
    pub hall: String,
    /// Seconds until the next one; head office calls the hall silent after
    /// three missed.
    pub interval_s: u32,
    pub devices: Vec<DeviceStatus>,
}

/// The hall's shipping to head office, for the manager and `/metrics`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ShippingStatus {
    pub hall_id: String,
    pub url: String,
    /// Connected to head office's NATS now.
    pub connected: bool,
    /// The newest event head office has acknowledged.
    pub shipped_through: i64,
    /// Events not yet acknowledged.
    pub backlog: i64,
    /// Why the last attempt failed, while it keeps failing.
    pub last_error: Option<String>,
    /// What head office set in place of the hall's configuration, newest first.
    #[serde(default)]
    pub set_by_office: Vec<OfficeSetting>,
}

/// A part of the hall's configuration head office set in place of its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct OfficeSetting {
    /// `holidays` (the year's schedule, `of` the year), `hours` or
    /// `service` (its name, target and papers; `of` the service).
    pub kind: String,
    pub of: String,
    /// Who at head office (as the hall records a push: `head office (user)`).
    pub by: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub at: jiff::Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_name_one_hall() {
        assert_eq!(
            parse_subject(&events_subject("east-1")),
            Some(Shipped::Events("east-1"))
        );
        assert_eq!(
            parse_subject(&profile_subject("e")),
            Some(Shipped::Profile("e"))
        );
        assert_eq!(
            parse_subject(&status_subject("n-3")),
            Some(Shipped::Status("n-3"))
        );
        for bad in [
            "halls.east.events.x",
            "halls.*.events",
            "halls.>.events",
            "halls..events",
            "halls.East.events",
            "hall.east.events",
            "halls.east.other",
        ] {
            assert_eq!(parse_subject(bad), None, "{bad}");
        }
        assert!(!valid_hall_id(&"a".repeat(33)));
        assert!(!valid_hall_id("-a"));
        assert!(valid_hall_id("hall-0042"));
    }
}

#[cfg(test)]
mod relay_tests {
    use super::is_relayed_path;

    #[test]
    fn only_the_phones_pages_are_relayed() {
        for yes in [
            "/t/XK7P2Q",
            "/take",
            "/book",
            "/booking/B1234",
            "/here/ABC123",
            "/assets/ticket.js",
            "/api/v1/public/tickets/XK7P2Q",
            "/api/v1/public/rating-setup",
        ] {
            assert!(is_relayed_path(yes), "{yes}");
        }
        for no in [
            "/manager",
            "/counter",
            "/guide",
            "/api/v1/hall",
            "/api/v1/tickets",
            "/api/v1/events",
            "/metrics",
            "/assets/manager.js",
            "/t/",
            "/takeover",
            "/api/v1/public/../hall",
            "/api/v1/public//x",
            "",
        ] {
            assert!(!is_relayed_path(no), "{no}");
        }
    }
}
