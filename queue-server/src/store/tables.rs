//! The narrow interface through which the hall's commands (`crate::hall`)
//! reach storage: named reads and writes of tickets, counters, numbering,
//! the event log, the webhook outbox, PINs and sessions. SQL lives here
//! and in `queries`; no rule does.

use hall_api::{CounterState, TicketStatus};
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::rules::policy::QueueRank;
use crate::store::queries::{self, CounterRow, HallLoad, StaffRow, TicketRow};

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
    /// The ticket's own priority, negated; 0 for most.
    pub precedence: i32,
    pub priority_reason: Option<&'a str>,
    /// Taken before arriving: not called until checked in.
    pub remote: Option<NewRemote>,
}

/// What a remote ticket carries beside the others' fields.
pub struct NewRemote {
    pub check_in_code: String,
    /// Expires when not checked in by then (ms).
    pub check_in_by: i64,
    /// A hash of who took it, for the per-client limit.
    pub client: String,
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
    /// Remote tickets `client` took on business day `day`.
    pub fn remote_taken_by(&self, day: &str, client: &str) -> Result<u32> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM tickets WHERE business_day = ?1 AND remote_client = ?2",
            )?
            .query_row(params![day, client], |r| r.get(0))?)
    }

    /// Remote tickets of `service` waiting to be checked in.
    pub fn remote_awaiting(&self, service: &str) -> Result<u32> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT COUNT(*) FROM tickets WHERE status = 'waiting' AND service = ?1 \
                 AND check_in_code IS NOT NULL AND checked_in_at IS NULL",
            )?
            .query_row([service], |r| r.get(0))?)
    }

    /// Whether `code` already names a ticket of business day `day`.
    pub fn check_in_code_taken(&self, day: &str, code: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM tickets WHERE business_day = ?1 AND check_in_code = ?2)",
            )?
            .query_row(params![day, code], |r| r.get(0))?)
    }

    /// The ticket of business day `day` with this check-in code.
    pub fn ticket_by_check_in_code(&self, day: &str, code: &str) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id FROM tickets WHERE business_day = ?1 AND check_in_code = ?2",
            )?
            .query_row(params![day, code], |r| r.get(0))
            .optional()?)
    }

    pub fn check_in(&self, id: i64, at: i64) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE tickets SET checked_in_at = ?2 WHERE id = ?1")?
            .execute(params![id, at])?;
        Ok(())
    }

    /// Remote tickets still waiting to be checked in whose time ran out by `now` (ms).
    pub fn overdue_remote(&self, now: i64) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM tickets WHERE status = 'waiting' AND check_in_code IS NOT NULL \
             AND checked_in_at IS NULL AND check_in_by <= ?1 ORDER BY id",
        )?;
        let ids = stmt.query_map([now], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }

    pub fn insert_ticket(&self, t: &NewTicket<'_>) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO tickets (number, service, business_day, status, rank_class, issued_at, created_at, \
                 channel, idempotency_key, tracking_code, customer_ref, lang, transferred_from, precedence, \
                 priority_reason, check_in_code, check_in_by, remote_client) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) \
                 RETURNING id",
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
                    t.transferred_from,
                    t.precedence,
                    t.priority_reason,
                    t.remote.as_ref().map(|r| r.check_in_code.as_str()),
                    t.remote.as_ref().map(|r| r.check_in_by),
                    t.remote.as_ref().map(|r| r.client.as_str()),
                ],
                |r| r.get(0),
            )?)
    }

    /// Saves what a ticket's life cycle changes: status, times, counter,
    /// recalls, the billing reference, the entry a transfer made, who
    /// called it and its time held.
    pub fn save_ticket(&self, t: &TicketRow) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE tickets SET status = ?2, called_at = ?3, started_at = ?4, ended_at = ?5, counter = ?6, \
                 recalls = ?7, transaction_ref = ?8, transferred_to = ?9, staff = ?10, held_ms = ?11, \
                 held_since = ?12 WHERE id = ?1",
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
                t.transferred_to,
                t.staff,
                t.held_ms,
                t.held_since
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

    /// Head office acknowledged every event up to `through`.
    pub fn record_shipped(&self, through: i64, at: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO head_office_shipped (id, through, at) VALUES (1, ?1, ?2) \
                 ON CONFLICT (id) DO UPDATE SET through = MAX(through, excluded.through), at = excluded.at",
            )?
            .execute(params![through, at])?;
        Ok(())
    }

    /// The answer the hall gave to head office's push `id`, if it applied it.
    pub fn push_answer(&self, id: i64) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT answer FROM head_office_pushes WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }

    pub fn record_push(&self, id: i64, by: &str, answer: &str, at: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO head_office_pushes (id, by, answer, at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, by, answer, at])?;
        Ok(())
    }

    /// Keeps `year`'s holiday schedule from head office in place of any
    /// sent before.
    pub fn replace_holiday_year(
        &self,
        year: i16,
        file: &str,
        days: &crate::rules::calendar::Holidays,
        by: &str,
        at: i64,
    ) -> Result<()> {
        use crate::rules::calendar::Special;
        self.conn
            .prepare_cached("DELETE FROM holiday_years WHERE year = ?1")?
            .execute([year])?;
        self.conn
            .prepare_cached(
                "INSERT INTO holiday_years (year, file, set_by, set_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![year, file, by, at])?;
        let mut insert = self.conn.prepare_cached(
            "INSERT INTO holiday_days (day, year, kind, name_zh, name_en) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for (day, special) in &days.days {
            let (kind, name) = match special {
                Special::Holiday(n) => ("holiday", n),
                Special::Workday(n) => ("workday", n),
            };
            insert.execute(params![day.to_string(), year, kind, name.zh, name.en])?;
        }
        Ok(())
    }

    /// Keeps a service's hours from head office (as sent) in place of any before.
    pub fn set_service_hours(&self, service: &str, hours: &str, by: &str, at: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO service_hours (service, hours, set_by, set_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (service) DO UPDATE SET hours = ?2, set_by = ?3, set_at = ?4",
            )?
            .execute(params![service, hours, by, at])?;
        Ok(())
    }

    /// The service's own hours again.
    pub fn clear_service_hours(&self, service: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM service_hours WHERE service = ?1")?
            .execute([service])?;
        Ok(())
    }

    /// Keeps a service's settings from head office (as sent) in place of any before.
    pub fn set_service_settings(
        &self,
        service: &str,
        settings: &str,
        by: &str,
        at: i64,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO service_settings (service, settings, set_by, set_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (service) DO UPDATE SET settings = ?2, set_by = ?3, set_at = ?4",
            )?
            .execute(params![service, settings, by, at])?;
        Ok(())
    }

    /// The service's own name, target and papers again.
    pub fn clear_service_settings(&self, service: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM service_settings WHERE service = ?1")?
            .execute([service])?;
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

    /// Ends the sessions the counter's own PIN opened (not those of staff).
    pub fn end_counter_pin_sessions(&self, counter: u32) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE counter = ?1 AND attendance_id IS NULL")?
            .execute([counter])?;
        Ok(())
    }

    /// Forgets expired sessions; a member of staff's expired session ends
    /// their attendance at its expiry.
    pub fn end_expired_sessions(&self, now: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE attendance SET signed_out_at = expires_at, ended_by = 'expired' \
                 WHERE signed_out_at IS NULL AND expires_at <= ?1",
            )?
            .execute([now])?;
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE expires_at <= ?1")?
            .execute([now])?;
        Ok(())
    }

    pub fn open_session(
        &self,
        token_sha256: &[u8; 32],
        counter: u32,
        at: i64,
        expires_at: i64,
        attendance: Option<i64>,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO sessions (token_sha256, counter, created_at, expires_at, attendance_id) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![&token_sha256[..], counter, at, expires_at, attendance])?;
        Ok(())
    }

    pub fn insert_closure(
        &self,
        from: i64,
        until: i64,
        reason: &hall_api::I18nText,
        services: Option<&str>,
        by: &str,
        at: i64,
    ) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO closures (from_at, until_at, reason_zh, reason_en, services, created_by, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
            )?
            .query_row(
                params![from, until, reason.zh, reason.en, services, by, at],
                |r| r.get(0),
            )?)
    }

    /// Lifts a closure not over yet; false when there is none such.
    pub fn lift_closure(&self, id: i64, at: i64) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE closures SET lifted_at = ?2 WHERE id = ?1 AND lifted_at IS NULL AND until_at > ?2",
            )?
            .execute(params![id, at])?
            > 0)
    }

    /// A floor guide's session for member of staff `staff`.
    pub fn open_guide_session(
        &self,
        token_sha256: &[u8; 32],
        staff: &str,
        at: i64,
        expires_at: i64,
    ) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM guide_sessions WHERE expires_at <= ?1")?
            .execute([at])?;
        self.conn
            .prepare_cached(
                "INSERT INTO guide_sessions (token_sha256, staff, created_at, expires_at) \
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![&token_sha256[..], staff, at, expires_at])?;
        Ok(())
    }

    /// Ends a floor guide's session; true when there was one.
    pub fn end_guide_session(&self, token_sha256: &[u8; 32]) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("DELETE FROM guide_sessions WHERE token_sha256 = ?1")?
            .execute([&token_sha256[..]])?
            > 0)
    }

    /// Ends every floor guide session of a member of staff (disabled, new PIN).
    pub fn end_guide_sessions_of(&self, staff: &str) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM guide_sessions WHERE staff = ?1")?
            .execute([staff])?;
        Ok(())
    }

    pub fn insert_print_job(
        &self,
        kiosk: &str,
        ticket: i64,
        requested_by: &str,
        at: i64,
    ) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO print_jobs (kiosk, ticket, requested_by, requested_at) \
                 VALUES (?1, ?2, ?3, ?4) RETURNING id",
            )?
            .query_row(params![kiosk, ticket, requested_by, at], |r| r.get(0))?)
    }

    /// Keeps what the kiosk's printer did with a job; false when the job
    /// was already done (a retry of the same answer).
    pub fn finish_print_job(
        &self,
        id: i64,
        at: i64,
        printed: bool,
        problem: Option<&str>,
    ) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "UPDATE print_jobs SET done_at = ?2, printed = ?3, problem = ?4 \
                 WHERE id = ?1 AND done_at IS NULL",
            )?
            .execute(params![id, at, printed, problem])?
            > 0)
    }

    /// The session a token opened: its counter and attendance row.
    pub fn session(&self, token_sha256: &[u8; 32]) -> Result<Option<(u32, Option<i64>)>> {
        Ok(self
            .conn
            .prepare_cached("SELECT counter, attendance_id FROM sessions WHERE token_sha256 = ?1")?
            .query_row([&token_sha256[..]], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    pub fn end_session(&self, token_sha256: &[u8; 32]) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE token_sha256 = ?1")?
            .execute([&token_sha256[..]])?;
        Ok(())
    }

    pub fn staff(&self, number: &str) -> Result<Option<StaffRow>> {
        queries::staff_by_number(self.conn, number)
    }

    pub fn insert_staff(&self, number: &str, name: &str, pin_hash: &str, at: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO staff (number, name, pin_hash, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![number, name, pin_hash, at])?;
        Ok(())
    }

    pub fn set_staff_pin(&self, number: &str, pin_hash: &str) -> Result<()> {
        self.conn
            .prepare_cached("UPDATE staff SET pin_hash = ?2 WHERE number = ?1")?
            .execute(params![number, pin_hash])?;
        Ok(())
    }

    pub fn disable_staff(&self, number: &str, at: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE staff SET disabled_at = ?2 WHERE number = ?1 AND disabled_at IS NULL",
            )?
            .execute(params![number, at])?;
        Ok(())
    }

    /// The live attendance rows (signed in, not expired): (id, staff, counter).
    pub fn signed_in(&self, now: i64) -> Result<Vec<(i64, String, u32)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, staff, counter FROM attendance WHERE signed_out_at IS NULL AND expires_at > ?1",
        )?;
        let rows = stmt.query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn start_attendance(
        &self,
        staff: &str,
        counter: u32,
        at: i64,
        expires_at: i64,
    ) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO attendance (staff, counter, signed_in_at, expires_at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
            )?
            .query_row(params![staff, counter, at, expires_at], |r| r.get(0))?)
    }

    /// Ends an attendance row and the sessions it opened.
    pub fn end_attendance(&self, id: i64, at: i64, ended_by: &str) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE attendance SET signed_out_at = ?2, ended_by = ?3 WHERE id = ?1 AND signed_out_at IS NULL",
            )?
            .execute(params![id, at, ended_by])?;
        self.conn
            .prepare_cached("DELETE FROM sessions WHERE attendance_id = ?1")?
            .execute([id])?;
        Ok(())
    }

    /// The member of staff an attendance row belongs to.
    pub fn attendance_staff(&self, id: i64) -> Result<Option<StaffRow>> {
        let number: Option<String> = self
            .conn
            .prepare_cached("SELECT staff FROM attendance WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        match number {
            Some(n) => self.staff(&n),
            None => Ok(None),
        }
    }

    pub fn start_pause(&self, counter: u32, reason: &str, at: i64) -> Result<()> {
        self.conn
            .prepare_cached("INSERT INTO pauses (counter, reason, started_at) VALUES (?1, ?2, ?3)")?
            .execute(params![counter, reason, at])?;
        Ok(())
    }

    pub fn end_pause(&self, counter: u32, at: i64) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE pauses SET ended_at = ?2 WHERE counter = ?1 AND ended_at IS NULL",
            )?
            .execute(params![counter, at])?;
        Ok(())
    }

    /// The ticket a counter holds with this number (the newest, if the
    /// number came round again).
    pub fn held_ticket(&self, counter: u32, number: &str) -> Result<Option<TicketRow>> {
        Ok(queries::held_at(self.conn, counter)?
            .into_iter()
            .rev()
            .find(|t| t.number.eq_ignore_ascii_case(number)))
    }

    /// A rating, unless the ticket has one (`None` then).
    pub fn insert_rating(&self, r: &NewRating<'_>) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO ratings (ticket_id, level, reasons, channel, device, business_day, completed_at, rated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT (ticket_id) DO NOTHING RETURNING id",
            )?
            .query_row(
                params![
                    r.ticket_id,
                    r.level,
                    r.reasons,
                    r.channel,
                    r.device,
                    r.business_day,
                    r.completed_at,
                    r.rated_at
                ],
                |row| row.get(0),
            )
            .optional()?)
    }

    pub fn open_follow_up(&self, rating_id: i64, at: i64, due: &str) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT INTO follow_ups (rating_id, opened_at, due) VALUES (?1, ?2, ?3) RETURNING id",
            )?
            .query_row(params![rating_id, at, due], |r| r.get(0))?)
    }

    /// Saves a follow-up's owner, action, call-back and closing.
    pub fn save_follow_up(
        &self,
        id: i64,
        owner: Option<&str>,
        action: Option<&str>,
        called_back: bool,
        closed_at: Option<i64>,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "UPDATE follow_ups SET owner = ?2, action = ?3, called_back = ?4, closed_at = ?5 WHERE id = ?1",
            )?
            .execute(params![id, owner, action, called_back, closed_at])?;
        Ok(())
    }
}

