//! The configuration checks, on the README's example and its common mistakes.

use hall_api::config_error::line_of;
use jiff::civil::Time;

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
    let filed = filed(&c);
    let monday = jiff::civil::date(2027, 3, 1);
    assert!(
        c.services
            .iter()
            .all(|s| c.hours_text(s, &filed, monday).as_deref() == Some("08:30-17:00"))
    );

    for bad in [
        "17:00-08:30",
        "8:30-17:00",
        "08:30",
        "08:30-25:00",
        "13:30-17:00, 08:30-12:00",
        "08:30-12:30, 12:00-17:00",
    ] {
        let text = with_hours.replace("08:30-17:00", bad);
        let e = error_of(&text).to_string();
        assert!(
            e.contains("hall.toml:5:") && e.contains("\"HH:MM-HH:MM\""),
            "{bad}: {e}"
        );
    }
}

/// The calendar of the configuration alone: nothing sent by head office.
fn filed(c: &Config) -> HeldCalendar {
    HeldCalendar {
        holidays: c.filed_holidays.clone(),
        weeks: Default::default(),
    }
}

#[test]
fn a_week_with_breaks_per_service_and_a_holiday_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("holidays-2027.toml"),
        r#"
[[holiday]]
name = { zh = "劳动节", en = "Labour Day" }
from = "2027-05-01"
until = "2027-05-05"

