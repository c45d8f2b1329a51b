//! The calendar parts of the configuration: opening hours with breaks, a
//! week of them, and the yearly holiday files (read here, with `FILE:LINE`
//! messages of their own).

use std::path::{Path, PathBuf};

use hall_api::I18nText;
use hall_api::config_error::ConfigError;
use hall_api::head_office::ServiceHours;
use jiff::civil::{Date, Time, Weekday};
use serde::Deserialize;
use toml::Spanned;

use super::check::Checker;
use crate::rules::calendar::{DayHours, Holidays, Span, Special, Week};

const HOURS_FIX: &str = "write \"HH:MM-HH:MM\" in 24-hour local time, several separated by commas for a break \
     (\"08:30-12:00, 13:30-17:00\"), or \"\" for closed";

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// A day's hours: "HH:MM-HH:MM", several separated by commas, in order
/// and apart; "" closed. `Err` when they are not.
fn day_hours(text: &str) -> Result<DayHours, ()> {
    let text = text.trim();
    let mut spans: DayHours = Vec::new();
    if text.is_empty() {
        return Ok(spans);
    }
    for part in text.split(',') {
        let span = part
            .trim()
            .split_once('-')
            .and_then(|(a, b)| {
                Some(Span {
                    from: parse_hh_mm(a.trim())?,
                    until: parse_hh_mm(b.trim())?,
                })
            })
            .filter(|s| s.from < s.until && spans.last().is_none_or(|prev| prev.until <= s.from))
            .ok_or(())?;
        spans.push(span);
    }
    Ok(spans)
}

/// A service's week as head office sends it: `every_day`, and `week` for
/// the days that differ, every day said. An extra working day opens like
/// `extra`.
pub fn sent_week(sent: &ServiceHours, extra: Weekday) -> Result<Week, String> {
    let (hours, week) = (sent.every_day.as_deref(), &sent.week);
    if let Some(bad) = week.keys().find(|k| !WEEKDAYS.contains(&k.as_str())) {
        return Err(format!(
            "\"{bad}\" is not a weekday; write mon, tue, wed, thu, fri, sat or sun"
        ));
    }
    let mut days: [DayHours; 7] = Default::default();
    for (day, name) in days.iter_mut().zip(WEEKDAYS) {
        let Some(text) = week.get(name).map(String::as_str).or(hours) else {
            return Err(format!(
                "the hours say nothing of {name}; give every_day, and week for the days that differ (\"\" closes a day)"
            ));
        };
        *day = day_hours(text).map_err(|()| {
            format!(
                "hours \"{text}\" are not opening and later closing times in order; {HOURS_FIX}"
            )
        })?;
    }
    Ok(Week {
        days,
        extra_workday_like: extra,
    })
}

/// `week = { mon = "…", …, sun = "" }`: a weekday's own hours ("" closed).
#[derive(Deserialize, Default, Clone)]
#[serde(deny_unknown_fields)]
pub(super) struct RawWeek {
    mon: Option<Spanned<String>>,
    tue: Option<Spanned<String>>,
    wed: Option<Spanned<String>>,
    thu: Option<Spanned<String>>,
    fri: Option<Spanned<String>>,
    sat: Option<Spanned<String>>,
    sun: Option<Spanned<String>>,
}

impl RawWeek {
    fn days(&self) -> [&Option<Spanned<String>>; 7] {
        [
            &self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun,
        ]
    }
}

/// One level of the hours: the service's or the hall's.
pub(super) struct Level<'a> {
    pub(super) hours: Option<&'a Spanned<String>>,
    pub(super) week: Option<&'a RawWeek>,
}

impl Checker<'_> {
    /// "HH:MM-HH:MM", or several separated by commas (a break between):
    /// "08:30-12:00, 13:30-17:00"; "" is closed all day.
    pub(super) fn day_hours(&self, h: &Spanned<String>) -> Result<DayHours, ConfigError> {
        day_hours(h.get_ref()).or_else(|_| {
            self.err(
                h.span(),
                format!(
                    "hours \"{}\" are not opening and later closing times in order",
                    h.get_ref()
                ),
                HOURS_FIX,
            )
        })
    }

    /// A service's week: for each weekday the first of the service's own
    /// weekday, the service's hours, the hall's weekday, the hall's hours.
    /// `None` when nothing at any level says anything: open at all hours.
    pub(super) fn week(
        &self,
        levels: &[Level<'_>],
        extra_workday_like: Weekday,
    ) -> Result<Option<Week>, ConfigError> {
        let said = levels.iter().any(|l| {
            l.hours.is_some() || l.week.is_some_and(|w| w.days().iter().any(|d| d.is_some()))
        });
        if !said {
            return Ok(None);
        }
        let mut days: [DayHours; 7] = Default::default();
        for (i, day) in days.iter_mut().enumerate() {
            let text = levels
                .iter()
                .flat_map(|l| [l.week.and_then(|w| w.days()[i].as_ref()), l.hours])
                .flatten()
                .next();
            *day = match text {
                Some(h) => self.day_hours(h)?,
                // Said for other days only: open all this day.
                None => vec![Span {
                    from: Time::MIN,
                    until: Time::MAX,
                }],
            };
        }
        Ok(Some(Week {
            days,
            extra_workday_like,
        }))
    }

    /// `extra_workday_hours = "mon"`: whose hours a 调休 working day keeps.
    pub(super) fn weekday(&self, w: Option<&Spanned<String>>) -> Result<Weekday, ConfigError> {
        let Some(w) = w else {
            return Ok(Weekday::Monday);
        };
        let day = match w.get_ref().as_str() {
            "mon" => Weekday::Monday,
            "tue" => Weekday::Tuesday,
            "wed" => Weekday::Wednesday,
            "thu" => Weekday::Thursday,
            "fri" => Weekday::Friday,
            "sat" => Weekday::Saturday,
            "sun" => Weekday::Sunday,
            other => {
                return self.err(
                    w.span(),
                    format!("\"{other}\" is not a weekday"),
                    "write one of mon, tue, wed, thu, fri, sat, sun",
                );
            }
        };
        Ok(day)
    }

    /// Reads the holiday files (`holidays = ["…"]`; relative paths from the
    /// configuration's folder) into one schedule.
    pub(super) fn holidays(&self, files: &[Spanned<String>]) -> Result<Holidays, ConfigError> {
        let mut all = Holidays::default();
        let base = Path::new(self.file).parent().unwrap_or(Path::new(""));
        for f in files {
            let path: PathBuf = base.join(f.get_ref());
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(&path).or_else(|e| {
                self.err(
                    f.span(),
                    format!("cannot read the holiday file {shown}: {e}"),
                    "give the path of the year's holiday file (see the README's calendar section)",
                )
            })?;
            read_holiday_file(&shown, &text, &mut all)?;
        }
        Ok(all)
    }
}