impl Tables<'_> {
    /// Blanks the personal fields of the tickets of business days before
    /// `before`, and the free text of their follow-ups. The tracking code
    /// becomes empty: no page can be opened with it again.
    pub fn forget_personal_data(&self, before: &str) -> Result<u64> {
        let tickets = self
            .conn
            .prepare_cached(
                "UPDATE tickets SET customer_ref = NULL, idempotency_key = NULL, tracking_code = '', \
                 remote_client = NULL WHERE business_day < ?1 AND (customer_ref IS NOT NULL \
                 OR idempotency_key IS NOT NULL OR tracking_code <> '' OR remote_client IS NOT NULL)",
            )?
            .execute([before])?;
        self.conn
            .prepare_cached(
                "UPDATE follow_ups SET action = '(removed after the retention period)' WHERE action IS NOT NULL \
                 AND action <> '(removed after the retention period)' AND rating_id IN \
                 (SELECT id FROM ratings WHERE business_day < ?1)",
            )?
            .execute([before])?;
        Ok(tickets as u64)
    }
}

impl Tables<'_> {
    pub fn record_access(
        &self,
        at: i64,
        who: &str,
        staff: Option<&str>,
        ticket: Option<i64>,
        what: &str,
    ) -> Result<()> {
        self.conn
            .prepare_cached(
                "INSERT INTO access_log (at, who, staff, ticket_id, what) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![at, who, staff, ticket, what])?;
        Ok(())
    }

    /// Forgets the access records made before `at` (ms).
    pub fn forget_access_before(&self, at: i64) -> Result<()> {
        self.conn
            .prepare_cached("DELETE FROM access_log WHERE at < ?1")?
            .execute([at])?;
        Ok(())
    }
}

/// A rating about to be written.
pub struct NewRating<'a> {
    pub ticket_id: i64,
    pub level: u8,
    /// JSON array of reason ids.
    pub reasons: &'a str,
    pub channel: &'a str,
    pub device: &'a str,
    pub business_day: &'a str,
    pub completed_at: i64,
    pub rated_at: i64,
}
