//! The manager's staff accounts: add, list, new PIN, disable (a member of
//! staff who leaves is kept, so past statistics keep the name), and
//! signing someone out who left a counter signed in.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hall_api::{ErrorBody, NewStaff, PinRequest, StaffMember};

use crate::api::auth::Caller;
use crate::api::station::valid_pin;
use crate::api::{ApiJson, AppState};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::hall::staff::valid_staff_number;
use crate::store::queries::{self, ts};

/// Every member of staff, disabled ones too, and where each is signed in.
#[utoipa::path(get, path = "/api/v1/staff",
    responses((status = 200, body = Vec<StaffMember>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "staff")]
pub async fn list_staff(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<StaffMember>>> {
    caller.require(&[Role::Manager], "list staff")?;
    let now = st.clock.read().at;
    let rows = st
        .reads
        .run(move |conn| queries::staff_list(conn, now))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|(s, at)| StaffMember {
                number: s.number,
                name: s.name,
                disabled: s.disabled,
                signed_in_at: at,
                created_at: ts(s.created_at),
            })
            .collect(),
    ))
}

/// Add a member of staff with their first PIN.
#[utoipa::path(post, path = "/api/v1/staff", request_body = NewStaff,
    responses((status = 201, body = StaffMember), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, description = "the staff number is taken", body = ErrorBody)),
    security(("bearer" = [])), tag = "staff")]
pub async fn add_staff(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewStaff>,
) -> Result<(StatusCode, Json<StaffMember>)> {
    caller.require(&[Role::Manager], "add staff")?;
    valid_staff_number(&req.number)?;
    valid_pin(&req.pin)?;
    let pin_hash = st.pin_hasher.hash(req.pin).await?;
    let (number, name) = (req.number, req.name);
    let who = st
        .writer
        .run(caller.actor(), move |hall| {
            hall.add_staff(&number, &name, &pin_hash)
        })
        .await?;
    tracing::info!(target: "security", event = "staff_added", staff = %who.number, by = %caller.name, "staff account added");
    Ok((
        StatusCode::CREATED,
        Json(StaffMember {
            number: who.number,
            name: who.name,
            disabled: false,
            signed_in_at: None,
            created_at: st.clock.read().at,
        }),
    ))
}

/// Give a member of staff a new PIN; their sessions end.
#[utoipa::path(put, path = "/api/v1/staff/{number}/pin", params(("number" = String, Path)), request_body = PinRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])), tag = "staff")]
pub async fn set_staff_pin(
    State(st): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(req): ApiJson<PinRequest>,
) -> Result<StatusCode> {
    caller.require(&[Role::Manager], "set staff PINs")?;
    valid_staff_number(&number)?;
    valid_pin(&req.pin)?;
    let pin_hash = st.pin_hasher.hash(req.pin).await?;
    st.writer
        .run(caller.actor(), move |hall| {
            hall.set_staff_pin(&number, &pin_hash)
        })
        .await?;
    tracing::info!(target: "security", event = "staff_pin_set", by = %caller.name, "staff PIN changed");
    Ok(StatusCode::NO_CONTENT)
}

/// Disable a member of staff who left: signed out now, refused from now
/// on, kept in every past statistic.
#[utoipa::path(post, path = "/api/v1/staff/{number}/disable", params(("number" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])), tag = "staff")]
pub async fn disable_staff(
    State(st): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<StatusCode> {
    caller.require(&[Role::Manager], "disable staff")?;
    valid_staff_number(&number)?;
    st.writer
        .run(caller.actor(), move |hall| hall.disable_staff(&number))
        .await?;
    tracing::info!(target: "security", event = "staff_disabled", by = %caller.name, "staff account disabled");
    Ok(StatusCode::NO_CONTENT)
}

/// Sign a member of staff out wherever they are signed in (they left a
/// counter signed in and now want another).
#[utoipa::path(post, path = "/api/v1/staff/{number}/sign-out", params(("number" = String, Path)),
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])), tag = "staff")]
pub async fn sign_staff_out(
    State(st): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<StatusCode> {
    caller.require(&[Role::Manager], "sign staff out")?;
    valid_staff_number(&number)?;
    st.writer
        .run(caller.actor(), move |hall| {
            if hall.staff_exists(&number)? {
                hall.sign_out_staff(&number, "signed out by the manager")?;
                hall.audit("staff.sign_out", &format!("signed {number} out"))
            } else {
                Err(Error::NotFound(format!(
                    "no member of staff has number {number}"
                )))
            }
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
