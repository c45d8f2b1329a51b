//! The calendar head office sends: a year's holiday schedule, read as the
//! hall reads its own holiday files and kept in place of that year of
//! them, and a service's hours in place of its configuration's.
//! `store::queries::held_calendar` reads both back for the calendar.

use super::Hall;
use crate::error::{Error, Result};
use hall_api::head_office::ServiceHours;

impl Hall<'_> {
    /// Keeps `file` as `year`'s public holidays and extra working days.
    pub fn set_holiday_year(&mut self, year: i16, file: &str) -> Result<()> {
        let days = crate::config::holiday_year(year, file)
            .map_err(|e| Error::BadRequest(e.to_string()))?;
        let (by, at) = (self.actor.name.clone(), self.at_ms());
        self.tables
            .replace_holiday_year(year, file, &days, &by, at)?;
        self.audit(
            "holidays.set",
            &format!(
                "{year}'s holiday schedule: {} holidays, {} extra working days",
                days.holidays(),
                days.days.len() - days.holidays()
            ),
        )
    }

    /// Keeps `hours` as `service`'s opening hours in place of its own;
    /// none: its own again.
    pub fn set_service_hours(&mut self, service: &str, hours: Option<&ServiceHours>) -> Result<()> {
        self.known_service(service)?;
        match hours {
            None => {
                self.tables.clear_service_hours(service)?;
                self.audit("hours.set", &format!("{service} keeps its own hours again"))
            }
            Some(hours) => {
                crate::config::sent_week(hours, self.config.hall.extra_workday_like)
                    .map_err(Error::BadRequest)?;
                let kept =
                    serde_json::to_string(hours).map_err(|e| Error::Internal(e.to_string()))?;
                let (by, at) = (self.actor.name.clone(), self.at_ms());
                self.tables.set_service_hours(service, &kept, &by, at)?;
                self.audit(
                    "hours.set",
                    &format!(
                        "{service}'s hours from head office: {} (week {:?})",
                        hours.every_day.as_deref().unwrap_or("-"),
                        hours.week
                    ),
                )
            }
        }
    }
}
