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
    /// Removes the personal fields of the tickets of business days before
    /// `before` (YYYY-MM-DD); answers how many tickets had any.
    pub fn forget_personal_data(&mut self, before: &str) -> Result<u64> {
        self.tables.forget_personal_data(before)
    }
}
