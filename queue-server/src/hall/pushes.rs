//! Changes head office pushes to the hall: each is the hall's own command
//! (the notice, a closure, staff accounts, a year's holidays, a service's
//! hours, its name, target and papers) under the same rules as the
//! manager's, all of a push in one transaction. The hall's configuration says which kinds it
//! accepts; what it refuses leaves it running on what it had.

use hall_api::head_office::{Push, PushAnswer, PushChange};

use super::Hall;
use crate::error::{Error, Result};

impl Hall<'_> {
    /// Applies `push`, all or none: an error rolls the whole push back and
    /// says why. A push applied before is answered as it was then.
    pub fn apply_push(&mut self, push: &Push, accept: &[String]) -> Result<PushAnswer> {
        if let Some(answer) = self.tables.push_answer(push.id)? {
            return serde_json::from_str(&answer)
                .map_err(|e| Error::Internal(format!("a kept push answer does not parse: {e}")));
        }
        if push.changes.is_empty() {
            return Err(Error::BadRequest("the push has no changes".into()));
        }
        if let Some(c) = push
            .changes
            .iter()
            .find(|c| !accept.iter().any(|a| a == c.kind()))
        {
            return Err(Error::Forbidden(format!(
                "this hall does not take {} changes from head office (its [head_office] accept is [{}]); set it at the hall, or change accept there",
                c.kind(),
                accept.join(", ")
            )));
        }
        for (n, change) in push.changes.iter().enumerate() {
            let applied = match change {
                PushChange::Notice { notice } => self.set_notice(notice.clone()),
                PushChange::Closure { closure } => self.add_closure(closure).map(|_| ()),
                PushChange::Staff {
                    number,
                    name,
                    pin_hash,
                } => {
                    // The hall verifies PINs as Argon2id; anything else
                    // would be an account nobody could ever sign in to.
                    if !pin_hash.starts_with("$argon2id$") {
                        Err(Error::BadRequest(format!(
                            "the PIN of {number} is not an Argon2id hash"
                        )))
                    } else {
                        self.add_staff(number, name, pin_hash).map(|_| ())
                    }
                }
                PushChange::StaffDisable { number } => self.disable_staff(number),
                PushChange::Holidays { year, file } => self.set_holiday_year(*year, file),
                PushChange::ServiceHours { service, hours } => {
                    self.set_service_hours(service, hours.as_ref())
                }
                PushChange::Service { service, settings } => {
                    self.set_service_settings(service, settings.as_ref())
                }
            };
            applied.map_err(|e| match e {
                Error::BadRequest(why) | Error::Conflict(why) | Error::NotFound(why) => {
                    Error::BadRequest(format!("change {} ({}): {why}", n + 1, change.kind()))
                }
                other => other,
            })?;
        }
        let answer = PushAnswer {
            id: push.id,
            applied: true,
            refused: None,
        };
        let kept = serde_json::to_string(&answer).map_err(|e| Error::Internal(e.to_string()))?;
        self.tables
            .record_push(push.id, &push.by, &kept, self.at_ms())?;
        Ok(answer)
    }
}
