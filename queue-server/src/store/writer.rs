//! The one writer: a thread that owns the write connection and commits the
//! requests that arrive together in one transaction (group commit), so a
//! slow fsync on an SD card is paid once per batch, not once per ticket.
//!
//! Each request runs in its own savepoint: a refused request rolls back
//! alone, the others in the batch still commit. Replies and events go out
//! only after the commit, so nothing is acknowledged that is not on disk.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use hall_api::{
    CounterAction, CounterActionBody, CounterState, CounterView, Event, EventKind, IssueTicket,
    Lang, Ticket, TicketStatus, TicketSummary,
};
use rusqlite::{Connection, params};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::clock::HallClock;
use crate::config::{Config, CounterConfig, Role};
use crate::error::{Error, Result};
use crate::metrics::Metrics;
use crate::rules::lifecycle::{CounterStep, TicketStep, counter_after, ticket_after};
use crate::rules::numbering::{Reading, format_number};
use crate::rules::policy::{Candidate, pick_next};
use crate::store::queries::{self, CounterRow, HallLoad, TicketRow, ms};
use crate::store::schema;

/// Most requests committed in one transaction.
const MAX_BATCH: usize = 256;

/// An event as stored, ready to send: serialized once for all subscribers.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: i64,
    pub kind: EventKind,
    pub body: Arc<str>,
}

/// Who asks: the device's name and role.
#[derive(Debug, Clone)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

#[derive(Debug)]
pub enum Op {
    /// The outcome of one webhook delivery attempt (from the delivery worker).
    Delivery {
        outbox_id: i64,
        error: Option<String>,
    },
    /// Stores a counter's PIN hash (hashed beforehand, off this thread).
    SetPin {
        counter: u32,
        pin_hash: String,
    },
    /// Opens a counter session after the PIN was verified.
    OpenSession {
        counter: u32,
        token_sha256: [u8; 32],
        expires_at: i64,
    },
    Issue(IssueTicket),
    Cancel {
        ticket: i64,
    },
    Counter {
        number: u32,
        action: CounterAction,
        body: CounterActionBody,
    },
}

#[derive(Debug)]
pub enum Outcome {
    Issued {
        ticket: Box<Ticket>,
        created: bool,
    },
    Ticket(Box<Ticket>),
    Counter(CounterView),
    NobodyWaiting,
    /// An internal record was written.
    Recorded,
}

struct Command {
    actor: Actor,
    op: Op,
    reply: oneshot::Sender<Result<Outcome>>,
}

/// The handle requests use to reach the writer.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Command>,
}

impl WriterHandle {
    /// False once the writer thread has ended.
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    pub async fn submit(&self, actor: Actor, op: Op) -> Result<Outcome> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Command { actor, op, reply })
            .await
            .map_err(|_| {
                Error::Unavailable("the server is shutting down; retry in a moment".into())
            })?;
        answer.await.map_err(|_| {
            Error::Unavailable(
                "the request was not completed; retry with the same idempotency key".into(),
            )
        })?
    }
}

pub struct Writer {
    conn: Connection,
    hall: Arc<Config>,
    clock: Arc<HallClock>,
    next_event_id: i64,
}

impl Writer {
    /// Opens and migrates the database, makes sure every configured counter
    /// has a row, and returns the writer with the newest stored event.
    pub fn open(path: &Path, hall: Arc<Config>) -> anyhow::Result<(Writer, Option<(i64, i64)>)> {
        let conn = schema::open_writer(path)?;
        for k in &hall.counters {
            conn.execute(
                "INSERT OR IGNORE INTO counters (number, state) VALUES (?1, ?2)",
                params![k.number, k.initial_state.as_str()],
            )?;
        }
        let last = queries::last_event(&conn).map_err(|e| anyhow::anyhow!("{e}"))?;
        let writer = Writer {
            conn,
            hall,
            clock: Arc::new(HallClock::new(last.map(|(_, at)| queries::ts(at)))),
            next_event_id: last.map_or(1, |(id, _)| id + 1),
        };
        Ok((writer, last))
    }

    pub fn clock(&self) -> Arc<HallClock> {
        self.clock.clone()
    }

    /// Starts the writer thread. It ends when every handle is dropped.
    pub fn spawn(
        self,
        events: broadcast::Sender<StoredEvent>,
        metrics: Arc<Metrics>,
    ) -> (WriterHandle, std::thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let thread = std::thread::Builder::new()
            .name("hall-writer".into())
            .spawn(move || self.run(rx, events, &metrics))
            .expect("spawning the writer thread");
        (WriterHandle { tx }, thread)
    }

