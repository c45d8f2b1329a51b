//! Queries shared by the writer (inside its transaction) and the readers.

use std::collections::{BTreeMap, HashMap};

use hall_api::{
    Call, CounterState, CounterView, Event, FollowUp, I18nText, Lang, Rating, RatingChannel,
    RatingLevel, ServiceView, StaffRef, Ticket, TicketStatus, TicketSummary, Unavailable,
};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::rules::calendar::{ClosedWhy, Closure, HeldCalendar, Holidays, Openness, Special};
use crate::rules::estimate::{self, OpenCounter};
use crate::rules::policy::{Candidate, QueueRank};

pub fn ms(t: Timestamp) -> i64 {
    t.as_millisecond()
}

pub fn ts(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A row of the tickets table.
#[derive(Debug, Clone)]
pub struct TicketRow {
    pub id: i64,
    pub number: String,
    pub service: String,
    pub business_day: String,
    pub status: TicketStatus,
    pub rank: QueueRank,
    pub issued_at: i64,
    pub called_at: Option<i64>,
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub counter: Option<u32>,
    pub recalls: u32,
    pub channel: String,
    pub idempotency_key: Option<String>,
    pub tracking_code: String,
    pub customer_ref: Option<String>,
    pub lang: Option<String>,
    pub transaction_ref: Option<String>,
    pub transferred_from: Option<i64>,
    pub transferred_to: Option<i64>,
    /// The staff number of who called it.
    pub staff: Option<String>,
    /// Read only: that member of staff's name.
    pub staff_name: Option<String>,
    /// Time held so far (finished holds), and since when it is held now.
    pub held_ms: i64,
    pub held_since: Option<i64>,
    /// The ticket's own priority, negated (`rules::policy::Candidate`).
    pub precedence: i32,
    /// Why it has one: `key_account`, or one of the hall's priority reasons.
    pub priority_reason: Option<String>,
    /// A remote ticket's check-in code, when it by (ms), and when it was.
    pub check_in_code: Option<String>,
    pub check_in_by: Option<i64>,
    pub checked_in_at: Option<i64>,
}

/// The tickets a counter may call: those taken in the hall, and remote
/// ones once their holder checked in.
pub const CALLABLE: &str = "(check_in_code IS NULL OR checked_in_at IS NOT NULL)";

/// The calling order within a service, as SQL: the columns of
/// `rules::policy::queue_key`, in its order (the `tickets_queue` index
/// serves it).
pub const QUEUE_ORDER: &str = "precedence, rank_class, issued_at, id";

pub const TICKET_COLUMNS: &str = "id, number, service, business_day, status, rank_class, issued_at, called_at, \
     started_at, ended_at, counter, recalls, channel, idempotency_key, tracking_code, customer_ref, lang, \
     transaction_ref, transferred_from, transferred_to, staff, \
     (SELECT name FROM staff WHERE staff.number = tickets.staff), held_ms, held_since, precedence, priority_reason, \
     check_in_code, check_in_by, checked_in_at";

impl TicketRow {
    pub fn from_row(r: &Row<'_>) -> rusqlite::Result<TicketRow> {
        let status: String = r.get(4)?;
        Ok(TicketRow {
            id: r.get(0)?,
            number: r.get(1)?,
            service: r.get(2)?,
            business_day: r.get(3)?,
            status: TicketStatus::parse(&status).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(
                    4,
                    rusqlite::types::Type::Text,
                    format!("unknown status {status}").into(),
                )
            })?,
            rank: QueueRank::from_stored(r.get(5)?),
            issued_at: r.get(6)?,
            called_at: r.get(7)?,
            started_at: r.get(8)?,
            ended_at: r.get(9)?,
            counter: r.get(10)?,
            recalls: r.get(11)?,
            channel: r.get(12)?,
            idempotency_key: r.get(13)?,
            tracking_code: r.get(14)?,
            customer_ref: r.get(15)?,
            lang: r.get(16)?,
            transaction_ref: r.get(17)?,
            transferred_from: r.get(18)?,
            transferred_to: r.get(19)?,
            staff: r.get(20)?,
            staff_name: r.get(21)?,
            held_ms: r.get(22)?,
            held_since: r.get(23)?,
            precedence: r.get(24)?,
            priority_reason: r.get(25)?,
            check_in_code: r.get(26)?,
            check_in_by: r.get(27)?,
            checked_in_at: r.get(28)?,
        })
    }

    /// The ticket as the call-next policy sees it.
    pub fn candidate(&self) -> Candidate {
        Candidate {
            id: self.id,
            service: self.service.clone(),
            rank: self.rank,
            issued_at: ts(self.issued_at),
            precedence: self.precedence,
            awaiting_check_in: self.awaiting_check_in(),
        }
    }

    pub fn summary(&self) -> TicketSummary {
        TicketSummary {
            id: self.id,
            number: self.number.clone(),
            service: self.service.clone(),
            status: self.status,
            issued_at: ts(self.issued_at),
            counter: self.counter,
            recalls: self.recalls,
            transferred: self.transferred_from.is_some(),
            priority_reason: self.priority_reason.clone(),
            remote: self.check_in_code.is_some(),
        }
    }

    /// The full ticket; `position` is (people ahead, estimated seconds) while waiting.
    pub fn to_ticket(&self, position: Option<(u32, Option<u32>)>) -> Ticket {
        Ticket {
            id: self.id,
            number: self.number.clone(),
            service: self.service.clone(),
            status: self.status,
            issued_at: ts(self.issued_at),
            business_day: self.business_day.parse().unwrap_or(jiff::civil::Date::ZERO),
            called_at: self.called_at.map(ts),
            started_at: self.started_at.map(ts),
            ended_at: self.ended_at.map(ts),
            counter: self.counter,
            recalls: self.recalls,
            ahead: position.map(|p| p.0),
            estimated_wait_s: position.and_then(|p| p.1),
            tracking_code: self.tracking_code.clone(),
            channel: self.channel.clone(),
            customer_ref: self.customer_ref.clone(),
            lang: self.lang.as_deref().and_then(Lang::parse),
            transaction_ref: self.transaction_ref.clone(),
            transferred_from: self.transferred_from,
            transferred_to: self.transferred_to,
            staff: self.staff_ref(),
            held_s: (self.held_ms / 1000) as u32,
            priority_reason: self.priority_reason.clone(),
            remote: self.remote(),
        }
    }

    /// Whether and until when a remote ticket checks in.
    pub fn remote(&self) -> Option<hall_api::RemoteArrival> {
        Some(hall_api::RemoteArrival {
            check_in_code: self.check_in_code.clone()?,
            check_in_by: ts(self.check_in_by.unwrap_or_default()),
            checked_in_at: self.checked_in_at.map(ts),
        })
    }

    /// A remote ticket whose holder has not checked in yet.
    pub fn awaiting_check_in(&self) -> bool {
        self.check_in_code.is_some() && self.checked_in_at.is_none()
    }

    pub fn staff_ref(&self) -> Option<StaffRef> {
        Some(StaffRef {
            number: self.staff.clone()?,
            name: self.staff_name.clone().unwrap_or_default(),
        })
    }
}

