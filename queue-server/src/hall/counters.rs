//! What happens at a counter: the ticket life cycle driven from there
//! (call next, recall, start, complete, no-show, transfer, hold and
//! resume a held ticket) and the counter's own state (open, pause with a
//! reason, resume, close).

use hall_api::{CounterState, CounterView, EventKind, Ticket, TicketStatus};

use super::{EventDetail, Hall, validate_text};
use crate::config::CounterConfig;
use crate::error::{Error, Result};
use crate::rules::lifecycle::{CounterStep, TicketStep, counter_after, ticket_after};
use crate::rules::policy::{QueueRank, pick_next};
use crate::store::queries::{self, CounterRow, TicketRow};
use crate::store::tables::NewTicket;

impl<'a> Hall<'a> {
    /// Calls the waiting ticket the policy ranks first for this counter,
    /// or `None` when nobody waits for it. A ticket the counter still has
    /// is closed first, through the life cycle like any other: done if it
    /// was being served, a no-show if it never started (so the hall's
    /// recalls-before-no-show rule holds here too).
    pub fn call_next(&mut self, number: u32) -> Result<Option<Ticket>> {
        let (row, cfg) = self.counter(number)?;
        match row.state {
            CounterState::Open => {}
            CounterState::Paused => {
                return Err(Error::Conflict(format!(
                    "counter {number} is paused; resume it before calling"
                )));
            }
            CounterState::Closed => {
                return Err(Error::Conflict(format!(
                    "counter {number} is closed; open it before calling"
                )));
            }
        }
        if let Some(id) = row.current_ticket {
            let t = self.ticket(id)?;
            match t.status {
                TicketStatus::Serving => {
                    self.advance(t, TicketStep::Complete, Some(number))?;
                }
                TicketStatus::Called => {
                    self.advance(t, TicketStep::NoShow, Some(number))?;
                }
                _ => self.tables.set_current_ticket(number, None)?,
            }
        }
        let served = self.config.served_by(cfg);
        let mut heads = Vec::new();
        for s in &served {
            if let Some(t) = self.tables.queue_head(s.id)? {
                heads.push(t.candidate());
            }
        }
        let Some(next) = pick_next(&served, &heads) else {
            return Ok(None);
        };
        let t = self.ticket(next.id)?;
        let t = self.advance(t, TicketStep::Call, Some(number))?;
        Ok(Some(t.to_ticket(None)))
    }

    /// Calls the counter's ticket again (same words on the board and the voice).
    pub fn recall(&mut self, number: u32) -> Result<Ticket> {
        self.current_step(number, TicketStep::Recall, "recall")
    }

    /// The customer has come to the counter.
    pub fn start(&mut self, number: u32) -> Result<Ticket> {
        self.current_step(number, TicketStep::Start, "start")
    }

    /// Service ended; the billing system may give its transaction reference.
    pub fn complete(&mut self, number: u32, transaction_ref: Option<String>) -> Result<Ticket> {
        let (row, _) = self.counter(number)?;
        let mut t = self.current(&row, "complete")?;
        self.allowed(&t, TicketStep::Complete)?;
        if let Some(r) = &transaction_ref {
            validate_text("transaction_ref", r, 128)?;
        }
        t.transaction_ref = transaction_ref;
        let t = self.advance(t, TicketStep::Complete, Some(number))?;
        Ok(t.to_ticket(None))
    }

    /// The called customer did not come.
    pub fn no_show(&mut self, number: u32) -> Result<Ticket> {
        self.current_step(number, TicketStep::NoShow, "mark a no-show")
    }

