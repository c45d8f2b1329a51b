//! The hall's configuration: a TOML file, or the embedded demo hall.
//!
//! Every problem is reported as `FILE:LINE: what is wrong` followed by what
//! to do, because the person reading it is an installer at a terminal.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use hall_api::{CounterState, I18nText};
use jiff::civil::Time;
use jiff::tz::TimeZone;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use toml::Spanned;

/// The embedded demo hall used when no `--config` is given.
pub const DEMO_TOML: &str = include_str!("../demo.toml");

#[derive(Debug, Clone)]
pub struct Config {
    pub hall: HallConfig,
    pub services: Vec<ServiceConfig>,
    pub counters: Vec<CounterConfig>,
    pub devices: Vec<DeviceConfig>,
    pub webhooks: Vec<WebhookConfig>,
    pub billing: BillingConfig,
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
    /// When tickets for it are handed out; `None`: whenever the hall runs.
    pub hours: Option<OpeningHours>,
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
}

#[derive(Debug, Clone)]
pub struct DeviceConfig {
    pub name: String,
    pub role: Role,
    /// SHA-256 of the bearer token; the token itself is never kept.
    pub token_sha256: [u8; 32],
    pub counter: Option<u32>,
}

/// A configuration problem, pointing at the file and line.
#[derive(Debug)]
pub struct ConfigError {
    pub file: String,
    pub line: Option<usize>,
    pub problem: String,
    pub fix: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.problem)?,
            None => write!(f, "{}: {}", self.file, self.problem)?,
        }
        write!(f, "\n  fix: {}", self.fix)
    }
}

impl std::error::Error for ConfigError {}

// The file as written, with spans so that every later check can name a line.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    hall: RawHall,
    #[serde(default)]
    service: Vec<RawService>,
    #[serde(default)]
    counter: Vec<RawCounter>,
    #[serde(default)]
    device: Vec<RawDevice>,
    #[serde(default)]
    webhook: Vec<RawWebhook>,
    #[serde(default)]
    billing: Option<RawBilling>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    name: Spanned<String>,
    url: Spanned<String>,
    secret: Spanned<String>,
    events: Vec<Spanned<String>>,
    #[serde(default = "default_alert_after")]
    alert_after_min: u32,
    #[serde(default = "default_retry_max")]
    retry_max_s: u32,
}

fn default_alert_after() -> u32 {
    10
}