pub fn ticket_by_id(conn: &Connection, id: i64) -> Result<Option<TicketRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?1"
    ))?;
    Ok(stmt.query_row([id], TicketRow::from_row).optional()?)
}

pub fn ticket_by_idempotency(
    conn: &Connection,
    channel: &str,
    key: &str,
) -> Result<Option<TicketRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE channel = ?1 AND idempotency_key = ?2"
    ))?;
    Ok(stmt
        .query_row(params![channel, key], TicketRow::from_row)
        .optional()?)
}

/// A closure from `from, until, reason_zh, reason_en`.
fn closure_row(r: &Row<'_>) -> rusqlite::Result<Closure> {
    Ok(Closure {
        from: ts(r.get(0)?),
        until: ts(r.get(1)?),
        reason: hall_api::I18nText {
            zh: r.get(2)?,
            en: r.get(3)?,
        },
    })
}

/// What the database holds of the calendar ([`HeldCalendar`]): the one
/// place the calendar's holidays and head office's hours are read.
pub fn held_calendar(conn: &Connection, hall: &Config) -> Result<HeldCalendar> {
    let mut weeks = BTreeMap::new();
    let mut stmt = conn.prepare_cached("SELECT service, hours FROM service_hours")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (service, kept) = row?;
        // Checked when they came; should a later version read them
        // otherwise, the service keeps its own hours rather than the hall
        // refusing every ticket.
        let week = serde_json::from_str::<hall_api::head_office::ServiceHours>(&kept)
            .map_err(|e| e.to_string())
            .and_then(|sent| crate::config::sent_week(&sent, hall.hall.extra_workday_like));
        match week {
            Ok(week) => {
                weeks.insert(service, week);
            }
            Err(e) => {
                tracing::error!(%service, error = %e, "head office's hours for the service do not read; it keeps its own")
            }
        }
    }
    Ok(HeldCalendar {
        holidays: holidays(conn, hall)?,
        weeks,
    })
}

/// What head office set of the hall's services, to lay over its
/// configuration ([`crate::config::LiveConfig`]): the one place they are
/// read back.
pub fn held_service_settings(
    conn: &Connection,
) -> rusqlite::Result<Vec<(String, hall_api::head_office::ServiceSettings)>> {
    let mut stmt = conn.prepare_cached("SELECT service, settings FROM service_settings")?;
    let mut held = Vec::new();
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))? {
        let (service, kept) = row?;
        // As with hours: settings some later version cannot read leave the
        // service its own.
        match serde_json::from_str(&kept) {
            Ok(settings) => held.push((service, settings)),
            Err(e) => {
                tracing::error!(%service, error = %e, "head office's settings for the service do not read; it keeps its own")
            }
        }
    }
    Ok(held)
}

