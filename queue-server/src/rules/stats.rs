//! The manager's metrics for one business day, computed from the day's
//! tickets and counter state changes. Definitions (also in the README):
//! - wait = first call − issue, for tickets as issued (not the entries a
//!   transfer creates, whose issue time is the original one);
//! - service time = end − start;
//! - service level = called within the target ÷ (called + still waiting past
//!   the target);
//! - no-show rate = no-shows ÷ called; transfer rate = transfers ÷ called;
//!   cancel rate = cancelled ÷ issued;
//! - utilisation = serving time ÷ time the counter was open (not paused);
//!   for a member of staff, serving time ÷ (signed-in time − paused time);
//! - a held ticket's held time is not service time: it is counted apart.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use hall_api::{
    CounterDayStats, CounterState, DayStats, Distribution, HourStats, LevelCount, Rating,
    RatingChannel, RatingFlag, RatingFlagKind, RatingLevel, RatingStats, ReasonTime,
    ServiceDayStats, StaffDayStats, StaffRef, TicketGroupStats, TicketStatus,
};
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;

/// One ticket row of the day, as the statistics need it.
#[derive(Debug, Clone)]
pub struct TicketFacts {
    pub id: i64,
    pub business_day: Date,
    pub service: String,
    pub counter: Option<u32>,
    pub status: TicketStatus,
    /// The waiting entry a transfer created (not a new customer).
    pub continuation: bool,
    /// When the customer was in the hall with the ticket: issued, or for
    /// a remote ticket checked in (its wait starts there).
    pub issued_at: Timestamp,
    /// Taken before arriving.
    pub remote: bool,
    pub called_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
    /// The staff number of who called it.
    pub staff: Option<String>,
    /// Seconds held (to the end of the window, for one held now).
    pub held_s: f64,
    /// Why it went first, if it did.
    pub priority_reason: Option<String>,
}

impl TicketFacts {
    /// Start to end, less the time held.
    fn service_s(&self) -> Option<f64> {
        Some((secs(self.started_at?, self.ended_at?) - self.held_s).max(0.0))
    }
}

/// One sign-in of a member of staff at a counter.
#[derive(Debug, Clone)]
pub struct Attendance {
    pub staff: String,
    pub counter: u32,
    pub from: Timestamp,
    /// Signed out (or the session's expiry); `None` while signed in.
    pub to: Option<Timestamp>,
}

/// One pause of a counter.
#[derive(Debug, Clone)]
pub struct Pause {
    pub counter: u32,
    pub reason: String,
    pub from: Timestamp,
    /// `None` while still paused.
    pub to: Option<Timestamp>,
}

/// A counter's state changes during the day, with its state when the day began.
#[derive(Debug, Clone)]
pub struct CounterTimeline {
    pub counter: u32,
    pub state_at_start: CounterState,
    pub changes: Vec<(Timestamp, CounterState)>,
}

pub struct DayInput<'a> {
    pub date: Date,
    pub tz: &'a TimeZone,
    /// (service id, target wait in minutes), in configuration order.
    pub services: Vec<(String, u32)>,
    pub tickets: &'a [TicketFacts],
    pub counters: &'a [CounterTimeline],
    /// Start and end of the business day; the end is "now" for today.
    pub from: Timestamp,
    pub to: Timestamp,
    pub attendance: &'a [Attendance],
    pub pauses: &'a [Pause],
    /// Staff number → name, disabled members of staff included.
    pub staff_names: &'a HashMap<String, String>,
    /// Ratings of the day's tickets, oldest first.
    pub ratings: &'a [Rating],
    /// Bookings of the day's slots.
    pub bookings: &'a [BookingFacts],
    /// Places the day's slots offered.
    pub slot_places: u32,
}

/// A booking of the day's slots as the statistics see it.
#[derive(Debug, Clone)]
pub struct BookingFacts {
    pub slot_start: Timestamp,
    pub status: hall_api::BookingStatus,
    pub booked_at: Timestamp,
    pub checked_in_at: Option<Timestamp>,
    pub late: bool,
    /// The ticket a check-in made.
    pub ticket: Option<i64>,
}

