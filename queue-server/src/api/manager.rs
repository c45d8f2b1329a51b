//! The manager console's people: signing in with a name and password (a
//! session cookie), signing out, the accounts other managers keep, and the
//! audit log of what managers changed.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hall_api::{
    AuditEntry, ErrorBody, ManagerAccount, ManagerSession, ManagerSignIn, NewManager,
    PasswordRequest,
};
use serde::Deserialize;

use crate::api::auth::{CONSOLE_COOKIE, Caller, console_cookie};
use crate::api::{ApiJson, ApiQuery, AppState};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::hall::Actor;
use crate::hall::managers::{
    WRONG_BEFORE_LOCK, WrongPassword, locked_until, valid_manager_name, valid_password,
};
use crate::signin::PinOf;
use crate::store::managers;
use crate::store::queries::{ms, ts};
use crate::tokens::{random_hex, sha256};

/// How long a console session lasts: a working day.
const CONSOLE_SESSION: jiff::SignedDuration = jiff::SignedDuration::from_hours(10);

fn cookie(value: &str, max_age_s: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{CONSOLE_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_s}{secure}"
    ))
    .expect("a cookie of hex digits is a valid header")
}

/// When a lock ends, as the hall's clock shows it, and in how many seconds.
fn lock_message(st: &AppState, name: &str, until: jiff::Timestamp, fresh: bool) -> Error {
    let now = st.clock.read().at;
    let wait = (until.as_second() - now.as_second()).max(1) as u64;
    let local = until
        .to_zoned(st.hall.now().hall.timezone.clone())
        .strftime("%H:%M");
    let why = if fresh {
        format!("that was the {WRONG_BEFORE_LOCK}th wrong password in a row: ")
    } else {
        String::new()
    };
    Error::TooMany(
        format!(
            "{why}the account {name} is locked until {local} (in {} min) after {WRONG_BEFORE_LOCK} wrong passwords; \
             wait, or ask another manager to set a new password",
            wait.div_ceil(60)
        ),
        wait,
    )
}

/// Sign in to the console: a session cookie (HttpOnly, SameSite=Strict)
/// and who signed in. Five wrong passwords in a row lock the account for
/// 15 minutes.
#[utoipa::path(post, path = "/api/v1/manager/sign-in", request_body = ManagerSignIn,
    responses((status = 200, body = ManagerSession), (status = 400, body = ErrorBody),
              (status = 401, description = "wrong name or password", body = ErrorBody),
              (status = 403, description = "the account is disabled", body = ErrorBody),
              (status = 429, description = "the account is locked", body = ErrorBody)),
    tag = "manager")]
pub async fn manager_sign_in(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    via_tls: Option<axum::Extension<crate::http::ViaTls>>,
    ApiJson(req): ApiJson<ManagerSignIn>,
) -> Result<Response> {
    valid_manager_name(&req.name)?;
    if req.password.is_empty() || req.password.len() > 4 * crate::hall::managers::PASSWORD_MAX {
        return Err(Error::BadRequest("give the account's password".into()));
    }
    let whose = PinOf::Manager(req.name.clone());
    let attempt = st.pin_guard.begin(whose.clone(), peer.ip()).inspect_err(|e| {
        tracing::warn!(target: "security", event = "manager_sign_in_refused", who = %whose, peer = %peer.ip(), "{e}");
    })?;
    let name = req.name.clone();
    let row = st
        .reads
        .run(move |conn| managers::manager(conn, &name))
        .await?;
    let now = st.clock.read().at;
    if let Some(until) = row.as_ref().and_then(|r| locked_until(&r.account, now)) {
        attempt.succeeded(); // the lock, not the guard, answers
        return Err(lock_message(&st, &req.name, until, false));
    }
    let hash = row.as_ref().map(|r| r.password_hash.clone());
    let right = st.pin_hasher.verify(req.password, hash).await?;
    let system = Actor::device("manager console (sign-in)", Role::Manager);
    if !right {
        tracing::warn!(target: "security", event = "manager_sign_in_failed", who = %req.name, peer = %peer.ip(), "wrong password");
        if row.is_some() {
            let name = req.name.clone();
            let outcome = st
                .writer
                .run(system, move |hall| hall.wrong_manager_password(&name))
                .await?;
            if let WrongPassword::LockedUntil(until) = outcome {
                tracing::warn!(target: "security", event = "manager_locked", who = %req.name, peer = %peer.ip(), %until, "account locked");
                return Err(lock_message(&st, &req.name, until, true));
            }
        }
        return Err(Error::Unauthorized("wrong name or password".into()));
    }
    attempt.succeeded();
    let token = random_hex::<32>("console session")?;
    let expires_at = now
        .saturating_add(CONSOLE_SESSION)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let (name, token_sha256) = (req.name.clone(), sha256(&token));
    st.writer
        .run(system, move |hall| {
            hall.open_manager_session(&name, &token_sha256, ms(expires_at))
        })
        .await?;
    tracing::info!(target: "security", event = "manager_signed_in", who = %req.name, peer = %peer.ip(), "signed in to the console");
    let mut resp = Json(ManagerSession {
        name: req.name,
        expires_at,
    })
    .into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        cookie(&token, CONSOLE_SESSION.as_secs(), via_tls.is_some()),
    );
    Ok(resp)
}

