//! The wire types of the hall queue API: one definition of each, shared by
//! queue-server and every client (kiosk, display board, counter tools, bench).
//!
//! Times are RFC 3339 timestamps in UTC; ids are SQLite row ids. The types
//! live in one module per family (texts, tickets, counters, the hall,
//! events, statistics, billing, devices), all re-exported here, so a client
//! writes `hall_api::Ticket`.

#[cfg(feature = "client")]
pub mod client;
pub mod config_error;
#[cfg(feature = "logging")]
pub mod logging;
#[cfg(feature = "signature")]
pub mod signature;
pub mod sse;

mod billing;
mod counters;
mod devices;
mod events;
mod guide;
mod hall;
pub mod head_office;
mod manager;
mod ratings;
mod staff;
mod stats;
mod text;
mod tickets;

pub use billing::*;
pub use counters::*;
pub use devices::*;
pub use events::*;
pub use guide::*;
pub use hall::*;
pub use manager::*;
pub use ratings::*;
pub use staff::*;
pub use stats::*;
pub use text::*;
pub use tickets::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in TicketStatus::ALL {
            assert_eq!(TicketStatus::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for a in CounterAction::ALL {
            assert_eq!(CounterAction::parse(a.as_str()), Some(a));
            assert_eq!(
                serde_json::to_string(&a).unwrap(),
                format!("\"{}\"", a.as_str())
            );
        }
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                format!("\"{}\"", k.as_str())
            );
        }
        assert_eq!(TicketStatus::parse("nope"), None);
    }

    #[test]
    fn issue_request_refuses_unknown_fields() {
        let err = serde_json::from_str::<IssueTicket>(
            r#"{"service":"pay","idempotency_key":"k","colour":"red"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("colour"), "{err}");
    }
}
