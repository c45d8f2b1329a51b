//! The narrow interface through which the hall's commands (`crate::hall`)
//! reach storage: named reads and writes of tickets, counters, numbering,
//! the event log, the webhook outbox, PINs and sessions. SQL lives here
//! and in `queries`; no rule does.

use hall_api::{CounterState, TicketStatus};
use rusqlite::{Connection, params};

use crate::error::Result;
use crate::rules::policy::QueueRank;
use crate::store::queries::{self, CounterRow, HallLoad, TicketRow};

/// The tables, inside the writer's transaction.
#[derive(Clone, Copy)]
pub struct Tables<'c> {
    conn: &'c Connection,
}

/// A ticket row about to be written for the first time.
pub struct NewTicket<'a> {
    pub number: &'a str,
    pub service: &'a str,
    pub business_day: &'a str,
    pub rank: QueueRank,
    pub issued_at: i64,
    pub created_at: i64,
    pub channel: &'a str,
    pub idempotency_key: Option<&'a str>,
    pub tracking_code: &'a str,
    pub customer_ref: Option<&'a str>,
    pub lang: Option<&'a str>,
    pub transferred_from: Option<i64>,
}

/// An event row and its delivery to each subscribed webhook.
pub struct NewEvent<'a> {
    pub id: i64,
    pub at: i64,
    pub business_day: &'a str,
    pub kind: &'a str,
    pub ticket: Option<i64>,
    pub counter: Option<u32>,
    pub body: &'a str,
}

impl<'c> Tables<'c> {
    pub fn new(conn: &'c Connection) -> Tables<'c> {
        Tables { conn }
    }

    /// For the read-side queries the commands answer with.
    pub fn conn(&self) -> &'c Connection {
        self.conn
    }

    pub fn ticket(&self, id: i64) -> Result<Option<TicketRow>> {
        queries::ticket_by_id(self.conn, id)
    }

    pub fn ticket_by_idempotency(&self, channel: &str, key: &str) -> Result<Option<TicketRow>> {
        queries::ticket_by_idempotency(self.conn, channel, key)
    }

    /// The first waiting ticket of a service, in calling order.
    pub fn queue_head(&self, service: &str) -> Result<Option<TicketRow>> {
        queries::queue_head(self.conn, service)
    }

    pub fn hall_load(&self) -> Result<HallLoad> {
        HallLoad::read(self.conn)
    }