/// What head office set in place of the configuration's, newest first.
pub fn set_by_office(conn: &Connection) -> Result<Vec<hall_api::head_office::OfficeSetting>> {
    let mut stmt = conn.prepare_cached(
        "SELECT 'holidays', CAST(year AS TEXT), set_by, set_at FROM holiday_years \
         UNION ALL SELECT 'hours', service, set_by, set_at FROM service_hours \
         UNION ALL SELECT 'service', service, set_by, set_at FROM service_settings \
         ORDER BY 4 DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(hall_api::head_office::OfficeSetting {
            kind: r.get(0)?,
            of: r.get(1)?,
            by: r.get(2)?,
            at: ts(r.get(3)?),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The hall's holiday schedule: its own files', each year head office
/// sent in that year's place.
fn holidays(conn: &Connection, hall: &Config) -> Result<Holidays> {
    // Every year sent, with its days: a year with none at all still
    // replaces the file's.
    let mut stmt = conn.prepare_cached(
        "SELECT y.year, d.day, d.kind, d.name_zh, d.name_en \
         FROM holiday_years y LEFT JOIN holiday_days d ON d.year = y.year",
    )?;
    let mut sent: BTreeMap<i16, Holidays> = BTreeMap::new();
    for row in stmt.query_map([], |r| {
        Ok((
            r.get::<_, i16>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
        ))
    })? {
        let (year, day, kind, zh, en) = row?;
        let days = &mut sent.entry(year).or_default().days;
        let (Some(day), Some(kind), Some(zh), Some(en)) = (day, kind, zh, en) else {
            continue;
        };
        let day: jiff::civil::Date = day
            .parse()
            .map_err(|e| Error::Internal(format!("a kept holiday {day} does not parse: {e}")))?;
        let name = I18nText { zh, en };
        let special = if kind == "workday" {
            Special::Workday(name)
        } else {
            Special::Holiday(name)
        };
        days.insert(day, special);
    }
    Ok(hall.filed_holidays.with_years(&sent))
}

/// The closures in force now or later that apply to `service`.
pub fn closures_for(conn: &Connection, service: &str, now_ms: i64) -> Result<Vec<Closure>> {
    let mut stmt = conn.prepare_cached(
        "SELECT from_at, until_at, reason_zh, reason_en FROM closures \
         WHERE lifted_at IS NULL AND until_at > ?1 \
         AND (services IS NULL OR instr(services, ',' || ?2 || ',') > 0) ORDER BY from_at",
    )?;
    let rows = stmt.query_map(params![now_ms, service], closure_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The closures of `service` that overlapped `from..to` (ms) as they were
/// kept (a lifted one counts from its start until it was lifted).
pub fn closures_during(
    conn: &Connection,
    service: &str,
    from: i64,
    to: i64,
) -> Result<Vec<Closure>> {
    let mut stmt = conn.prepare_cached(
        "SELECT from_at, MIN(until_at, COALESCE(lifted_at, until_at)), reason_zh, reason_en FROM closures \
         WHERE from_at < ?2 AND MIN(until_at, COALESCE(lifted_at, until_at)) > ?1 \
         AND (services IS NULL OR instr(services, ',' || ?3 || ',') > 0) ORDER BY from_at",
    )?;
    let rows = stmt.query_map(params![from, to, service], closure_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Closures in force now or to come, soonest first (the manager's list).
pub fn closure_views(conn: &Connection, now_ms: i64) -> Result<Vec<hall_api::ClosureView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, from_at, until_at, reason_zh, reason_en, services, created_by FROM closures \
         WHERE lifted_at IS NULL AND until_at > ?1 ORDER BY from_at, id",
    )?;
    let rows = stmt.query_map([now_ms], |r| {
        let services: Option<String> = r.get(5)?;
        Ok(hall_api::ClosureView {
            id: r.get(0)?,
            from: ts(r.get(1)?),
            until: ts(r.get(2)?),
            reason: hall_api::I18nText {
                zh: r.get(3)?,
                en: r.get(4)?,
            },
            services: services.map(|s| {
                s.split(',')
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            }),
            created_by: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether any remote ticket still waits for a check-in whose time ran out by `now` (ms).
pub fn remote_overdue_exists(conn: &Connection, now: i64) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM tickets WHERE status = 'waiting' AND check_in_code IS NOT NULL \
         AND checked_in_at IS NULL AND check_in_by <= ?1)",
    )?;
    Ok(stmt.query_row([now], |r| r.get(0))?)
}

/// The first ticket of a service's queue, in calling order.
pub fn queue_head(conn: &Connection, service: &str) -> Result<Option<TicketRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE status = 'waiting' AND service = ?1 \
         AND {CALLABLE} ORDER BY {QUEUE_ORDER} LIMIT 1"
    ))?;
    Ok(stmt.query_row([service], TicketRow::from_row).optional()?)
}

/// People of the same service called before this waiting ticket
/// (`rules::policy::ahead_in_service`): those whose key in
/// [`QUEUE_ORDER`] is smaller, compared as one row value.
pub fn ahead_of(conn: &Connection, t: &TicketRow) -> Result<u32> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT COUNT(*) FROM tickets WHERE status = 'waiting' AND service = ?1 \
         AND ({QUEUE_ORDER}) < (?2, ?3, ?4, ?5)"
    ))?;
    Ok(stmt.query_row(
        params![t.service, t.precedence, t.rank.stored(), t.issued_at, t.id],
        |r| r.get(0),
    )?)
}

/// Waiting tickets per service (kept by triggers, see the schema).
pub fn waiting_counts(conn: &Connection) -> Result<HashMap<String, u32>> {
    let mut stmt =
        conn.prepare_cached("SELECT service, waiting FROM waiting_counts WHERE waiting > 0")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, u32>(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Issue time of each service's longest-waiting ticket (as issued there,
/// not continuing from a transfer).
pub fn oldest_waiting(conn: &Connection) -> Result<HashMap<String, i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT service, MIN(issued_at) FROM tickets WHERE status = 'waiting' AND rank_class = ?1 GROUP BY service",
    )?;
    let rows = stmt.query_map([QueueRank::Fresh.stored()], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A counter's stored state and current ticket.
#[derive(Debug, Clone)]
pub struct CounterRow {
    pub number: u32,
    pub state: CounterState,
    pub current_ticket: Option<i64>,
}

pub fn counter_rows(conn: &Connection) -> Result<HashMap<u32, CounterRow>> {
    let mut stmt = conn.prepare_cached("SELECT number, state, current_ticket FROM counters")?;
    let rows = stmt.query_map([], counter_from_row)?;
    Ok(rows
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .map(|c| (c.number, c))
        .collect())
}

pub fn counter_row(conn: &Connection, number: u32) -> Result<Option<CounterRow>> {
    let mut stmt = conn
        .prepare_cached("SELECT number, state, current_ticket FROM counters WHERE number = ?1")?;
    Ok(stmt.query_row([number], counter_from_row).optional()?)
}

fn counter_from_row(r: &Row<'_>) -> rusqlite::Result<CounterRow> {
    let state: String = r.get(1)?;
    Ok(CounterRow {
        number: r.get(0)?,
        state: CounterState::parse(&state).unwrap_or(CounterState::Closed),
        current_ticket: r.get(2)?,
    })
}

/// Recent seconds per customer (call to end, less time held) of a
/// service, newest first.
pub fn recent_service_seconds(conn: &Connection, service: &str) -> Result<Vec<f64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT ended_at - called_at - held_ms FROM tickets WHERE service = ?1 AND ended_at IS NOT NULL \
         AND called_at IS NOT NULL ORDER BY ended_at DESC LIMIT 20",
    )?;
    let rows = stmt.query_map([service], |r| r.get::<_, i64>(0))?;
    Ok(rows
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .map(|ms| ms.max(0) as f64 / 1000.0)
        .collect())
}

/// What the estimate needs to know about the hall right now.
pub struct HallLoad {
    pub waiting: HashMap<String, u32>,
    pub counters: HashMap<u32, CounterRow>,
}

impl HallLoad {
    pub fn read(conn: &Connection) -> Result<HallLoad> {
        Ok(HallLoad {
            waiting: waiting_counts(conn)?,
            counters: counter_rows(conn)?,
        })
    }

    /// The open counters serving `service`, as the estimate sees them.
    pub fn open_counters(&self, hall: &Config, service: &str) -> Vec<OpenCounter> {
        hall.counters
            .iter()
            .filter(|k| k.services.iter().any(|s| s == service))
            .filter_map(|k| {
                let row = self.counters.get(&k.number)?;
                (row.state == CounterState::Open).then(|| OpenCounter {
                    busy_queues: k
                        .services
                        .iter()
                        .filter(|s| *s == service || self.waiting.get(*s).copied().unwrap_or(0) > 0)
                        .count() as u32,
                    occupied: row.current_ticket.is_some(),
                })
            })
            .collect()
    }

    /// Estimated seconds for a ticket of `service` with `ahead` before it.
    /// Seconds until a ticket with `ahead` before it is called, counting
    /// only the service's opening time (a wait that reaches a lunch break
    /// or the evening goes on after it) and the appointments due before it
    /// ends (they go first).
    pub fn estimate(
        &self,
        conn: &Connection,
        hall: &Config,
        held: &HeldCalendar,
        service: &str,
        ahead: u32,
        now: Timestamp,
    ) -> Result<Option<u32>> {
        let counters = self.open_counters(hall, service);
        let Some(cfg) = hall.service(service) else {
            return Ok(None);
        };
        if counters.is_empty() {
            return Ok(None);
        }
        let expected = f64::from(cfg.expected_service_min) * 60.0;
        let per = estimate::service_seconds(&recent_service_seconds(conn, service)?, expected);
        let Some(mut open_s) = estimate::wait_seconds(ahead, per, &counters) else {
            return Ok(None);
        };
        let closures = closures_for(conn, service, ms(now))?;
        let cal = hall.calendar(cfg, held, &closures);
        // Appointments due before this wait ends go first: count them in.
        if cfg.slots.is_some() {
            let end = cal.after_open_time(now, open_s).unwrap_or(now);
            let w = hall.appointments.window;
            let due = crate::store::bookings::due_between(
                conn,
                service,
                ms(now) - i64::from(w.late_min) * 60_000,
                ms(end) + i64::from(w.early_min) * 60_000,
            )?;
            if due > 0 {
                open_s = estimate::wait_seconds(ahead + due, per, &counters).unwrap_or(open_s);
            }
        }
        let called_at = cal.after_open_time(now, open_s);
        Ok(Some(called_at.map_or(open_s, |at| {
            u32::try_from(at.duration_since(now).as_secs().max(0)).unwrap_or(u32::MAX)
        })))
    }
}

/// The full ticket with its position when it is waiting.
pub fn ticket_view(
    conn: &Connection,
    hall: &Config,
    row: &TicketRow,
    now: Timestamp,
) -> Result<Ticket> {
    if row.status != TicketStatus::Waiting {
        return Ok(row.to_ticket(None));
    }
    let ahead = ahead_of(conn, row)?;
    let held = held_calendar(conn, hall)?;
    let est = HallLoad::read(conn)?.estimate(conn, hall, &held, &row.service, ahead, now)?;
    Ok(row.to_ticket(Some((ahead, est))))
}

pub fn counter_view(
    conn: &Connection,
    hall: &Config,
    row: &CounterRow,
    now: Timestamp,
) -> Result<CounterView> {
    let cfg = hall
        .counter(row.number)
        .ok_or_else(|| Error::NotFound(format!("counter {} is not configured", row.number)))?;
    let current_row = match row.current_ticket {
        Some(id) => ticket_by_id(conn, id)?,
        None => None,
    };
    let current = current_row.as_ref().map(TicketRow::summary);
    let current_since = current_row
        .as_ref()
        .and_then(|t| t.started_at.or(t.called_at))
        .map(ts);
    Ok(CounterView {
        number: row.number,
        name: cfg.name.clone(),
        services: cfg.services.clone(),
        state: row.state,
        current,
        current_since,
        pause_reason: open_pause(conn, row.number)?,
        staff: staff_at(conn, row.number, now)?,
        held: held_at(conn, row.number)?
            .iter()
            .map(TicketRow::summary)
            .collect(),
    })
}

/// Why a counter is paused now: the reason of its open pause.
pub fn open_pause(conn: &Connection, counter: u32) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT reason FROM pauses WHERE counter = ?1 AND ended_at IS NULL ORDER BY id DESC LIMIT 1",
    )?;
    Ok(stmt.query_row([counter], |r| r.get(0)).optional()?)
}

