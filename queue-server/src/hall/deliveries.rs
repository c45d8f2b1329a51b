//! The outcome of webhook deliveries (the outbox itself is written by
//! `Hall::record`, with each event), shipping to head office, and the
//! health probe's write.

use super::Hall;
use crate::error::Result;

impl Hall<'_> {
    /// One delivery attempt of outbox entry `outbox_id`: delivered (no
    /// error) or failed with the reason shown to the manager.
    pub fn record_delivery(&mut self, outbox_id: i64, error: Option<&str>) -> Result<()> {
        self.tables.record_delivery(outbox_id, self.at_ms(), error)
    }

    /// Head office's JetStream acknowledged every event up to `through`.
    pub fn record_shipped(&mut self, through: i64) -> Result<()> {
        self.tables.record_shipped(through, self.at_ms())
    }

    /// A write that changes nothing of the hall, to learn whether the disk
    /// still takes writes (full, read-only, failing) while nobody else writes.
    pub fn probe(&mut self) -> Result<()> {
        self.tables.probe(self.at_ms())
    }
}