    pub fn waiting_count(&self, service: &str) -> Result<u32> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT waiting FROM waiting_counts WHERE service = ?1")?;
        Ok(stmt
            .query_row([service], |r| r.get(0))
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(0),
                e => Err(e),
            })?)
    }

    /// The next number of a service on a business day (1 on its first ticket).
    pub fn next_number(&self, service: &str, business_day: &str) -> Result<u32> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO ticket_numbers (service, business_day, last_number) VALUES (?1, ?2, 1) \
                 ON CONFLICT (service, business_day) DO UPDATE SET last_number = last_number + 1 \
                 RETURNING last_number",
            )?
            .query_row(params![service, business_day], |r| r.get(0))?)
    }

    /// Writes a new waiting ticket; returns its id.
    pub fn insert_ticket(&self, t: &NewTicket<'_>) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO tickets (number, service, business_day, status, rank_class, issued_at, created_at, \
                 channel, idempotency_key, tracking_code, customer_ref, lang, transferred_from) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) RETURNING id",
            )?
            .query_row(
                params![
                    t.number,
                    t.service,
                    t.business_day,
                    TicketStatus::Waiting.as_str(),
                    t.rank.stored(),
                    t.issued_at,
                    t.created_at,
                    t.channel,
                    t.idempotency_key,
                    t.tracking_code,
                    t.customer_ref,
                    t.lang,
                    t.transferred_from
                ],
                |r| r.get(0),
            )?)
    }

    /// Saves what a ticket's life cycle changes: status, times, counter,
    /// recalls, the billing reference and the entry a transfer made.
    pub fn save_ticket(&self, t: &TicketRow) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE tickets SET status = ?2, called_at = ?3, started_at = ?4, ended_at = ?5, counter = ?6, \
                 recalls = ?7, transaction_ref = ?8, transferred_to = ?9 WHERE id = ?1",
            )?
            .execute(params![
                t.id,
                t.status.as_str(),
                t.called_at,
                t.started_at,
                t.ended_at,
                t.counter,
                t.recalls,
                t.transaction_ref,
                t.transferred_to
            ])?;
        Ok(())
    }

    pub fn counter(&self, number: u32) -> Result<Option<CounterRow>> {
        queries::counter_row(self.conn, number)
    }

    /// A row for a configured counter, in its initial state the first
    /// time the database sees it.
    pub fn ensure_counter(&self, number: u32, initial: CounterState) -> Result<()> {
        self.conn
            .prepare_cached("INSERT OR IGNORE INTO counters (number, state) VALUES (?1, ?2)")?
            .execute(params![number, initial.as_str()])?;
        Ok(())
    }

    pub fn set_counter_state(&self, number: u32, state: CounterState) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE counters SET state = ?2 WHERE number = ?1")?
            .execute(params![number, state.as_str()])?;
        Ok(())
    }

    /// The ticket a counter has called or is serving (`None`: free).
    pub fn set_current_ticket(&self, number: u32, ticket: Option<i64>) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE counters SET current_ticket = ?2 WHERE number = ?1")?
            .execute(params![number, ticket])?;
        Ok(())
    }

    pub fn append_event(&self, e: &NewEvent<'_>) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO events (id, at, business_day, kind, ticket_id, counter, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(params![e.id, e.at, e.business_day, e.kind, e.ticket, e.counter, e.body])?;
        Ok(())
    }

    /// A delivery owed to `webhook`, in the same transaction as its event.
    pub fn enqueue_delivery(&self, webhook: &str, e: &NewEvent<'_>) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO webhook_outbox (webhook, event_id, kind, body, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![webhook, e.id, e.kind, e.body, e.at])?;
        Ok(())
    }

    /// The outcome of one delivery attempt.
    pub fn record_delivery(&self, outbox_id: i64, at: i64, error: Option<&str>) -> Result<()> {
        match error {
            None => self
                .conn
                .prepare_cached("UPDATE webhook_outbox SET delivered_at = ?2, attempts = attempts + 1, last_error = NULL WHERE id = ?1")?
                .execute(params![outbox_id, at])?,
            Some(e) => self
                .conn
                .prepare_cached("UPDATE webhook_outbox SET attempts = attempts + 1, last_error = ?2 WHERE id = ?1")?
                .execute(params![outbox_id, e])?,
        };
        Ok(())
    }

    /// Rewrites the health probe's one row.
    pub fn probe(&self, at: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO health_probe (id, at) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
            )?
            .execute([at])?;
        Ok(())
    }

    pub fn set_pin(&self, counter: u32, pin_hash: &str, at: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO counter_pins (counter, pin_hash, set_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (counter) DO UPDATE SET pin_hash = excluded.pin_hash, set_at = excluded.set_at",
            )?
            .execute(params![counter, pin_hash, at])?;
        Ok(())
    }

    pub fn end_sessions(&self, counter: u32) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE counter = ?1")?
            .execute([counter])?;
        Ok(())
    }

    pub fn end_expired_sessions(&self, now: i64) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE expires_at < ?1")?
            .execute([now])?;
        Ok(())
    }

    pub fn open_session(
        &self,
        token_sha256: &[u8; 32],
        counter: u32,
        at: i64,
        expires_at: i64,
    ) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO sessions (token_sha256, counter, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)")?
            .execute(params![&token_sha256[..], counter, at, expires_at])?;
        Ok(())
    }
}