/// The member of staff signed in at a counter now.
pub fn staff_at(conn: &Connection, counter: u32, now: Timestamp) -> Result<Option<StaffRef>> {
    let mut stmt = conn.prepare_cached(
        "SELECT s.number, s.name FROM attendance a JOIN staff s ON s.number = a.staff \
         WHERE a.counter = ?1 AND a.signed_out_at IS NULL AND a.expires_at > ?2 ORDER BY a.id DESC LIMIT 1",
    )?;
    Ok(stmt
        .query_row(params![counter, ms(now)], |r| {
            Ok(StaffRef {
                number: r.get(0)?,
                name: r.get(1)?,
            })
        })
        .optional()?)
}

/// The tickets a counter holds, oldest first.
pub fn held_at(conn: &Connection, counter: u32) -> Result<Vec<TicketRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE status = 'held' AND counter = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([counter], TicketRow::from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A service its calendar closes now: why, until when, and the holiday's
/// name or the closure's reason.
pub struct CalendarClosed {
    pub why: Unavailable,
    pub opens_at: Option<Timestamp>,
    pub reason: Option<hall_api::I18nText>,
}

/// Whether `service`'s calendar (hours, breaks, holidays, closures) closes
/// it at `now`.
pub fn calendar_closed(
    conn: &Connection,
    hall: &Config,
    held: &HeldCalendar,
    service: &crate::config::ServiceConfig,
    now: Timestamp,
) -> Result<Option<CalendarClosed>> {
    let closures = closures_for(conn, &service.id, ms(now))?;
    let Openness::Closed { why, next } = hall.calendar(service, held, &closures).at(now) else {
        return Ok(None);
    };
    let (why, reason) = match why {
        ClosedWhy::Break => (Unavailable::Break, None),
        ClosedWhy::OutsideHours => (Unavailable::OutsideHours, None),
        ClosedWhy::Holiday(name) => (Unavailable::Holiday, Some(name)),
        ClosedWhy::Closure(reason) => (Unavailable::Closure, Some(reason)),
    };
    Ok(Some(CalendarClosed {
        why,
        opens_at: next,
        reason,
    }))
}

pub fn service_views(conn: &Connection, hall: &Config, now: Timestamp) -> Result<Vec<ServiceView>> {
    let load = HallLoad::read(conn)?;
    let oldest = oldest_waiting(conn)?;
    let closed =
        crate::store::managers::services_closed_on(conn, &hall.hall.business_day(now).to_string())?;
    let held = held_calendar(conn, hall)?;
    hall.services
        .iter()
        .map(|s| {
            let waiting = load.waiting.get(&s.id).copied().unwrap_or(0);
            let open_counters = load.open_counters(hall, &s.id).len() as u32;
            let (mut opens_at, mut closed_reason) = (None, None);
            let unavailable = if closed.contains(&s.id) {
                Some(Unavailable::ClosedToday)
            } else if let Some(shut) = calendar_closed(conn, hall, &held, s, now)? {
                (opens_at, closed_reason) = (shut.opens_at, shut.reason);
                Some(shut.why)
            } else if open_counters == 0 {
                Some(Unavailable::NoCounterOpen)
            } else {
                None
            };
            Ok(ServiceView {
                id: s.id.clone(),
                prefix: s.prefix.clone(),
                name: s.name.clone(),
                priority: s.priority,
                target_wait_min: s.target_wait_min,
                ask_account: s.ask_account,
                waiting,
                estimated_wait_s: load.estimate(conn, hall, &held, &s.id, waiting, now)?,
                open_counters,
                longest_wait_s: oldest
                    .get(&s.id)
                    .map(|&issued| ((ms(now) - issued).max(0) / 1000) as u32),
                hours: hall.hours_text(s, &held, hall.hall.business_day(now)),
                unavailable,
                bring: s.bring.clone(),
                opens_at,
                closed_reason,
            })
        })
        .collect()
}

/// The newest calls (and recalls), newest first.
pub fn last_calls(conn: &Connection, limit: u32) -> Result<Vec<Call>> {
    let mut stmt = conn.prepare_cached(
        "SELECT body FROM events WHERE kind IN ('ticket.called', 'ticket.recalled') ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| r.get::<_, String>(0))?;
    let mut calls = Vec::new();
    for body in rows {
        let ev: Event = serde_json::from_str(&body?)
            .map_err(|e| Error::Internal(format!("stored event unreadable: {e}")))?;
        if let (Some(t), Some(counter)) = (ev.ticket, ev.counter) {
            calls.push(Call {
                event_id: ev.id,
                number: t.number,
                service: t.service,
                counter,
                at: ev.at,
                recall: ev.kind == hall_api::EventKind::TicketRecalled,
            });
        }
    }
    Ok(calls)
}

pub fn last_event(conn: &Connection) -> Result<Option<(i64, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT id, at FROM events ORDER BY id DESC LIMIT 1")?;
    Ok(stmt
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Stored events after `after`, oldest first: (id, kind, body).
pub fn events_after(
    conn: &Connection,
    after: i64,
    limit: u32,
) -> Result<Vec<(i64, String, String)>> {
    let mut stmt = conn
        .prepare_cached("SELECT id, kind, body FROM events WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let rows = stmt.query_map(params![after, limit], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The counter a live session acts on, and the member of staff it
/// belongs to (`None` for a counter-PIN session).
pub fn session_counter(
    conn: &Connection,
    token_sha256: &[u8; 32],
    now_ms: i64,
) -> Result<Option<(u32, Option<StaffRef>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT se.counter, st.number, st.name FROM sessions se \
         LEFT JOIN attendance a ON a.id = se.attendance_id LEFT JOIN staff st ON st.number = a.staff \
         WHERE se.token_sha256 = ?1 AND se.expires_at > ?2",
    )?;
    Ok(stmt
        .query_row(params![&token_sha256[..], now_ms], |r| {
            let staff = match r.get::<_, Option<String>>(1)? {
                Some(number) => Some(StaffRef {
                    number,
                    name: r.get(2)?,
                }),
                None => None,
            };
            Ok((r.get(0)?, staff))
        })
        .optional()?)
}

/// The member of staff a floor guide's session belongs to, while it lasts.
pub fn guide_session(
    conn: &Connection,
    token_sha256: &[u8; 32],
    now_ms: i64,
) -> Result<Option<StaffRef>> {
    let mut stmt = conn.prepare_cached(
        "SELECT st.number, st.name FROM guide_sessions g JOIN staff st ON st.number = g.staff \
         WHERE g.token_sha256 = ?1 AND g.expires_at > ?2 AND st.disabled_at IS NULL",
    )?;
    Ok(stmt
        .query_row(params![&token_sha256[..], now_ms], |r| {
            Ok(StaffRef {
                number: r.get(0)?,
                name: r.get(1)?,
            })
        })
        .optional()?)
}

/// A print job as stored, before its ticket is read.
pub struct PrintJobRow {
    pub id: i64,
    pub kiosk: String,
    pub ticket: i64,
    pub requested_by: String,
    pub requested_at: i64,
    pub outcome: Option<hall_api::PrintDone>,
}

const PRINT_JOB_COLUMNS: &str =
    "id, kiosk, ticket, requested_by, requested_at, done_at, printed, problem";

fn print_job_row(r: &Row<'_>) -> rusqlite::Result<PrintJobRow> {
    let done: Option<i64> = r.get(5)?;
    Ok(PrintJobRow {
        id: r.get(0)?,
        kiosk: r.get(1)?,
        ticket: r.get(2)?,
        requested_by: r.get(3)?,
        requested_at: r.get(4)?,
        outcome: match done {
            Some(_) => Some(hall_api::PrintDone {
                printed: r.get(6)?,
                problem: r.get(7)?,
            }),
            None => None,
        },
    })
}

/// A print job with its ticket as it is now.
pub fn print_job_view(
    conn: &Connection,
    hall: &Config,
    job: PrintJobRow,
    now: Timestamp,
) -> Result<hall_api::PrintJob> {
    let row = ticket_by_id(conn, job.ticket)?
        .ok_or_else(|| Error::NotFound(format!("print job {} has no ticket", job.id)))?;
    Ok(hall_api::PrintJob {
        id: job.id,
        kiosk: job.kiosk,
        ticket: ticket_view(conn, hall, &row, now)?,
        requested_by: job.requested_by,
        requested_at: ts(job.requested_at),
        outcome: job.outcome,
    })
}

pub fn print_job(conn: &Connection, id: i64) -> Result<Option<PrintJobRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PRINT_JOB_COLUMNS} FROM print_jobs WHERE id = ?1"
    ))?;
    Ok(stmt.query_row([id], print_job_row).optional()?)
}

/// The jobs waiting for `kiosk`, oldest first.
pub fn pending_print_jobs(conn: &Connection, kiosk: &str) -> Result<Vec<PrintJobRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {PRINT_JOB_COLUMNS} FROM print_jobs WHERE kiosk = ?1 AND done_at IS NULL ORDER BY id"
    ))?;
    let rows = stmt.query_map([kiosk], print_job_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A member of staff as stored.
#[derive(Debug, Clone)]
pub struct StaffRow {
    pub number: String,
    pub name: String,
    pub pin_hash: String,
    pub created_at: i64,
    pub disabled: bool,
}

pub fn staff_by_number(conn: &Connection, number: &str) -> Result<Option<StaffRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT number, name, pin_hash, created_at, disabled_at IS NOT NULL FROM staff WHERE number = ?1",
    )?;
    Ok(stmt.query_row([number], staff_from_row).optional()?)
}

