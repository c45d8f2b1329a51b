//! Appointments (预约): the slots a service offers on a day, whether a slot
//! can still be booked or cancelled, and what a check-in at the kiosk
//! means for the calling order. Pure, like the calendar they stand on.

use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use super::calendar::Calendar;

/// How a service offers appointments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotRules {
    /// Length of a slot.
    pub slot_min: u32,
    /// Bookings one slot takes.
    pub per_slot: u32,
    /// How many days ahead a slot may be booked (0: today only).
    pub days_ahead: u32,
    /// A slot is booked at the latest this long before it starts.
    pub book_until_min: u32,
    /// A booking is cancelled or changed at the latest this long before.
    pub cancel_until_min: u32,
}

/// The window around a slot's start in which a checked-in customer is
/// called with the appointment's priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// Check-in opens this long before the slot.
    pub early_min: u32,
    /// ...and keeps the priority until this long after its start.
    pub late_min: u32,
}

/// What checking in at a moment means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Before the window: come back then (a walk-in ticket meanwhile is
    /// the customer's choice).
    TooEarly { window_opens: Timestamp },
    /// Inside the window: called with the appointment's priority.
    OnTime,
    /// After the window: a ticket in walk-in order, counted late.
    Late,
}

/// The starts of `date`'s slots: each open stretch of the service's
/// calendar cut into whole slots from its start (a slot never runs into a
/// break or past closing).
pub fn slots(cal: &Calendar<'_>, date: Date, rules: &SlotRules) -> Vec<Timestamp> {
    let len = SignedDuration::from_mins(i64::from(rules.slot_min.max(1)));
    let mut out = Vec::new();
    for (from, until) in cal.open_stretches(date) {
        let mut start = from;
        while let Ok(end) = start.checked_add(len) {
            if end > until {
                break;
            }
            out.push(start);
            start = end;
        }
    }
    out
}

/// Whether the slot starting at `slot` may be booked at `now`: not in the
/// past or too soon, not beyond `days_ahead` (counted in business days of
/// `today`, the hall's), and one of the service's slots.
pub fn bookable(
    cal: &Calendar<'_>,
    rules: &SlotRules,
    now: Timestamp,
    today: Date,
    slot: Timestamp,
) -> Result<(), &'static str> {
    let date = slot.to_zoned(cal.tz.clone()).date();
    let last = today
        .checked_add(jiff::Span::new().days(i64::from(rules.days_ahead)))
        .unwrap_or(today);
    if date > last {
        return Err("is further ahead than this service takes bookings");
    }
    let latest = slot
        .checked_sub(SignedDuration::from_mins(i64::from(rules.book_until_min)))
        .unwrap_or(slot);
    if now >= latest {
        return Err("starts too soon (or has passed) to be booked");
    }
    if !slots(cal, date, rules).contains(&slot) {
        return Err("is not one of this service's slots");
    }
    Ok(())
}

/// Whether a booking of `slot` may be cancelled or changed at `now`.
pub fn cancellable(rules: &SlotRules, now: Timestamp, slot: Timestamp) -> bool {
    slot.checked_sub(SignedDuration::from_mins(i64::from(rules.cancel_until_min)))
        .is_ok_and(|latest| now < latest)
}

/// What a check-in at `now` means for a booking of `slot`.
pub fn arrival(window: &Window, now: Timestamp, slot: Timestamp) -> Arrival {
    let opens = slot - SignedDuration::from_mins(i64::from(window.early_min));
    let closes = slot + SignedDuration::from_mins(i64::from(window.late_min));
    if now < opens {
        Arrival::TooEarly {
            window_opens: opens,
        }
    } else if now < closes {
        Arrival::OnTime
    } else {
        Arrival::Late
    }
}

