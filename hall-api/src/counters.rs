//! Counters: their actions and states, PIN sign-in and who a token is.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::*;

/// The actions a counter can take, as they appear in the URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "kebab-case")]
pub enum CounterAction {
    CallNext,
    Recall,
    Start,
    Complete,
    NoShow,
    Transfer,
    Hold,
    ResumeHeld,
    Pause,
    Resume,
    Open,
    Close,
}

impl CounterAction {
    pub const ALL: [CounterAction; 12] = [
        CounterAction::CallNext,
        CounterAction::Recall,
        CounterAction::Start,
        CounterAction::Complete,
        CounterAction::NoShow,
        CounterAction::Transfer,
        CounterAction::Hold,
        CounterAction::ResumeHeld,
        CounterAction::Pause,
        CounterAction::Resume,
        CounterAction::Open,
        CounterAction::Close,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CounterAction::CallNext => "call-next",
            CounterAction::Recall => "recall",
            CounterAction::Start => "start",
            CounterAction::Complete => "complete",
            CounterAction::NoShow => "no-show",
            CounterAction::Transfer => "transfer",
            CounterAction::Hold => "hold",
            CounterAction::ResumeHeld => "resume-held",
            CounterAction::Pause => "pause",
            CounterAction::Resume => "resume",
            CounterAction::Open => "open",
            CounterAction::Close => "close",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Body of `POST /api/v1/counters/{number}/{action}`; every field optional.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CounterActionBody {
    /// For `complete`: the billing system's transaction reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 128))]
    pub transaction_ref: Option<String>,
    /// For `transfer`: the service the customer goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 32, pattern = "^[a-z0-9_-]+$")
    )]
    pub service: Option<String>,
    /// For `pause`: why, one of the hall's pause reasons (`other` when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 32, pattern = "^[a-z0-9_-]+$")
    )]
    pub reason: Option<String>,
    /// For `resume-held`: the number of the held ticket, e.g. "A012".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 16))]
    pub number: Option<String>,
}

impl CounterActionBody {
    /// For `pause`: the reason's id.
    pub fn pausing_for(reason: impl Into<String>) -> Self {
        CounterActionBody {
            reason: Some(reason.into()),
            ..Default::default()
        }
    }

    /// For `resume-held`: the held ticket's number.
    pub fn resuming(number: impl Into<String>) -> Self {
        CounterActionBody {
            number: Some(number.into()),
            ..Default::default()
        }
    }

    /// For `transfer`: send the customer to `service`.
    pub fn transfer_to(service: impl Into<String>) -> Self {
        CounterActionBody {
            service: Some(service.into()),
            ..Default::default()
        }
    }

    /// For `complete`: the billing system's transaction reference.
    pub fn completing(transaction_ref: impl Into<String>) -> Self {
        CounterActionBody {
            transaction_ref: Some(transaction_ref.into()),
            ..Default::default()
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CounterState {
    Closed,
    Open,
    Paused,
}

impl CounterState {
    pub fn as_str(self) -> &'static str {
        match self {
            CounterState::Closed => "closed",
            CounterState::Open => "open",
            CounterState::Paused => "paused",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            CounterState::Closed,
            CounterState::Open,
            CounterState::Paused,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// A counter's answer to an action: its state and its current ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CounterView {
    pub number: u32,
    pub name: I18nText,
    /// Service ids in the order this counter prefers them.
    pub services: Vec<String>,
    pub state: CounterState,
    pub current: Option<TicketSummary>,
    /// Since when the current ticket is served (started, or else called).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub current_since: Option<jiff::Timestamp>,
    /// Why it is paused (a pause reason's id), while paused.
    #[serde(default)]
    pub pause_reason: Option<String>,
    /// The member of staff signed in there, when staff accounts are used.
    #[serde(default)]
    pub staff: Option<StaffRef>,
    /// Tickets it holds (parked), oldest first.
    #[serde(default)]
    pub held: Vec<TicketSummary>,
}

/// `GET /api/v1/me`: who the token belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Whoami {
    pub name: String,
    /// kiosk, display, counter, billing or manager.
    pub role: String,
    /// For counter devices and PIN sessions: the counter they act on.
    pub counter: Option<u32>,
    /// For a member of staff's session: who.
    #[serde(default)]
    pub staff: Option<StaffRef>,
}

/// `PUT /api/v1/counters/{number}/pin` and `PUT /api/v1/staff/{number}/pin`
/// (manager).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PinRequest {
    /// 4 to 8 digits.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 4, max_length = 8, pattern = "^[0-9]{4,8}$")
    )]
    pub pin: String,
}

/// `POST /api/v1/counters/{number}/sign-in`: with `staff`, a member of
/// staff and their own PIN; without, the counter's PIN.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// The staff number (工号), for a member of staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 16, pattern = "^[A-Za-z0-9_-]+$")
    )]
    pub staff: Option<String>,
    /// 4 to 8 digits.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 4, max_length = 8, pattern = "^[0-9]{4,8}$")
    )]
    pub pin: String,
}

impl SignInRequest {
    /// With the counter's own PIN.
    pub fn counter_pin(pin: impl Into<String>) -> Self {
        SignInRequest {
            staff: None,
            pin: pin.into(),
        }
    }

    /// As a member of staff.
    pub fn staff(number: impl Into<String>, pin: impl Into<String>) -> Self {
        SignInRequest {
            staff: Some(number.into()),
            pin: pin.into(),
        }
    }
}

/// A counter session opened with the counter's PIN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CounterSession {
    /// Bearer token acting as this counter only, until `expires_at`.
    pub token: String,
    pub counter: u32,
    /// Who signed in, for a member of staff.
    #[serde(default)]
    pub staff: Option<StaffRef>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: Timestamp,
}

/// What a counter action answers: the ticket concerned (call-next, recall,
/// start, complete, no-show; for transfer its new waiting entry), or the
/// counter (open, close, pause, resume).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(untagged)]
pub enum CounterAnswer {
    Ticket(Box<Ticket>),
    Counter(Box<CounterView>),
}