fn default_retry_max() -> u32 {
    60
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBilling {
    account_url: Option<Spanned<String>>,
    #[serde(default = "default_lookup_timeout")]
    timeout_ms: u32,
}

fn default_lookup_timeout() -> u32 {
    800
}

/// The HTTP client has no TLS: a billing system on https needs a local
/// proxy (say so rather than fail at the first delivery).
fn check_http_url(c: &Checker<'_>, url: &Spanned<String>, what: &str) -> Result<(), ConfigError> {
    let u = url.get_ref();
    if !u.starts_with("http://") || u.len() <= "http://".len() {
        return c.err(
            url.span(),
            format!("{what} \"{u}\" is not an http:// URL"),
            "give the billing system's address as http://host:port/path (for https, put a local TLS proxy in front)",
        );
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHall {
    name: I18nText,
    timezone: Spanned<String>,
    #[serde(default = "default_day_start")]
    day_starts_at: Spanned<String>,
    #[serde(default)]
    recalls_before_no_show: u32,
    #[serde(default = "default_last_calls")]
    last_calls: u32,
    /// Default opening hours of every service, "HH:MM-HH:MM".
    hours: Option<Spanned<String>>,
    /// Where customers' phones reach the hall (QR codes on tickets).
    public_url: Option<Spanned<String>>,
}

fn default_day_start() -> Spanned<String> {
    Spanned::new(0..0, "05:00".to_string())
}

fn default_last_calls() -> u32 {
    10
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawService {
    id: Spanned<String>,
    prefix: Spanned<String>,
    name: I18nText,
    #[serde(default = "default_target_wait")]
    target_wait_min: u32,
    #[serde(default)]
    priority: i32,
    #[serde(default)]
    ask_account: bool,
    #[serde(default = "default_service_min")]
    expected_service_min: Spanned<u32>,
    hours: Option<Spanned<String>>,
}

fn default_target_wait() -> u32 {
    15
}

fn default_service_min() -> Spanned<u32> {
    Spanned::new(0..0, 5)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCounter {
    number: Spanned<u32>,
    name: I18nText,
    services: Spanned<Vec<Spanned<String>>>,
    #[serde(default = "default_counter_state")]
    initial_state: CounterState,
}

fn default_counter_state() -> CounterState {
    CounterState::Closed
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDevice {
    name: Spanned<String>,
    role: Role,
    token: Option<Spanned<String>>,
    token_sha256: Option<Spanned<String>>,
    counter: Option<Spanned<u32>>,
}

/// Turns a byte offset into a 1-based line number.
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

struct Checker<'a> {
    file: &'a str,
    text: &'a str,
}

impl Checker<'_> {
    fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        problem: String,
        fix: &str,
    ) -> Result<T, ConfigError> {
        // A zero-length span at 0 is a default value: there is no line to name.
        let line = (span != (0..0)).then(|| line_of(self.text, span.start));
        Err(ConfigError {
            file: self.file.to_string(),
            line,
            problem,
            fix: fix.to_string(),
        })
    }
}

pub fn sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn from_hex(s: &str) -> Option<[u8; 32]> {
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

/// Tokens of [`load_test_hall`]'s devices.
pub const LOAD_TEST_KIOSK: &str = "load-kiosk";
pub const LOAD_TEST_DISPLAY: &str = "load-display";
pub const LOAD_TEST_BILLING: &str = "load-billing";

/// The hall the bench and the load tests use: one service, "pay" (prefix A),
/// `counters` open counters all serving it, and a kiosk, a display and a
/// billing device with the `LOAD_TEST_*` tokens.
pub fn load_test_hall(counters: u32) -> String {
    let mut toml = format!(
        "[hall]\nname = {{ zh = \"压测厅\", en = \"Load Test Hall\" }}\ntimezone = \"Asia/Shanghai\"\n\n\
         [[service]]\nid = \"pay\"\nprefix = \"A\"\nname = {{ zh = \"缴费\", en = \"Payment\" }}\n\n\
         [[device]]\nname = \"kiosk\"\nrole = \"kiosk\"\ntoken = \"{LOAD_TEST_KIOSK}\"\n\n\
         [[device]]\nname = \"board\"\nrole = \"display\"\ntoken = \"{LOAD_TEST_DISPLAY}\"\n\n\
         [[device]]\nname = \"billing\"\nrole = \"billing\"\ntoken = \"{LOAD_TEST_BILLING}\"\n"
    );
    for n in 1..=counters {
        toml.push_str(&format!(
            "\n[[counter]]\nnumber = {n}\nname = {{ zh = \"{n}号窗口\", en = \"Counter {n}\" }}\nservices = [\"pay\"]\ninitial_state = \"open\"\n"
        ));
    }
    toml
}

impl Config {
    /// The embedded demo hall.
    pub fn demo() -> Config {
        Config::parse("demo.toml (embedded)", DEMO_TOML)
            .expect("the embedded demo configuration is valid")
    }

    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.display().to_string(),
            line: None,
            problem: format!("cannot read the configuration: {e}"),
            fix: "check the path given to --config and that the service user may read it".into(),
        })?;
        Config::parse(&path.display().to_string(), &text)
    }

    pub fn parse(file: &str, text: &str) -> Result<Config, ConfigError> {
        let c = Checker { file, text };
        let raw: RawConfig = toml::from_str(text).map_err(|e| ConfigError {
            file: file.to_string(),
            line: e.span().map(|s| line_of(text, s.start)),
            problem: e.message().trim().to_string(),
            fix: "compare this line with the example configuration in the README (field names, quotes, numbers)"
                .into(),
        })?;

        let tz_name = raw.hall.timezone.get_ref().clone();
        let timezone = match TimeZone::get(&tz_name) {
            Ok(tz) => tz,
            Err(_) => {
                return c.err(
                    raw.hall.timezone.span(),
                    format!("unknown time zone \"{tz_name}\""),
                    "use an IANA time zone name such as \"Asia/Shanghai\"",
                );
            }
        };
        let day_starts_at = match parse_hh_mm(raw.hall.day_starts_at.get_ref()) {
            Some(t) => t,
            None => {
                return c.err(
                    raw.hall.day_starts_at.span(),
                    format!(
                        "day_starts_at \"{}\" is not a time of day",
                        raw.hall.day_starts_at.get_ref()
                    ),
                    "write it as \"HH:MM\" in 24-hour local time, e.g. \"05:00\"",
                );
            }
        };

        let public_url = match &raw.hall.public_url {
            Some(url) => {
                let u = url.get_ref().trim_end_matches('/');
                if !(u.starts_with("http://") || u.starts_with("https://")) || u.contains(' ') {
                    return c.err(
                        url.span(),
                        format!("public_url \"{u}\" is not a web address"),
                        "give the address phones in the hall open, e.g. \"http://hall.local:8080\"",
                    );
                }
                Some(u.to_string())
            }
            None => None,
        };

        if raw.service.is_empty() {
            return c.err(
                0..0,
                "no [[service]] is configured".into(),
                "add at least one [[service]] table",
            );
        }
        let mut services = Vec::new();
        let mut ids = HashSet::new();
        let mut prefixes = HashSet::new();
        for s in raw.service {
            let id = s.id.get_ref();
            if id.is_empty()
                || id.len() > 32
                || !id.chars().all(|ch| {
                    ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_'
                })
            {
                return c.err(
                    s.id.span(),
                    format!("service id \"{id}\" is not usable in the API"),
                    "use 1 to 32 lower-case letters, digits, '-' or '_', e.g. \"pay\"",
                );
            }
            if !ids.insert(id.clone()) {
                return c.err(
                    s.id.span(),
                    format!("service id \"{id}\" is used twice"),
                    "give every service its own id",
                );
            }
            let prefix = s.prefix.get_ref();
            if prefix.is_empty()
                || prefix.len() > 2
                || !prefix.chars().all(|ch| ch.is_ascii_uppercase())
            {
                return c.err(
                    s.prefix.span(),
                    format!("prefix \"{prefix}\" is not one or two capital letters"),
                    "use a prefix such as \"A\" so numbers read A001, A002…",
                );
            }
            if !prefixes.insert(prefix.clone()) {
                return c.err(
                    s.prefix.span(),
                    format!(
                        "prefix \"{prefix}\" is used by two services, so their numbers would repeat"
                    ),
                    "give every service its own prefix letter",
                );
            }
            if *s.expected_service_min.get_ref() == 0 {
                return c.err(
                    s.expected_service_min.span(),
                    "expected_service_min must be at least 1".into(),
                    "give the usual minutes one customer takes at the counter",
                );
            }
            services.push(ServiceConfig {
                id: id.clone(),
                prefix: prefix.clone(),
                name: s.name,
                target_wait_min: s.target_wait_min,
                priority: s.priority,
                ask_account: s.ask_account,
                expected_service_min: *s.expected_service_min.get_ref(),
                hours: match s.hours.as_ref().or(raw.hall.hours.as_ref()) {
                    Some(h) => Some(c.hours(h)?),
                    None => None,
                },
            });
        }

        let mut counters = Vec::new();
        let mut numbers = HashSet::new();
        for k in raw.counter {
            let number = *k.number.get_ref();
            if number == 0 || number > 999 {
                return c.err(
                    k.number.span(),
                    format!("counter number {number} is out of range"),
                    "number counters from 1 to 999",
                );
            }
            if !numbers.insert(number) {
                return c.err(
                    k.number.span(),
                    format!("counter {number} is configured twice"),
                    "give every counter its own number",
                );
            }
            if k.services.get_ref().is_empty() {
                return c.err(
                    k.services.span(),
                    format!("counter {number} serves no service"),
                    "list the service ids it serves, most preferred first",
                );
            }
            let mut seen = HashSet::new();
            let mut list = Vec::new();
            for s in k.services.get_ref() {
                if !ids.contains(s.get_ref()) {
                    return c.err(
                        s.span(),
                        format!("counter {number} names unknown service \"{}\"", s.get_ref()),
                        &format!("use one of the configured service ids: {}", sorted(&ids)),
                    );
                }
                if !seen.insert(s.get_ref().clone()) {
                    return c.err(
                        s.span(),
                        format!("counter {number} lists \"{}\" twice", s.get_ref()),
                        "list each service once",
                    );
                }
                list.push(s.get_ref().clone());
            }
            counters.push(CounterConfig {
                number,
                name: k.name,
                services: list,
                initial_state: k.initial_state,
            });
        }

        let mut devices = Vec::new();
        let mut names = HashSet::new();
        let mut hashes = HashSet::new();
        for d in raw.device {
            let name = d.name.get_ref();
            if name.is_empty() || name.len() > 64 {
                return c.err(
                    d.name.span(),
                    "device name must be 1 to 64 characters".into(),
                    "name the device, e.g. \"kiosk-1\"",
                );
            }
            if !names.insert(name.clone()) {
                return c.err(
                    d.name.span(),
                    format!("device \"{name}\" is configured twice"),
                    "give every device its own name",
                );
            }
            let token_sha256 = match (&d.token, &d.token_sha256) {
                (Some(t), None) => {
                    if t.get_ref().len() < 8 {
                        return c.err(
                            t.span(),
                            format!("the token of \"{name}\" is shorter than 8 characters"),
                            "use a long random token, e.g. from `openssl rand -hex 16`",
                        );
                    }
                    sha256(t.get_ref())
                }
                (None, Some(h)) => match from_hex(h.get_ref()) {
                    Some(hash) => hash,
                    None => {
                        return c.err(
                            h.span(),
                            format!("token_sha256 of \"{name}\" is not 64 hex digits"),
                            "print it with `queue-server hash-token TOKEN`",
                        );
                    }
                },
                _ => {
                    return c.err(
                        d.name.span(),
                        format!("device \"{name}\" needs exactly one of token or token_sha256"),
                        "give `token = \"…\"`, or its hash as `token_sha256 = \"…\"`",
                    );
                }
            };
            if !hashes.insert(token_sha256) {
                return c.err(
                    d.name.span(),
                    format!("device \"{name}\" has the same token as another device"),
                    "give every device its own token",
                );
            }
            let counter = match (d.role, &d.counter) {
                (Role::Counter, None) => {
                    return c.err(
                        d.name.span(),
                        format!(
                            "counter device \"{name}\" does not say which counter it may act on"
                        ),
                        "add `counter = N`",
                    );
                }
                (Role::Counter, Some(n)) => {
                    if !numbers.contains(n.get_ref()) {
                        return c.err(
                            n.span(),
                            format!(
                                "device \"{name}\" names counter {} which is not configured",
                                n.get_ref()
                            ),
                            "use the number of a configured [[counter]]",
                        );
                    }
                    Some(*n.get_ref())
                }
                (_, Some(n)) => {
                    return c.err(
                        n.span(),
                        format!("only role = \"counter\" devices take a counter, and \"{name}\" is not one"),
                        "remove the counter line, or set role = \"counter\"",
                    );
                }
                (_, None) => None,
            };
            devices.push(DeviceConfig {
                name: name.clone(),
                role: d.role,
                token_sha256,
                counter,
            });
        }

        let mut webhooks = Vec::new();
        let mut webhook_names = HashSet::new();
        for w in raw.webhook {
            if !webhook_names.insert(w.name.get_ref().clone()) {
                return c.err(
                    w.name.span(),
                    format!("webhook \"{}\" is configured twice", w.name.get_ref()),
                    "give every webhook its own name",
                );
            }
            check_http_url(&c, &w.url, "webhook url")?;
            if w.secret.get_ref().len() < 16 {
                return c.err(
                    w.secret.span(),
                    format!("the secret of webhook \"{}\" is shorter than 16 characters", w.name.get_ref()),
                    "use a long random secret shared with the billing system, e.g. from `openssl rand -hex 32`",
                );
            }
            let mut events = Vec::new();
            for e in &w.events {
                match hall_api::EventKind::parse(e.get_ref()) {
                    Some(kind) => events.push(kind),
                    None => {
                        return c.err(
                            e.span(),
                            format!("unknown event \"{}\"", e.get_ref()),
                            &format!(
                                "use event names such as: {}",
                                hall_api::EventKind::ALL.map(|k| k.as_str()).join(", ")
                            ),
                        );
                    }
                }
            }
            if events.is_empty() {
                return c.err(
                    w.name.span(),
                    format!("webhook \"{}\" subscribes to no event", w.name.get_ref()),
                    "list the events it wants, e.g. events = [\"ticket.called\"]",
                );
            }
            webhooks.push(WebhookConfig {
                name: w.name.get_ref().clone(),
                url: w.url.get_ref().clone(),
                secret: w.secret.get_ref().clone(),
                events,
                alert_after_min: w.alert_after_min.max(1),
                retry_max_s: w.retry_max_s.max(1),
            });
        }
        let billing = match raw.billing {
            None => BillingConfig::default(),
            Some(b) => {
                if let Some(url) = &b.account_url {
                    check_http_url(&c, url, "account_url")?;
                    if !url.get_ref().contains("{ref}") {
                        return c.err(
                            url.span(),
                            "account_url has no {ref} for the account number".into(),
                            "write it like http://billing:9090/accounts/{ref}",
                        );
                    }
                }
                BillingConfig {
                    account_url: b.account_url.map(|u| u.into_inner()),
                    timeout_ms: b.timeout_ms.clamp(50, 10_000),
                }
            }
        };

        Ok(Config {
            webhooks,
            billing,
            hall: HallConfig {
                name: raw.hall.name,
                timezone_name: tz_name,
                timezone,
                day_starts_at,
                recalls_before_no_show: raw.hall.recalls_before_no_show,
                last_calls: raw.hall.last_calls.clamp(1, 50),
                public_url,
            },
            services,
            counters,
            devices,
        })
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
    pub fn served_by(
        &self,
        counter: &CounterConfig,
    ) -> Vec<crate::rules::policy::ServedService<'_>> {
        counter
            .services
            .iter()
            .filter_map(|id| self.service(id))
            .map(|s| crate::rules::policy::ServedService {
                id: &s.id,
                priority: s.priority,
            })
            .collect()
    }

    pub fn service_ids(&self) -> String {
        self.services
            .iter()
            .map(|s| s.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn sorted(set: &HashSet<String>) -> String {
    let mut v: Vec<_> = set.iter().map(String::as_str).collect();
    v.sort_unstable();
    v.join(", ")
}

/// The daily window in which a service hands out tickets, in the hall's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpeningHours {
    pub from: Time,
    pub until: Time,
}

impl OpeningHours {
    pub fn contains(&self, t: Time) -> bool {
        self.from <= t && t < self.until
    }
}

impl fmt::Display for OpeningHours {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.from.hour(),
            self.from.minute(),
            self.until.hour(),
            self.until.minute()
        )
    }
}

impl Checker<'_> {
    fn hours(&self, h: &Spanned<String>) -> Result<OpeningHours, ConfigError> {
        let parsed = h.get_ref().split_once('-').and_then(|(a, b)| {
            Some(OpeningHours {
                from: parse_hh_mm(a.trim())?,
                until: parse_hh_mm(b.trim())?,
            })
        });
        match parsed {
            Some(hours) if hours.from < hours.until => Ok(hours),
            _ => self.err(
                h.span(),
                format!(
                    "hours \"{}\" is not an opening time and a later closing time",
                    h.get_ref()
                ),
                "write it as \"HH:MM-HH:MM\" in 24-hour local time, e.g. \"08:30-17:00\"",
            ),
        }
    }
}

