//! Reports over any period of business days, by the definitions of a
//! day's statistics (`stats`): the same figures over the whole period, per
//! weekday and per day, the arrivals heatmap (weekday × hour), the wait
//! distribution, and the same figures for the period just before.

use std::collections::BTreeMap;

use hall_api::{
    DailyRow, DayStats, PeriodSummary, Report, ServiceLevelOfDay, WaitBucket, WeekdayStats,
};
use jiff::civil::Date;

use super::stats::{
    DayInput, TicketFacts, day_stats, group_stats, level_by_own_targets, round1, secs,
};

/// Upper bounds of the wait distribution's buckets, in minutes; the last
/// bucket holds the longer waits.
pub const WAIT_BUCKETS_MIN: [u32; 8] = [5, 10, 15, 20, 30, 45, 60, 90];

/// A period's figures, and the period's business days.
pub struct Period<'a> {
    pub input: DayInput<'a>,
    pub first: Date,
    pub last: Date,
}

impl Period<'_> {
    fn summary(&self, stats: &DayStats) -> PeriodSummary {
        let open_s: u64 = stats.counters.iter().map(|c| c.open_s).sum();
        let serving_s: u64 = stats.counters.iter().map(|c| c.serving_s).sum();
        PeriodSummary {
            from: self.first,
            to: self.last,
            hall: stats.hall.clone(),
            services: stats.services.clone(),
            utilisation: (open_s > 0).then(|| (serving_s as f64 / open_s as f64).min(1.0)),
            completed_per_open_hour: (open_s > 0)
                .then(|| round1(f64::from(stats.hall.done) * 3600.0 / open_s as f64)),
        }
    }
}

/// The number of business days `first..=last`.
pub fn days_in(first: Date, last: Date) -> u32 {
    let mut n = 0;
    let mut d = first;
    while d <= last {
        n += 1;
        d = d.tomorrow().unwrap_or(Date::MAX);
        if d == Date::MAX {
            break;
        }
    }
    n
}

/// The period of the same length just before `first..=last`.
pub fn previous_period(first: Date, last: Date) -> (Date, Date) {
    let n = i64::from(days_in(first, last));
    let prev_last = first.yesterday().unwrap_or(first);
    let prev_first = prev_last
        .checked_sub(jiff::Span::new().days(n - 1))
        .unwrap_or(prev_last);
    (prev_first, prev_last)
}

pub fn report(current: &Period<'_>, previous: &Period<'_>) -> Report {
    let stats = day_stats(&current.input);
    let summary = current.summary(&stats);
    let previous = previous.summary(&day_stats(&previous.input));
    let input = &current.input;
    let now = input.to;
    let customers = || input.tickets.iter().filter(|t| !t.continuation);

    let mut weekdays: BTreeMap<u8, Vec<&TicketFacts>> = BTreeMap::new();
    let mut arrivals = vec![vec![0u32; 24]; 7];
    let mut histogram = vec![0u32; WAIT_BUCKETS_MIN.len() + 1];
    for t in input.tickets {
        weekdays.entry(weekday(t.business_day)).or_default().push(t);
    }
    for t in customers() {
        let hour = t.issued_at.to_zoned(input.tz.clone()).hour() as usize;
        arrivals[usize::from(weekday(t.business_day) - 1)][hour] += 1;
        if let Some(called) = t.called_at {
            let minutes = secs(t.issued_at, called) / 60.0;
            let bucket = WAIT_BUCKETS_MIN
                .iter()
                .position(|&b| minutes <= f64::from(b))
                .unwrap_or(WAIT_BUCKETS_MIN.len());
            histogram[bucket] += 1;
        }
    }
    let days_of = |wd: u8| {
        let mut n = 0;
        let mut d = current.first;
        while d <= current.last {
            if weekday(d) == wd {
                n += 1;
            }
            match d.tomorrow() {
                Ok(next) => d = next,
                Err(_) => break,
            }
        }
        n
    };
    let weekdays = (1..=7u8)
        .map(|wd| {
            let mine = weekdays.get(&wd).map(Vec::as_slice).unwrap_or_default();
            let mut stats = group_stats(mine.iter().copied(), None, now);
            stats.service_level = level_by_own_targets(mine.iter().copied(), &input.services, now);
            WeekdayStats {
                weekday: wd,
                days: days_of(wd),
                stats,
            }
        })
        .collect();

    let mut by_day: BTreeMap<Date, Vec<&TicketFacts>> = BTreeMap::new();
    for t in input.tickets {
        by_day.entry(t.business_day).or_default().push(t);
    }
    let mut daily = Vec::new();
    let mut d = current.first;
    while d <= current.last {
        let mine = by_day.get(&d).map(Vec::as_slice).unwrap_or_default();
        let all = group_stats(mine.iter().copied(), None, now);
        daily.push(DailyRow {
            date: d,
            issued: all.issued,
            done: all.done,
            service_level: level_by_own_targets(mine.iter().copied(), &input.services, now),
            mean_wait_s: all.wait.mean_s,
            services: input
                .services
                .iter()
                .map(|(id, target)| ServiceLevelOfDay {
                    service: id.clone(),
                    service_level: group_stats(
                        mine.iter().copied().filter(|t| &t.service == id),
                        Some(f64::from(*target) * 60.0),
                        now,
                    )
                    .service_level,
                })
                .collect(),
        });
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => break,
        }
    }

    Report {
        summary,
        days: days_in(current.first, current.last),
        stats,
        weekdays,
        arrivals,
        wait_histogram: WAIT_BUCKETS_MIN
            .iter()
            .map(|&b| Some(b))
            .chain([None])
            .zip(histogram)
            .map(|(up_to_min, count)| WaitBucket { up_to_min, count })
            .collect(),
        daily,
        previous,
    }
}

