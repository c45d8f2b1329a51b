//! The hall's rules, free of I/O so they can be tested exhaustively:
//! numbering and the business day, the ticket and counter life cycles, the
//! call-next policy, the wait estimate, the day's statistics and reports over any period,
//! the calendar (opening hours, holidays, closures, working days), and a
//! day rebuilt from the event log (what head office computes from).

pub mod appointments;
pub mod calendar;
pub mod estimate;
pub mod lifecycle;
pub mod numbering;
pub mod policy;
pub mod replay;
pub mod report;
pub mod stats;
