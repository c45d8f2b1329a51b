//! The manager's changes for today: a service closed for the rest of the
//! day and opened again, and the notice the boards show.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use hall_api::{ErrorBody, I18nText, NoticeRequest};

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