    fn run(
        mut self,
        mut rx: mpsc::Receiver<Command>,
        events: broadcast::Sender<StoredEvent>,
        metrics: &Metrics,
    ) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = rx.blocking_recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(cmd) => batch.push(cmd),
                    Err(_) => break,
                }
            }
            metrics.commits.fetch_add(1, Ordering::Relaxed);
            metrics
                .requests
                .fetch_add(batch.len() as u64, Ordering::Relaxed);
            self.commit_batch(&mut batch, &events, metrics);
        }
        tracing::info!("writer stopped");
    }

    fn commit_batch(
        &mut self,
        batch: &mut Vec<Command>,
        events: &broadcast::Sender<StoredEvent>,
        metrics: &Metrics,
    ) {
        let first_event_id = self.next_event_id;
        let mut results = Vec::with_capacity(batch.len());
        let mut made = Vec::new();
        let committed = (|| -> rusqlite::Result<()> {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            for cmd in batch.iter() {
                self.conn.execute_batch("SAVEPOINT request")?;
                let before = self.next_event_id;
                let mut ctx = Ctx {
                    conn: &self.conn,
                    hall: &self.hall,
                    now: self.clock.read(),
                    actor: &cmd.actor,
                    next_event_id: &mut self.next_event_id,
                    events: Vec::new(),
                };
                let result = ctx.apply(&cmd.op);
                let evs = std::mem::take(&mut ctx.events);
                match result {
                    Ok(out) => {
                        self.conn.execute_batch("RELEASE request")?;
                        made.extend(evs);
                        results.push(Ok(out));
                    }
                    Err(e) => {
                        self.conn
                            .execute_batch("ROLLBACK TO request; RELEASE request")?;
                        self.next_event_id = before;
                        results.push(Err(e));
                    }
                }
            }
            self.conn.execute_batch("COMMIT")
        })();
        if let Err(e) = committed {
            tracing::error!(error = %e, requests = batch.len(), "commit failed; the batch was rolled back");
            metrics.failed_commits.fetch_add(1, Ordering::Relaxed);
            let _ = self.conn.execute_batch("ROLLBACK");
            self.next_event_id = first_event_id;
            let message =
                format!("the hall database could not save this ({e}); nothing was changed, retry");
            for cmd in batch.drain(..) {
                let _ = cmd.reply.send(Err(Error::Unavailable(message.clone())));
            }
            return;
        }
        for ev in made {
            // No subscriber is fine: the event is in the log.
            let _ = events.send(ev);
        }
        let refused = results.iter().filter(|r| r.is_err()).count();
        metrics.refused.fetch_add(refused as u64, Ordering::Relaxed);
        for (cmd, result) in batch.drain(..).zip(results) {
            let _ = cmd.reply.send(result);
        }
    }
}

/// One request inside the batch's transaction.
struct Ctx<'a> {
    conn: &'a Connection,
    hall: &'a Config,
    now: Reading,
    actor: &'a Actor,
    next_event_id: &'a mut i64,
    events: Vec<StoredEvent>,
}

fn tracking_code() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Internal(format!("no randomness for the tracking code: {e}")))?;
    Ok(crate::config::to_hex(&bytes))
}

fn validate_text(field: &str, value: &str, max: usize) -> Result<()> {
    if value.is_empty() || value.chars().count() > max || value.chars().any(char::is_control) {
        return Err(Error::BadRequest(format!(
            "{field} must be 1 to {max} printable characters"
        )));
    }
    Ok(())
}

