//! 好差评 over HTTP: the question's setup, a rating from a counter's rater
//! or from the ticket's phone page, the day's ratings and the follow-ups
//! of bad ones (manager).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hall_api::{
    ErrorBody, FollowUp, FollowUpUpdate, LevelChoice, RateRequest, Rating, RatingLevel, RatingSetup,
};
use serde::Deserialize;

use crate::api::auth::Caller;
use crate::api::{ApiJson, ApiQuery, AppState, path_number};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::hall::Actor;
use crate::hall::ratings::RatedFrom;
use crate::store::queries;

/// The levels (best first) and the reasons offered with a bad rating; no token.
#[utoipa::path(get, path = "/api/v1/public/rating-setup",
    responses((status = 200, body = RatingSetup)), tag = "ratings")]
pub async fn setup(State(st): State<AppState>) -> Json<RatingSetup> {
    let hall = st.hall.now();
    Json(RatingSetup {
        levels: RatingLevel::ALL
            .into_iter()
            .map(|level| LevelChoice {
                level,
                name: level.name(),
                asks_reasons: level.is_bad(),
            })
            .collect(),
        reasons: hall.ratings.reasons.clone(),
        rater_window_s: hall.ratings.rater_window_min * 60,
    })
}

/// Rate a completed ticket from the rater of the counter that served it,
/// once, within the hall's window after completion.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/rating", params(("id" = i64, Path)), request_body = RateRequest,
    responses((status = 201, body = Rating), (status = 400, body = ErrorBody),
              (status = 403, description = "not this counter's rater", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "not completed, rated already, or too late", body = ErrorBody)),
    security(("bearer" = [])), tag = "ratings")]
pub async fn rate_at_counter(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RateRequest>,
) -> Result<(StatusCode, Json<Rating>)> {
    caller.require(&[Role::Rater], "rate a service")?;
    let id: i64 = path_number("ticket id", &id)?;
    let counter = caller
        .counter
        .ok_or_else(|| Error::Forbidden("this rater is bound to no counter".into()))?;
    let rating = st
        .writer
        .run(caller.actor(), move |hall| {
            hall.rate(id, RatedFrom::Rater(counter), &req)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(rating)))
}

/// Rate one's own completed ticket from its phone page (the tracking code
/// is the key), once, within the hall's window, if the counter's rater did not.
#[utoipa::path(post, path = "/api/v1/public/tickets/{tracking_code}/rating", params(("tracking_code" = String, Path)),
    request_body = RateRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, description = "not completed, rated already, or too late", body = ErrorBody)),
    tag = "public")]
pub async fn rate_on_phone(
    State(st): State<AppState>,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<RateRequest>,
) -> Result<StatusCode> {
    let not_found =
        || Error::NotFound("no ticket has this code; check the QR code on the ticket".into());
    if code.len() != 32 || !code.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(not_found());
    }
    let row = st
        .reads
        .run(move |conn| queries::ticket_by_tracking_code(conn, &code))
        .await?
        .ok_or_else(not_found)?;
    st.writer
        .run(Actor::device("phone", Role::Kiosk), move |hall| {
            hall.rate(row.id, RatedFrom::Phone, &req)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct RatingsQuery {
    /// The business day, `YYYY-MM-DD`; today when absent.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub date: Option<String>,
}

/// A business day's ratings, in the order they were given (manager).
#[utoipa::path(get, path = "/api/v1/ratings", params(RatingsQuery),
    responses((status = 200, body = Vec<Rating>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "ratings")]
pub async fn day_ratings(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<RatingsQuery>,
) -> Result<Json<Vec<Rating>>> {
    caller.require(&[Role::Manager], "read ratings")?;
    let date = crate::api::hall::day_or_today(&st, q.date.as_deref())?;
    let list = st
        .reads
        .run(move |conn| queries::ratings_of_day(conn, &date.to_string()))
        .await?;
    Ok(Json(list))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct FollowUpsQuery {
    /// Closed ones too (default: open only).
    pub all: Option<bool>,
}

/// The follow-ups of bad ratings, oldest first: open ones (with `overdue`
/// past their due day), or all (manager).
#[utoipa::path(get, path = "/api/v1/follow-ups", params(FollowUpsQuery),
    responses((status = 200, body = Vec<FollowUp>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "ratings")]
pub async fn follow_ups(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<FollowUpsQuery>,
) -> Result<Json<Vec<FollowUp>>> {
    caller.require(&[Role::Manager], "read follow-ups")?;
    let today = st.hall.now().hall.business_day(st.clock.read().at);
    let open_only = !q.all.unwrap_or(false);
    let list = st
        .reads
        .run(move |conn| queries::follow_ups(conn, open_only, today))
        .await?;
    Ok(Json(list))
}

/// Record who owns a follow-up, what was done, whether the customer was
/// called back; close it (manager).
#[utoipa::path(put, path = "/api/v1/follow-ups/{id}", params(("id" = i64, Path)), request_body = FollowUpUpdate,
    responses((status = 200, body = FollowUp), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, description = "closed already", body = ErrorBody)),
    security(("bearer" = [])), tag = "ratings")]
pub async fn update_follow_up(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(u): ApiJson<FollowUpUpdate>,
) -> Result<Json<FollowUp>> {
    caller.require(&[Role::Manager], "follow up ratings")?;
    let id: i64 = path_number("follow-up id", &id)?;
    let f = st
        .writer
        .run(caller.actor(), move |hall| hall.update_follow_up(id, &u))
        .await?;
    Ok(Json(f))
}
