//! 好差评: a customer rates one completed service, once, from the
//! counter's rater or the ticket's own phone page, within a window after
//! completion; a bad rating opens a follow-up due within working days.

use hall_api::{
    EventKind, EventRating, FollowUp, FollowUpUpdate, RateRequest, Rating, RatingChannel,
    TicketStatus,
};

use super::{EventDetail, Hall, validate_text};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::rules::calendar::add_working_days;
use crate::store::queries::{self, TicketRow};
use crate::store::tables::NewRating;

/// Who gives a rating.
#[derive(Debug, Clone, Copy)]
pub enum RatedFrom {
    /// The rater bound to this counter.
    Rater(u32),
    /// The ticket's page, opened with its tracking code.
    Phone,
}

impl Hall<'_> {
    /// Keeps a customer's rating of ticket `id`.
    pub fn rate(&mut self, id: i64, from: RatedFrom, req: &RateRequest) -> Result<Rating> {
        let t = self.ticket(id)?;
        self.rateable(&t, from)?;
        let reasons = self.rating_reasons(req)?;
        let ended = t.ended_at.unwrap_or(t.issued_at);
        let (channel, device) = match from {
            RatedFrom::Rater(_) => (RatingChannel::Rater, self.actor.name.as_str()),
            RatedFrom::Phone => (RatingChannel::Phone, "phone"),
        };
        let reasons_json =
            serde_json::to_string(&reasons).map_err(|e| Error::Internal(e.to_string()))?;
        let rating_id = self
            .tables
            .insert_rating(&NewRating {
                ticket_id: t.id,
                level: req.level.score(),
                reasons: &reasons_json,
                channel: match channel {
                    RatingChannel::Rater => "rater",
                    RatingChannel::Phone => "phone",
                },
                device,
                business_day: &t.business_day,
                completed_at: ended,
                rated_at: self.at_ms(),
            })?
            .ok_or_else(|| already_rated(&t))?;
        if req.level.is_bad() {
            let today = self.config.hall.business_day(self.now.at);
            let due = add_working_days(
                &queries::held_calendar(self.tables.conn(), self.config)?.holidays,
                today,
                self.config.ratings.follow_up_working_days,
            );
            self.tables
                .open_follow_up(rating_id, self.at_ms(), &due.to_string())?;
        }
        let detail = EventDetail {
            // Who served, as reports count it.
            staff: t.staff_ref(),
            rating: Some(EventRating {
                level: req.level,
                reasons,
                channel,
                transaction_ref: t.transaction_ref.clone(),
            }),
            ..Default::default()
        };
        self.record_full(EventKind::TicketRated, Some(&t), t.counter, detail)?;
        queries::rating_of_ticket(self.tables.conn(), t.id)?
            .ok_or_else(|| Error::Internal("the rating just written is not there".into()))
    }

    /// Whether `t` may be rated from there now, or why not.
    fn rateable(&self, t: &TicketRow, from: RatedFrom) -> Result<()> {
        if t.status != TicketStatus::Done {
            return Err(Error::Conflict(format!(
                "ticket {} is {}; a service is rated once it is completed",
                t.number,
                t.status.as_str().replace('_', "-")
            )));
        }
        if let RatedFrom::Rater(counter) = from
            && t.counter != Some(counter)
        {
            return Err(Error::Forbidden(format!(
                "this rater belongs to counter {counter}; ticket {} was served at counter {}",
                t.number,
                t.counter.map_or("—".into(), |c| c.to_string())
            )));
        }
        if queries::rating_of_ticket(self.tables.conn(), t.id)?.is_some() {
            return Err(already_rated(t));
        }
        if !window_open(self.config, from, t, self.at_ms()) {
            return Err(Error::Conflict(format!(
                "the time to rate ticket {} has passed ({} after its service)",
                t.number,
                match from {
                    RatedFrom::Rater(_) => format!("{} min", self.config.ratings.rater_window_min),
                    RatedFrom::Phone => format!("{} h", self.config.ratings.phone_window_h),
                }
            )));
        }
        Ok(())
    }

    /// The reasons given, each one of the hall's, and only with a bad rating.
    fn rating_reasons(&self, req: &RateRequest) -> Result<Vec<String>> {
        if !req.level.is_bad() && !req.reasons.is_empty() {
            return Err(Error::BadRequest(
                "reasons go with 不满意 or 非常不满意 only".into(),
            ));
        }
        let known = &self.config.ratings.reasons;
        let mut out: Vec<String> = Vec::new();
        for r in &req.reasons {
            if !known.iter().any(|k| &k.id == r) {
                return Err(Error::BadRequest(format!(
                    "\"{r}\" is not one of this hall's rating reasons: {}",
                    known
                        .iter()
                        .map(|k| k.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
            if !out.contains(r) {
                out.push(r.clone());
            }
        }
        Ok(out)
    }

    /// The manager's record of a follow-up: owner, what was done, whether
    /// the customer was called back, and closing it (which needs what was
    /// done). A closed follow-up is not changed again.
    pub fn update_follow_up(&mut self, id: i64, u: &FollowUpUpdate) -> Result<FollowUp> {
        let today = self.config.hall.business_day(self.now.at);
        let f = queries::follow_up(self.tables.conn(), id, today)?
            .ok_or_else(|| Error::NotFound(format!("no follow-up {id}")))?;
        if f.closed_at.is_some() {
            return Err(Error::Conflict(format!(
                "follow-up {id} is closed; it is kept as it was closed"
            )));
        }
        if let Some(owner) = &u.owner {
            validate_text("owner", owner, 32)?;
        }
        if let Some(action) = &u.action {
            validate_text("action", action, 500)?;
        }
        let owner = u.owner.clone().or(f.owner);
        let action = u.action.clone().or(f.action);
        if u.close && action.is_none() {
            return Err(Error::BadRequest(format!(
                "say what was done (action) before closing follow-up {id}"
            )));
        }
        let called_back = u.called_back.unwrap_or(f.called_back);
        let closed_at = u.close.then(|| self.at_ms());
        self.tables.save_follow_up(
            id,
            owner.as_deref(),
            action.as_deref(),
            called_back,
            closed_at,
        )?;
        self.audit(
            "follow_up.update",
            &format!(
                "follow-up {id}{}",
                if u.close { " closed" } else { " updated" }
            ),
        )?;
        queries::follow_up(self.tables.conn(), id, today)?
            .ok_or_else(|| Error::Internal("the follow-up just saved is not there".into()))
    }
}

/// Whether a completed ticket is still inside the time its rating may be
/// given from there (the one rule both the command and the phone page use).
pub fn window_open(config: &Config, from: RatedFrom, t: &TicketRow, now_ms: i64) -> bool {
    let window_ms = match from {
        RatedFrom::Rater(_) => i64::from(config.ratings.rater_window_min) * 60_000,
        RatedFrom::Phone => i64::from(config.ratings.phone_window_h) * 3_600_000,
    };
    t.ended_at.is_some_and(|ended| now_ms - ended <= window_ms)
}

fn already_rated(t: &TicketRow) -> Error {
    Error::Conflict(format!("ticket {} has been rated already", t.number))
}
