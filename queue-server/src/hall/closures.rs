//! Closures the manager sets for a time range (停电, 停业): the hall or
//! some of its services refuse tickets then, with the reason shown to
//! customers and the time they open again (`rules::calendar`).

use hall_api::{ClosureView, EventKind, NewClosure};

use super::{EventDetail, Hall, validate_text};
use crate::error::{Error, Result};
use crate::store::queries::ms;

/// The longest closure one request sets.
const LONGEST_DAYS: i64 = 60;

impl Hall<'_> {
    /// Keeps a new closure; those already waiting are still served.
    pub fn add_closure(&mut self, c: &NewClosure) -> Result<ClosureView> {
        validate_text("reason.zh", c.reason.zh.trim(), 120)?;
        validate_text("reason.en", c.reason.en.trim(), 120)?;
        if c.until <= c.from {
            return Err(Error::BadRequest("until must come after from".into()));
        }
        if c.until <= self.now.at {
            return Err(Error::BadRequest(
                "the closure is over already; give a time range that has not ended".into(),
            ));
        }
        if (ms(c.until) - ms(c.from)) > LONGEST_DAYS * 86_400_000 {
            return Err(Error::BadRequest(format!(
                "a closure lasts at most {LONGEST_DAYS} days; holidays belong in the holiday file"
            )));
        }
        if let Some(list) = &c.services {
            if list.is_empty() {
                return Err(Error::BadRequest(
                    "services is empty: leave it out to close the whole hall".into(),
                ));
            }
            for id in list {
                self.known_service(id)?;
            }
        }
        let reason = hall_api::I18nText {
            zh: c.reason.zh.trim().to_string(),
            en: c.reason.en.trim().to_string(),
        };
        let services = c.services.as_ref().map(|l| format!(",{},", l.join(",")));
        let id = self.tables.insert_closure(
            ms(c.from),
            ms(c.until),
            &reason,
            services.as_deref(),
            &self.actor.name,
            self.at_ms(),
        )?;
        self.record_closures()?;
        let what = c
            .services
            .as_ref()
            .map_or("the hall".to_string(), |l| l.join(", "));
        self.audit(
            "closure.add",
            &format!(
                "closed {what} from {} until {}: {}",
                c.from, c.until, reason.zh
            ),
        )?;
        Ok(ClosureView {
            id,
            from: c.from,
            until: c.until,
            reason,
            services: c.services.clone(),
            created_by: self.actor.name.clone(),
        })
    }

    /// Lifts a closure before its end.
    pub fn lift_closure(&mut self, id: i64) -> Result<()> {
        if !self.tables.lift_closure(id, self.at_ms())? {
            return Err(Error::NotFound(format!(
                "no closure {id} in force or to come"
            )));
        }
        self.record_closures()?;
        self.audit("closure.lift", &format!("lifted closure {id}"))
    }

    /// Tells the boards (and anyone following the stream) every closure now.
    fn record_closures(&mut self) -> Result<()> {
        let all = crate::store::queries::closure_views(self.tables.conn(), self.at_ms())?;
        let detail = EventDetail {
            closures: Some(all),
            ..Default::default()
        };
        self.record_full(EventKind::ClosuresChanged, None, None, detail)
    }
}
