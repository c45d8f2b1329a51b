//! Read-only connections for queries beside the writer (WAL lets them run
//! while it commits), used from the async side through `spawn_blocking`.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use std::collections::HashMap;

use hall_api::{CounterState, TicketStatus, TicketSummary};
use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, params};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::rules::stats::{Attendance, CounterTimeline, Pause, TicketFacts};
use crate::store::queries::{TICKET_COLUMNS, TicketRow, ms, ts};
use crate::store::schema;

pub struct ReadPool {
    conns: Vec<Mutex<Connection>>,
    next: AtomicUsize,
}

impl ReadPool {
    pub fn open(path: &Path, size: usize) -> anyhow::Result<Arc<ReadPool>> {
        let conns = (0..size.max(1))
            .map(|_| schema::open_reader(path).map(Mutex::new))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Arc::new(ReadPool {
            conns,
            next: AtomicUsize::new(0),
        }))
    }

    /// Runs `f` on a pooled connection off the async threads.
    pub async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let i = pool.next.fetch_add(1, Ordering::Relaxed) % pool.conns.len();
            // A poisoned lock only means another query panicked; the
            // connection itself is still usable.
            let conn = pool.conns[i].lock().unwrap_or_else(|p| p.into_inner());
            f(&conn)
        })
        .await
        .map_err(|e| Error::Internal(format!("a database query failed: {e}")))?
    }
}

/// What `rules::stats` needs of one business day.
pub struct DayFacts {
    pub tickets: Vec<TicketFacts>,
    pub counters: Vec<CounterTimeline>,
    pub attendance: Vec<Attendance>,
    pub pauses: Vec<Pause>,
    pub staff_names: HashMap<String, String>,
    /// Tickets of the day still held.
    pub held: Vec<TicketSummary>,
    pub ratings: Vec<hall_api::Rating>,
    pub bookings: Vec<crate::rules::stats::BookingFacts>,
    /// Places the days' slots offered.
    pub slot_places: u32,
}

/// The bookings of the business days `first..=last` and the places their
/// services' slots offered those days (closures, lifted or not, taken out
/// as they stood).
fn appointment_facts(
    conn: &Connection,
    hall: &Config,
    (first, last): (Date, Date),
) -> Result<(Vec<crate::rules::stats::BookingFacts>, u32)> {
    let mut stmt = conn.prepare_cached(
        "SELECT slot_start, status, created_at, checked_in_at, late, ticket FROM bookings \
         WHERE slot_day BETWEEN ?1 AND ?2",
    )?;
    let rows = stmt.query_map([first.to_string(), last.to_string()], |r| {
        let status: String = r.get(1)?;
        Ok(crate::rules::stats::BookingFacts {
            slot_start: ts(r.get(0)?),
            status: hall_api::BookingStatus::parse(&status)
                .unwrap_or(hall_api::BookingStatus::Booked),
            booked_at: ts(r.get(2)?),
            checked_in_at: r.get::<_, Option<i64>>(3)?.map(ts),
            late: r.get(4)?,
            ticket: r.get(5)?,
        })
    })?;
    let bookings = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    let mut places = 0u32;
    let held = crate::store::queries::held_calendar(conn, hall)?;
    for s in hall.services.iter().filter(|s| s.slots.is_some()) {
        let rules = s.slots.expect("filtered on slots");
        let mut day = first;
        while day <= last {
            let (from, to) = hall.hall.day_window(day).map_err(Error::Internal)?;
            let closures = crate::store::queries::closures_during(conn, &s.id, ms(from), ms(to))?;
            let count =
                crate::rules::appointments::slots(&hall.calendar(s, &held, &closures), day, &rules)
                    .len();
            places =
                places.saturating_add(u32::try_from(count).unwrap_or(u32::MAX) * rules.per_slot);
            let Ok(next) = day.tomorrow() else { break };
            day = next;
        }
    }
    Ok((bookings, places))
}

impl DayFacts {
    /// What `rules::stats` computes from, for `date` (the first day) and
    /// the window `(from, to)` these facts were read for.
    pub fn input<'a>(
        &'a self,
        hall: &'a Config,
        date: Date,
        (from, to): (Timestamp, Timestamp),
    ) -> crate::rules::stats::DayInput<'a> {
        crate::rules::stats::DayInput {
            date,
            tz: &hall.hall.timezone,
            services: hall
                .services
                .iter()
                .map(|s| (s.id.clone(), s.target_wait_min))
                .collect(),
            tickets: &self.tickets,
            counters: &self.counters,
            from,
            to,
            attendance: &self.attendance,
            pauses: &self.pauses,
            staff_names: &self.staff_names,
            ratings: &self.ratings,
            bookings: &self.bookings,
            slot_places: self.slot_places,
        }
    }
}

/// The day's tickets, counter timelines, attendance and pauses.
pub fn day_facts(
    conn: &Connection,
    hall: &Config,
    date: Date,
    from: Timestamp,
    to: Timestamp,
) -> Result<DayFacts> {
    period_facts(conn, hall, (date, date), from, to)
}

