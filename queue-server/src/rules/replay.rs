//! A hall's day rebuilt from its event log alone, as head office sees it:
//! the same facts `store::reader` reads from the hall's tables, so
//! [`super::stats::day_stats`] gives head office the hall's own figures.
//!
//! Each ticket's facts follow its events the way `Hall::advance` stamps
//! them: the first call sets the call time, counter and staff, a start the
//! start, a final status the end; a hold runs until its resume; a remote
//! ticket's wait starts at its check-in; a transfer makes a waiting entry
//! that keeps the original issue time.

use std::collections::{BTreeMap, HashMap};

use hall_api::{CounterState, Event, EventKind, Rating, TicketStatus, TicketSummary};
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;

use super::numbering;
use super::stats::{Attendance, CounterTimeline, Pause, TicketFacts, secs};

/// What a day's replay needs to know of the hall besides its events.
pub struct ReplayHall<'a> {
    pub tz: &'a TimeZone,
    pub day_starts_at: Time,
    /// Each counter's number and the state it has before it ever changed.
    pub counters: &'a [(u32, CounterState)],
}

/// The log around one business day.
pub struct DayLog<'a> {
    pub date: Date,
    pub from: Timestamp,
    pub to: Timestamp,
    /// The hall's first event ever, if any.
    pub first_event_at: Option<Timestamp>,
    /// Each counter's last `counter.*` event before `from`.
    pub counter_before: &'a HashMap<u32, EventKind>,
    /// The events from `from` to `to`, oldest first.
    pub events: &'a [Event],
}

/// The facts of the day, as `store::reader::DayFacts` holds them.
#[derive(Debug, Default)]
pub struct ReplayedDay {
    pub tickets: Vec<TicketFacts>,
    pub counters: Vec<CounterTimeline>,
    pub attendance: Vec<Attendance>,
    pub pauses: Vec<Pause>,
    pub staff_names: HashMap<String, String>,
    pub ratings: Vec<Rating>,
    /// Tickets of the day still held, as their last event left them.
    pub held: Vec<TicketSummary>,
}

/// The state a counter event leaves its counter in.
pub fn counter_state_after(kind: EventKind) -> Option<CounterState> {
    match kind {
        EventKind::CounterOpened | EventKind::CounterResumed => Some(CounterState::Open),
        EventKind::CounterClosed => Some(CounterState::Closed),
        EventKind::CounterPaused => Some(CounterState::Paused),
        _ => None,
    }
}

/// A ticket as its events have left it so far.
struct Replaying {
    facts: TicketFacts,
    held_since: Option<Timestamp>,
    last: TicketSummary,
}