fn staff_from_row(r: &Row<'_>) -> rusqlite::Result<StaffRow> {
    Ok(StaffRow {
        number: r.get(0)?,
        name: r.get(1)?,
        pin_hash: r.get(2)?,
        created_at: r.get(3)?,
        disabled: r.get(4)?,
    })
}

/// Every member of staff, and the counter each is signed in at now.
pub fn staff_list(conn: &Connection, now: Timestamp) -> Result<Vec<(StaffRow, Option<u32>)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT number, name, pin_hash, created_at, disabled_at IS NOT NULL, \
         (SELECT counter FROM attendance a WHERE a.staff = staff.number AND a.signed_out_at IS NULL \
          AND a.expires_at > ?1 ORDER BY a.id DESC LIMIT 1) FROM staff ORDER BY number",
    )?;
    let rows = stmt.query_map([ms(now)], |r| Ok((staff_from_row(r)?, r.get(5)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn pin_hash(conn: &Connection, counter: u32) -> Result<Option<String>> {
    let mut stmt = conn.prepare_cached("SELECT pin_hash FROM counter_pins WHERE counter = ?1")?;
    Ok(stmt.query_row([counter], |r| r.get(0)).optional()?)
}

/// The waiting tickets of these services, at most `limit` of each, for a
/// counter's waiting list.
pub fn waiting_in(conn: &Connection, services: &[String], limit: u32) -> Result<Vec<TicketRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE status = 'waiting' AND service = ?1 \
         AND {CALLABLE} ORDER BY {QUEUE_ORDER} LIMIT ?2"
    ))?;
    let mut out = Vec::new();
    for s in services {
        let rows = stmt.query_map(params![s, limit], TicketRow::from_row)?;
        for r in rows {
            out.push(r?);
        }
    }
    Ok(out)
}

