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
    Pause,
    Resume,
    Open,
    Close,
}

impl CounterAction {
    pub const ALL: [CounterAction; 10] = [
        CounterAction::CallNext,
        CounterAction::Recall,
        CounterAction::Start,
        CounterAction::Complete,
        CounterAction::NoShow,
        CounterAction::Transfer,
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
}

impl CounterActionBody {
    /// For `transfer`: send the customer to `service`.
    pub fn transfer_to(service: impl Into<String>) -> Self {
        CounterActionBody {
            service: Some(service.into()),
            transaction_ref: None,
        }
    }

    /// For `complete`: the billing system's transaction reference.
    pub fn completing(transaction_ref: impl Into<String>) -> Self {
        CounterActionBody {
            transaction_ref: Some(transaction_ref.into()),
            service: None,
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
}

/// `PUT /api/v1/counters/{number}/pin` (manager) and
/// `POST /api/v1/counters/{number}/sign-in` (anyone with the PIN).
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

/// A counter session opened with the counter's PIN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CounterSession {
    /// Bearer token acting as this counter only, until `expires_at`.
    pub token: String,
    pub counter: u32,
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
    Counter(CounterView),
}
