//! The floor guide's handheld and the kiosks' print jobs: a member of staff
//! signs in as guide, takes numbers on customers' behalf (through
//! `POST /api/v1/tickets`, with a priority reason) and has them printed at
//! a kiosk, which fetches its jobs and says what its printer did.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use hall_api::{ErrorBody, GuideSession, GuideSignIn, PrintDone, PrintJob, PrintRequest};

use crate::api::auth::{Caller, guide_name};
use crate::api::station::{PinCheck, check_pin, new_session, valid_pin};
use crate::api::{ApiJson, AppState, path_number};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::hall::Actor;
use crate::hall::staff::valid_staff_number;
use crate::signin::PinOf;
use crate::store::queries::{self, PrintJobRow, ms};
use crate::tokens::sha256;

/// Sign in as the floor guide with a staff number and PIN.
#[utoipa::path(post, path = "/api/v1/guide/sign-in", request_body = GuideSignIn,
    responses((status = 200, body = GuideSession), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "the member of staff is disabled", body = ErrorBody),
              (status = 429, body = ErrorBody)),
    tag = "guide")]
pub async fn guide_sign_in(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<GuideSignIn>,
) -> Result<Json<GuideSession>> {
    valid_staff_number(&req.staff)?;
    valid_pin(&req.pin)?;
    let whose = PinOf::Staff(req.staff.clone());
    if !matches!(
        check_pin(&st, peer.ip(), whose, req.pin.clone()).await?,
        PinCheck::Right
    ) {
        return Err(Error::Unauthorized("wrong staff number or PIN".into()));
    }
    let (token, token_sha256, expires_at) = new_session(&st)?;
    let number = req.staff.clone();
    let staff = st
        .writer
        .run(Actor::device("guide (sign-in)", Role::Guide), move |hall| {
            hall.open_guide_session(&number, &token_sha256, ms(expires_at))
        })
        .await?;
    tracing::info!(target: "security", event = "signed_in", guide = %guide_name(&staff), peer = %peer.ip(), "signed in as floor guide");
    Ok(Json(GuideSession {
        token,
        staff,
        expires_at,
    }))
}

/// End the floor guide's session.
#[utoipa::path(post, path = "/api/v1/guide/sign-out",
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "guide")]
pub async fn guide_sign_out(
    State(st): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
) -> Result<StatusCode> {
    caller.require(&[Role::Guide], "sign out as floor guide")?;
    let token = crate::api::auth::bearer(&headers).unwrap_or_default();
    let token_sha256 = sha256(&token);
    st.writer
        .run(caller.actor(), move |hall| {
            hall.end_guide_session(&token_sha256)
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn view(st: &AppState, job: PrintJobRow) -> Result<PrintJob> {
    let hall = st.hall.now();
    let now = st.clock.read().at;
    st.reads
        .run(move |conn| queries::print_job_view(conn, &hall, job, now))
        .await
}

/// Print a waiting ticket at a kiosk (the floor guide, the manager).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/print", params(("id" = i64, Path)), request_body = PrintRequest,
    responses((status = 201, body = PrintJob), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])), tag = "guide")]
pub async fn request_print(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PrintRequest>,
) -> Result<(StatusCode, Json<PrintJob>)> {
    caller.require(
        &[Role::Guide, Role::Manager],
        "have tickets printed at a kiosk",
    )?;
    let id: i64 = path_number("ticket id", &id)?;
    let job = st
        .writer
        .run(caller.actor(), move |hall| {
            hall.request_print(id, &req.kiosk)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view(&st, job).await?)))
}

/// One print job: whether the kiosk printed it.
#[utoipa::path(get, path = "/api/v1/print-jobs/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = PrintJob), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])), tag = "guide")]
pub async fn print_job(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<PrintJob>> {
    caller.require(
        &[Role::Guide, Role::Manager, Role::Kiosk],
        "read print jobs",
    )?;
    let id: i64 = path_number("print job id", &id)?;
    let job = st
        .reads
        .run(move |conn| queries::print_job(conn, id))
        .await?
        .filter(|j| caller.role != Role::Kiosk || j.kiosk == caller.name)
        .ok_or_else(|| Error::NotFound(format!("no print job {id}")))?;
    Ok(Json(view(&st, job).await?))
}

/// The jobs waiting for this kiosk, oldest first (the kiosk asks).
#[utoipa::path(get, path = "/api/v1/print-jobs",
    responses((status = 200, body = Vec<PrintJob>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "guide")]
pub async fn pending_print_jobs(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<PrintJob>>> {
    caller.require(&[Role::Kiosk], "fetch print jobs")?;
    let hall = st.hall.now();
    let kiosk = caller.name.clone();
    let now = st.clock.read().at;
    let jobs = st
        .reads
        .run(move |conn| {
            queries::pending_print_jobs(conn, &kiosk)?
                .into_iter()
                .map(|j| queries::print_job_view(conn, &hall, j, now))
                .collect::<Result<Vec<_>>>()
        })
        .await?;
    Ok(Json(jobs))
}

/// What the kiosk's printer did with a job.
#[utoipa::path(post, path = "/api/v1/print-jobs/{id}/done", params(("id" = i64, Path)), request_body = PrintDone,
    responses((status = 200, body = PrintJob), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])), tag = "guide")]
pub async fn print_job_done(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<PrintDone>,
) -> Result<Json<PrintJob>> {
    caller.require(&[Role::Kiosk], "report print jobs")?;
    let id: i64 = path_number("print job id", &id)?;
    let job = st
        .writer
        .run(caller.actor(), move |hall| hall.finish_print(id, &req))
        .await?;
    Ok(Json(view(&st, job).await?))
}

/// The QR code of a ticket's phone page, as SVG, for the guide to show a
/// customer (the floor guide, the manager).
#[utoipa::path(get, path = "/api/v1/tickets/{id}/qr", params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)),
    security(("bearer" = [])), tag = "guide")]
pub async fn ticket_qr(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    via_tls: Option<axum::Extension<crate::http::ViaTls>>,
    headers: axum::http::HeaderMap,
) -> Result<impl IntoResponse> {
    caller.require(&[Role::Guide, Role::Manager], "show a ticket's QR code")?;
    let id: i64 = path_number("ticket id", &id)?;
    let row = st
        .reads
        .run(move |conn| queries::ticket_by_id(conn, id))
        .await?
        .ok_or_else(|| Error::NotFound(format!("no ticket with id {id}")))?;
    // The address phones know the hall by; else the one this page came from.
    let base = st.hall.now().hall.public_url.clone().unwrap_or_else(|| {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let scheme = if via_tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{host}")
    });
    let url = format!("{}/t/{}", base.trim_end_matches('/'), row.tracking_code);
    qr_svg(&url)
}

/// `text` as a QR code, an SVG answer.
pub fn qr_svg(text: &str) -> Result<impl IntoResponse + use<>> {
    let code = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| Error::Internal(format!("the QR code of {text}: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(240, 240)
        .quiet_zone(true)
        .build();
    Ok(([(header::CONTENT_TYPE, "image/svg+xml")], svg))
}