/// The newest ticket row carrying a tracking code (after a transfer, the
/// waiting entry that continues it).
pub fn ticket_by_tracking_code(conn: &Connection, code: &str) -> Result<Option<TicketRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE tracking_code = ?1 ORDER BY id DESC LIMIT 1"
    ))?;
    Ok(stmt.query_row([code], TicketRow::from_row).optional()?)
}

/// The columns of a rating with what it rated, for [`rating_from_row`]:
/// `FROM ratings r JOIN tickets t ON t.id = r.ticket_id LEFT JOIN follow_ups f ON f.rating_id = r.id`.
pub const RATING_COLUMNS: &str = "r.id, r.ticket_id, t.number, t.service, t.counter, t.staff, \
     (SELECT name FROM staff WHERE staff.number = t.staff), t.transaction_ref, r.level, r.reasons, \
     r.channel, r.completed_at, r.rated_at, f.id";

pub const RATING_FROM: &str = "FROM ratings r JOIN tickets t ON t.id = r.ticket_id \
     LEFT JOIN follow_ups f ON f.rating_id = r.id";

pub fn rating_from_row(r: &Row<'_>) -> rusqlite::Result<Rating> {
    let bad = |i: usize, what: String| {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, what.into())
    };
    let level: u8 = r.get(8)?;
    let reasons: String = r.get(9)?;
    let channel: String = r.get(10)?;
    Ok(Rating {
        id: r.get(0)?,
        ticket_id: r.get(1)?,
        number: r.get(2)?,
        service: r.get(3)?,
        counter: r.get(4)?,
        staff: match r.get::<_, Option<String>>(5)? {
            Some(number) => Some(StaffRef {
                number,
                name: r.get::<_, Option<String>>(6)?.unwrap_or_default(),
            }),
            None => None,
        },
        transaction_ref: r.get(7)?,
        level: RatingLevel::from_score(level).ok_or_else(|| bad(8, format!("level {level}")))?,
        reasons: serde_json::from_str(&reasons).map_err(|e| bad(9, e.to_string()))?,
        channel: match channel.as_str() {
            "rater" => RatingChannel::Rater,
            "phone" => RatingChannel::Phone,
            other => return Err(bad(10, format!("channel {other}"))),
        },
        completed_at: ts(r.get(11)?),
        rated_at: ts(r.get(12)?),
        follow_up: r.get(13)?,
    })
}

