//! The hall's calendar: when it is open, and which days are working days.
//!
//! A week of opening hours (per weekday, with breaks such as 午休 between
//! the spans of a day), public holidays and the extra working days the
//! holiday schedule moves (调休) from the yearly file, and closures the
//! manager sets for a date or a time range (停电, 停业). Everything here is
//! pure: the time zone, the holidays and the closures come in, answers go
//! out, and the tests below check them against a minute-by-minute scan.

use std::collections::BTreeMap;

use hall_api::I18nText;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// Open from `from` until (not including) `until`, in the hall's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span {
    pub from: Time,
    pub until: Time,
}

/// The spans of one day, in order and apart; none: closed all day.
pub type DayHours = Vec<Span>;

/// Opening hours for each weekday, Monday first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Week {
    pub days: [DayHours; 7],
    /// An extra working day (a Saturday the holiday schedule moves) opens
    /// with the hours of this weekday.
    pub extra_workday_like: Weekday,
}

impl Week {
    /// The same hours every day of the week.
    pub fn every_day(hours: DayHours) -> Week {
        Week {
            days: std::array::from_fn(|_| hours.clone()),
            extra_workday_like: Weekday::Monday,
        }
    }

    pub fn on(&self, day: Weekday) -> &DayHours {
        &self.days[usize::from(day.to_monday_zero_offset().unsigned_abs())]
    }

    /// Whether any day has any hours at all.
    pub fn ever_open(&self) -> bool {
        self.days.iter().any(|d| !d.is_empty())
    }
}

/// What the yearly holiday schedule says of a date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Special {
    /// A public holiday: closed, and not a working day.
    Holiday(I18nText),
    /// A working day on a weekend (调休): open as on a weekday.
    Workday(I18nText),
}

/// The holiday schedule of one or more years, by date.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holidays {
    pub days: BTreeMap<Date, Special>,
}

impl Holidays {
    /// How many of the days are public holidays (the rest are extra working days).
    pub fn holidays(&self) -> usize {
        self.days
            .values()
            .filter(|s| matches!(s, Special::Holiday(_)))
            .count()
    }

    /// This schedule with the years in `sent` replaced by theirs: head
    /// office's schedule of a year takes the place of the hall's file.
    pub fn with_years(&self, sent: &BTreeMap<i16, Holidays>) -> Holidays {
        let mut days: BTreeMap<Date, Special> = self
            .days
            .iter()
            .filter(|(d, _)| !sent.contains_key(&d.year()))
            .map(|(d, s)| (*d, s.clone()))
            .collect();
        for year in sent.values() {
            days.extend(year.days.iter().map(|(d, s)| (*d, s.clone())));
        }
        Holidays { days }
    }
}

/// The calendar's parts the hall keeps in its database, beside its
/// configuration: the holiday schedule (its files, with each year head
/// office sent in that year's place) and the services' hours head office
/// set in place of their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeldCalendar {
    pub holidays: Holidays,
    /// By service id.
    pub weeks: BTreeMap<String, Week>,
}

/// The hall (or some services) closed from `from` until `until`, with the
/// reason customers are shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closure {
    pub from: Timestamp,
    pub until: Timestamp,
    pub reason: I18nText,
}

/// Why a service is not open at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClosedWhy {
    /// Between two spans of the day (a lunch break).
    Break,
    /// Before its first span or after its last, or a weekday it does not open.
    OutsideHours,
    Holiday(I18nText),
    Closure(I18nText),
}

/// Open or not at a moment, and when that changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Openness {
    Open {
        /// When this stretch of opening time ends.
        until: Timestamp,
    },
    Closed {
        why: ClosedWhy,
        /// When it opens next; `None` when not within [`LOOK_AHEAD_DAYS`].
        next: Option<Timestamp>,
    },
}

/// How far ahead the next opening is looked for.
pub const LOOK_AHEAD_DAYS: i32 = 400;

/// The calendar as one service sees it: its week, the hall's holidays,
/// and the closures that apply to it.
#[derive(Debug, Clone, Copy)]
pub struct Calendar<'a> {
    pub tz: &'a TimeZone,
    pub week: &'a Week,
    pub holidays: &'a Holidays,
    pub closures: &'a [Closure],
}

