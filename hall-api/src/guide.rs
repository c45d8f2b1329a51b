//! The floor guide (导购, 引导员): a member of staff with a handheld who
//! takes numbers on customers' behalf and has them printed at a kiosk.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::*;

/// `POST /api/v1/guide/sign-in`: a member of staff starts as floor guide.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct GuideSignIn {
    /// The staff number (工号).
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 16, pattern = "^[A-Za-z0-9_-]+$")
    )]
    pub staff: String,
    /// 4 to 8 digits.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 4, max_length = 8, pattern = "^[0-9]{4,8}$")
    )]
    pub pin: String,
}

/// A floor guide's session: the bearer token acts with role `guide` as
/// this member of staff until `expires_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct GuideSession {
    pub token: String,
    pub staff: StaffRef,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub expires_at: Timestamp,
}

/// `POST /api/v1/tickets/{id}/print`: print this ticket at that kiosk.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PrintRequest {
    /// A kiosk's device name from the hall configuration.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 64, pattern = "^[A-Za-z0-9_.-]+$")
    )]
    pub kiosk: String,
}

/// A ticket to print at a kiosk, as the kiosk and the guide see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PrintJob {
    pub id: i64,
    pub kiosk: String,
    pub ticket: Ticket,
    /// Who asked for it (the guide's session name).
    pub requested_by: String,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub requested_at: Timestamp,
    /// Absent while the kiosk has not printed it yet.
    #[serde(default)]
    pub outcome: Option<PrintDone>,
}

/// `POST /api/v1/print-jobs/{id}/done`: what the kiosk's printer did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PrintDone {
    pub printed: bool,
    /// Why not, in words staff can act on (e.g. "printer out of paper").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 200))]
    pub problem: Option<String>,
}