/// The day's appointment figures (see `hall_api::AppointmentStats`).
pub fn appointment_stats(
    bookings: &[BookingFacts],
    tickets: &[TicketFacts],
    places: u32,
) -> hall_api::AppointmentStats {
    use hall_api::BookingStatus as B;
    let called: HashMap<i64, Timestamp> = tickets
        .iter()
        .filter_map(|t| Some((t.id, t.called_at?)))
        .collect();
    let from_booking: std::collections::HashSet<i64> =
        bookings.iter().filter_map(|b| b.ticket).collect();
    let count = |f: &dyn Fn(&BookingFacts) -> bool| {
        u32::try_from(bookings.iter().filter(|b| f(b)).count()).unwrap_or(u32::MAX)
    };
    let checked_in = count(&|b| b.status == B::CheckedIn);
    let signed = |from: Timestamp, to: Timestamp| {
        (to.as_millisecond() - from.as_millisecond()) as f64 / 1000.0
    };
    let mut from_slot = Vec::new();
    let mut from_check_in = Vec::new();
    for b in bookings {
        if let Some(call) = b.ticket.and_then(|t| called.get(&t)) {
            from_slot.push(signed(b.slot_start, *call));
            if let Some(at) = b.checked_in_at {
                from_check_in.push(secs(at, *call));
            }
        }
    }
    let walk_in: Vec<f64> = tickets
        .iter()
        .filter(|t| !t.continuation && !from_booking.contains(&t.id))
        .filter_map(|t| Some(secs(t.issued_at, t.called_at?)))
        .collect();
    hall_api::AppointmentStats {
        booked: count(&|b| b.status != B::Cancelled),
        cancelled: count(&|b| b.status == B::Cancelled),
        checked_in,
        late: count(&|b| b.status == B::CheckedIn && b.late),
        no_show: count(&|b| b.status == B::NoShow),
        places,
        slot_utilisation: ratio(checked_in, places),
        wait_from_slot: distribution(from_slot),
        wait_from_check_in: distribution(from_check_in),
        walk_in_wait: distribution(walk_in),
        booked_ahead: distribution(
            bookings
                .iter()
                .map(|b| secs(b.booked_at, b.slot_start))
                .collect(),
        ),
    }
}

/// Ratings of a group's completed tickets (`rated` looks a ticket's rating up).
fn rating_stats<'t>(
    tickets: impl IntoIterator<Item = &'t TicketFacts>,
    rated: &HashMap<i64, &Rating>,
) -> RatingStats {
    let mut done = 0u32;
    let mut counts = [0u32; 5];
    for t in tickets {
        if t.status != TicketStatus::Done {
            continue;
        }
        done += 1;
        if let Some(r) = rated.get(&t.id) {
            counts[usize::from(5 - r.level.score())] += 1;
        }
    }
    let rated_n: u32 = counts.iter().sum();
    let satisfied = counts[0] + counts[1];
    RatingStats {
        rated: rated_n,
        coverage: ratio(rated_n, done),
        satisfaction_rate: ratio(satisfied, rated_n),
        levels: RatingLevel::ALL
            .iter()
            .zip(counts)
            .map(|(&level, count)| LevelCount { level, count })
            .collect(),
    }
}

/// Ratings at least this many, mostly this fast, from one rater: flagged.
const INSTANT_MIN_RATINGS: usize = 5;
const INSTANT_SHARE: f64 = 0.8;
const INSTANT_WITHIN_MS: i64 = 1000;
/// A run of 非常满意 this long, with a share this far above the rest of the hall's: flagged.
const UNIFORM_RUN: usize = 10;
const UNIFORM_MARGIN: f64 = 0.25;