[[workday]]
name = { zh = "劳动节调休", en = "Labour Day (worked)" }
date = "2027-05-08"
"#,
    )
    .unwrap();
    let text = SPEC_EXAMPLE
        .replace(
            "timezone = \"Asia/Shanghai\"",
            "timezone = \"Asia/Shanghai\"\nhours = \"08:30-12:00, 13:30-17:00\"\n\
             week = { sat = \"09:00-12:00\", sun = \"\" }\nholidays = [\"holidays-2027.toml\"]",
        )
        .replace(
            "name = { zh = \"贵宾\", en = \"VIP\" }",
            "name = { zh = \"贵宾\", en = \"VIP\" }\nweek = { sat = \"\" }",
        );
    let file = dir.path().join("hall.toml");
    std::fs::write(&file, &text).unwrap();
    let c = Config::load(&file).unwrap();
    let (pay, vip) = (c.service("pay").unwrap(), c.service("vip").unwrap());
    let filed = filed(&c);
    let day = |d| jiff::civil::date(2027, 5, d);
    // Monday 2027-05-10, Saturday the 15th, the worked Saturday the 8th.
    assert_eq!(
        c.hours_text(pay, &filed, day(10)).unwrap(),
        "08:30-12:00, 13:30-17:00"
    );
    assert_eq!(c.hours_text(pay, &filed, day(15)).unwrap(), "09:00-12:00");
    assert_eq!(
        c.hours_text(vip, &filed, day(15)).unwrap(),
        "",
        "VIP closed on Saturdays"
    );
    assert_eq!(
        c.hours_text(pay, &filed, day(16)).unwrap(),
        "",
        "closed on Sundays"
    );
    assert_eq!(c.hours_text(pay, &filed, day(3)).unwrap(), "", "Labour Day");
    assert_eq!(
        c.hours_text(vip, &filed, day(8)).unwrap(),
        "08:30-12:00, 13:30-17:00",
        "a worked Saturday keeps Monday's hours"
    );
    assert!(crate::rules::calendar::is_working_day(
        &c.filed_holidays,
        day(8)
    ));

    // Head office's schedule of 2027 takes that year's place in the file:
    // Labour Day moved to the 10th, no Saturday worked.
    let sent = crate::config::holiday_year(
        2027,
        "[[holiday]]\nname = { zh = \"劳动节\", en = \"Labour Day\" }\ndate = \"2027-05-10\"\n",
    )
    .unwrap();
    let merged = HeldCalendar {
        holidays: c
            .filed_holidays
            .with_years(&std::collections::BTreeMap::from([(2027, sent)])),
        weeks: Default::default(),
    };
    assert_eq!(
        c.hours_text(pay, &merged, day(3)).unwrap(),
        "08:30-12:00, 13:30-17:00"
    );
    assert_eq!(c.hours_text(pay, &merged, day(10)).unwrap(), "");
    assert_eq!(c.hours_text(pay, &merged, day(8)).unwrap(), "09:00-12:00");
    assert!(!crate::rules::calendar::is_working_day(
        &merged.holidays,
        day(8)
    ));
    // A year's file with a date of another year is refused, saying which.
    let e = crate::config::holiday_year(
        2027,
        "[[workday]]\nname = { zh = \"调休\", en = \"Worked\" }\ndate = \"2028-01-02\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("2028-01-02 is not in 2027"), "{e}");

    // Head office's hours for pay take the place of its own: summer hours
    // every day, Sunday closed.
    let summer = crate::config::sent_week(
        &hall_api::head_office::ServiceHours {
            every_day: Some("08:30-12:00, 14:30-18:00".into()),
            week: std::collections::BTreeMap::from([("sun".to_string(), String::new())]),
        },
        jiff::civil::Weekday::Monday,
    )
    .unwrap();
    let sent = HeldCalendar {
        holidays: c.filed_holidays.clone(),
        weeks: std::collections::BTreeMap::from([("pay".to_string(), summer)]),
    };
    assert_eq!(
        c.hours_text(pay, &sent, day(10)).unwrap(),
        "08:30-12:00, 14:30-18:00"
    );
    assert_eq!(
        c.hours_text(pay, &sent, day(15)).unwrap(),
        "08:30-12:00, 14:30-18:00"
    );
    assert_eq!(c.hours_text(pay, &sent, day(16)).unwrap(), "");
    assert_eq!(
        c.hours_text(pay, &sent, day(3)).unwrap(),
        "",
        "still Labour Day"
    );
    assert_eq!(
        c.hours_text(vip, &sent, day(10)).unwrap(),
        "08:30-12:00, 13:30-17:00",
        "other services keep theirs"
    );
    for (hours, week, says) in [
        (None, &[("sat", "09:00-12:00")][..], "say nothing of mon"),
        (
            Some("17:00-08:30"),
            &[][..],
            "not opening and later closing",
        ),
        (
            Some("08:30-17:00"),
            &[("saturday", "")][..],
            "\"saturday\" is not a weekday",
        ),
    ] {
        let week = week
            .iter()
            .map(|(d, h)| (d.to_string(), h.to_string()))
            .collect();
        let sent = hall_api::head_office::ServiceHours {
            every_day: hours.map(str::to_string),
            week,
        };
        let e = crate::config::sent_week(&sent, jiff::civil::Weekday::Monday).unwrap_err();
        assert!(e.contains(says), "{e}");
    }

    // A bad date in the holiday file is named by its own file and line.
    std::fs::write(
        dir.path().join("holidays-2027.toml"),
        "[[holiday]]\nname = { zh = \"春节\", en = \"Spring Festival\" }\ndate = \"2027-02-30\"\n",
    )
    .unwrap();
    let e = Config::load(&file).unwrap_err().to_string();
    assert!(
        e.contains("holidays-2027.toml:3:") && e.contains("YYYY-MM-DD"),
        "{e}"
    );
    // A missing file is named at the configuration's line.
    std::fs::remove_file(dir.path().join("holidays-2027.toml")).unwrap();
    let e = Config::load(&file).unwrap_err().to_string();
    assert!(
        e.contains("hall.toml:") && e.contains("cannot read the holiday file"),
        "{e}"
    );
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
            "url = \"ftp://billing/x\"",
            "not an http:// or https:// URL",
        ),
        (
            "secret = \"0123456789abcdef0123\"",
            "secret = \"short\"",
            "shorter than 16",
        ),
        (
            "name = { zh = \"缴费\", en = \"Payment\" }",
            "name = { zh = \"缴费\", en = \" \" }",
            "the name of service \"pay\" needs a zh and an en text",
        ),
        (
            "target_wait_min = 10",
            "target_wait_min = 0",
            "must be 1 to 240 minutes",
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

#[test]
fn the_head_office_link_takes_a_hall_id_tls_and_a_private_key() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let seed = dir.path().join("hall.nk");
    let pair = nkeys::KeyPair::new_user();
    std::fs::write(&seed, pair.seed().unwrap()).unwrap();
    std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o600)).unwrap();
    let section = |id: &str, url: &str, file: &std::path::Path| {
        format!(
            "{SPEC_EXAMPLE}\n[head_office]\nhall_id = \"{id}\"\nurl = \"{url}\"\nnkey_seed_file = \"{}\"\n",
            file.display()
        )
    };
    let c = Config::parse("hall.toml", &section("gz-01", "tls://ho:4222", &seed)).unwrap();
    let h = c.head_office.unwrap();
    assert_eq!(
        (h.hall_id.as_str(), h.url.as_str()),
        ("gz-01", "tls://ho:4222")
    );
    assert_eq!(
        h.accept,
        [
            "notice", "closure", "staff", "calendar", "hours", "services"
        ],
        "all kinds by default"
    );
    let base = section("gz-01", "tls://ho:4222", &seed);
    let c = Config::parse("hall.toml", &format!("{base}accept = [\"closure\"]\n")).unwrap();
    assert_eq!(c.head_office.unwrap().accept, ["closure"]);
    let e = error_of(&format!("{base}accept = [\"counters\"]\n")).to_string();
    assert!(
        e.contains("accept names \"counters\"") && e.contains("notice, closure"),
        "{e}"
    );

    let c = Config::parse(
        "hall.toml",
        &format!("{base}proxy = \"http://proxy.company.lan:3128\"\n"),
    )
    .unwrap();
    let proxy = c.head_office.unwrap().proxy.unwrap();
    assert_eq!(proxy.addr, "proxy.company.lan:3128");
    assert!(proxy.authorization.is_none());
    // A proxy that asks for a password: Basic credentials from a private
    // file, never shown in the configuration's Debug.
    let credentials = dir.path().join("proxy-credentials");
    std::fs::write(&credentials, "hall-gz01:s3cret pass\n").unwrap();
    std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o600)).unwrap();
    let with_credentials = format!(
        "{base}proxy = \"http://proxy.company.lan:3128\"\nproxy_credentials_file = \"{}\"\n",
        credentials.display()
    );
    let proxy = Config::parse("hall.toml", &with_credentials)
        .unwrap()
        .head_office
        .unwrap()
        .proxy
        .unwrap();
    assert_eq!(
        proxy.authorization.as_deref(),
        Some("Basic aGFsbC1nejAxOnMzY3JldCBwYXNz")
    );
    assert!(!format!("{proxy:?}").contains("aGFsbC1"));
    std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o640)).unwrap();
    let e = error_of(&with_credentials).to_string();
    assert!(e.contains("may be read by others (mode 640)"), "{e}");
    std::fs::write(&credentials, "no colon here\n").unwrap();
    std::fs::set_permissions(&credentials, std::fs::Permissions::from_mode(0o600)).unwrap();
    let e = error_of(&with_credentials).to_string();
    assert!(e.contains("does not hold one line user:password"), "{e}");
    let e = error_of(&format!(
        "{base}proxy_credentials_file = \"{}\"\n",
        credentials.display()
    ))
    .to_string();
    assert!(e.contains("without a proxy"), "{e}");
    for bad in [
        "socks5://proxy:1080",
        "http://proxy.lan",
        "http://user:pw@proxy:3128",
        "http://proxy:0",
    ] {
        let e = error_of(&format!("{base}proxy = \"{bad}\"\n")).to_string();
        assert!(
            e.contains("is not an http://host:port address"),
            "{bad}: {e}"
        );
    }

    let e = error_of(&section("gz.01", "tls://ho:4222", &seed)).to_string();
    assert!(e.contains("cannot be a hall id"), "{e}");
    let e = error_of(&section("gz-01", "nats://ho:4222", &seed)).to_string();
    assert!(e.contains("is not a tls:// address"), "{e}");
    let e = error_of(&section("gz-01", "tls://ho:4222", &dir.path().join("none"))).to_string();
    assert!(e.contains("cannot read"), "{e}");
    std::fs::set_permissions(&seed, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = error_of(&section("gz-01", "tls://ho:4222", &seed)).to_string();
    assert!(
        e.contains("may be read by others (mode 644); chmod 600"),
        "{e}"
    );
    // An account's or an operator's key is not a hall's user key.
    let account = dir.path().join("account.nk");
    std::fs::write(&account, nkeys::KeyPair::new_account().seed().unwrap()).unwrap();
    std::fs::set_permissions(&account, std::fs::Permissions::from_mode(0o600)).unwrap();
    let e = error_of(&section("gz-01", "tls://ho:4222", &account)).to_string();
    assert!(e.contains("not a user's"), "{e}");
}