fn parse_hh_mm(s: &str) -> Option<Time> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_EXAMPLE: &str = r#"
[hall]
name = { zh = "城东营业厅", en = "East Side Service Hall" }
timezone = "Asia/Shanghai"
day_starts_at = "05:00"          # daily reset of numbering, local time

[[service]]
id = "pay"                       # stable id used in the API
prefix = "A"
name = { zh = "缴费", en = "Payment" }
target_wait_min = 10             # for the service level
priority = 0                     # higher is called first
ask_account = true               # kiosk may ask for an account number

[[service]]
id = "vip"
prefix = "V"
name = { zh = "贵宾", en = "VIP" }

[[counter]]
number = 1
name = { zh = "1号窗口", en = "Counter 1" }
services = ["vip", "pay"]        # in the order this counter prefers them

[[device]]
name = "kiosk-1"
role = "kiosk"                   # kiosk | display | counter | billing | manager
token = "kiosk-secret-1"

[[webhook]]
name = "billing"
url = "http://127.0.0.1:9090/hall/events"
secret = "0123456789abcdef0123"
events = ["ticket.called"]

[billing]
account_url = "http://127.0.0.1:9090/accounts/{ref}"

[[device]]
name = "c1"
role = "counter"
token_sha256 = "0000000000000000000000000000000000000000000000000000000000000001"
counter = 1                      # for role = counter: the counter it may act on
"#;

    #[test]
    fn line_numbers_count_bytes_safely() {
        assert_eq!(line_of("a\n厅\nb", 6), 3, "b starts at byte 6");
        assert_eq!(line_of("a\n厅\nb", 2), 2, "厅 starts at byte 2");
        assert_eq!(line_of("厅", 1), 1, "inside a character: no panic");
        assert_eq!(line_of("x", 99), 1);
    }

    #[test]
    fn accepts_the_documented_shape() {
        let c = Config::parse("hall.toml", SPEC_EXAMPLE).unwrap();
        assert_eq!(c.services.len(), 2);
        assert_eq!(c.counters[0].services, vec!["vip", "pay"]);
        assert_eq!(c.devices[1].counter, Some(1));
        assert_eq!(c.hall.day_starts_at, Time::constant(5, 0, 0, 0));
        assert_eq!(c.device_by_token("kiosk-secret-1").unwrap().name, "kiosk-1");
        assert!(c.device_by_token("kiosk-secret-2").is_none());
    }

    #[test]
    fn load_test_hall_is_valid() {
        let c = Config::parse("load", &load_test_hall(64)).unwrap();
        assert_eq!((c.services.len(), c.counters.len()), (1, 64));
        assert!(
            c.counters
                .iter()
                .all(|k| k.initial_state == CounterState::Open)
        );
        assert_eq!(
            c.device_by_token(LOAD_TEST_BILLING).unwrap().role,
            Role::Billing
        );
    }

    #[test]
    fn demo_hall_has_six_services_and_five_counters() {
        let c = Config::demo();
        assert_eq!(c.services.len(), 6);
        assert_eq!(c.counters.len(), 5);
    }

    fn error_of(text: &str) -> ConfigError {
        Config::parse("hall.toml", text).unwrap_err()
    }

    #[test]
    fn errors_name_file_line_and_fix() {
        let bad = SPEC_EXAMPLE.replace(
            "services = [\"vip\", \"pay\"]",
            "services = [\"vip\", \"payy\"]",
        );
        let e = error_of(&bad);
        assert_eq!(
            e.line,
            Some(line_of(&bad, bad.find("services = [").unwrap()))
        );
        let text = e.to_string();
        assert!(text.starts_with("hall.toml:"), "{text}");
        assert!(text.contains("unknown service \"payy\""), "{text}");
        assert!(
            text.contains("fix: use one of the configured service ids: pay, vip"),
            "{text}"
        );
    }

    #[test]
    fn opening_hours_are_checked_and_inherited() {
        let with_hours = SPEC_EXAMPLE.replace(
            "timezone = \"Asia/Shanghai\"",
            "timezone = \"Asia/Shanghai\"\nhours = \"08:30-17:00\"",
        );
        let c = Config::parse("hall.toml", &with_hours).unwrap();
        assert!(
            c.services
                .iter()
                .all(|s| s.hours.is_some_and(|h| h.to_string() == "08:30-17:00"))
        );

        for bad in ["17:00-08:30", "8:30-17:00", "08:30", "08:30-25:00"] {
            let text = with_hours.replace("08:30-17:00", bad);
            let e = error_of(&text).to_string();
            assert!(
                e.contains("hall.toml:5:") && e.contains("\"HH:MM-HH:MM\""),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn type_errors_point_at_their_line() {
        let bad = SPEC_EXAMPLE.replace("target_wait_min = 10", "target_wait_min = \"ten\"");
        let e = error_of(&bad);
        assert_eq!(
            e.line,
            Some(line_of(&bad, bad.find("target_wait_min").unwrap()))
        );
    }

    #[test]
    fn refuses_common_mistakes() {
        let cases = [
            (
                "timezone = \"Asia/Shanghai\"",
                "timezone = \"Mars/Base\"",
                "unknown time zone",
            ),
            (
                "day_starts_at = \"05:00\"",
                "day_starts_at = \"5am\"",
                "not a time of day",
            ),
            ("prefix = \"V\"", "prefix = \"A\"", "used by two services"),
            ("id = \"vip\"", "id = \"pay\"", "used twice"),
            (
                "token = \"kiosk-secret-1\"",
                "token = \"short\"",
                "shorter than 8",
            ),
            ("counter = 1 ", "counter = 7 ", "not configured"),
            ("role = \"kiosk\"", "role = \"printer\"", "unknown variant"),
            (
                "events = [\"ticket.called\"]",
                "events = [\"ticket.caled\"]",
                "unknown event",
            ),
            (
                "url = \"http://127.0.0.1:9090/hall/events\"",
                "url = \"https://billing/x\"",
                "not an http:// URL",
            ),
            (
                "secret = \"0123456789abcdef0123\"",
                "secret = \"short\"",
                "shorter than 16",
            ),
        ];
        for (from, to, expect) in cases {
            let bad = SPEC_EXAMPLE.replacen(from, to, 1);
            assert_ne!(bad, SPEC_EXAMPLE, "case {from} did not apply");
            let e = error_of(&bad);
            assert!(e.to_string().contains(expect), "{from} -> {e}");
            assert!(e.line.is_some(), "{from} -> no line: {e}");
        }
    }
}