/// Patterns in each counter's ratings a manager should look at.
pub fn rating_flags(ratings: &[Rating]) -> Vec<RatingFlag> {
    let mut counters: Vec<u32> = ratings.iter().filter_map(|r| r.counter).collect();
    counters.sort_unstable();
    counters.dedup();
    let top = |rs: &[&Rating]| {
        ratio(
            rs.iter()
                .filter(|r| r.level == RatingLevel::VerySatisfied)
                .count() as u32,
            rs.len() as u32,
        )
    };
    let mut flags = Vec::new();
    for c in counters {
        let (mine, rest): (Vec<&Rating>, Vec<&Rating>) =
            ratings.iter().partition(|r| r.counter == Some(c));
        let at_rater: Vec<&&Rating> = mine
            .iter()
            .filter(|r| r.channel == RatingChannel::Rater)
            .collect();
        let instant = at_rater
            .iter()
            .filter(|r| {
                r.rated_at.as_millisecond() - r.completed_at.as_millisecond() < INSTANT_WITHIN_MS
            })
            .count();
        if at_rater.len() >= INSTANT_MIN_RATINGS
            && instant as f64 >= INSTANT_SHARE * at_rater.len() as f64
        {
            flags.push(RatingFlag {
                counter: c,
                kind: RatingFlagKind::Instant,
                detail: format!(
                    "{instant} of the {} ratings at counter {c}'s rater came within a second of completion",
                    at_rater.len()
                ),
            });
        }
        let mut run = 0;
        let mut longest = 0;
        for r in &mine {
            run = if r.level == RatingLevel::VerySatisfied {
                run + 1
            } else {
                0
            };
            longest = longest.max(run);
        }
        if let (Some(own), Some(others)) = (top(&mine), top(&rest))
            && longest >= UNIFORM_RUN
            && own >= others + UNIFORM_MARGIN
        {
            flags.push(RatingFlag {
                counter: c,
                kind: RatingFlagKind::UniformTop,
                detail: format!(
                    "{longest} 非常满意 in a row at counter {c}; {:.0} % of its ratings are 非常满意 against {:.0} % at the other counters",
                    own * 100.0,
                    others * 100.0
                ),
            });
        }
    }
    flags
}

/// Seconds two intervals share (an open end is `to`).
fn overlap(a: (Timestamp, Timestamp), b: (Timestamp, Timestamp)) -> f64 {
    secs(a.0.max(b.0), a.1.min(b.1))
}

/// Adds the seconds of `pauses` inside `span` to their reasons.
fn paused_by_reason<'p>(
    pauses: impl IntoIterator<Item = &'p Pause>,
    span: (Timestamp, Timestamp),
    into: &mut BTreeMap<String, f64>,
) {
    for p in pauses {
        let s = overlap((p.from, p.to.unwrap_or(span.1)), span);
        if s > 0.0 {
            *into.entry(p.reason.clone()).or_default() += s;
        }
    }
}

fn reason_times(by_reason: &BTreeMap<String, f64>) -> Vec<ReasonTime> {
    by_reason
        .iter()
        .map(|(reason, s)| ReasonTime {
            reason: reason.clone(),
            seconds: s.round() as u64,
        })
        .collect()
}

pub fn distribution(mut values: Vec<f64>) -> Distribution {
    if values.is_empty() {
        return Distribution::default();
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    Distribution {
        count: u32::try_from(n).unwrap_or(u32::MAX),
        mean_s: Some(round1(mean)),
        median_s: Some(round1(quantile(&values, 0.5))),
        p90_s: Some(round1(quantile(&values, 0.9))),
    }
}

/// Linear interpolation between the closest ranks of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q * (sorted.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo as f64)
}

pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

pub fn secs(from: Timestamp, to: Timestamp) -> f64 {
    (to.as_millisecond() - from.as_millisecond()).max(0) as f64 / 1000.0
}

pub fn ratio(part: u32, whole: u32) -> Option<f64> {
    (whole > 0).then(|| f64::from(part) / f64::from(whole))
}

