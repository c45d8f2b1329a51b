//! A year's holiday schedule head office sends: read as the hall reads its
//! own holiday files, and kept in place of that year of them
//! (`store::queries::holidays` merges the two for the calendar).

use super::Hall;
use crate::error::{Error, Result};

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
}
