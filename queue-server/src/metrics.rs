//! Counters for the Prometheus-style `/metrics` endpoint.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Metrics {
    /// Transactions the writer committed (or tried to).
    pub commits: AtomicU64,
    /// Requests the writer handled; requests ÷ commits is the group-commit batch size.
    pub requests: AtomicU64,
    /// Requests refused by the rules (4xx from the writer).
    pub refused: AtomicU64,
    /// Commits that failed (the whole batch answered 503).
    pub failed_commits: AtomicU64,
    /// Event streams open now.
    pub event_streams: AtomicI64,
    /// The server's own writes: the health probe, the retention period
    /// (not counted in `requests`).
    pub own_writes: AtomicU64,
}

impl Metrics {
    /// The Prometheus text format, with the hall's live figures appended.
    pub fn render(
        &self,
        waiting: &[(String, u32)],
        last_event_id: i64,
        clock_trusted: bool,
    ) -> String {
        let mut out = String::new();
        let mut metric = |name: &str, kind: &str, help: &str, value: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        };
        metric(
            "queue_writer_commits_total",
            "counter",
            "Transactions committed by the writer.",
            self.commits.load(Ordering::Relaxed).to_string(),
        );
        metric(
            "queue_writer_requests_total",
            "counter",
            "Requests handled by the writer.",
            self.requests.load(Ordering::Relaxed).to_string(),
        );
        metric(
            "queue_own_writes_total",
            "counter",
            "The server's own writes: the health probe checking the database takes writes, the retention period (not among the requests).",
            self.own_writes.load(Ordering::Relaxed).to_string(),
        );
        metric(
            "queue_writer_refused_total",
            "counter",
            "Requests refused by the rules.",
            self.refused.load(Ordering::Relaxed).to_string(),
        );
        metric(
            "queue_writer_failed_commits_total",
            "counter",
            "Commits that failed.",
            self.failed_commits.load(Ordering::Relaxed).to_string(),
        );
        metric(
            "queue_event_streams",
            "gauge",
            "Event streams open now.",
            self.event_streams.load(Ordering::Relaxed).to_string(),
        );
        metric(
            "queue_last_event_id",
            "counter",
            "Id of the newest event.",
            last_event_id.to_string(),
        );
        metric(
            "queue_clock_trusted",
            "gauge",
            "1 when the system clock is ahead of the newest stored time.",
            u8::from(clock_trusted).to_string(),
        );
        let _ = writeln!(
            out,
            "# HELP queue_waiting_tickets Tickets waiting now.\n# TYPE queue_waiting_tickets gauge"
        );
        for (service, n) in waiting {
            let _ = writeln!(out, "queue_waiting_tickets{{service=\"{service}\"}} {n}");
        }
        out
    }
}