/// Counts and times of a group of tickets; `target_s` for the service level.
pub fn group_stats<'a>(
    tickets: impl IntoIterator<Item = &'a TicketFacts>,
    target_s: Option<f64>,
    now: Timestamp,
) -> TicketGroupStats {
    let mut g = TicketGroupStats::default();
    let mut waits = Vec::new();
    let mut services = Vec::new();
    let mut holds = Vec::new();
    let mut within = 0u32;
    let mut overdue_waiting = 0u32;
    for t in tickets {
        if !t.continuation {
            g.issued += 1;
            g.remote += u32::from(t.remote);
        }
        if t.called_at.is_some() {
            g.called += 1;
        }
        match t.status {
            TicketStatus::Done => g.done += 1,
            TicketStatus::NoShow => g.no_show += 1,
            TicketStatus::Cancelled => g.cancelled += 1,
            TicketStatus::Transferred => g.transferred += 1,
            TicketStatus::Waiting => g.waiting += 1,
            TicketStatus::Expired => g.expired += 1,
            TicketStatus::Called | TicketStatus::Serving | TicketStatus::Held => {}
        }
        if t.held_s > 0.0 || t.status == TicketStatus::Held {
            holds.push(t.held_s);
        }
        if let (false, Some(called)) = (t.continuation, t.called_at) {
            let w = secs(t.issued_at, called);
            if target_s.is_some_and(|target| w <= target) {
                within += 1;
            }
            waits.push(w);
        }
        if t.status == TicketStatus::Waiting
            && !t.continuation
            && target_s.is_some_and(|target| secs(t.issued_at, now) > target)
        {
            overdue_waiting += 1;
        }
        if let Some(s) = t.service_s() {
            services.push(s);
        }
    }
    let measured = u32::try_from(waits.len()).unwrap_or(u32::MAX);
    g.service_level = target_s.and_then(|_| ratio(within, measured + overdue_waiting));
    g.wait = distribution(waits);
    g.service_time = distribution(services);
    g.held = u32::try_from(holds.len()).unwrap_or(u32::MAX);
    g.held_time = distribution(holds);
    g.no_show_rate = ratio(g.no_show, g.called);
    g.transfer_rate = ratio(g.transferred, g.called);
    g.cancel_rate = ratio(g.cancelled, g.issued);
    g
}

/// The service level of tickets of several services, each against its own
/// service's target (`targets`: service id, minutes): called within it ÷
/// (called + still waiting past it).
pub fn level_by_own_targets<'a>(
    tickets: impl IntoIterator<Item = &'a TicketFacts>,
    targets: &[(String, u32)],
    now: Timestamp,
) -> Option<f64> {
    let target_of: HashMap<&str, f64> = targets
        .iter()
        .map(|(id, min)| (id.as_str(), f64::from(*min) * 60.0))
        .collect();
    let (mut within, mut measured) = (0u32, 0u32);
    for t in tickets {
        let Some(&target) = target_of.get(t.service.as_str()) else {
            continue;
        };
        if t.continuation {
            continue;
        }
        match t.called_at {
            Some(called) => {
                measured += 1;
                if secs(t.issued_at, called) <= target {
                    within += 1;
                }
            }
            None if t.status == TicketStatus::Waiting && secs(t.issued_at, now) > target => {
                measured += 1;
            }
            None => {}
        }
    }
    ratio(within, measured)
}

/// Seconds a counter spent open (not paused, not closed) between `from` and `to`.
pub fn open_seconds(timeline: &CounterTimeline, from: Timestamp, to: Timestamp) -> u64 {
    let mut state = timeline.state_at_start;
    let mut since = from;
    let mut total = 0.0;
    for &(at, next) in &timeline.changes {
        let at = at.clamp(from, to);
        if state == CounterState::Open {
            total += secs(since, at);
        }
        state = next;
        since = at;
    }
    if state == CounterState::Open {
        total += secs(since, to);
    }
    total.round() as u64
}

