//! Staff as people: accounts, who is signed in where, and the reasons a
//! counter pauses.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::*;

/// A member of staff as the hall names them on screens and in reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StaffRef {
    /// The staff number (工号).
    pub number: String,
    pub name: String,
}

/// `POST /api/v1/staff` (manager): a new member of staff.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewStaff {
    /// 1 to 16 letters, digits, `-` or `_`; unique, never reused.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 1, max_length = 16, pattern = "^[A-Za-z0-9_-]+$")
    )]
    pub number: String,
    /// As shown on the counter page and in reports; printable, up to 32 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 32,
            pattern = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069]+$"
        )
    )]
    pub name: String,
    /// 4 to 8 digits.
    #[cfg_attr(
        feature = "openapi",
        schema(min_length = 4, max_length = 8, pattern = "^[0-9]{4,8}$")
    )]
    pub pin: String,
}

/// `GET /api/v1/staff`: one member of staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct StaffMember {
    pub number: String,
    pub name: String,
    /// A member of staff who left: kept, so past statistics keep the name.
    pub disabled: bool,
    /// The counter they are signed in at now.
    pub signed_in_at: Option<u32>,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
}

/// One of the hall's reasons for pausing a counter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PauseReason {
    pub id: String,
    pub name: I18nText,
}