/// 1 = Monday … 7 = Sunday.
fn weekday(d: Date) -> u8 {
    d.weekday().to_monday_one_offset() as u8
}

#[cfg(test)]
mod tests {
    use super::*;
    use hall_api::{CounterState, TicketStatus};
    use jiff::Timestamp;
    use jiff::tz::TimeZone;
    use std::collections::HashMap;

    use crate::rules::stats::CounterTimeline;

    fn at(day: Date, hour: i8, min: i8) -> Timestamp {
        day.at(hour, min, 0, 0)
            .to_zoned(TimeZone::get("Asia/Shanghai").unwrap())
            .unwrap()
            .timestamp()
    }

    fn ticket(id: i64, day: Date, issued: (i8, i8), wait_min: Option<i8>) -> TicketFacts {
        let issued_at = at(day, issued.0, issued.1);
        let called_at = wait_min.map(|w| at(day, issued.0, issued.1 + w));
        TicketFacts {
            id,
            business_day: day,
            service: "pay".into(),
            counter: called_at.map(|_| 1),
            status: if called_at.is_some() {
                TicketStatus::Done
            } else {
                TicketStatus::Cancelled
            },
            continuation: false,
            issued_at,
            remote: false,
            called_at,
            started_at: called_at,
            ended_at: called_at.map(|c| c + jiff::SignedDuration::from_mins(4)),
            staff: None,
            held_s: 0.0,
            priority_reason: None,
        }
    }

    #[test]
    fn the_previous_period_has_the_same_length() {
        let d = |m, day| Date::constant(2026, m, day);
        assert_eq!(previous_period(d(11, 1), d(11, 30)), (d(10, 2), d(10, 31)));
        assert_eq!(previous_period(d(12, 1), d(12, 1)), (d(11, 30), d(11, 30)));
        assert_eq!(days_in(d(11, 1), d(11, 30)), 30);
    }

    #[test]
    fn a_week_by_hand() {
        // Monday 2026-11-23 and Wednesday 2026-11-25; a waits of 3, 12 and
        // 50 minutes against a 10-minute target; one cancelled.
        let mon = Date::constant(2026, 11, 23);
        let wed = Date::constant(2026, 11, 25);
        let tickets = vec![
            ticket(1, mon, (9, 0), Some(3)),
            ticket(2, mon, (9, 30), Some(12)),
            ticket(3, wed, (14, 5), Some(50)),
            ticket(4, wed, (14, 10), None),
        ];
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let timeline = CounterTimeline {
            counter: 1,
            state_at_start: CounterState::Closed,
            changes: vec![
                (at(mon, 9, 0), CounterState::Open),
                (at(mon, 11, 0), CounterState::Closed),
                (at(wed, 14, 0), CounterState::Open),
                (at(wed, 16, 0), CounterState::Closed),
            ],
        };
        let names = HashMap::new();
        fn period<'a>(
            tz: &'a TimeZone,
            names: &'a HashMap<String, String>,
            tickets: &'a [TicketFacts],
            counters: &'a [CounterTimeline],
        ) -> Period<'a> {
            let mon = Date::constant(2026, 11, 23);
            Period {
                input: DayInput {
                    date: mon,
                    tz,
                    services: vec![("pay".into(), 10)],
                    tickets,
                    counters,
                    from: at(mon, 0, 0),
                    to: at(Date::constant(2026, 11, 30), 0, 0),
                    attendance: &[],
                    pauses: &[],
                    staff_names: names,
                    ratings: &[],
                    bookings: &[],
                    slot_places: 0,
                },
                first: mon,
                last: Date::constant(2026, 11, 29),
            }
        }
        let current = period(&tz, &names, &tickets, std::slice::from_ref(&timeline));
        let before = period(&tz, &names, &[], &[]);
        let r = report(&current, &before);
        assert_eq!(r.days, 7);
        assert_eq!(r.summary.hall.issued, 4);
        assert_eq!(r.summary.hall.service_level, Some(1.0 / 3.0));
        assert_eq!(r.summary.utilisation, Some(12.0 / 240.0));
        assert_eq!(r.summary.completed_per_open_hour, Some(0.8));
        assert_eq!(r.weekdays[0].stats.issued, 2); // Monday
        assert_eq!(r.weekdays[0].stats.service_level, Some(0.5));
        assert_eq!(r.weekdays[2].stats.issued, 2); // Wednesday
        assert_eq!(r.weekdays[0].days, 1);
        assert_eq!(r.arrivals[0][9], 2);
        assert_eq!(r.arrivals[2][14], 2);
        let hist: Vec<u32> = r.wait_histogram.iter().map(|b| b.count).collect();
        assert_eq!(hist, vec![1, 0, 1, 0, 0, 0, 1, 0, 0]);
        assert_eq!(r.daily.len(), 7);
        assert_eq!(r.daily[0].issued, 2);
        assert_eq!(r.daily[1].issued, 0);
        assert_eq!(r.daily[2].services[0].service_level, Some(0.0));
        assert_eq!(r.previous.hall.issued, 0);
    }
}