pub fn day_stats(input: &DayInput<'_>) -> DayStats {
    let now = input.to;
    let rated: HashMap<i64, &Rating> = input.ratings.iter().map(|r| (r.ticket_id, r)).collect();
    let local_hour = |t: Timestamp| t.to_zoned(input.tz.clone()).hour() as u8;

    let services = input
        .services
        .iter()
        .map(|(id, target)| {
            let mine = || input.tickets.iter().filter(|t| &t.service == id);
            let mut stats = group_stats(mine(), Some(f64::from(*target) * 60.0), now);
            stats.ratings = rating_stats(mine(), &rated);
            ServiceDayStats {
                service: id.clone(),
                target_wait_min: *target,
                stats,
            }
        })
        .collect::<Vec<_>>();

    // The hall's service level weighs each ticket against its own service's target.
    let mut hall = group_stats(input.tickets, None, now);
    hall.ratings = rating_stats(input.tickets, &rated);
    hall.service_level = level_by_own_targets(input.tickets, &input.services, now);

    let counters = input
        .counters
        .iter()
        .map(|tl| {
            let mine: Vec<&TicketFacts> = input
                .tickets
                .iter()
                .filter(|t| t.counter == Some(tl.counter))
                .collect();
            let times: Vec<f64> = mine.iter().filter_map(|t| t.service_s()).collect();
            let serving_s = times.iter().sum::<f64>().round() as u64;
            let open_s = open_seconds(tl, input.from, input.to);
            let done = count(&mine, |t| t.status == TicketStatus::Done);
            let mut paused = BTreeMap::new();
            paused_by_reason(
                input.pauses.iter().filter(|p| p.counter == tl.counter),
                (input.from, input.to),
                &mut paused,
            );
            CounterDayStats {
                counter: tl.counter,
                called: count(&mine, |t| t.called_at.is_some()),
                done,
                no_show: count(&mine, |t| t.status == TicketStatus::NoShow),
                service_time: distribution(times),
                open_s,
                serving_s,
                utilisation: (open_s > 0).then(|| (serving_s as f64 / open_s as f64).min(1.0)),
                throughput_per_hour: (open_s > 0)
                    .then(|| round1(f64::from(done) * 3600.0 / open_s as f64)),
                held_s: mine.iter().map(|t| t.held_s).sum::<f64>().round() as u64,
                paused: reason_times(&paused),
                ratings: rating_stats(mine.iter().copied(), &rated),
            }
        })
        .collect();
    let staff = staff_stats(input, &rated);

    let mut hours: BTreeMap<u8, (HourStats, Vec<f64>)> = BTreeMap::new();
    fn hour(hours: &mut BTreeMap<u8, (HourStats, Vec<f64>)>, h: u8) -> &mut (HourStats, Vec<f64>) {
        hours.entry(h).or_insert_with(|| {
            (
                HourStats {
                    hour: h,
                    issued: 0,
                    called: 0,
                    done: 0,
                    wait: Distribution::default(),
                },
                Vec::new(),
            )
        })
    }
    for t in input.tickets {
        if !t.continuation {
            let entry = hour(&mut hours, local_hour(t.issued_at));
            entry.0.issued += 1;
            if let Some(c) = t.called_at {
                entry.1.push(secs(t.issued_at, c));
            }
        }
        if let Some(c) = t.called_at {
            hour(&mut hours, local_hour(c)).0.called += 1;
        }
        if let (TicketStatus::Done, Some(e)) = (t.status, t.ended_at) {
            hour(&mut hours, local_hour(e)).0.done += 1;
        }
    }
    let hours: Vec<HourStats> = hours
        .into_values()
        .map(|(mut h, waits)| {
            h.wait = distribution(waits);
            h
        })
        .collect();
    let peak_hour = hours
        .iter()
        .filter(|h| h.issued > 0)
        .max_by(|a, b| a.issued.cmp(&b.issued).then(b.hour.cmp(&a.hour)))
        .map(|h| h.hour);

    let longest_current_wait_s = input
        .tickets
        .iter()
        .filter(|t| t.status == TicketStatus::Waiting)
        .map(|t| secs(t.issued_at, now).round() as u32)
        .max();

    DayStats {
        date: input.date,
        timezone: input.tz.iana_name().unwrap_or("UTC").to_string(),
        hall,
        services,
        counters,
        hours,
        peak_hour,
        longest_current_wait_s,
        staff,
        unresumed_holds: Vec::new(),
        priority: priority_counts(input.tickets),
        low_rated: input
            .ratings
            .iter()
            .filter(|r| r.level.is_bad())
            .cloned()
            .collect(),
        rating_flags: rating_flags(input.ratings),
        appointments: appointment_stats(input.bookings, input.tickets, input.slot_places),
    }
}

