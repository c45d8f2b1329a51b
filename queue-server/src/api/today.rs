//! The manager's changes for today and the days ahead: a service closed
//! for the rest of the day and opened again, closures for a time range,
//! and the notice the boards show.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hall_api::{ClosureView, ErrorBody, I18nText, NewClosure, NoticeRequest};

use crate::api::auth::Caller;
use crate::api::{ApiJson, AppState};
use crate::config::Role;
use crate::error::{Error, Result};

/// Close a service for the rest of today: the kiosks grey it out and new
/// tickets are refused; customers already waiting are still served.
#[utoipa::path(post, path = "/api/v1/services/{id}/{change}", params(("id" = String, Path), ("change" = String, Path, description = "close-today or reopen-today")),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])), tag = "hall")]
pub async fn change_service_today(
    State(st): State<AppState>,
    caller: Caller,
    Path((id, change)): Path<(String, String)>,
) -> Result<StatusCode> {
    caller.require(&[Role::Manager], "close or open a service for the day")?;
    let close = match change.as_str() {
        "close-today" => true,
        "reopen-today" => false,
        other => {
            return Err(Error::NotFound(format!(
                "no change \"{other}\" for a service; use close-today or reopen-today"
            )));
        }
    };
    st.writer
        .run(caller.actor(), move |hall| {
            if close {
                hall.close_service_today(&id)
            } else {
                hall.reopen_service_today(&id)
            }
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set the notice every board shows at its foot.
#[utoipa::path(put, path = "/api/v1/notice", request_body = NoticeRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "hall")]
pub async fn set_notice(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NoticeRequest>,
) -> Result<StatusCode> {
    caller.require(&[Role::Manager], "set the boards' notice")?;
    let notice = I18nText {
        zh: req.zh.trim().to_string(),
        en: req.en.trim().to_string(),
    };
    st.writer
        .run(caller.actor(), move |hall| hall.set_notice(Some(notice)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Take the manager's notice down: each board shows its own again.
#[utoipa::path(delete, path = "/api/v1/notice",
    responses((status = 204), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "hall")]
pub async fn clear_notice(State(st): State<AppState>, caller: Caller) -> Result<StatusCode> {
    caller.require(&[Role::Manager], "clear the boards' notice")?;
    st.writer
        .run(caller.actor(), move |hall| hall.set_notice(None))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Close the hall, or some services, for a time (停电, 停业): tickets are
/// refused then with the reason and the time it opens again; the kiosks
/// grey the services out and say so.
#[utoipa::path(post, path = "/api/v1/closures", request_body = NewClosure,
    responses((status = 201, body = ClosureView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "hall")]
pub async fn add_closure(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewClosure>,
) -> Result<(StatusCode, Json<ClosureView>)> {
    caller.require(&[Role::Manager], "close the hall for a time")?;
    let view = st
        .writer
        .run(caller.actor(), move |hall| hall.add_closure(&req))
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The closures in force now or to come.
#[utoipa::path(get, path = "/api/v1/closures",
    responses((status = 200, body = Vec<ClosureView>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "hall")]
pub async fn closures(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ClosureView>>> {
    caller.require(&[Role::Manager], "read the closures")?;
    let now = crate::store::queries::ms(st.clock.read().at);
    let list = st
        .reads
        .run(move |conn| crate::store::queries::closure_views(conn, now))
        .await?;
    Ok(Json(list))
}

/// Lift a closure before its end.
#[utoipa::path(post, path = "/api/v1/closures/{id}/lift", params(("id" = i64, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])), tag = "hall")]
pub async fn lift_closure(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode> {
    caller.require(&[Role::Manager], "lift a closure")?;
    let id: i64 = crate::api::path_number("closure id", &id)?;
    st.writer
        .run(caller.actor(), move |hall| hall.lift_closure(id))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