pub fn replay_day(hall: &ReplayHall<'_>, log: &DayLog<'_>) -> ReplayedDay {
    let mut tickets: BTreeMap<i64, Replaying> = BTreeMap::new();
    let mut day = ReplayedDay::default();
    let mut signed_in: HashMap<(String, u32), Timestamp> = HashMap::new();
    let mut paused: HashMap<u32, (String, Timestamp)> = HashMap::new();
    let mut changes: HashMap<u32, Vec<(Timestamp, CounterState)>> = HashMap::new();
    let business_day = |at: Timestamp| numbering::business_day(at, hall.tz, hall.day_starts_at);

    for e in log.events {
        if let Some(s) = &e.staff {
            day.staff_names.insert(s.number.clone(), s.name.clone());
        }
        if let (Some(counter), Some(state)) = (e.counter, counter_state_after(e.kind)) {
            changes.entry(counter).or_default().push((e.at, state));
            // A pause ends with a resume or a close; a new one begins.
            if let Some((reason, from)) = paused.remove(&counter) {
                day.pauses.push(Pause {
                    counter,
                    reason,
                    from,
                    to: Some(e.at),
                });
            }
            if e.kind == EventKind::CounterPaused {
                paused.insert(counter, (e.reason.clone().unwrap_or_default(), e.at));
            }
        }
        match (e.kind, &e.staff, e.counter) {
            (EventKind::StaffSignedIn, Some(s), Some(c)) => {
                signed_in.insert((s.number.clone(), c), e.at);
            }
            (EventKind::StaffSignedOut, Some(s), Some(c)) => {
                if let Some(from) = signed_in.remove(&(s.number.clone(), c)) {
                    day.attendance.push(Attendance {
                        staff: s.number.clone(),
                        counter: c,
                        from,
                        to: Some(e.at),
                    });
                }
            }
            _ => {}
        }
        for summary in e.ticket.iter().chain(e.transferred_to.iter()) {
            let t = tickets.entry(summary.id).or_insert_with(|| Replaying {
                facts: TicketFacts {
                    id: summary.id,
                    business_day: business_day(summary.issued_at),
                    service: summary.service.clone(),
                    counter: None,
                    status: summary.status,
                    continuation: summary.transferred,
                    issued_at: summary.issued_at,
                    remote: summary.remote,
                    called_at: None,
                    started_at: None,
                    ended_at: None,
                    staff: None,
                    held_s: 0.0,
                    priority_reason: summary.priority_reason.clone(),
                },
                held_since: None,
                last: summary.clone(),
            });
            t.last = summary.clone();
            let f = &mut t.facts;
            f.status = summary.status;
            f.counter = summary.counter;
            f.remote |= summary.remote;
            if summary.id != e.ticket.as_ref().map_or(-1, |t| t.id) {
                continue; // the entry a transfer made: nothing happened to it yet
            }
            match e.kind {
                EventKind::TicketCalled => {
                    f.called_at = Some(e.at);
                    f.staff = e.staff.as_ref().map(|s| s.number.clone());
                }
                EventKind::TicketStarted => f.started_at = Some(e.at),
                EventKind::TicketCheckedIn => f.issued_at = e.at,
                EventKind::TicketHeld => t.held_since = Some(e.at),
                EventKind::TicketResumed => {
                    if let Some(since) = t.held_since.take() {
                        f.held_s += secs(since, e.at).max(0.0);
                    }
                }
                EventKind::TicketRated => {
                    if let Some(r) = &e.rating {
                        day.ratings.push(Rating {
                            id: e.id,
                            ticket_id: summary.id,
                            number: summary.number.clone(),
                            service: summary.service.clone(),
                            counter: summary.counter,
                            staff: e.staff.clone(),
                            transaction_ref: r.transaction_ref.clone(),
                            level: r.level,
                            reasons: r.reasons.clone(),
                            channel: r.channel,
                            completed_at: f.ended_at.unwrap_or(f.issued_at),
                            rated_at: e.at,
                            follow_up: None,
                        });
                    }
                }
                _ => {}
            }
            if summary.status.is_final() && f.ended_at.is_none() {
                f.ended_at = Some(e.at);
            }
        }
    }

    // Held (in ms, as the hall keeps it) and still held up to the window's end.
    let of_the_day = tickets
        .into_values()
        .filter(|t| t.facts.business_day == log.date);
    day.tickets = of_the_day
        .map(|mut t| {
            if t.last.status == TicketStatus::Held {
                day.held.push(t.last.clone());
            }
            if let Some(since) = t.held_since {
                t.facts.held_s += secs(since, log.to).max(0.0);
            }
            t.facts.held_s = (t.facts.held_s * 1000.0).round() / 1000.0;
            t.facts
        })
        .collect();
    for ((staff, counter), from) in signed_in {
        day.attendance.push(Attendance {
            staff,
            counter,
            from,
            to: Some(log.to),
        });
    }
    for (counter, (reason, from)) in paused {
        day.pauses.push(Pause {
            counter,
            reason,
            from,
            to: None,
        });
    }

    // Before the hall's first event no counter was open; from then on each
    // was in its first state until it changed (as `store::reader` has it).
    let hall_existed = log.first_event_at.is_some_and(|at| at < log.from);
    day.counters = hall
        .counters
        .iter()
        .map(|&(counter, initial)| {
            let before = log
                .counter_before
                .get(&counter)
                .and_then(|k| counter_state_after(*k));
            let state_at_start = before.unwrap_or(if hall_existed {
                initial
            } else {
                CounterState::Closed
            });
            let mut timeline = match log.first_event_at {
                Some(at) if !hall_existed && at < log.to && before.is_none() => {
                    vec![(at, initial)]
                }
                _ => Vec::new(),
            };
            timeline.extend(changes.remove(&counter).unwrap_or_default());
            CounterTimeline {
                counter,
                state_at_start,
                changes: timeline,
            }
        })
        .collect();
    day
}