/// Customers (not the entries a transfer made) who went first, per reason.
fn priority_counts(tickets: &[TicketFacts]) -> Vec<hall_api::PriorityCount> {
    let mut by: BTreeMap<&str, (u32, Vec<f64>)> = BTreeMap::new();
    for t in tickets.iter().filter(|t| !t.continuation) {
        if let Some(reason) = &t.priority_reason {
            let e = by.entry(reason.as_str()).or_default();
            e.0 += 1;
            if let Some(called) = t.called_at {
                e.1.push(secs(t.issued_at, called));
            }
        }
    }
    by.into_iter()
        .map(|(reason, (issued, waits))| hall_api::PriorityCount {
            reason: reason.to_string(),
            issued,
            wait: distribution(waits),
        })
        .collect()
}

/// One row per member of staff who signed in or called a ticket that day.
fn staff_stats(input: &DayInput<'_>, rated: &HashMap<i64, &Rating>) -> Vec<StaffDayStats> {
    let numbers: BTreeSet<&str> = input
        .attendance
        .iter()
        .map(|a| a.staff.as_str())
        .chain(input.tickets.iter().filter_map(|t| t.staff.as_deref()))
        .collect();
    numbers
        .into_iter()
        .map(|number| {
            let mine: Vec<&TicketFacts> = input
                .tickets
                .iter()
                .filter(|t| t.staff.as_deref() == Some(number))
                .collect();
            let times: Vec<f64> = mine.iter().filter_map(|t| t.service_s()).collect();
            let waits: Vec<f64> = mine
                .iter()
                .filter(|t| !t.continuation)
                .filter_map(|t| Some(secs(t.issued_at, t.called_at?)))
                .collect();
            let mut signed_in = 0.0;
            let mut paused = BTreeMap::new();
            for a in input.attendance.iter().filter(|a| a.staff == number) {
                let span = (
                    a.from.max(input.from),
                    a.to.unwrap_or(input.to).min(input.to),
                );
                if span.0 >= span.1 {
                    continue;
                }
                signed_in += secs(span.0, span.1);
                // Their pauses are those of the counter while they were signed in there.
                paused_by_reason(
                    input.pauses.iter().filter(|p| p.counter == a.counter),
                    span,
                    &mut paused,
                );
            }
            let serving = times.iter().sum::<f64>();
            let available = signed_in - paused.values().sum::<f64>();
            StaffDayStats {
                staff: StaffRef {
                    number: number.to_string(),
                    name: input.staff_names.get(number).cloned().unwrap_or_default(),
                },
                called: count(&mine, |t| t.called_at.is_some()),
                served: count(&mine, |t| t.status == TicketStatus::Done),
                no_show: count(&mine, |t| t.status == TicketStatus::NoShow),
                transferred: count(&mine, |t| t.status == TicketStatus::Transferred),
                wait: distribution(waits),
                service_time: distribution(times),
                serving_s: serving.round() as u64,
                held_s: mine.iter().map(|t| t.held_s).sum::<f64>().round() as u64,
                paused: reason_times(&paused),
                signed_in_s: signed_in.round() as u64,
                utilisation: (available >= 1.0).then(|| (serving / available).min(1.0)),
                ratings: rating_stats(mine.iter().copied(), rated),
            }
        })
        .collect()
}