impl Ctx<'_> {
    fn apply(&mut self, op: &Op) -> Result<Outcome> {
        match op {
            Op::Delivery { outbox_id, error } => self.delivery(*outbox_id, error.as_deref()),
            Op::SetPin { counter, pin_hash } => self.set_pin(*counter, pin_hash),
            Op::OpenSession {
                counter,
                token_sha256,
                expires_at,
            } => self.open_session(*counter, token_sha256, *expires_at),
            Op::Issue(req) => self.issue(req),
            Op::Cancel { ticket } => self.cancel(*ticket),
            Op::Counter {
                number,
                action,
                body,
            } => self.counter_action(*number, *action, body),
        }
    }

    fn at_ms(&self) -> i64 {
        ms(self.now.at)
    }

    fn business_day(&self) -> String {
        HallClock::business_day(&self.hall.hall, self.now.at).to_string()
    }

    fn record(
        &mut self,
        kind: EventKind,
        ticket: Option<TicketSummary>,
        counter: Option<u32>,
        transferred_to: Option<TicketSummary>,
    ) -> Result<()> {
        let id = *self.next_event_id;
        let event = Event {
            id,
            kind,
            at: self.now.at,
            ticket: ticket.clone(),
            counter,
            transferred_to,
            by: self.actor.name.clone(),
        };
        let body = serde_json::to_string(&event).map_err(|e| Error::Internal(e.to_string()))?;
        self.conn
            .prepare_cached(
                "INSERT INTO events (id, at, business_day, kind, ticket_id, counter, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![
                id,
                self.at_ms(),
                self.business_day(),
                kind.as_str(),
                ticket.map(|t| t.id),
                counter,
                body
            ])?;
        *self.next_event_id += 1;
        // Into each subscribed webhook's outbox in this same transaction:
        // if the event exists, so does its delivery.
        for w in self
            .hall
            .webhooks
            .iter()
            .filter(|w| w.events.contains(&kind))
        {
            self.conn
                .prepare_cached(
                    "INSERT INTO webhook_outbox (webhook, event_id, kind, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?
                .execute(params![w.name, id, kind.as_str(), body, self.at_ms()])?;
        }
        self.events.push(StoredEvent {
            id,
            kind,
            body: body.into(),
        });
        Ok(())
    }

    fn set_pin(&mut self, counter: u32, pin_hash: &str) -> Result<Outcome> {
        self.hall
            .counter(counter)
            .ok_or_else(|| Error::NotFound(format!("counter {counter} is not configured")))?;
        self.conn
            .prepare_cached(
                "INSERT INTO counter_pins (counter, pin_hash, set_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (counter) DO UPDATE SET pin_hash = excluded.pin_hash, set_at = excluded.set_at",
            )?
            .execute(params![counter, pin_hash, self.at_ms()])?;
        // A new PIN ends the sessions the old one opened.
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE counter = ?1")?
            .execute([counter])?;
        Ok(Outcome::Recorded)
    }

    fn open_session(
        &mut self,
        counter: u32,
        token_sha256: &[u8; 32],
        expires_at: i64,
    ) -> Result<Outcome> {
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE expires_at < ?1")?
            .execute([self.at_ms()])?;
        self.conn
            .prepare_cached("INSERT INTO sessions (token_sha256, counter, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![&token_sha256[..], counter, self.at_ms(), expires_at])?;
        Ok(Outcome::Recorded)
    }

    fn delivery(&mut self, outbox_id: i64, error: Option<&str>) -> Result<Outcome> {
        match error {
            None => self
                .conn
                .prepare_cached("UPDATE webhook_outbox SET delivered_at = ?2, attempts = attempts + 1, last_error = NULL WHERE id = ?1")?
                .execute(params![outbox_id, self.at_ms()])?,
            Some(e) => self
                .conn
                .prepare_cached("UPDATE webhook_outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1")?
                .execute(params![outbox_id, e])?,
        };
        Ok(Outcome::Recorded)
    }

    fn issue(&mut self, req: &IssueTicket) -> Result<Outcome> {
        validate_text("idempotency_key", &req.idempotency_key, 128)?;
        if let Some(existing) =
            queries::ticket_by_idempotency(self.conn, &self.actor.name, &req.idempotency_key)?
        {
            if existing.service != req.service {
                return Err(Error::Conflict(format!(
                    "idempotency key \"{}\" already issued ticket {} for service \"{}\"; use a new key for a new ticket",
                    req.idempotency_key, existing.number, existing.service
                )));
            }
            let ticket = queries::ticket_view(self.conn, self.hall, &existing)?;
            return Ok(Outcome::Issued {
                ticket: Box::new(ticket),
                created: false,
            });
        }
        let service = self.hall.service(&req.service).ok_or_else(|| {
            Error::BadRequest(format!(
                "unknown service \"{}\"; known services: {}",
                req.service,
                self.hall.service_ids()
            ))
        })?;
        if let Some(r) = &req.customer_ref {
            validate_text("customer_ref", r, 64)?;
        }
        let day = self.business_day();
        let seq: u32 = self
            .conn
            .prepare_cached(
                "INSERT INTO ticket_numbers (service, business_day, last_number) VALUES (?1, ?2, 1) \
                 ON CONFLICT (service, business_day) DO UPDATE SET last_number = last_number + 1 \
                 RETURNING last_number",
            )?
            .query_row(params![service.id, day], |r| r.get(0))?;
        let load = HallLoad::read(self.conn)?;
        let ahead = load.waiting.get(&service.id).copied().unwrap_or(0);
        let lang = req.lang.map(|l| match l {
            Lang::Zh => "zh",
            Lang::En => "en",
        });
        let id: i64 = self
            .conn
            .prepare_cached(
                "INSERT INTO tickets (number, service, business_day, status, rank_class, issued_at, created_at, channel, \
                 idempotency_key, tracking_code, customer_ref, lang) \
                 VALUES (?1, ?2, ?3, 'waiting', 1, ?4, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
            )?
            .query_row(
                params![
                    format_number(&service.prefix, seq),
                    service.id,
                    day,
                    self.at_ms(),
                    self.actor.name,
                    req.idempotency_key,
                    tracking_code()?,
                    req.customer_ref,
                    lang
                ],
                |r| r.get(0),
            )?;
        let row = self.ticket(id)?;
        let mut load = load;
        *load.waiting.entry(service.id.clone()).or_default() += 1;
        let estimate = load.estimate(self.conn, self.hall, &service.id, ahead)?;
        self.record(EventKind::TicketIssued, Some(row.summary()), None, None)?;
        Ok(Outcome::Issued {
            ticket: Box::new(row.to_ticket(Some((ahead, estimate)))),
            created: true,
        })
    }

    fn ticket(&self, id: i64) -> Result<TicketRow> {
        queries::ticket_by_id(self.conn, id)?
            .ok_or_else(|| Error::NotFound(format!("no ticket with id {id}")))
    }

    fn cancel(&mut self, id: i64) -> Result<Outcome> {
        let t = self.ticket(id)?;
        if self.actor.role == Role::Kiosk && t.channel != self.actor.name {
            return Err(Error::Forbidden(format!(
                "a kiosk may only cancel tickets it issued; {} came from {}",
                t.number, t.channel
            )));
        }
        self.step(&t, TicketStep::Cancel)?;
        if let Some(counter) = t.counter.filter(|_| t.status == TicketStatus::Called) {
            self.set_current(counter, None)?;
        }
        self.conn
            .prepare_cached("UPDATE tickets SET status = 'cancelled', ended_at = ?2 WHERE id = ?1")?
            .execute(params![id, self.at_ms()])?;
        let t = self.ticket(id)?;
        self.record(
            EventKind::TicketCancelled,
            Some(t.summary()),
            t.counter,
            None,
        )?;
        Ok(Outcome::Ticket(Box::new(t.to_ticket(None))))
    }

    /// Checks a transition against the life cycle.
    fn step(&self, t: &TicketRow, step: TicketStep) -> Result<TicketStatus> {
        ticket_after(t.status, step).ok_or_else(|| {
            Error::Conflict(format!(
                "ticket {} is {} and cannot be {}",
                t.number,
                t.status.as_str().replace('_', "-"),
                match step {
                    TicketStep::Call => "called",
                    TicketStep::Recall => "recalled",
                    TicketStep::Start => "started",
                    TicketStep::Complete => "completed",
                    TicketStep::NoShow => "marked no-show",
                    TicketStep::Cancel => "cancelled",
                    TicketStep::Transfer => "transferred",
                }
            ))
        })
    }

    fn set_current(&self, counter: u32, ticket: Option<i64>) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE counters SET current_ticket = ?2 WHERE number = ?1")?
            .execute(params![counter, ticket])?;
        Ok(())
    }

    fn counter_action(
        &mut self,
        number: u32,
        action: CounterAction,
        body: &CounterActionBody,
    ) -> Result<Outcome> {
        let cfg = self
            .hall
            .counter(number)
            .ok_or_else(|| Error::NotFound(format!("counter {number} is not configured")))?;
        let row = queries::counter_row(self.conn, number)?.ok_or_else(|| {
            Error::NotFound(format!(
                "counter {number} has no stored state; restart the server"
            ))
        })?;
        if body.service.is_some() && action != CounterAction::Transfer {
            return Err(Error::BadRequest(format!(
                "{} takes no service; only transfer does",
                action.as_str()
            )));
        }
        if body.transaction_ref.is_some() && action != CounterAction::Complete {
            return Err(Error::BadRequest(format!(
                "{} takes no transaction_ref; only complete does",
                action.as_str()
            )));
        }
        match action {
            CounterAction::Open => self.counter_state(&row, CounterStep::Open),
            CounterAction::Close => self.counter_state(&row, CounterStep::Close),
            CounterAction::Pause => self.counter_state(&row, CounterStep::Pause),
            CounterAction::Resume => self.counter_state(&row, CounterStep::Resume),
            CounterAction::CallNext => self.call_next(&row, cfg),
            CounterAction::Recall => {
                let t = self.current(&row, "recall")?;
                self.step(&t, TicketStep::Recall)?;
                self.conn
                    .prepare_cached("UPDATE tickets SET recalls = recalls + 1 WHERE id = ?1")?
                    .execute([t.id])?;
                self.finish_step(t.id, EventKind::TicketRecalled, number)
            }
            CounterAction::Start => {
                let t = self.current(&row, "start")?;
                self.step(&t, TicketStep::Start)?;
                self.conn
                    .prepare_cached(
                        "UPDATE tickets SET status = 'serving', started_at = ?2 WHERE id = ?1",
                    )?
                    .execute(params![t.id, self.at_ms()])?;
                self.finish_step(t.id, EventKind::TicketStarted, number)
            }
            CounterAction::Complete => {
                let t = self.current(&row, "complete")?;
                self.step(&t, TicketStep::Complete)?;
                if let Some(r) = &body.transaction_ref {
                    validate_text("transaction_ref", r, 128)?;
                }
                self.conn
                    .prepare_cached("UPDATE tickets SET status = 'done', ended_at = ?2, transaction_ref = ?3 WHERE id = ?1")?
                    .execute(params![t.id, self.at_ms(), body.transaction_ref])?;
                self.set_current(number, None)?;
                self.finish_step(t.id, EventKind::TicketCompleted, number)
            }
            CounterAction::NoShow => {
                let t = self.current(&row, "mark a no-show")?;
                self.step(&t, TicketStep::NoShow)?;
                let needed = self.hall.hall.recalls_before_no_show;
                if t.recalls < needed {
                    return Err(Error::Conflict(format!(
                        "ticket {} was recalled {} of the {needed} times this hall requires before a no-show; recall it first",
                        t.number, t.recalls
                    )));
                }
                self.conn
                    .prepare_cached(
                        "UPDATE tickets SET status = 'no_show', ended_at = ?2 WHERE id = ?1",
                    )?
                    .execute(params![t.id, self.at_ms()])?;
                self.set_current(number, None)?;
                self.finish_step(t.id, EventKind::TicketNoShow, number)
            }
            CounterAction::Transfer => self.transfer(&row, body),
        }
    }

    fn finish_step(&mut self, id: i64, kind: EventKind, counter: u32) -> Result<Outcome> {
        let t = self.ticket(id)?;
        self.record(kind, Some(t.summary()), Some(counter), None)?;
        Ok(Outcome::Ticket(Box::new(t.to_ticket(None))))
    }

    /// The counter's current ticket, or a 409 saying there is none.
    fn current(&self, row: &CounterRow, doing: &str) -> Result<TicketRow> {
        match row.current_ticket {
            Some(id) => self.ticket(id),
            None => Err(Error::Conflict(format!(
                "counter {} has no called ticket to {doing}; call the next one first",
                row.number
            ))),
        }
    }

    fn counter_state(&mut self, row: &CounterRow, step: CounterStep) -> Result<Outcome> {
        let next = counter_after(row.state, step).ok_or_else(|| {
            Error::Conflict(format!(
                "counter {} is {} and cannot {}",
                row.number,
                row.state.as_str(),
                match step {
                    CounterStep::Open => "be opened",
                    CounterStep::Close => "be closed",
                    CounterStep::Pause => "pause",
                    CounterStep::Resume => "resume",
                }
            ))
        })?;
        if next == CounterState::Closed
            && let Some(id) = row.current_ticket
        {
            let t = self.ticket(id)?;
            return Err(Error::Conflict(format!(
                "counter {} still has ticket {} ({}); complete, transfer or mark it no-show before closing",
                row.number,
                t.number,
                t.status.as_str()
            )));
        }
        self.conn
            .prepare_cached("UPDATE counters SET state = ?2 WHERE number = ?1")?
            .execute(params![row.number, next.as_str()])?;
        let kind = match step {
            CounterStep::Open => EventKind::CounterOpened,
            CounterStep::Close => EventKind::CounterClosed,
            CounterStep::Pause => EventKind::CounterPaused,
            CounterStep::Resume => EventKind::CounterResumed,
        };
        self.record(kind, None, Some(row.number), None)?;
        let row = CounterRow {
            state: next,
            ..row.clone()
        };
        Ok(Outcome::Counter(queries::counter_view(
            self.conn, self.hall, &row,
        )?))
    }

    fn call_next(&mut self, row: &CounterRow, cfg: &CounterConfig) -> Result<Outcome> {
        match row.state {
            CounterState::Open => {}
            CounterState::Paused => {
                return Err(Error::Conflict(format!(
                    "counter {} is paused; resume it before calling",
                    row.number
                )));
            }
            CounterState::Closed => {
                return Err(Error::Conflict(format!(
                    "counter {} is closed; open it before calling",
                    row.number
                )));
            }
        }
        // A counter that calls while it still has a ticket closes that one
        // first: done if it was being served, no-show if it never started.
        if let Some(id) = row.current_ticket {
            let t = self.ticket(id)?;
            let (status, kind) = match t.status {
                TicketStatus::Serving => ("done", EventKind::TicketCompleted),
                _ => ("no_show", EventKind::TicketNoShow),
            };
            if !t.status.is_final() {
                self.conn
                    .prepare_cached("UPDATE tickets SET status = ?2, ended_at = ?3 WHERE id = ?1")?
                    .execute(params![id, status, self.at_ms()])?;
                let t = self.ticket(id)?;
                self.record(kind, Some(t.summary()), Some(row.number), None)?;
            }
            self.set_current(row.number, None)?;
        }
        let served = self.hall.served_by(cfg);
        let mut heads = Vec::new();
        for s in &served {
            if let Some(t) = queries::queue_head(self.conn, s.id)? {
                heads.push(Candidate {
                    id: t.id,
                    service: t.service,
                    transferred: t.rank_class == 0,
                    issued_at: queries::ts(t.issued_at),
                });
            }
        }
        let Some(next) = pick_next(&served, &heads) else {
            return Ok(Outcome::NobodyWaiting);
        };
        let t = self.ticket(next.id)?;
        self.step(&t, TicketStep::Call)?;
        self.conn
            .prepare_cached(
                "UPDATE tickets SET status = 'called', counter = ?2, called_at = ?3 WHERE id = ?1",
            )?
            .execute(params![t.id, row.number, self.at_ms()])?;
        self.set_current(row.number, Some(t.id))?;
        self.finish_step(t.id, EventKind::TicketCalled, row.number)
    }

    fn transfer(&mut self, row: &CounterRow, body: &CounterActionBody) -> Result<Outcome> {
        let target = body.service.as_deref().ok_or_else(|| {
            Error::BadRequest(
                "transfer needs {\"service\": \"…\"}: the service the customer goes to".into(),
            )
        })?;
        let target = self.hall.service(target).ok_or_else(|| {
            Error::BadRequest(format!(
                "unknown service \"{target}\"; known services: {}",
                self.hall.service_ids()
            ))
        })?;
        let t = self.current(row, "transfer")?;
        if t.service == target.id {
            return Err(Error::BadRequest(format!(
                "ticket {} is already in service \"{}\"",
                t.number, target.id
            )));
        }
        self.step(&t, TicketStep::Transfer)?;
        // The customer keeps their number and original issue time, and waits
        // in the new service ahead of those who never waited before.
        let new_id: i64 = self
            .conn
            .prepare_cached(
                "INSERT INTO tickets (number, service, business_day, status, rank_class, issued_at, created_at, channel, \
                 tracking_code, customer_ref, lang, transferred_from) \
                 SELECT number, ?2, business_day, 'waiting', 0, issued_at, ?3, channel, tracking_code, customer_ref, lang, id \
                 FROM tickets WHERE id = ?1 RETURNING id",
            )?
            .query_row(params![t.id, target.id, self.at_ms()], |r| r.get(0))?;
        self.conn
            .prepare_cached("UPDATE tickets SET status = 'transferred', ended_at = ?2, transferred_to = ?3 WHERE id = ?1")?
            .execute(params![t.id, self.at_ms(), new_id])?;
        self.set_current(row.number, None)?;
        let old = self.ticket(t.id)?;
        let new = self.ticket(new_id)?;
        self.record(
            EventKind::TicketTransferred,
            Some(old.summary()),
            Some(row.number),
            Some(new.summary()),
        )?;
        Ok(Outcome::Ticket(Box::new(queries::ticket_view(
            self.conn, self.hall, &new,
        )?)))
    }
}
