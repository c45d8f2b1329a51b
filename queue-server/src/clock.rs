//! The server's one clock: the system time, never allowed to run backwards
//! past what is already stored (see `rules::numbering::effective_time`).

use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};

use jiff::Timestamp;

use crate::rules::numbering::{self, Reading};

#[derive(Debug)]
pub struct HallClock {
    /// Newest time recorded so far, in ms; `i64::MIN` when nothing is stored.
    newest_ms: AtomicI64,
    trusted: AtomicBool,
}

impl HallClock {
    pub fn new(newest_stored: Option<Timestamp>) -> HallClock {
        HallClock {
            newest_ms: AtomicI64::new(newest_stored.map_or(i64::MIN, |t| t.as_millisecond())),
            trusted: AtomicBool::new(true),
        }
    }

    /// The time to record for a change now; it never goes back.
    pub fn read(&self) -> Reading {
        let newest = self.newest_ms.load(Ordering::Acquire);
        let newest = (newest != i64::MIN)
            .then(|| Timestamp::from_millisecond(newest).ok())
            .flatten();
        // Milliseconds are what the database keeps; round here so an event
        // and its ticket agree to the digit.
        let now = Timestamp::from_millisecond(Timestamp::now().as_millisecond())
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let reading = numbering::effective_time(now, newest);
        self.newest_ms
            .fetch_max(reading.at.as_millisecond(), Ordering::AcqRel);
        let was = self.trusted.swap(reading.trusted, Ordering::AcqRel);
        if was && !reading.trusted {
            tracing::warn!(
                recorded = %reading.at,
                "the system clock is behind the newest stored time (no RTC, or NTP not yet synced): \
                 keeping the current business day and numbering until it catches up"
            );
        } else if !was && reading.trusted {
            tracing::info!("the system clock caught up; business days follow it again");
        }
        reading
    }
}
