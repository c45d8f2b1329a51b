//! The billing link: account lookups and webhook delivery state.

use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// `GET /api/v1/accounts/{ref}`: what the billing system says of an
/// account, for the kiosk to show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AccountInfo {
    pub account_ref: String,
    /// The holder's name with most of it hidden, e.g. "张*明".
    pub name_masked: String,
    /// Amount due in the smallest currency unit (fen, cents).
    pub amount_due_minor: i64,
    pub currency: String,
    /// A key account (大客户): served with the priority the hall gives them.
    #[serde(default)]
    pub key_account: bool,
}

/// One webhook's delivery state, for the manager.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct WebhookStatus {
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    /// Events not yet acknowledged, oldest first in delivery.
    pub pending: u32,
    pub delivered: u32,
    /// Seconds the oldest pending event has waited.
    pub oldest_pending_s: Option<u32>,
    /// Failed attempts on the oldest pending event.
    pub attempts: u32,
    pub last_error: Option<String>,
    /// True when an event has waited longer than the webhook's alert time:
    /// the billing system has missed it for too long and staff should look.
    pub overdue: bool,
}
