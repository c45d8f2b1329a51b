//! Personal data kept only as long as needed: after the hall's retention
//! period a ticket's account number, tracking code and idempotency key (a
//! device's, which may carry anything) are removed for good, and a
//! follow-up's free text with them. The billing system's transaction
//! reference stays: it is that system's own key for its record, and says
//! nothing of the customer here. Every figure of those days stays as it
//! was: statistics never read these fields.

use super::Hall;
use crate::error::Result;

impl Hall<'_> {
    /// Keeps who was shown a customer's `what` (account number, amount
    /// due) for which ticket, now.
    pub fn record_access(&mut self, ticket: Option<i64>, what: &str) -> Result<()> {
        let staff = self.actor.staff.as_ref().map(|s| s.number.clone());
        self.tables.record_access(
            self.at_ms(),
            &self.actor.name,
            staff.as_deref(),
            ticket,
            what,
        )
    }

    /// Removes the personal fields of the tickets of business days before
    /// `before` (YYYY-MM-DD); answers how many tickets had any.
    pub fn forget_personal_data(&mut self, before: &str) -> Result<u64> {
        let n = self.tables.forget_personal_data(before)?;
        // Who saw whom goes with what they saw.
        let date: jiff::civil::Date = before
            .parse()
            .map_err(|e| crate::error::Error::Internal(format!("retention day {before}: {e}")))?;
        let (start, _) = self
            .config
            .hall
            .day_window(date)
            .map_err(crate::error::Error::Internal)?;
        self.tables
            .forget_access_before(crate::store::queries::ms(start))?;
        Ok(n)
    }
}