#[test]
fn time_servers_are_host_names_or_addresses() {
    let with = |list: &str| format!("{SPEC_EXAMPLE}\n[time]\nservers = {list}\n");
    let c = Config::parse(
        "hall.toml",
        &with(r#"["ntp.company.lan", "10.20.0.1", "fd00::123"]"#),
    )
    .unwrap();
    assert_eq!(
        c.time_servers,
        ["ntp.company.lan", "10.20.0.1", "fd00::123"]
    );
    assert!(
        Config::parse("hall.toml", SPEC_EXAMPLE)
            .unwrap()
            .time_servers
            .is_empty()
    );
    for (list, expect) in [
        (r#"[]"#, "lists 0 servers"),
        (r#"["ntp one.lan"]"#, "is not a host name"),
        (r#"["ntp.lan\"; makestep"]"#, "is not a host name"),
        (r#"["-ntp.lan"]"#, "is not a host name"),
        (r#"["ntp.lan", "NTP.lan"]"#, "listed twice"),
    ] {
        let bad = with(list);
        let e = error_of(&bad);
        assert!(e.to_string().contains(expect), "{list} -> {e}");
        assert_eq!(
            e.line,
            Some(line_of(&bad, bad.find("servers =").unwrap())),
            "{list}"
        );
    }
}

#[test]
fn head_office_names_a_service_within_the_files_rules() {
    use hall_api::head_office::ServiceSettings;
    let c = Config::parse("hall.toml", SPEC_EXAMPLE).unwrap();
    let text = |zh: &str, en: &str| I18nText {
        zh: zh.into(),
        en: en.into(),
    };
    let sent = ServiceSettings {
        name: Some(text("电费缴纳", "Electricity bills")),
        target_wait_min: Some(20),
        bring: None,
    };
    assert_eq!(sent_service_settings("pay", &sent), Ok(()));
    let held = c.with_service_settings(&[
        ("pay".to_string(), sent),
        ("passports".to_string(), ServiceSettings::default()),
    ]);
    let pay = held.service("pay").unwrap();
    assert_eq!(pay.name.en, "Electricity bills");
    assert_eq!(pay.target_wait_min, 20);
    assert_eq!(pay.bring, None, "left out: the file's");
    assert_eq!(pay.prefix, "A", "the prefix stays the hall's");
    assert_eq!(
        held.service("vip").unwrap().name,
        c.service("vip").unwrap().name
    );
    assert_eq!(
        c.service("pay").unwrap().target_wait_min,
        10,
        "the file's is kept"
    );

    for (settings, says) in [
        (ServiceSettings::default(), "say nothing"),
        (
            ServiceSettings {
                name: Some(text("电费", "")),
                ..Default::default()
            },
            "needs a zh and an en text of 1 to 60",
        ),
        (
            ServiceSettings {
                name: Some(text(&"长".repeat(61), "Long")),
                ..Default::default()
            },
            "1 to 60 characters",
        ),
        (
            ServiceSettings {
                target_wait_min: Some(0),
                ..Default::default()
            },
            "1 to 240 minutes",
        ),
        (
            ServiceSettings {
                bring: Some(text("身份证\n", "ID card")),
                ..Default::default()
            },
            "bring of service \"pay\"",
        ),
    ] {
        let e = sent_service_settings("pay", &settings).unwrap_err();
        assert!(e.contains(says), "{settings:?}: {e}");
    }
}
