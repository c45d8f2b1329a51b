//! The ticket life cycle and the counter states, as tables of what may
//! follow what. Everything not listed is refused.

use hall_api::{CounterState, TicketStatus};

/// A change asked of a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketStep {
    Call,
    Recall,
    Start,
    Complete,
    NoShow,
    Cancel,
    Transfer,
    /// Park the customer being served (挂起).
    Hold,
    /// Serve a held customer again.
    Resume,
    /// A remote ticket not checked in in time.
    Expire,
}

impl TicketStep {
    pub const ALL: [TicketStep; 10] = [
        TicketStep::Call,
        TicketStep::Recall,
        TicketStep::Start,
        TicketStep::Complete,
        TicketStep::NoShow,
        TicketStep::Cancel,
        TicketStep::Transfer,
        TicketStep::Hold,
        TicketStep::Resume,
        TicketStep::Expire,
    ];
}

/// The status a ticket has after `step`, or `None` when the step is not
/// allowed from `from`.
pub fn ticket_after(from: TicketStatus, step: TicketStep) -> Option<TicketStatus> {
    use TicketStatus as T;
    use TicketStep as S;
    match (from, step) {
        (T::Waiting, S::Call) => Some(T::Called),
        (T::Called, S::Recall) => Some(T::Called),
        (T::Called, S::Start) => Some(T::Serving),
        (T::Serving, S::Complete) => Some(T::Done),
        (T::Called, S::NoShow) => Some(T::NoShow),
        (T::Waiting | T::Called, S::Cancel) => Some(T::Cancelled),
        (T::Serving, S::Transfer) => Some(T::Transferred),
        (T::Serving, S::Hold) => Some(T::Held),
        (T::Held, S::Resume) => Some(T::Serving),
        (T::Waiting, S::Expire) => Some(T::Expired),
        _ => None,
    }
}

/// A change asked of a counter's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CounterStep {
    Open,
    Close,
    Pause,
    Resume,
}

pub fn counter_after(from: CounterState, step: CounterStep) -> Option<CounterState> {
    use CounterState::*;
    use CounterStep as S;
    match (from, step) {
        (Closed, S::Open) => Some(Open),
        (Open | Paused, S::Close) => Some(Closed),
        (Open, S::Pause) => Some(Paused),
        (Paused, S::Resume) => Some(Open),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TicketStatus::*;

    /// The whole table, written out: every pair not listed here is refused.
    const ALLOWED: [(TicketStatus, TicketStep, TicketStatus); 11] = [
        (Waiting, TicketStep::Call, Called),
        (Called, TicketStep::Recall, Called),
        (Called, TicketStep::Start, Serving),
        (Serving, TicketStep::Complete, Done),
        (Called, TicketStep::NoShow, NoShow),
        (Waiting, TicketStep::Cancel, Cancelled),
        (Called, TicketStep::Cancel, Cancelled),
        (Serving, TicketStep::Transfer, Transferred),
        (Serving, TicketStep::Hold, Held),
        (Held, TicketStep::Resume, Serving),
        (Waiting, TicketStep::Expire, Expired),
    ];

    #[test]
    fn every_ticket_transition_allowed_or_refused() {
        for from in TicketStatus::ALL {
            for step in TicketStep::ALL {
                let expected = ALLOWED
                    .iter()
                    .find(|(f, s, _)| *f == from && *s == step)
                    .map(|(_, _, to)| *to);
                assert_eq!(ticket_after(from, step), expected, "{from:?} --{step:?}-->");
            }
        }
    }

    #[test]
    fn final_states_accept_nothing() {
        for from in TicketStatus::ALL.into_iter().filter(|s| s.is_final()) {
            for step in TicketStep::ALL {
                assert_eq!(ticket_after(from, step), None, "{from:?} {step:?}");
            }
        }
    }

    #[test]
    fn every_counter_transition_allowed_or_refused() {
        use CounterState as C;
        use CounterStep as S;
        let allowed = [
            (C::Closed, S::Open, C::Open),
            (C::Open, S::Close, C::Closed),
            (C::Paused, S::Close, C::Closed),
            (C::Open, S::Pause, C::Paused),
            (C::Paused, S::Resume, C::Open),
        ];
        for from in [C::Closed, C::Open, C::Paused] {
            for step in [S::Open, S::Close, S::Pause, S::Resume] {
                let expected = allowed
                    .iter()
                    .find(|(f, s, _)| *f == from && *s == step)
                    .map(|(_, _, t)| *t);
                assert_eq!(counter_after(from, step), expected, "{from:?} {step:?}");
            }
        }
    }
}