    /// Sends the customer being served to another service: a new waiting
    /// entry that keeps their number, tracking code and issue time, and
    /// waits ahead of those who never waited before. Answers that entry.
    pub fn transfer(&mut self, number: u32, service: &str) -> Result<Ticket> {
        let target = self.known_service(service)?;
        let (row, _) = self.counter(number)?;
        let mut t = self.current(&row, "transfer")?;
        if t.service == target.id {
            return Err(Error::BadRequest(format!(
                "ticket {} is already in service \"{}\"",
                t.number, target.id
            )));
        }
        self.allowed(&t, TicketStep::Transfer)?;
        let new_id = self.tables.insert_ticket(&NewTicket {
            number: &t.number,
            service: &target.id,
            business_day: &t.business_day,
            rank: QueueRank::Continuing,
            issued_at: t.issued_at,
            created_at: self.at_ms(),
            channel: &t.channel,
            idempotency_key: None,
            tracking_code: &t.tracking_code,
            customer_ref: t.customer_ref.as_deref(),
            lang: t.lang.as_deref(),
            transferred_from: Some(t.id),
            // A key account or an elderly customer keeps their priority.
            precedence: t.precedence,
            priority_reason: t.priority_reason.as_deref(),
            remote: None,
        })?;
        t.transferred_to = Some(new_id);
        self.advance(t, TicketStep::Transfer, Some(number))?;
        let new = self.ticket(new_id)?;
        queries::ticket_view(self.tables.conn(), self.config, &new, self.now.at)
    }

    /// Parks the customer being served (挂起): the counter is free to call
    /// others and resumes this one later by number.
    pub fn hold(&mut self, number: u32) -> Result<Ticket> {
        self.current_step(number, TicketStep::Hold, "hold")
    }

    /// Serves a ticket this counter holds again; the counter must be open
    /// and free.
    pub fn resume_held(&mut self, number: u32, ticket_number: &str) -> Result<Ticket> {
        let (row, _) = self.counter(number)?;
        if row.state != CounterState::Open {
            return Err(Error::Conflict(format!(
                "counter {number} is {}; open or resume it before serving a held ticket",
                row.state.as_str()
            )));
        }
        if let Some(id) = row.current_ticket {
            let t = self.ticket(id)?;
            return Err(Error::Conflict(format!(
                "counter {number} has ticket {} ({}); finish or hold it before resuming {ticket_number}",
                t.number,
                t.status.as_str()
            )));
        }
        let t = self.tables.held_ticket(number, ticket_number)?.ok_or_else(|| {
            Error::NotFound(format!(
                "counter {number} holds no ticket {ticket_number}; the counter page lists the ones it holds"
            ))
        })?;
        let t = self.advance(t, TicketStep::Resume, Some(number))?;
        Ok(t.to_ticket(None))
    }

    /// Opens, pauses (for one of the hall's reasons; `other` when none is
    /// given), resumes or closes a counter. A counter with a called or
    /// served ticket cannot close until that ticket is finished or held.
    pub fn change_counter(
        &mut self,
        number: u32,
        step: CounterStep,
        reason: Option<&str>,
    ) -> Result<CounterView> {
        let reason = match (step, reason) {
            (CounterStep::Pause, r) => Some(self.pause_reason(r.unwrap_or("other"))?),
            (_, None) => None,
            (_, Some(_)) => {
                return Err(Error::BadRequest("only pause takes a reason".into()));
            }
        };
        let (mut row, _) = self.counter(number)?;
        let next = counter_after(row.state, step).ok_or_else(|| {
            Error::Conflict(format!(
                "counter {number} is {} and cannot {}",
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
                "counter {number} still has ticket {} ({}); complete, transfer or mark it no-show before closing",
                t.number,
                t.status.as_str()
            )));
        }
        if row.state == CounterState::Paused {
            self.tables.end_pause(number, self.at_ms())?;
        }
        if let Some(r) = &reason {
            self.tables.start_pause(number, r, self.at_ms())?;
        }
        row.state = next;
        self.tables.set_counter_state(number, next)?;
        let kind = match step {
            CounterStep::Open => EventKind::CounterOpened,
            CounterStep::Close => EventKind::CounterClosed,
            CounterStep::Pause => EventKind::CounterPaused,
            CounterStep::Resume => EventKind::CounterResumed,
        };
        let detail = EventDetail {
            staff: self.actor.staff.clone(),
            reason,
            ..Default::default()
        };
        self.record_full(kind, None, Some(number), detail)?;
        self.audit(
            kind.as_str(),
            &format!("counter {number} {}", next.as_str()),
        )?;
        queries::counter_view(self.tables.conn(), self.config, &row, self.now.at)
    }

