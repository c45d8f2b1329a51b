//! Ticket numbers, the business day, and what the server does when the
//! system clock cannot be trusted.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// A clock reading before this is certainly wrong (a Raspberry Pi without a
/// real-time clock boots at 1970 until NTP answers).
pub const EARLIEST_PLAUSIBLE: Timestamp = Timestamp::constant(1_735_689_600, 0); // 2025-01-01T00:00:00Z

/// The business day an instant belongs to: the local date, where a day runs
/// from `day_starts_at` to the next day's `day_starts_at`.
pub fn business_day(at: Timestamp, tz: &TimeZone, day_starts_at: Time) -> Date {
    let local = at.to_zoned(tz.clone()).datetime();
    let since_midnight = SignedDuration::from_secs(
        i64::from(day_starts_at.hour()) * 3600 + i64::from(day_starts_at.minute()) * 60,
    );
    local
        .checked_sub(since_midnight)
        .map(|dt| dt.date())
        .unwrap_or_else(|_| local.date())
}

/// When business day `date` starts and when the next one starts: the
/// instants of `day_starts_at` local time on `date` and the day after
/// (either may be 23 or 25 hours apart across a DST change).
pub fn day_window(
    date: Date,
    tz: &TimeZone,
    day_starts_at: Time,
) -> Result<(Timestamp, Timestamp), String> {
    let start = |d: Date| {
        d.to_datetime(day_starts_at)
            .to_zoned(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| format!("date {d} is out of range: {e}"))
    };
    let next = date.tomorrow().map_err(|e| e.to_string())?;
    Ok((start(date)?, start(next)?))
}

/// The printed number: prefix and at least three digits (A001 … A999, A1000).
pub fn format_number(prefix: &str, seq: u32) -> String {
    format!("{prefix}{seq:03}")
}

/// The time the server records for a change, and whether the system clock
/// was believed.
///
/// Recorded times never go backwards: a clock that is behind the newest
/// stored time (jumped back, or reset to 1970 by a power cut) is replaced by
/// that stored time, so the business day cannot go back either and numbers
/// continue where they were instead of starting again at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub at: Timestamp,
    pub trusted: bool,
}

pub fn effective_time(system_now: Timestamp, newest_stored: Option<Timestamp>) -> Reading {
    let floor = newest_stored.map_or(EARLIEST_PLAUSIBLE, |t| t.max(EARLIEST_PLAUSIBLE));
    if system_now >= floor {
        Reading {
            at: system_now,
            trusted: true,
        }
    } else {
        Reading {
            at: floor,
            trusted: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn shanghai() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_day_window_runs_from_its_start_to_the_next_days() {
        let five = Time::constant(5, 0, 0, 0);
        let (from, to) = day_window(Date::constant(2026, 11, 22), &shanghai(), five).unwrap();
        assert_eq!(from, at("2026-11-21T21:00:00Z"));
        assert_eq!(to, at("2026-11-22T21:00:00Z"));
        // Every instant of the window belongs to that business day, and the
        // window's end to the next.
        assert_eq!(
            business_day(from, &shanghai(), five),
            Date::constant(2026, 11, 22)
        );
        let last = to
            .checked_sub(jiff::SignedDuration::from_millis(1))
            .unwrap();
        assert_eq!(
            business_day(last, &shanghai(), five),
            Date::constant(2026, 11, 22)
        );
        assert_eq!(
            business_day(to, &shanghai(), five),
            Date::constant(2026, 11, 23)
        );
        // The business day across the change to summer time has 23 hours.
        let ny = TimeZone::get("America/New_York").unwrap();
        let (from, to) = day_window(Date::constant(2026, 3, 7), &ny, five).unwrap();
        assert_eq!(
            to.duration_since(from),
            jiff::SignedDuration::from_hours(23)
        );
    }

    #[test]
    fn day_turns_at_day_starts_at_local_time() {
        let five = Time::constant(5, 0, 0, 0);
        // 04:59 local on the 22nd still belongs to the 21st.
        assert_eq!(
            business_day(at("2026-11-21T20:59:00Z"), &shanghai(), five),
            Date::constant(2026, 11, 21)
        );
        // 05:00 local on the 22nd starts the 22nd.
        assert_eq!(
            business_day(at("2026-11-21T21:00:00Z"), &shanghai(), five),
            Date::constant(2026, 11, 22)
        );
        // Midnight start is the plain local date.
        assert_eq!(
            business_day(at("2026-11-21T16:00:00Z"), &shanghai(), Time::midnight()),
            Date::constant(2026, 11, 22)
        );
    }

    #[test]
    fn numbers_have_three_digits_at_least() {
        assert_eq!(format_number("A", 1), "A001");
        assert_eq!(format_number("A", 12), "A012");
        assert_eq!(format_number("VP", 999), "VP999");
        assert_eq!(format_number("A", 1000), "A1000");
    }

    #[test]
    fn clock_behind_the_stored_time_is_not_believed() {
        let stored = at("2026-11-22T02:00:00Z");
        let r = effective_time(at("1970-01-01T00:00:10Z"), Some(stored));
        assert_eq!(
            r,
            Reading {
                at: stored,
                trusted: false
            }
        );
        let r = effective_time(at("2026-11-22T01:00:00Z"), Some(stored));
        assert_eq!(
            r,
            Reading {
                at: stored,
                trusted: false
            }
        );
        let later = at("2026-11-22T02:00:01Z");
        assert_eq!(
            effective_time(later, Some(stored)),
            Reading {
                at: later,
                trusted: true
            }
        );
    }

    #[test]
    fn a_fresh_box_at_1970_does_not_number_a_1970_day() {
        let r = effective_time(Timestamp::UNIX_EPOCH, None);
        assert!(!r.trusted);
        assert_eq!(r.at, EARLIEST_PLAUSIBLE);
    }

    proptest! {
        /// Whatever the clock does, the recorded times and business days never
        /// go backwards.
        #[test]
        fn recorded_days_never_go_back(jumps in proptest::collection::vec(-200_000i64..200_000, 1..60)) {
            let tz = shanghai();
            let five = Time::constant(5, 0, 0, 0);
            let mut clock = at("2026-11-22T00:00:00Z");
            let mut newest: Option<Timestamp> = None;
            let mut last_day: Option<Date> = None;
            for j in jumps {
                clock = clock.checked_add(SignedDuration::from_secs(j)).unwrap();
                let r = effective_time(clock, newest);
                if let Some(n) = newest { prop_assert!(r.at >= n); }
                let day = business_day(r.at, &tz, five);
                if let Some(d) = last_day { prop_assert!(day >= d); }
                newest = Some(r.at);
                last_day = Some(day);
            }
        }
    }
}
