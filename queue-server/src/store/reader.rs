//! Read-only connections for queries beside the writer (WAL lets them run
//! while it commits), used from the async side through `spawn_blocking`.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use hall_api::CounterState;
use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension, params};

use crate::config::Config;
use crate::error::{Error, Result};
use crate::rules::stats::{CounterTimeline, TicketFacts};
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

/// The day's tickets and counter timelines, for `rules::stats`.
pub fn day_facts(
    conn: &Connection,
    hall: &Config,
    date: Date,
    from: Timestamp,
    to: Timestamp,
) -> Result<(Vec<TicketFacts>, Vec<CounterTimeline>)> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE business_day = ?1"
    ))?;
    let rows = stmt.query_map([date.to_string()], TicketRow::from_row)?;
    let mut tickets = Vec::new();
    for row in rows {
        let t = row?;
        tickets.push(TicketFacts {
            service: t.service,
            counter: t.counter,
            status: t.status,
            continuation: t.transferred_from.is_some(),
            issued_at: ts(t.issued_at),
            called_at: t.called_at.map(ts),
            started_at: t.started_at.map(ts),
            ended_at: t.ended_at.map(ts),
        });
    }
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
    let mut timelines = Vec::new();
    for k in &hall.counters {
        let at_start: Option<String> = before
            .query_row(params![k.number, ms(from)], |r| r.get(0))
            .optional()?;
        let state_at_start = at_start
            .as_deref()
            .and_then(state_of)
            .unwrap_or(k.initial_state);
        let changes = during
            .query_map(params![k.number, ms(from), ms(to)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .filter_map(|(at, kind)| state_of(&kind).map(|s| (ts(at), s)))
            .collect();
        timelines.push(CounterTimeline {
            counter: k.number,
            state_at_start,
            changes,
        });
    }
    Ok((tickets, timelines))
}