    /// The configured pause reason `id`, or a 400 listing them.
    fn pause_reason(&self, id: &str) -> Result<String> {
        let reasons = &self.config.hall.pause_reasons;
        if reasons.iter().any(|r| r.id == id) {
            return Ok(id.to_string());
        }
        Err(Error::BadRequest(format!(
            "\"{id}\" is not one of this hall's pause reasons: {}",
            reasons
                .iter()
                .map(|r| r.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }

    /// Moves a ticket one step through its life cycle: checks the step is
    /// allowed (and, for a no-show, that the hall's recalls were made),
    /// stamps its time, keeps the counter's current ticket in step, saves
    /// the ticket and records the event. Every transition goes through here.
    pub(super) fn advance(
        &mut self,
        mut t: TicketRow,
        step: TicketStep,
        counter: Option<u32>,
    ) -> Result<TicketRow> {
        t.status = self.allowed(&t, step)?;
        let now = self.at_ms();
        let kind = match step {
            TicketStep::Call => {
                t.called_at = Some(now);
                t.counter = counter;
                t.staff = self.actor.staff.as_ref().map(|s| s.number.clone());
                t.staff_name = self.actor.staff.as_ref().map(|s| s.name.clone());
                EventKind::TicketCalled
            }
            TicketStep::Hold => {
                t.held_since = Some(now);
                EventKind::TicketHeld
            }
            TicketStep::Resume => {
                if let Some(since) = t.held_since.take() {
                    t.held_ms += (now - since).max(0);
                }
                EventKind::TicketResumed
            }
            TicketStep::Recall => {
                t.recalls += 1;
                EventKind::TicketRecalled
            }
            TicketStep::Start => {
                t.started_at = Some(now);
                EventKind::TicketStarted
            }
            TicketStep::Complete => EventKind::TicketCompleted,
            TicketStep::NoShow => EventKind::TicketNoShow,
            TicketStep::Cancel => EventKind::TicketCancelled,
            TicketStep::Transfer => EventKind::TicketTransferred,
            TicketStep::Expire => EventKind::TicketExpired,
        };
        if t.status.is_final() {
            t.ended_at = Some(now);
        }
        self.tables.save_ticket(&t)?;
        if let Some(number) = t.counter {
            if matches!(step, TicketStep::Call | TicketStep::Resume) {
                self.tables.set_current_ticket(number, Some(t.id))?;
            } else if t.status.is_final() || step == TicketStep::Hold {
                let row = self.tables.counter(number)?;
                if row.is_some_and(|r| r.current_ticket == Some(t.id)) {
                    self.tables.set_current_ticket(number, None)?;
                }
            }
        }
        self.record(kind, Some(&t), counter)?;
        Ok(t)
    }

    /// The status after `step`, or a 409 that says why not and what to do.
    fn allowed(&self, t: &TicketRow, step: TicketStep) -> Result<TicketStatus> {
        let next = ticket_after(t.status, step).ok_or_else(|| {
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
                    TicketStep::Hold => "held",
                    TicketStep::Resume => "resumed",
                    TicketStep::Expire => "expired",
                }
            ))
        })?;
        let needed = self.config.hall.recalls_before_no_show;
        if step == TicketStep::NoShow && t.recalls < needed {
            return Err(Error::Conflict(format!(
                "ticket {} was recalled {} of the {needed} times this hall requires before a no-show; \
                 recall it first, or start serving it if the customer came",
                t.number, t.recalls
            )));
        }
        Ok(next)
    }

    /// One life-cycle step of the counter's current ticket.
    fn current_step(&mut self, number: u32, step: TicketStep, doing: &str) -> Result<Ticket> {
        let (row, _) = self.counter(number)?;
        let t = self.current(&row, doing)?;
        let t = self.advance(t, step, Some(number))?;
        Ok(t.to_ticket(None))
    }

    fn counter(&self, number: u32) -> Result<(CounterRow, &'a CounterConfig)> {
        let cfg = self
            .config
            .counter(number)
            .ok_or_else(|| Error::NotFound(format!("counter {number} is not configured")))?;
        let row = self.tables.counter(number)?.ok_or_else(|| {
            Error::NotFound(format!(
                "counter {number} has no stored state; restart the server"
            ))
        })?;
        Ok((row, cfg))
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
}
