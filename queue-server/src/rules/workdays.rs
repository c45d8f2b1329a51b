//! Working days, for deadlines such as a bad rating's follow-up: Monday
//! to Friday. (The hall's calendar, with public holidays and the
//! Saturdays they move, replaces this one function when it exists.)

use jiff::civil::{Date, Weekday};

pub fn is_working_day(d: Date) -> bool {
    !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The `n`th working day after `from` (not counting `from` itself).
pub fn add_working_days(from: Date, n: u32) -> Date {
    let mut d = from;
    let mut left = n;
    while left > 0 {
        d = d.tomorrow().unwrap_or(d);
        if is_working_day(d) {
            left -= 1;
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn deadlines_skip_the_weekend() {
        // 2026-03-06 is a Friday.
        assert_eq!(add_working_days(date(2026, 3, 6), 1), date(2026, 3, 9));
        assert_eq!(add_working_days(date(2026, 3, 6), 3), date(2026, 3, 11));
        // From a Saturday, Monday is the first.
        assert_eq!(add_working_days(date(2026, 3, 7), 1), date(2026, 3, 9));
        assert_eq!(add_working_days(date(2026, 3, 2), 5), date(2026, 3, 9));
    }
}