pub fn rating_of_ticket(conn: &Connection, ticket_id: i64) -> Result<Option<Rating>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RATING_COLUMNS} {RATING_FROM} WHERE r.ticket_id = ?1"
    ))?;
    Ok(stmt.query_row([ticket_id], rating_from_row).optional()?)
}

/// The ratings of a business day's tickets, in the order they were given.
pub fn ratings_of_day(conn: &Connection, day: &str) -> Result<Vec<Rating>> {
    ratings_between(conn, day, day)
}

/// The same for business days `first..=last`.
pub fn ratings_between(conn: &Connection, first: &str, last: &str) -> Result<Vec<Rating>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RATING_COLUMNS} {RATING_FROM} WHERE r.business_day BETWEEN ?1 AND ?2 ORDER BY r.rated_at, r.id"
    ))?;
    let rows = stmt.query_map([first, last], rating_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Follow-ups, oldest first: only the open ones, or all.
pub fn follow_ups(
    conn: &Connection,
    open_only: bool,
    today: jiff::civil::Date,
) -> Result<Vec<FollowUp>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RATING_COLUMNS}, f.opened_at, f.due, f.owner, f.action, f.called_back, f.closed_at \
         {RATING_FROM} WHERE f.id IS NOT NULL AND (?1 = 0 OR f.closed_at IS NULL) ORDER BY f.id"
    ))?;
    let rows = stmt.query_map([open_only], |r| follow_up_from_row(r, today))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn follow_up(conn: &Connection, id: i64, today: jiff::civil::Date) -> Result<Option<FollowUp>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RATING_COLUMNS}, f.opened_at, f.due, f.owner, f.action, f.called_back, f.closed_at \
         {RATING_FROM} WHERE f.id = ?1"
    ))?;
    Ok(stmt
        .query_row([id], |r| follow_up_from_row(r, today))
        .optional()?)
}

