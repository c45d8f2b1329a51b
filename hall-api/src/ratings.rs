//! 好差评: a customer's rating of one service, and the follow-up every bad
//! rating gets.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

use crate::*;

/// The public-service rating scheme's five levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RatingLevel {
    /// 非常不满意
    VeryDissatisfied,
    /// 不满意
    Dissatisfied,
    /// 基本满意
    FairlySatisfied,
    /// 满意
    Satisfied,
    /// 非常满意
    VerySatisfied,
}

impl RatingLevel {
    /// Best first, as a rater shows them.
    pub const ALL: [RatingLevel; 5] = [
        RatingLevel::VerySatisfied,
        RatingLevel::Satisfied,
        RatingLevel::FairlySatisfied,
        RatingLevel::Dissatisfied,
        RatingLevel::VeryDissatisfied,
    ];

    /// 1 (非常不满意) to 5 (非常满意), as stored.
    pub fn score(self) -> u8 {
        match self {
            RatingLevel::VeryDissatisfied => 1,
            RatingLevel::Dissatisfied => 2,
            RatingLevel::FairlySatisfied => 3,
            RatingLevel::Satisfied => 4,
            RatingLevel::VerySatisfied => 5,
        }
    }

    pub fn from_score(score: u8) -> Option<RatingLevel> {
        Self::ALL.into_iter().find(|l| l.score() == score)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RatingLevel::VeryDissatisfied => "very_dissatisfied",
            RatingLevel::Dissatisfied => "dissatisfied",
            RatingLevel::FairlySatisfied => "fairly_satisfied",
            RatingLevel::Satisfied => "satisfied",
            RatingLevel::VerySatisfied => "very_satisfied",
        }
    }

    pub fn name(self) -> I18nText {
        let (zh, en) = match self {
            RatingLevel::VeryDissatisfied => ("非常不满意", "Very dissatisfied"),
            RatingLevel::Dissatisfied => ("不满意", "Dissatisfied"),
            RatingLevel::FairlySatisfied => ("基本满意", "Fairly satisfied"),
            RatingLevel::Satisfied => ("满意", "Satisfied"),
            RatingLevel::VerySatisfied => ("非常满意", "Very satisfied"),
        };
        I18nText {
            zh: zh.into(),
            en: en.into(),
        }
    }

    /// 不满意 and 非常不满意: a bad rating, followed up.
    pub fn is_bad(self) -> bool {
        self <= RatingLevel::Dissatisfied
    }

    /// 满意 and 非常满意: counted as satisfied.
    pub fn is_satisfied(self) -> bool {
        self >= RatingLevel::Satisfied
    }
}

/// `POST /api/v1/tickets/{id}/rating` (the counter's rater) and
/// `POST /api/v1/public/tickets/{tracking_code}/rating` (the ticket's phone page).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RateRequest {
    pub level: RatingLevel,
    /// For 不满意 and 非常不满意: the hall's reason ids (`GET /api/v1/ratings/setup`).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_items = 8))]
    pub reasons: Vec<String>,
}

/// Where a rating came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RatingChannel {
    /// The customer-facing rater at the counter.
    Rater,
    /// The ticket's own page on the customer's phone.
    Phone,
}

/// A rating as kept: what was rated, by whom it was served, when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Rating {
    pub id: i64,
    pub ticket_id: i64,
    pub number: String,
    pub service: String,
    pub counter: Option<u32>,
    pub staff: Option<StaffRef>,
    pub transaction_ref: Option<String>,
    pub level: RatingLevel,
    pub reasons: Vec<String>,
    pub channel: RatingChannel,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub completed_at: Timestamp,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub rated_at: Timestamp,
    /// The follow-up a bad rating opened.
    pub follow_up: Option<i64>,
}

/// What the rater and the phone page need to show the question.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct RatingSetup {
    /// Best first.
    pub levels: Vec<LevelChoice>,
    /// Offered with 不满意 and 非常不满意.
    pub reasons: Vec<PauseReason>,
    /// The counter's rater takes a rating this long after completion.
    pub rater_window_s: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct LevelChoice {
    pub level: RatingLevel,
    pub name: I18nText,
    /// A bad rating: the customer is asked why, and a follow-up opens.
    pub asks_reasons: bool,
}

/// A bad rating's follow-up (整改, 回访): owner, what was done, whether the
/// customer was called back, due within the hall's working days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct FollowUp {
    pub id: i64,
    pub rating: Rating,
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub opened_at: Timestamp,
    /// The last working day to close it on.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub due: jiff::civil::Date,
    pub owner: Option<String>,
    /// What was done.
    pub action: Option<String>,
    pub called_back: bool,
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub closed_at: Option<Timestamp>,
    /// Open past its due day.
    pub overdue: bool,
}

/// `PUT /api/v1/follow-ups/{id}` (manager): any of these; `close` needs
/// an `action` (given now or before).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FollowUpUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 32))]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 500))]
    pub action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub called_back: Option<bool>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub close: bool,
}
