//! The checks that turn the file's shape (`file`) into a hall (`Config`):
//! every problem is a `FILE:LINE` error with a fix.

use std::collections::HashSet;

use hall_api::config_error::ConfigError;
use jiff::tz::TimeZone;
use toml::Spanned;

use super::calendar::{Level, parse_hh_mm};
use super::file::*;
use super::*;
use crate::tokens::{from_hex, sha256};

pub(super) fn check(file: &str, text: &str) -> Result<Config, ConfigError> {
    let c = Checker { file, text };
    let raw: RawConfig = toml::from_str(text).map_err(|e| {
        ConfigError::at(
            file,
            text,
            e.span(),
            e.message(),
            "compare this line with the example configuration in the README (field names, quotes, numbers)",
        )
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

    let closes_at = match &raw.hall.closes_at {
        Some(raw_time) => match parse_hh_mm(raw_time.get_ref()) {
            Some(t) => Some(t),
            None => {
                return c.err(
                    raw_time.span(),
                    format!("closes_at \"{}\" is not a time of day", raw_time.get_ref()),
                    "write it as \"HH:MM\" in 24-hour local time, e.g. \"18:00\"",
                );
            }
        },
        None => None,
    };
    let service_level_target = match &raw.hall.service_level_target {
        Some(pct) if !(1..=100).contains(pct.get_ref()) => {
            return c.err(
                pct.span(),
                format!("service_level_target {} is not a percentage", pct.get_ref()),
                "give the share of customers to call within the target wait, 1 to 100, e.g. 80",
            );
        }
        Some(pct) => f64::from(*pct.get_ref()) / 100.0,
        None => 0.8,
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

    let pause_reasons = named_list(
        &c,
        raw.hall.pause_reasons.as_ref(),
        &DEFAULT_PAUSE_REASONS,
        "pause_reasons",
    )?;
    // The same checks as pause reasons (ids, names), then each one's priority.
    let given_priorities = raw.hall.priority_reasons.as_ref().map(|list| {
        Spanned::new(
            list.span(),
            list.get_ref()
                .iter()
                .map(|r| RawPauseReason {
                    id: r.id.clone(),
                    name: r.name.clone(),
                })
                .collect::<Vec<_>>(),
        )
    });
    let priority_reasons = named_list(
        &c,
        given_priorities.as_ref(),
        &DEFAULT_PRIORITY_REASONS,
        "priority_reasons",
    )?
    .into_iter()
    .map(|r| {
        let priority = raw
            .hall
            .priority_reasons
            .as_ref()
            .and_then(|l| l.get_ref().iter().find(|g| g.id.get_ref() == &r.id))
            .map_or(DEFAULT_REASON_PRIORITY, |g| g.priority);
        hall_api::PriorityReason {
            id: r.id,
            name: r.name,
            priority,
        }
    })
    .collect();

    if raw.service.is_empty() {
        return c.err(
            0..0,
            "no [[service]] is configured".into(),
            "add at least one [[service]] table",
        );
    }
    let extra_workday_like = c.weekday(raw.hall.extra_workday_hours.as_ref())?;
    let holidays = c.holidays(&raw.hall.holidays)?;
    let mut services = Vec::new();
    let mut ids = HashSet::new();
    let mut prefixes = HashSet::new();
    for s in raw.service {
        let id = s.id.get_ref();
        if !is_slug(id) {
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
        if let Some(problem) = super::services::name_problem(id, &s.name) {
            return c.err(
                s.id.span(),
                problem,
                "name it in both languages, e.g. name = { zh = \"缴费\", en = \"Payments\" }",
            );
        }
        if let Some(problem) = super::services::target_problem(id, s.target_wait_min) {
            return c.err(
                s.id.span(),
                problem,
                "give the minutes within which a customer should be called, e.g. target_wait_min = 15",
            );
        }
        if let Some(bring) = &s.bring
            && let Some(problem) = super::services::bring_problem(id, bring.get_ref())
        {
            return c.err(
                bring.span(),
                problem,
                "list the papers in both languages, e.g. bring = { zh = \"身份证\", en = \"ID card\" }",
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
            week: c.week(
                &[
                    Level {
                        hours: s.hours.as_ref(),
                        week: s.week.as_ref(),
                    },
                    Level {
                        hours: raw.hall.hours.as_ref(),
                        week: raw.hall.week.as_ref(),
                    },
                ],
                extra_workday_like,
            )?,
            bring: s.bring.map(|b| b.into_inner()),
            slots: match s.appointments {
                None => None,
                Some(a) => {
                    let r = *a.get_ref();
                    if !(5..=240).contains(&r.slot_min)
                        || !(1..=100).contains(&r.per_slot)
                        || r.days_ahead > 60
                    {
                        return c.err(
                            a.span(),
                            format!("the appointments of service \"{id}\" are out of range"),
                            "slot_min 5–240, per_slot 1–100, days_ahead 0–60",
                        );
                    }
                    Some(crate::rules::appointments::SlotRules {
                        slot_min: r.slot_min,
                        per_slot: r.per_slot,
                        days_ahead: r.days_ahead,
                        book_until_min: r.book_until_min.min(24 * 60),
                        cancel_until_min: r.cancel_until_min.min(24 * 60),
                    })
                }
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
            (Role::Counter | Role::Rater, None) => {
                return c.err(
                    d.name.span(),
                    format!("device \"{name}\" does not say which counter it belongs to"),
                    "add `counter = N`",
                );
            }
            (Role::Counter | Role::Rater, Some(n)) => {
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
                    format!(
                        "only role = \"counter\" and \"rater\" devices take a counter, and \"{name}\" is neither"
                    ),
                    "remove the counter line, or set role = \"counter\" or \"rater\"",
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
            let ca_pem = match &b.ca {
                None => None,
                Some(path) => {
                    let pem = std::fs::read(path.get_ref()).or_else(|e| {
                        c.err(
                            path.span(),
                            format!("cannot read the billing CA {}: {e}", path.get_ref()),
                            "give the path of the PEM file of the CA that signed the billing system's certificate",
                        )
                    })?;
                    if reqwest::Certificate::from_pem_bundle(&pem).map_or(true, |v| v.is_empty()) {
                        return c.err(
                            path.span(),
                            format!("{} holds no PEM certificate", path.get_ref()),
                            "give the CA certificate in PEM form (-----BEGIN CERTIFICATE-----)",
                        );
                    }
                    Some(pem)
                }
            };
            BillingConfig {
                account_url: b.account_url.map(|u| u.into_inner()),
                timeout_ms: b.timeout_ms.clamp(50, 10_000),
                ca_pem,
                key_account_priority: b.key_account_priority,
            }
        }
    };

    let ratings = match &raw.ratings {
        None => RatingsConfig {
            rater_window_min: default_rater_window(),
            phone_window_h: default_phone_window(),
            follow_up_working_days: default_follow_up_days(),
            reasons: named_list(&c, None, &DEFAULT_RATING_REASONS, "ratings.reasons")?,
        },
        Some(r) => RatingsConfig {
            rater_window_min: r.rater_window_min.clamp(1, 60),
            phone_window_h: r.phone_window_h.clamp(1, 72),
            follow_up_working_days: r.follow_up_working_days.clamp(1, 30),
            reasons: named_list(
                &c,
                r.reasons.as_ref(),
                &DEFAULT_RATING_REASONS,
                "ratings.reasons",
            )?,
        },
    };

    let retention_days = match &raw.privacy {
        None => DEFAULT_RETENTION_DAYS,
        Some(p) => {
            let days = *p.retention_days.get_ref();
            if !(1..=3650).contains(&days) {
                return c.err(
                    p.retention_days.span(),
                    format!("retention_days {days} is out of range"),
                    "give the days personal data is kept, 1 to 3650 (the law asks for no longer than needed)",
                );
            }
            days
        }
    };

    let backups_kept = match &raw.backup {
        None => DEFAULT_BACKUPS_KEPT,
        Some(b) => {
            let keep = *b.keep.get_ref();
            if !(1..=366).contains(&keep) {
                return c.err(
                    b.keep.span(),
                    format!("backup.keep {keep} is out of range"),
                    "give how many nightly backups to keep, 1 to 366",
                );
            }
            keep
        }
    };

    let time_servers = match &raw.time {
        None => Vec::new(),
        Some(t) => time_servers(&c, &t.servers)?,
    };

    let head_office = match raw.head_office {
        None => None,
        Some(h) => Some(head_office(&c, h)?),
    };

    let tls = match raw.tls {
        None => None,
        Some(t) => {
            let listen =
                t.listen
                    .get_ref()
                    .parse::<std::net::SocketAddr>()
                    .or_else(|_| {
                        c.err(
                    t.listen.span(),
                    format!("tls.listen \"{}\" is not an address and port", t.listen.get_ref()),
                    "write it like \"0.0.0.0:8443\" (every address) or \"192.168.1.10:8443\"",
                )
                    })?;
            let cert_days = *t.cert_days.get_ref();
            if !(2..=825).contains(&cert_days) || t.renew_before_days >= cert_days {
                return c.err(
                    t.cert_days.span(),
                    format!(
                        "cert_days {cert_days} with renew_before_days {} cannot work",
                        t.renew_before_days
                    ),
                    "give cert_days 2 to 825 and renew_before_days below it (397 and 30 by default)",
                );
            }
            let own = match (t.cert, t.key) {
                (None, None) => None,
                (Some(cert), Some(key)) => Some((cert.into_inner().into(), key.into())),
                (Some(cert), None) => {
                    return c.err(
                        cert.span(),
                        "tls.cert is given without tls.key".into(),
                        "give both the certificate chain (cert) and its private key (key), or neither",
                    );
                }
                (None, Some(_)) => {
                    return c.err(
                        t.listen.span(),
                        "tls.key is given without tls.cert".into(),
                        "give both the certificate chain (cert) and its private key (key), or neither",
                    );
                }
            };
            let redirect_from = match &t.redirect_from {
                None => None,
                Some(r) => Some(r.get_ref().parse::<std::net::SocketAddr>().or_else(|_| {
                    c.err(
                        r.span(),
                        format!(
                            "tls.redirect_from \"{}\" is not an address and port",
                            r.get_ref()
                        ),
                        "write it like \"0.0.0.0:80\", or leave it out",
                    )
                })?),
            };
            Some(TlsConfig {
                redirect_from,
                listen,
                dir: t.dir.map(Into::into),
                names: t.names,
                cert_days,
                renew_before_days: t.renew_before_days,
                own,
            })
        }
    };

    let remote = match raw.remote {
        None => None,
        Some(r) => {
            for (value, key, range) in [
                (
                    &r.check_in_within_min,
                    "remote.check_in_within_min",
                    5..=480,
                ),
                (&r.per_client_per_day, "remote.per_client_per_day", 1..=20),
                (
                    &r.waiting_per_service,
                    "remote.waiting_per_service",
                    1..=1000,
                ),
            ] {
                if !range.contains(value.get_ref()) {
                    return c.err(
                        value.span(),
                        format!("{key} = {} is out of range", value.get_ref()),
                        &format!("use {} to {}", range.start(), range.end()),
                    );
                }
            }
            let place_code = match r.place_code {
                None => None,
                Some(code) => {
                    let ok = (8..=64).contains(&code.get_ref().len())
                        && code
                            .get_ref()
                            .chars()
                            .all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_');
                    if !ok {
                        return c.err(
                            code.span(),
                            "remote.place_code must be 8 to 64 letters, digits, - or _".into(),
                            "make one with `openssl rand -hex 8` and print its QR for the hall",
                        );
                    }
                    Some(code.into_inner())
                }
            };
            Some(RemoteConfig {
                check_in_within_min: r.check_in_within_min.into_inner(),
                per_client_per_day: r.per_client_per_day.into_inner(),
                waiting_per_service: r.waiting_per_service.into_inner(),
                place_code,
            })
        }
    };

    let appointments = match &raw.appointments {
        None => AppointmentsConfig {
            window: crate::rules::appointments::Window {
                early_min: default_early(),
                late_min: default_late(),
            },
            priority: default_appointment_priority(),
            per_client_per_day: default_bookings_per_client(),
        },
        Some(a) => AppointmentsConfig {
            window: crate::rules::appointments::Window {
                early_min: a.early_min.min(120),
                late_min: a.late_min.min(120),
            },
            priority: a.priority.min(100),
            per_client_per_day: a.per_client_per_day.clamp(1, 20),
        },
    };

    Ok(Config {
        appointments,
        filed_holidays: holidays,
        remote,
        webhooks,
        billing,
        ratings,
        retention_days,
        backups_kept,
        time_servers,
        head_office,
        tls,
        hall: HallConfig {
            extra_workday_like,
            name: raw.hall.name,
            timezone_name: tz_name,
            timezone,
            day_starts_at,
            recalls_before_no_show: raw.hall.recalls_before_no_show,
            last_calls: raw.hall.last_calls.clamp(1, 50),
            public_url,
            pause_reasons,
            priority_reasons,
            closes_at,
            service_level_target,
        },
        services,
        counters,
        devices,
    })
}

/// A list of named choices (pause reasons, rating reasons): the built-in
/// one when the file gives none, else ids that are short names, each once.
fn named_list(
    c: &Checker<'_>,
    given: Option<&Spanned<Vec<RawPauseReason>>>,
    built_in: &[(&str, &str, &str)],
    what: &str,
) -> Result<Vec<hall_api::PauseReason>, ConfigError> {
    let Some(list) = given else {
        return Ok(built_in
            .iter()
            .map(|(id, zh, en)| hall_api::PauseReason {
                id: id.to_string(),
                name: I18nText {
                    zh: zh.to_string(),
                    en: en.to_string(),
                },
            })
            .collect());
    };
    if list.get_ref().is_empty() {
        return c.err(
            list.span(),
            format!("{what} is empty"),
            &format!("list at least one, or leave {what} out for the built-in list"),
        );
    }
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for r in list.get_ref() {
        let id = r.id.get_ref();
        if !is_slug(id) {
            return c.err(
                r.id.span(),
                format!("{what} id \"{id}\" is not a short name"),
                "use 1 to 32 lowercase letters, digits, '-' or '_', e.g. \"meal\"",
            );
        }
        if !seen.insert(id.clone()) {
            return c.err(
                r.id.span(),
                format!("{what}: \"{id}\" is listed twice"),
                "give each once",
            );
        }
        out.push(hall_api::PauseReason {
            id: id.clone(),
            name: r.name.clone(),
        });
    }
    Ok(out)
}

/// A name used in URLs and bodies: 1 to 32 of a-z, 0-9, '-' and '_'.
fn is_slug(id: &str) -> bool {
    (1..=32).contains(&id.len())
        && id
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-' || ch == '_')
}

/// The billing link's address: http, or https (checked against the
/// system's CA store and `billing.ca`).
fn check_http_url(c: &Checker<'_>, url: &Spanned<String>, what: &str) -> Result<(), ConfigError> {
    let u = url.get_ref();
    let rest = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"));
    if rest.is_none_or(|r| r.is_empty() || r.contains(' ')) {
        return c.err(
            url.span(),
            format!("{what} \"{u}\" is not an http:// or https:// URL"),
            "give the billing system's address as https://host:port/path (or http:// on a trusted link)",
        );
    }
    Ok(())
}

/// The `[head_office]` section: a hall id that is one subject token, a
/// TLS URL, and a key that parses (read now, so a missing or unreadable
/// file is found by `check-config`, not at the first event).
fn head_office(
    c: &Checker<'_>,
    h: super::file::RawHeadOffice,
) -> Result<super::HeadOfficeConfig, ConfigError> {
    let id = h.hall_id.get_ref();
    if !hall_api::head_office::valid_hall_id(id) {
        return c.err(
            h.hall_id.span(),
            format!("head_office.hall_id \"{id}\" cannot be a hall id"),
            "give 1 to 32 of a-z, 0-9 and -, as head office knows this hall (like \"gz-tianhe-01\")",
        );
    }
    let url = h.url.get_ref();
    let Some(rest) = url.strip_prefix("tls://") else {
        return c.err(
            h.url.span(),
            format!("head_office.url \"{url}\" is not a tls:// address"),
            "write it like \"tls://office.example.com:4222\": the hall's events never cross the company's network in plain text",
        );
    };
    if rest.is_empty() || rest.contains('/') {
        return c.err(
            h.url.span(),
            format!("head_office.url \"{url}\" has no host:port"),
            "write it like \"tls://office.example.com:4222\"",
        );
    }
    let proxy = match &h.proxy {
        None => None,
        Some(p) => {
            let given = p.get_ref();
            let hostport = given
                .strip_prefix("http://")
                .map(|r| r.trim_end_matches('/'))
                .filter(|r| {
                    r.rsplit_once(':').is_some_and(|(host, port)| {
                        !host.is_empty()
                            && !host.contains(['/', '@', ' '])
                            && port.parse::<u16>().is_ok_and(|p| p > 0)
                    })
                });
            let Some(hostport) = hostport else {
                return c.err(
                    p.span(),
                    format!("head_office.proxy \"{given}\" is not an http://host:port address"),
                    "write the proxy like \"http://proxy.company.lan:3128\" (the link to head office stays TLS inside it)",
                );
            };
            let authorization = match &h.proxy_credentials_file {
                None => None,
                Some(file) => Some(proxy_authorization(file.get_ref()).or_else(|problem| {
                    c.err(
                        file.span(),
                        format!("head_office.proxy_credentials_file: {problem}"),
                        "one line user:password, in a file readable by the queue-server user only (chmod 600)",
                    )
                })?),
            };
            Some(super::Proxy {
                addr: hostport.to_string(),
                authorization,
            })
        }
    };
    if let (None, Some(file)) = (&h.proxy, &h.proxy_credentials_file) {
        return c.err(
            file.span(),
            "head_office.proxy_credentials_file is given without a proxy".into(),
            "give head_office.proxy too, or leave the credentials out",
        );
    }
    let seed_file = h.nkey_seed_file.get_ref();
    if let Err(problem) = crate::head_office::read_seed(std::path::Path::new(seed_file)) {
        return c.err(
            h.nkey_seed_file.span(),
            format!("head_office.nkey_seed_file: {problem}"),
            "give the file head office issued for this hall (its user seed, SU…), readable by the queue-server user only",
        );
    }
    use hall_api::head_office::PUSH_KINDS;
    let accept = match h.accept {
        None => PUSH_KINDS.map(String::from).to_vec(),
        Some(list) => {
            if let Some(bad) = list
                .get_ref()
                .iter()
                .find(|k| !PUSH_KINDS.contains(&k.as_str()))
            {
                return c.err(
                    list.span(),
                    format!("head_office.accept names \"{bad}\", which head office cannot push"),
                    &format!("list some of {}; [] accepts nothing", PUSH_KINDS.join(", ")),
                );
            }
            list.into_inner()
        }
    };
    Ok(super::HeadOfficeConfig {
        hall_id: id.clone(),
        url: url.clone(),
        nkey_seed_file: seed_file.into(),
        ca: h.ca.map(Into::into),
        accept,
        proxy,
    })
}

/// `Basic <base64 of user:password>` (RFC 7617) from a private file.
fn proxy_authorization(file: &str) -> Result<String, String> {
    use base64::Engine;
    let text = crate::head_office::read_private(std::path::Path::new(file))?;
    let line = text.trim_end_matches(['\r', '\n']);
    match line.split_once(':') {
        Some((user, password))
            if !user.is_empty() && !password.is_empty() && !line.contains('\n') =>
        {
            Ok(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(line)
            ))
        }
        _ => Err(format!("{file} does not hold one line user:password")),
    }
}

/// NTP servers as chrony takes them: 1 to 8 host names or IP addresses,
/// each once (a name with a space or a quote would break chrony's file).
fn time_servers(
    c: &Checker,
    servers: &toml::Spanned<Vec<toml::Spanned<String>>>,
) -> Result<Vec<String>, ConfigError> {
    const MOST: usize = 8;
    let list = servers.get_ref();
    if list.is_empty() || list.len() > MOST {
        return c.err(
            servers.span(),
            format!("time.servers lists {} servers", list.len()),
            "give the hall's NTP servers, 1 to 8 (leave [time] out to keep chrony's own)",
        );
    }
    let mut seen = HashSet::new();
    for s in list {
        let name = s.get_ref();
        if !is_host(name) {
            return c.err(
                s.span(),
                format!("time server {name:?} is not a host name or an IP address"),
                "give a name such as \"ntp.company.lan\" or an address such as \"10.20.0.1\"",
            );
        }
        if !seen.insert(name.to_ascii_lowercase()) {
            return c.err(
                s.span(),
                format!("time server {name:?} is listed twice"),
                "list each server once",
            );
        }
    }
    Ok(list.iter().map(|s| s.get_ref().clone()).collect())
}

/// An IP address, or a DNS name: labels of letters, digits and '-' (not at
/// either end), 1 to 63 characters each, 253 in all.
fn is_host(name: &str) -> bool {
    if name.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

pub(super) struct Checker<'a> {
    pub(super) file: &'a str,
    pub(super) text: &'a str,
}

impl Checker<'_> {
    pub(super) fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        problem: String,
        fix: &str,
    ) -> Result<T, ConfigError> {
        Err(ConfigError::at(
            self.file,
            self.text,
            Some(span),
            problem,
            fix,
        ))
    }
}

fn sorted(set: &HashSet<String>) -> String {
    let mut v: Vec<_> = set.iter().map(String::as_str).collect();
    v.sort_unstable();
    v.join(", ")
}