/// A booking not checked in by the end of its window is a no-show.
pub fn no_show_after(window: &Window, slot: Timestamp) -> Timestamp {
    slot + SignedDuration::from_mins(i64::from(window.late_min))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::calendar::{Closure, Holidays, Span, Week};
    use hall_api::I18nText;
    use jiff::civil::{date, time};
    use jiff::tz::TimeZone;

    fn at(tz: &TimeZone, d: Date, h: i8, m: i8) -> Timestamp {
        d.at(h, m, 0, 0).to_zoned(tz.clone()).unwrap().timestamp()
    }

    const RULES: SlotRules = SlotRules {
        slot_min: 45,
        per_slot: 2,
        days_ahead: 7,
        book_until_min: 60,
        cancel_until_min: 30,
    };

    #[test]
    fn slots_fit_the_stretches_and_skip_lunch_and_closures() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let week = Week::every_day(vec![
            Span {
                from: time(8, 30, 0, 0),
                until: time(12, 0, 0, 0),
            },
            Span {
                from: time(13, 30, 0, 0),
                until: time(15, 0, 0, 0),
            },
        ]);
        let holidays = Holidays::default();
        let monday = date(2027, 3, 1);
        let cal = Calendar {
            tz: &tz,
            week: &week,
            holidays: &holidays,
            closures: &[],
        };
        let starts: Vec<Timestamp> = [(8, 30), (9, 15), (10, 0), (10, 45), (13, 30), (14, 15)]
            .into_iter()
            .map(|(h, m)| at(&tz, monday, h, m))
            .collect();
        // 11:30 would run into lunch; 15:00 is closing.
        assert_eq!(slots(&cal, monday, &RULES), starts);
        let closures = [Closure {
            from: at(&tz, monday, 9, 0),
            until: at(&tz, monday, 10, 0),
            reason: I18nText {
                zh: "停电".into(),
                en: "Power cut".into(),
            },
        }];
        let cut = Calendar {
            closures: &closures,
            ..cal
        };
        // 8:30 no longer fits before 9:00; the morning restarts at 10:00.
        assert_eq!(
            slots(&cut, monday, &RULES),
            [(10, 0), (10, 45), (13, 30), (14, 15)]
                .into_iter()
                .map(|(h, m)| at(&tz, monday, h, m))
                .collect::<Vec<_>>()
        );

        let now = at(&tz, monday, 8, 0);
        assert_eq!(
            bookable(&cal, &RULES, now, monday, at(&tz, monday, 10, 0)),
            Ok(())
        );
        assert!(
            bookable(&cal, &RULES, now, monday, at(&tz, monday, 8, 30)).is_err(),
            "too soon"
        );
        assert!(
            bookable(&cal, &RULES, now, monday, at(&tz, monday, 9, 0)).is_err(),
            "not a slot"
        );
        let far = date(2027, 3, 9);
        assert!(
            bookable(&cal, &RULES, now, monday, at(&tz, far, 8, 30)).is_err(),
            "8 days ahead"
        );
        assert!(cancellable(&RULES, now, at(&tz, monday, 8, 31)));
        assert!(!cancellable(&RULES, now, at(&tz, monday, 8, 30)));
    }

    #[test]
    fn arriving_early_on_time_and_late() {
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let d = date(2027, 3, 1);
        let w = Window {
            early_min: 10,
            late_min: 15,
        };
        let slot = at(&tz, d, 10, 0);
        assert_eq!(
            arrival(&w, at(&tz, d, 9, 49), slot),
            Arrival::TooEarly {
                window_opens: at(&tz, d, 9, 50)
            }
        );
        assert_eq!(arrival(&w, at(&tz, d, 9, 50), slot), Arrival::OnTime);
        assert_eq!(arrival(&w, at(&tz, d, 10, 14), slot), Arrival::OnTime);
        assert_eq!(arrival(&w, at(&tz, d, 10, 15), slot), Arrival::Late);
        assert_eq!(no_show_after(&w, slot), at(&tz, d, 10, 15));
    }
}