/// The same for the business days `first..=last`, which run from `from` to `to`.
pub fn period_facts(
    conn: &Connection,
    hall: &Config,
    (first, last): (Date, Date),
    from: Timestamp,
    to: Timestamp,
) -> Result<DayFacts> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE business_day BETWEEN ?1 AND ?2"
    ))?;
    let rows = stmt.query_map([first.to_string(), last.to_string()], TicketRow::from_row)?;
    let mut tickets = Vec::new();
    let mut held = Vec::new();
    for row in rows {
        let t = row?;
        if t.status == TicketStatus::Held {
            held.push(t.summary());
        }
        // A hold still running counts up to the end of the window.
        let held_ms = t.held_ms + t.held_since.map_or(0, |since| (ms(to) - since).max(0));
        tickets.push(TicketFacts {
            id: t.id,
            business_day: t.business_day.parse().unwrap_or(first),
            service: t.service,
            counter: t.counter,
            status: t.status,
            continuation: t.transferred_from.is_some(),
            issued_at: ts(t.checked_in_at.unwrap_or(t.issued_at)),
            remote: t.check_in_code.is_some(),
            called_at: t.called_at.map(ts),
            started_at: t.started_at.map(ts),
            ended_at: t.ended_at.map(ts),
            staff: t.staff,
            held_s: held_ms as f64 / 1000.0,
            priority_reason: t.priority_reason,
        });
    }
    let mut stmt = conn.prepare_cached(
        "SELECT staff, counter, signed_in_at, COALESCE(signed_out_at, MIN(expires_at, ?2)) FROM attendance \
         WHERE signed_in_at < ?2 AND COALESCE(signed_out_at, expires_at) > ?1",
    )?;
    let attendance = stmt
        .query_map(params![ms(from), ms(to)], |r| {
            Ok(Attendance {
                staff: r.get(0)?,
                counter: r.get(1)?,
                from: ts(r.get(2)?),
                to: Some(ts(r.get(3)?)),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT counter, reason, started_at, ended_at FROM pauses \
         WHERE started_at < ?2 AND (ended_at IS NULL OR ended_at > ?1)",
    )?;
    let pauses = stmt
        .query_map(params![ms(from), ms(to)], |r| {
            Ok(Pause {
                counter: r.get(0)?,
                reason: r.get(1)?,
                from: ts(r.get(2)?),
                to: r.get::<_, Option<i64>>(3)?.map(ts),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut stmt = conn.prepare_cached("SELECT number, name FROM staff")?;
    let staff_names = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<HashMap<_, _>>>()?;
    let state_of = |kind: &str| match kind {
        "counter.opened" | "counter.resumed" => Some(CounterState::Open),
        "counter.closed" => Some(CounterState::Closed),
        "counter.paused" => Some(CounterState::Paused),
        _ => None,
    };
    let mut before = conn.prepare_cached(
        "SELECT kind FROM events WHERE counter = ?1 AND kind LIKE 'counter.%' AND at < ?2 ORDER BY id DESC LIMIT 1",
    )?;
    let mut during = conn.prepare_cached(
        "SELECT at, kind FROM events WHERE counter = ?1 AND kind LIKE 'counter.%' AND at >= ?2 AND at < ?3 ORDER BY id",
    )?;
    // Before the hall's first event there was no hall: no counter was
    // open. From then on each counter was in its initial state until it
    // changed.
    let began: Option<i64> = conn
        .prepare_cached("SELECT MIN(at) FROM events")?
        .query_row([], |r| r.get(0))?;
    let hall_existed = began.is_some_and(|at| at < ms(from));
    let mut timelines = Vec::new();
    for k in &hall.counters {
        let at_start: Option<String> = before
            .query_row(params![k.number, ms(from)], |r| r.get(0))
            .optional()?;
        let state_at_start = at_start
            .as_deref()
            .and_then(state_of)
            .unwrap_or(if hall_existed {
                k.initial_state
            } else {
                CounterState::Closed
            });
        let mut changes: Vec<(Timestamp, CounterState)> = match began {
            Some(at) if !hall_existed && at < ms(to) && at_start.is_none() => {
                vec![(ts(at), k.initial_state)]
            }
            _ => Vec::new(),
        };
        let logged: Vec<(Timestamp, CounterState)> = during
            .query_map(params![k.number, ms(from), ms(to)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter_map(|(at, kind)| state_of(&kind).map(|s| (ts(at), s)))
            .collect();
        changes.extend(logged);
        timelines.push(CounterTimeline {
            counter: k.number,
            state_at_start,
            changes,
        });
    }
    let (bookings, slot_places) = appointment_facts(conn, hall, (first, last))?;
    Ok(DayFacts {
        bookings,
        slot_places,
        tickets,
        counters: timelines,
        attendance,
        pauses,
        staff_names,
        held,
        ratings: crate::store::queries::ratings_between(
            conn,
            &first.to_string(),
            &last.to_string(),
        )?,
    })
}

/// The report for business days `first..=last` as of `now` (a period
/// reaching into the future ends now), with the period just before it.
/// Run it inside one read transaction, so both periods agree.
pub fn report(
    conn: &Connection,
    hall: &Config,
    (first, last): (Date, Date),
    now: Timestamp,
) -> Result<hall_api::Report> {
    use crate::rules::report::{Period, previous_period, report};
    if last < first {
        return Err(Error::BadRequest(format!(
            "the period ends ({last}) before it starts ({first})"
        )));
    }
    let h = &hall.hall;
    let window = |(first, last): (Date, Date)| -> Result<(Timestamp, Timestamp)> {
        let (from, _) = h.day_window(first).map_err(Error::BadRequest)?;
        let (_, next) = h.day_window(last).map_err(Error::BadRequest)?;
        Ok((from, next.min(now).max(from)))
    };
    let (from, to) = window((first, last))?;
    let facts = period_facts(conn, hall, (first, last), from, to)?;
    let before = previous_period(first, last);
    let (pfrom, pto) = window(before)?;
    let pfacts = period_facts(conn, hall, before, pfrom, pto)?;
    let current = Period {
        input: facts.input(hall, first, (from, to)),
        first,
        last,
    };
    let previous = Period {
        input: pfacts.input(hall, before.0, (pfrom, pto)),
        first: before.0,
        last: before.1,
    };
    let mut r = report(&current, &previous);
    r.stats.unresumed_holds = facts.held;
    Ok(r)
}