fn count(tickets: &[&TicketFacts], pred: impl Fn(&TicketFacts) -> bool) -> u32 {
    u32::try_from(tickets.iter().filter(|t| pred(t)).count()).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(min: i64) -> Timestamp {
        // 2026-11-22 09:00 Asia/Shanghai plus `min` minutes
        Timestamp::from_second(1_795_309_200 + min * 60).unwrap()
    }

    fn ticket(
        service: &str,
        status: TicketStatus,
        issued: i64,
        called: Option<i64>,
        start_end: Option<(i64, i64)>,
    ) -> TicketFacts {
        TicketFacts {
            id: issued,
            business_day: Date::constant(2026, 11, 22),
            service: service.into(),
            counter: called.map(|_| 1),
            status,
            continuation: false,
            issued_at: t(issued),
            remote: false,
            called_at: called.map(t),
            started_at: start_end.map(|(s, _)| t(s)),
            ended_at: start_end.map(|(_, e)| t(e)),
            staff: None,
            held_s: 0.0,
            priority_reason: None,
        }
    }

    #[test]
    fn distribution_of_known_values() {
        let d = distribution(vec![
            10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0,
        ]);
        assert_eq!(d.count, 10);
        assert_eq!(d.mean_s, Some(55.0));
        assert_eq!(d.median_s, Some(55.0));
        assert_eq!(d.p90_s, Some(91.0));
        assert_eq!(distribution(vec![]).mean_s, None);
    }

    #[test]
    fn a_small_day_by_hand() {
        use TicketStatus::*;
        let tickets = vec![
            ticket("pay", Done, 0, Some(5), Some((6, 10))), // waited 5 min
            ticket("pay", Done, 1, Some(20), Some((21, 31))), // waited 19 min: over the 10-min target
            ticket("pay", NoShow, 2, Some(30), None),
            ticket("pay", Waiting, 50, None, None), // 10 min so far at "now" = 60: not over
            ticket("pay", Cancelled, 3, None, None),
            ticket("vip", Waiting, 30, None, None), // 30 min: over its 5-min target
        ];
        let tz = TimeZone::get("Asia/Shanghai").unwrap();
        let timeline = CounterTimeline {
            counter: 1,
            state_at_start: CounterState::Closed,
            changes: vec![
                (t(0), CounterState::Open),
                (t(40), CounterState::Paused),
                (t(50), CounterState::Open),
            ],
        };
        let input = DayInput {
            date: Date::constant(2026, 11, 22),
            tz: &tz,
            services: vec![("pay".into(), 10), ("vip".into(), 5)],
            tickets: &tickets,
            counters: std::slice::from_ref(&timeline),
            from: t(-240),
            to: t(60),
            attendance: &[],
            pauses: &[],
            staff_names: &HashMap::new(),
            ratings: &[],
            bookings: &[],
            slot_places: 0,
        };
        let s = day_stats(&input);
        let pay = &s.services[0].stats;
        assert_eq!(
            (
                pay.issued,
                pay.called,
                pay.done,
                pay.no_show,
                pay.cancelled,
                pay.waiting
            ),
            (5, 3, 2, 1, 1, 1)
        );
        assert_eq!(pay.wait.count, 3);
        assert_eq!(pay.wait.mean_s, Some(((5 + 19 + 28) * 60) as f64 / 3.0));
        assert_eq!(pay.service_level, Some(1.0 / 3.0));
        assert_eq!(pay.no_show_rate, Some(1.0 / 3.0));
        assert_eq!(pay.cancel_rate, Some(0.2));
        assert_eq!(pay.service_time.mean_s, Some(7.0 * 60.0));
        let vip = &s.services[1].stats;
        assert_eq!(vip.service_level, Some(0.0));
        // Hall: one of four measured tickets within its target.
        assert_eq!(s.hall.service_level, Some(0.25));
        let c = &s.counters[0];
        assert_eq!(c.open_s, 50 * 60); // 0–40 and 50–60
        assert_eq!(c.serving_s, 14 * 60);
        assert_eq!(c.utilisation, Some(14.0 / 50.0));
        assert_eq!(c.done, 2);
        assert_eq!(s.peak_hour, Some(9));
        assert_eq!(s.longest_current_wait_s, Some(30 * 60));
        assert_eq!(s.hours.iter().map(|h| h.issued).sum::<u32>(), 6);
    }
}