impl Calendar<'_> {
    /// Whether `date` is a working day: Monday to Friday, less the public
    /// holidays, plus the extra working days.
    pub fn is_working_day(&self, date: Date) -> bool {
        is_working_day(self.holidays, date)
    }

    /// The opening hours of `date` by the week and the holidays, before
    /// any closure: none on a holiday, the chosen weekday's on an extra
    /// working day.
    pub fn hours_of(&self, date: Date) -> &DayHours {
        match self.holidays.days.get(&date) {
            Some(Special::Holiday(_)) => &NO_HOURS,
            Some(Special::Workday(_)) => self.week.on(self.week.extra_workday_like),
            None => self.week.on(date.weekday()),
        }
    }

    /// `date`'s open stretches as instants, the closures cut out.
    pub fn open_stretches(&self, date: Date) -> Vec<(Timestamp, Timestamp)> {
        let mut out = Vec::new();
        for span in self.hours_of(date) {
            let (Some(from), Some(until)) = (
                self.instant(date, span.from),
                self.instant(date, span.until),
            ) else {
                continue;
            };
            let mut pieces = vec![(from, until)];
            for c in self.closures {
                pieces = pieces
                    .into_iter()
                    .flat_map(|(a, b)| cut(a, b, c.from, c.until))
                    .collect();
            }
            out.extend(pieces.into_iter().filter(|(a, b)| a < b));
        }
        out
    }

    /// Open at `at`, until when; or closed, why and until when.
    pub fn at(&self, at: Timestamp) -> Openness {
        let date = at.to_zoned(self.tz.clone()).date();
        if let Some(&(_, until)) = self
            .open_stretches(date)
            .iter()
            .find(|(from, until)| *from <= at && at < *until)
        {
            return Openness::Open { until };
        }
        Openness::Closed {
            why: self.why_closed(date, at),
            next: self.next_open(at),
        }
    }

    /// The first moment at or after `at` when it is open.
    pub fn next_open(&self, at: Timestamp) -> Option<Timestamp> {
        let first = at.to_zoned(self.tz.clone()).date();
        let mut date = first;
        for _ in 0..LOOK_AHEAD_DAYS {
            let hit = self
                .open_stretches(date)
                .into_iter()
                .find(|(_, until)| *until > at)
                .map(|(from, _)| from.max(at));
            if hit.is_some() {
                return hit;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    /// When `open_s` seconds of opening time have passed after `at`: a wait
    /// of that much service does not run through a lunch break or the
    /// night. `None` when the calendar does not open again soon enough.
    pub fn after_open_time(&self, at: Timestamp, open_s: u32) -> Option<Timestamp> {
        let mut left = SignedDuration::from_secs(i64::from(open_s));
        let mut date = at.to_zoned(self.tz.clone()).date();
        for _ in 0..LOOK_AHEAD_DAYS {
            for (from, until) in self.open_stretches(date) {
                if until <= at {
                    continue;
                }
                let start = from.max(at);
                let here = until.duration_since(start);
                if left <= here {
                    return start.checked_add(left).ok();
                }
                left -= here;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }

    fn why_closed(&self, date: Date, at: Timestamp) -> ClosedWhy {
        if let Some(c) = self.closures.iter().find(|c| c.from <= at && at < c.until) {
            return ClosedWhy::Closure(c.reason.clone());
        }
        if let Some(Special::Holiday(name)) = self.holidays.days.get(&date) {
            return ClosedWhy::Holiday(name.clone());
        }
        let spans: Vec<_> = self
            .hours_of(date)
            .iter()
            .filter_map(|s| Some((self.instant(date, s.from)?, self.instant(date, s.until)?)))
            .collect();
        let after_first = spans.first().is_some_and(|(from, _)| at >= *from);
        let before_last = spans.last().is_some_and(|(_, until)| at < *until);
        if after_first && before_last {
            ClosedWhy::Break
        } else {
            ClosedWhy::OutsideHours
        }
    }

    /// `date` at local `time` as an instant (a time a DST gap skips comes
    /// out as the moment after the gap, as jiff's compatible rule does).
    fn instant(&self, date: Date, time: Time) -> Option<Timestamp> {
        date.to_datetime(time)
            .to_zoned(self.tz.clone())
            .ok()
            .map(|z| z.timestamp())
    }
}

static NO_HOURS: DayHours = Vec::new();

/// Why it is closed, in words for an error message.
pub fn why_in_words(why: &ClosedWhy) -> String {
    match why {
        ClosedWhy::Break => "a break between its hours".into(),
        ClosedWhy::OutsideHours => "outside its hours".into(),
        ClosedWhy::Holiday(name) => format!("public holiday: {} · {}", name.zh, name.en),
        ClosedWhy::Closure(reason) => format!("{} · {}", reason.zh, reason.en),
    }
}

/// When it opens next, in words: "it opens again at 13:30" today, or
/// "on 2027-02-13 at 09:00".
pub fn next_in_words(tz: &TimeZone, now: Timestamp, next: Option<Timestamp>) -> String {
    let Some(next) = next else {
        return "it has no opening time within a year; ask the hall's staff".into();
    };
    let (now, next) = (now.to_zoned(tz.clone()), next.to_zoned(tz.clone()));
    let time = format!("{:02}:{:02}", next.hour(), next.minute());
    if next.date() == now.date() {
        format!("it opens again at {time}")
    } else {
        format!("it opens on {} at {time}", next.date())
    }
}

/// Monday to Friday, less the public holidays, plus the extra working days.
pub fn is_working_day(holidays: &Holidays, date: Date) -> bool {
    match holidays.days.get(&date) {
        Some(Special::Holiday(_)) => false,
        Some(Special::Workday(_)) => true,
        None => !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday),
    }
}

/// The `n`th working day after `from` (not counting `from` itself).
pub fn add_working_days(holidays: &Holidays, from: Date, n: u32) -> Date {
    let mut d = from;
    let mut left = n;
    while left > 0 {
        let Ok(next) = d.tomorrow() else { return d };
        d = next;
        if is_working_day(holidays, d) {
            left -= 1;
        }
    }
    d
}

/// `[a, b)` less `[c, d)`: none, one or two pieces.
fn cut(a: Timestamp, b: Timestamp, c: Timestamp, d: Timestamp) -> Vec<(Timestamp, Timestamp)> {
    if d <= a || b <= c {
        return vec![(a, b)];
    }
    let mut out = Vec::new();
    if a < c {
        out.push((a, c));
    }
    if d < b {
        out.push((d, b));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};
    use proptest::prelude::*;

    fn text(s: &str) -> I18nText {
        I18nText {
            zh: s.into(),
            en: s.into(),
        }
    }

    fn span(a: (i8, i8), b: (i8, i8)) -> Span {
        Span {
            from: time(a.0, a.1, 0, 0),
            until: time(b.0, b.1, 0, 0),
        }
    }

    fn shanghai() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    fn at(tz: &TimeZone, d: Date, h: i8, m: i8) -> Timestamp {
        d.at(h, m, 0, 0).to_zoned(tz.clone()).unwrap().timestamp()
    }

    /// Weekdays 08:30–12:00 and 13:30–17:00, Saturday morning, Sunday closed.
    fn hall_week() -> Week {
        let weekday = vec![span((8, 30), (12, 0)), span((13, 30), (17, 0))];
        Week {
            days: [
                weekday.clone(),
                weekday.clone(),
                weekday.clone(),
                weekday.clone(),
                weekday.clone(),
                vec![span((9, 0), (12, 0))],
                vec![],
            ],
            extra_workday_like: Weekday::Monday,
        }
    }

    /// A Spring Festival shaped like the State Council's schedules (the
    /// dates are the test's own): 2027-02-06 to 02-12 off (a Saturday to a
    /// Friday), Sunday 02-14 worked (调休).
    fn spring_festival() -> Holidays {
        let mut days = BTreeMap::new();
        let mut d = date(2027, 2, 6);
        while d <= date(2027, 2, 12) {
            days.insert(d, Special::Holiday(text("春节")));
            d = d.tomorrow().unwrap();
        }
        days.insert(date(2027, 2, 14), Special::Workday(text("春节调休")));
        Holidays { days }
    }

    #[test]
    fn without_a_holiday_file_deadlines_skip_the_weekend() {
        let none = Holidays::default();
        // 2026-03-06 is a Friday.
        assert_eq!(
            add_working_days(&none, date(2026, 3, 6), 1),
            date(2026, 3, 9)
        );
        assert_eq!(
            add_working_days(&none, date(2026, 3, 6), 3),
            date(2026, 3, 11)
        );
        // From a Saturday, Monday is the first.
        assert_eq!(
            add_working_days(&none, date(2026, 3, 7), 1),
            date(2026, 3, 9)
        );
        assert_eq!(
            add_working_days(&none, date(2026, 3, 2), 5),
            date(2026, 3, 9)
        );
    }

    #[test]
    fn a_lunch_break_closes_and_says_when_it_opens_again() {
        let tz = shanghai();
        let (week, holidays) = (hall_week(), Holidays::default());
        let cal = Calendar {
            tz: &tz,
            week: &week,
            holidays: &holidays,
            closures: &[],
        };
        let monday = date(2027, 3, 1);
        assert_eq!(
            cal.at(at(&tz, monday, 10, 0)),
            Openness::Open {
                until: at(&tz, monday, 12, 0)
            }
        );
        assert_eq!(
            cal.at(at(&tz, monday, 12, 0)),
            Openness::Closed {
                why: ClosedWhy::Break,
                next: Some(at(&tz, monday, 13, 30))
            }
        );
        // After closing on Saturday: Monday morning (Sunday is closed).
        assert_eq!(
            cal.at(at(&tz, date(2027, 3, 6), 12, 30)),
            Openness::Closed {
                why: ClosedWhy::OutsideHours,
                next: Some(at(
                    &tz,
                    monday.checked_add(jiff::Span::new().days(7)).unwrap(),
                    8,
                    30
                ))
            }
        );
    }

    #[test]
    fn the_next_opening_across_the_spring_festival_skips_the_holiday() {
        let tz = shanghai();
        let (week, holidays) = (hall_week(), spring_festival());
        let cal = Calendar {
            tz: &tz,
            week: &week,
            holidays: &holidays,
            closures: &[],
        };
        // Friday 2027-02-05 after closing: the holiday's Saturday and the
        // whole week are closed; the hall opens again on the ordinary
        // Saturday morning after it, then on the worked Sunday with
        // Monday's hours.
        let friday = date(2027, 2, 5);
        assert_eq!(
            cal.next_open(at(&tz, friday, 17, 0)),
            Some(at(&tz, date(2027, 2, 13), 9, 0))
        );
        assert_eq!(
            cal.at(at(&tz, date(2027, 2, 8), 10, 0)),
            Openness::Closed {
                why: ClosedWhy::Holiday(text("春节")),
                next: Some(at(&tz, date(2027, 2, 13), 9, 0))
            }
        );
        assert_eq!(
            cal.next_open(at(&tz, date(2027, 2, 13), 12, 0)),
            Some(at(&tz, date(2027, 2, 14), 8, 30))
        );
        assert!(!cal.is_working_day(date(2027, 2, 8)));
        assert!(cal.is_working_day(date(2027, 2, 14)));
        // Five working days after the Thursday before: Fri, Sun 14th, Mon–Wed.
        assert_eq!(
            add_working_days(&holidays, date(2027, 2, 4), 5),
            date(2027, 2, 17)
        );
    }

    #[test]
    fn a_closure_cuts_the_day_and_is_the_reason_given() {
        let tz = shanghai();
        let (week, holidays) = (hall_week(), Holidays::default());
        let monday = date(2027, 3, 1);
        let closures = [Closure {
            from: at(&tz, monday, 10, 0),
            until: at(&tz, monday, 14, 0),
            reason: text("停电"),
        }];
        let cal = Calendar {
            tz: &tz,
            week: &week,
            holidays: &holidays,
            closures: &closures,
        };
        assert_eq!(
            cal.open_stretches(monday),
            vec![
                (at(&tz, monday, 8, 30), at(&tz, monday, 10, 0)),
                (at(&tz, monday, 14, 0), at(&tz, monday, 17, 0))
            ]
        );
        assert_eq!(
            cal.at(at(&tz, monday, 11, 0)),
            Openness::Closed {
                why: ClosedWhy::Closure(text("停电")),
                next: Some(at(&tz, monday, 14, 0))
            }
        );
    }

    #[test]
    fn a_wait_does_not_run_through_lunch() {
        let tz = shanghai();
        let (week, holidays) = (hall_week(), Holidays::default());
        let cal = Calendar {
            tz: &tz,
            week: &week,
            holidays: &holidays,
            closures: &[],
        };
        let monday = date(2027, 3, 1);
        // 40 minutes of service from 11:40: 20 before lunch, 20 after.
        assert_eq!(
            cal.after_open_time(at(&tz, monday, 11, 40), 40 * 60),
            Some(at(&tz, monday, 13, 50))
        );
        assert_eq!(
            cal.after_open_time(at(&tz, monday, 9, 0), 0),
            Some(at(&tz, monday, 9, 0))
        );
    }

    /// A random week on a 30-minute grid, random holidays and extra
    /// working days in a fortnight, random closures.
    fn arb_calendar() -> impl Strategy<Value = (Week, Holidays, Vec<(i64, i64)>)> {
        let day = proptest::collection::btree_set(0u8..48, 0..6).prop_map(|marks| {
            // Pairs of marks are the spans' edges.
            let m: Vec<u8> = marks.into_iter().collect();
            m.chunks_exact(2)
                .map(|p| Span {
                    from: time((p[0] / 2) as i8, (p[0] % 2 * 30) as i8, 0, 0),
                    until: time((p[1] / 2) as i8, (p[1] % 2 * 30) as i8, 0, 0),
                })
                .collect::<Vec<_>>()
        });
        (
            proptest::collection::vec(day, 7),
            0usize..7,
            proptest::collection::btree_map(0i64..14, any::<bool>(), 0..5),
            proptest::collection::vec((0i64..14 * 48, 1i64..20), 0..3),
        )
            .prop_map(|(days, like, special, closures)| {
                let week = Week {
                    days: days.try_into().unwrap(),
                    extra_workday_like: Weekday::from_monday_zero_offset(like as i8).unwrap(),
                };
                let holidays = Holidays {
                    days: special
                        .into_iter()
                        .map(|(d, holiday)| {
                            let date = START.checked_add(jiff::Span::new().days(d)).unwrap();
                            let s = if holiday {
                                Special::Holiday(text("假"))
                            } else {
                                Special::Workday(text("班"))
                            };
                            (date, s)
                        })
                        .collect(),
                };
                (week, holidays, closures)
            })
    }

    const START: Date = date(2027, 1, 4);

    /// Open at `t` by the definitions themselves, minute by minute.
    fn open_by_scan(
        tz: &TimeZone,
        week: &Week,
        hol: &Holidays,
        cl: &[Closure],
        t: Timestamp,
    ) -> bool {
        let local = t.to_zoned(tz.clone());
        let d = local.date();
        let hours = match hol.days.get(&d) {
            Some(Special::Holiday(_)) => return false,
            Some(Special::Workday(_)) => week.on(week.extra_workday_like),
            None => week.on(d.weekday()),
        };
        let in_span = hours
            .iter()
            .any(|s| s.from <= local.time() && local.time() < s.until);
        in_span && !cl.iter().any(|c| c.from <= t && t < c.until)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Open or closed, the next opening, and the time after some open
        /// minutes agree with a scan of every minute of a fortnight.
        #[test]
        fn answers_equal_a_minute_by_minute_scan((week, holidays, raw) in arb_calendar()) {
            let tz = shanghai();
            let base = at(&tz, START, 0, 0);
            let closures: Vec<Closure> = raw
                .iter()
                .map(|&(start, len)| Closure {
                    from: base + SignedDuration::from_mins(start * 30),
                    until: base + SignedDuration::from_mins((start + len) * 30),
                    reason: text("停"),
                })
                .collect();
            let cal = Calendar { tz: &tz, week: &week, holidays: &holidays, closures: &closures };
            let minutes = 14 * 24 * 60;
            let open: Vec<bool> = (0..minutes)
                .map(|m| open_by_scan(&tz, &week, &holidays, &closures, base + SignedDuration::from_mins(m)))
                .collect();
            // Probe every 7th minute (co-prime with the 30-minute grid).
            for m in (0..minutes - 24 * 60).step_by(7) {
                let t = base + SignedDuration::from_mins(m);
                let is_open = matches!(cal.at(t), Openness::Open { .. });
                prop_assert_eq!(is_open, open[m as usize], "open at minute {}", m);
                let scanned = (m as usize..minutes as usize).find(|&k| open[k]);
                if let Some(k) = scanned {
                    prop_assert_eq!(
                        cal.next_open(t),
                        Some(base + SignedDuration::from_mins(k as i64)),
                        "next opening after minute {}", m
                    );
                    // 45 open minutes later, by counting open minutes.
                    let mut left = 45;
                    let end = (k..minutes as usize).find(|&j| {
                        if open[j] { left -= 1; }
                        left == 0
                    });
                    if let Some(j) = end {
                        prop_assert_eq!(
                            cal.after_open_time(t, 45 * 60),
                            Some(base + SignedDuration::from_mins(j as i64 + 1)),
                            "45 open minutes after minute {}", m
                        );
                    }
                }
            }
        }
    }
}