/// A year's holiday file as head office sends it: read as the hall reads
/// its own, and every date in `year`; messages name it `holidays-YEAR.toml`.
pub fn holiday_year(year: i16, text: &str) -> Result<Holidays, ConfigError> {
    let name = &format!("holidays-{year}.toml");
    /// A year's file is ~2 KiB.
    const LARGEST: usize = 64 * 1024;
    if !(2000..=2100).contains(&year) {
        return Err(ConfigError::in_file(
            name,
            format!("{year} is not a year a hall keeps a calendar for"),
            "give a year from 2000 to 2100",
        ));
    }
    if text.len() > LARGEST {
        return Err(ConfigError::in_file(
            name,
            format!("the file is {} bytes, more than {LARGEST}", text.len()),
            "send one year's [[holiday]] and [[workday]] entries only",
        ));
    }
    let mut days = Holidays::default();
    read_holiday_file(name, text, &mut days)?;
    if let Some(other) = days.days.keys().find(|d| d.year() != year) {
        return Err(ConfigError::in_file(
            name,
            format!("{other} is not in {year}"),
            "send each year's schedule as a file of its own",
        ));
    }
    Ok(days)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHolidayFile {
    #[serde(default)]
    holiday: Vec<RawHoliday>,
    #[serde(default)]
    workday: Vec<RawWorkday>,
}

/// A public holiday of one day (`date`) or several (`from`, `until`, both
/// included).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: I18nText,
    date: Option<Spanned<String>>,
    from: Option<Spanned<String>>,
    until: Option<Spanned<String>>,
}

/// A weekend day worked instead (调休).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkday {
    name: I18nText,
    date: Spanned<String>,
}

fn read_holiday_file(file: &str, text: &str, into: &mut Holidays) -> Result<(), ConfigError> {
    let c = Checker { file, text };
    let raw: RawHolidayFile = toml::from_str(text).map_err(|e| {
        ConfigError::at(
            file,
            text,
            e.span(),
            e.message(),
            "compare with the holiday file example in the README ([[holiday]] name, from, until; [[workday]] name, date)",
        )
    })?;
    let date = |s: &Spanned<String>| -> Result<Date, ConfigError> {
        s.get_ref().parse::<Date>().or_else(|_| {
            c.err(
                s.span(),
                format!("\"{}\" is not a date", s.get_ref()),
                "write dates as YYYY-MM-DD",
            )
        })
    };
    let mut put = |d: Date, special: Special, at: &Spanned<String>| -> Result<(), ConfigError> {
        if let Some(before) = into.days.insert(d, special.clone())
            && before != special
        {
            return c.err(
                at.span(),
                format!("{d} is both a holiday and a working day"),
                "each date is one or the other; check the schedule",
            );
        }
        Ok(())
    };
    for h in &raw.holiday {
        let (first, last) = match (&h.date, &h.from, &h.until) {
            (Some(d), None, None) => (d, d),
            (None, Some(a), Some(b)) => (a, b),
            _ => {
                return Err(ConfigError::at_key(
                    file,
                    text,
                    "holiday",
                    format!(
                        "the holiday \"{}\" needs either date, or from and until",
                        h.name.zh
                    ),
                    "write date = \"YYYY-MM-DD\" for one day, from and until (both included) for several",
                ));
            }
        };
        let (mut d, end) = (date(first)?, date(last)?);
        if end < d || end.since(d).map_or(true, |s| s.get_days() > 31) {
            return c.err(
                last.span(),
                format!("the holiday \"{}\" runs from {d} to {end}", h.name.zh),
                "until is the last day off, on or after from, within a month",
            );
        }
        while d <= end {
            put(d, Special::Holiday(h.name.clone()), first)?;
            d = d
                .tomorrow()
                .map_err(|e| ConfigError::in_file(file, e.to_string(), "check the dates"))?;
        }
    }
    for w in &raw.workday {
        put(date(&w.date)?, Special::Workday(w.name.clone()), &w.date)?;
    }
    Ok(())
}

/// "HH:MM" in 24-hour time.
pub(super) fn parse_hh_mm(s: &str) -> Option<Time> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0).ok()
}