/// End this console session; the cookie is cleared.
#[utoipa::path(post, path = "/api/v1/manager/sign-out", responses((status = 204)), tag = "manager")]
pub async fn manager_sign_out(
    State(st): State<AppState>,
    headers: HeaderMap,
    via_tls: Option<axum::Extension<crate::http::ViaTls>>,
) -> Result<Response> {
    if let Some(token) = console_cookie(&headers) {
        let token_sha256 = sha256(&token);
        st.writer
            .run(
                Actor::device("manager console (sign-out)", Role::Manager),
                move |hall| hall.end_manager_session(&token_sha256),
            )
            .await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, cookie("", 0, via_tls.is_some()));
    Ok(resp)
}

/// Who is signed in to the console with this cookie.
#[utoipa::path(get, path = "/api/v1/manager/session",
    responses((status = 200, body = ManagerSession), (status = 401, body = ErrorBody)), tag = "manager")]
pub async fn manager_session(
    State(st): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ManagerSession>> {
    let signed_out = || Error::Unauthorized("not signed in to the console".into());
    let token = console_cookie(&headers).ok_or_else(signed_out)?;
    let (hash, now) = (sha256(&token), ms(st.clock.read().at));
    let (name, expires) = st
        .reads
        .run(move |conn| managers::manager_session(conn, &hash, now))
        .await?
        .ok_or_else(signed_out)?;
    Ok(Json(ManagerSession {
        name,
        expires_at: ts(expires),
    }))
}

/// Every manager account.
#[utoipa::path(get, path = "/api/v1/managers",
    responses((status = 200, body = Vec<ManagerAccount>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "manager")]
pub async fn list_managers(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<ManagerAccount>>> {
    caller.require(&[Role::Manager], "list manager accounts")?;
    Ok(Json(st.reads.run(managers::managers).await?))
}

/// Add a manager account.
#[utoipa::path(post, path = "/api/v1/managers", request_body = NewManager,
    responses((status = 201, body = ManagerAccount), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, description = "the name is taken", body = ErrorBody)),
    security(("bearer" = [])), tag = "manager")]
pub async fn add_manager(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<NewManager>,
) -> Result<(StatusCode, Json<ManagerAccount>)> {
    caller.require(&[Role::Manager], "add manager accounts")?;
    valid_manager_name(&req.name)?;
    valid_password(&req.password)?;
    let hash = st.pin_hasher.hash(req.password).await?;
    let name = req.name;
    let account = st
        .writer
        .run(caller.actor(), move |hall| hall.add_manager(&name, &hash))
        .await?;
    tracing::info!(target: "security", event = "manager_added", who = %account.name, by = %caller.name, "manager account added");
    Ok((StatusCode::CREATED, Json(account)))
}

/// Set a manager's password (theirs, or another's who forgot it or is
/// locked out); their sessions end.
#[utoipa::path(put, path = "/api/v1/managers/{name}/password", params(("name" = String, Path)), request_body = PasswordRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])), tag = "manager")]
pub async fn set_manager_password(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    ApiJson(req): ApiJson<PasswordRequest>,
) -> Result<StatusCode> {
    caller.require(&[Role::Manager], "set manager passwords")?;
    valid_manager_name(&name)?;
    valid_password(&req.password)?;
    let hash = st.pin_hasher.hash(req.password).await?;
    let who = name.clone();
    st.writer
        .run(caller.actor(), move |hall| {
            hall.set_manager_password(&who, &hash)
        })
        .await?;
    st.pin_guard.forget(&PinOf::Manager(name.clone()));
    tracing::info!(target: "security", event = "manager_password_set", who = %name, by = %caller.name, "manager password set");
    Ok(StatusCode::NO_CONTENT)
}

/// Disable a manager account: its sessions end, it cannot sign in again.
#[utoipa::path(post, path = "/api/v1/managers/{name}/disable", params(("name" = String, Path)),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])), tag = "manager")]
pub async fn disable_manager(
    State(st): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode> {
    caller.require(&[Role::Manager], "disable manager accounts")?;
    valid_manager_name(&name)?;
    if caller.console.as_deref() == Some(name.as_str()) {
        return Err(Error::Conflict(
            "you cannot disable your own account; another manager can".into(),
        ));
    }
    let who = name.clone();
    st.writer
        .run(caller.actor(), move |hall| hall.disable_manager(&who))
        .await?;
    tracing::info!(target: "security", event = "manager_disabled", who = %name, by = %caller.name, "manager disabled");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct PeriodQuery {
    /// The first business day, `YYYY-MM-DD` (default: today).
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub from: Option<String>,
    /// The last business day, `YYYY-MM-DD` (default: `from`).
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub to: Option<String>,
}

/// What managers changed between two business days, newest first.
#[utoipa::path(get, path = "/api/v1/audit", params(PeriodQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "manager")]
pub async fn audit_log(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<PeriodQuery>,
) -> Result<Json<Vec<AuditEntry>>> {
    caller.require(&[Role::Manager], "read the audit log")?;
    let (first, last) = crate::api::reports::period(&st, &q)?;
    let h = &st.hall.now().hall;
    let (from, _) = h.day_window(first).map_err(Error::BadRequest)?;
    let (_, to) = h.day_window(last).map_err(Error::BadRequest)?;
    let entries = st
        .reads
        .run(move |conn| managers::audit_between(conn, ms(from), ms(to)))
        .await?;
    Ok(Json(entries))
}