fn follow_up_from_row(r: &Row<'_>, today: jiff::civil::Date) -> rusqlite::Result<FollowUp> {
    let rating = rating_from_row(r)?;
    let due: String = r.get(15)?;
    let due: jiff::civil::Date = due.parse().map_err(|e: jiff::Error| {
        rusqlite::Error::FromSqlConversionFailure(
            15,
            rusqlite::types::Type::Text,
            e.to_string().into(),
        )
    })?;
    let closed_at: Option<i64> = r.get(19)?;
    Ok(FollowUp {
        id: rating.follow_up.unwrap_or_default(),
        rating,
        opened_at: ts(r.get(14)?),
        due,
        owner: r.get(16)?,
        action: r.get(17)?,
        called_back: r.get(18)?,
        closed_at: closed_at.map(ts),
        overdue: closed_at.is_none() && today > due,
    })
}

/// The access records of `[from, to)` (ms), oldest first.
pub fn access_between(
    conn: &Connection,
    from: i64,
    to: i64,
) -> Result<Vec<hall_api::AccessRecord>> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.at, a.who, a.staff, (SELECT name FROM staff WHERE staff.number = a.staff), \
         a.ticket_id, t.number, a.what FROM access_log a LEFT JOIN tickets t ON t.id = a.ticket_id \
         WHERE a.at >= ?1 AND a.at < ?2 ORDER BY a.id",
    )?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok(hall_api::AccessRecord {
            at: ts(r.get(0)?),
            who: r.get(1)?,
            staff: match r.get::<_, Option<String>>(2)? {
                Some(number) => Some(StaffRef {
                    number,
                    name: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                }),
                None => None,
            },
            ticket_id: r.get(4)?,
            number: r.get(5)?,
            what: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The newest ticket of the business day `day` with this account number.
pub fn ticket_with_account(conn: &Connection, day: &str, account: &str) -> Result<Option<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id FROM tickets WHERE business_day = ?1 AND customer_ref = ?2 ORDER BY id DESC LIMIT 1",
    )?;
    Ok(stmt
        .query_row(params![day, account], |r| r.get(0))
        .optional()?)
}

/// How many tickets business day `day` has.
pub fn tickets_on(conn: &Connection, day: &str) -> Result<i64> {
    let mut stmt = conn.prepare_cached("SELECT COUNT(*) FROM tickets WHERE business_day = ?1")?;
    Ok(stmt.query_row([day], |r| r.get(0))?)
}
