//! Signing in to head office's page and API: a name and password give a
//! session cookie, as at the manager console. Every API route but the
//! sign-in itself needs the cookie; a change also needs the page's header.

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hall_api::{ManagerSession, ManagerSignIn};
use queue_server::signin::PinOf;
use queue_server::tokens::{random_hex, sha256};

use crate::client_addr::ClientAddr;
use crate::error::{Error, Result};
use crate::users::{self, LOCK, User, WRONG_BEFORE_LOCK};
use crate::web::AppState;

/// The session cookie: HttpOnly (no script reads it), SameSite=Strict (no
/// other site's page sends it), Secure (browsers send it over HTTPS, and
/// to 127.0.0.1 for a page on the same machine).
pub const COOKIE: &str = "head_office";
/// A request that changes something carries this header: a form or link
/// on another site cannot set it.
pub const HEADER: &str = "x-head-office";
/// How long a session lasts: a working day.
const SESSION: jiff::SignedDuration = jiff::SignedDuration::from_hours(10);

fn cookie(value: &str, max_age_s: i64) -> HeaderValue {
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Secure; Max-Age={max_age_s}"
    ))
    .expect("a cookie of hex digits is a valid header")
}

/// The session cookie's value, if the request carries one.
fn session_cookie(headers: &HeaderMap) -> Option<String> {
    queue_server::api::auth::cookie_value(headers, COOKIE)
}

fn locked(name: &str, until: jiff::Timestamp) -> Error {
    let wait_s = (until.as_second() - jiff::Timestamp::now().as_second()).max(1) as u64;
    Error::TooMany(
        format!(
            "the account {name} is locked for {} more min after {WRONG_BEFORE_LOCK} wrong passwords in a row; \
             wait, or have an administrator set a new password (head-office set-password)",
            wait_s.div_ceil(60)
        ),
        wait_s,
    )
}

/// `POST /api/v1/sign-in`: the cookie and who signed in. Five wrong
/// passwords in a row lock the account for 15 minutes; many tries from
/// one address are slowed before that.
pub async fn sign_in(
    State(st): State<AppState>,
    ClientAddr(peer): ClientAddr,
    Json(req): Json<ManagerSignIn>,
) -> Result<Response> {
    if req.name.is_empty() || req.password.is_empty() || req.password.len() > 512 {
        return Err(Error::BadRequest("give your name and password".into()));
    }
    let whose = PinOf::Manager(req.name.clone());
    let attempt = st.guard.begin(whose, peer).inspect_err(|e| {
        tracing::warn!(target: "security", event = "sign_in_refused", who = %req.name, peer = %peer, "{e}");
    })?;
    let account = users::account(&st.pool, &req.name).await?;
    if let Some(until) = account.as_ref().and_then(|a| a.locked_until) {
        attempt.succeeded(); // the lock, not the guard, answers
        return Err(locked(&req.name, until));
    }
    let hash = account.as_ref().map(|a| a.password_hash.clone());
    let right = st.hasher.verify(req.password, hash).await?;
    if !right {
        tracing::warn!(target: "security", event = "sign_in_failed", who = %req.name, peer = %peer, "wrong password");
        if let Some(until) = users::wrong_password(&st.pool, &req.name).await? {
            // From now on the lock answers; once a new password lifts it,
            // its owner may sign in at once.
            attempt.succeeded();
            tracing::warn!(target: "security", event = "user_locked", who = %req.name, %until, "locked for {} min", LOCK.as_mins());
            return Err(locked(&req.name, until));
        }
        return Err(Error::Unauthorized("wrong name or password".into()));
    }
    attempt.succeeded();
    if account.as_ref().is_some_and(|a| a.disabled) {
        return Err(Error::Forbidden(format!(
            "the account {} is disabled; an administrator can enable it with a new password (head-office set-password)",
            req.name
        )));
    }
    let token = random_hex::<32>("session")?;
    let expires_at = users::open_session(&st.pool, &req.name, &sha256(&token), SESSION).await?;
    tracing::info!(target: "security", event = "signed_in", who = %req.name, peer = %peer, "signed in");
    let mut resp = Json(ManagerSession {
        name: req.name,
        expires_at,
    })
    .into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, cookie(&token, SESSION.as_secs()));
    Ok(resp)
}

/// `POST /api/v1/sign-out`: the session ends and the cookie is cleared.
pub async fn sign_out(State(st): State<AppState>, headers: HeaderMap) -> Result<Response> {
    if let Some(token) = session_cookie(&headers) {
        users::end_session(&st.pool, &sha256(&token)).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie("", 0));
    Ok(resp)
}

/// `GET /api/v1/session`: who is signed in, until when.
pub async fn session(axum::Extension(user): axum::Extension<User>) -> Json<ManagerSession> {
    Json(ManagerSession {
        name: user.name,
        expires_at: user.expires_at,
    })
}

/// Lets a request through only with an open session (and, for a change,
/// the page's header); the handler finds the [`User`] in its extensions.
pub async fn require_user(
    State(st): State<AppState>,
    mut req: Request,
    next: Next,
) -> Result<Response> {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD);
    if !safe && !req.headers().contains_key(HEADER) {
        return Err(Error::Forbidden(format!(
            "a change must carry the {HEADER} header (head office's own page sends it)"
        )));
    }
    let token = session_cookie(req.headers())
        .ok_or_else(|| Error::Unauthorized("sign in first (POST /api/v1/sign-in)".into()))?;
    let user = users::session(&st.pool, &sha256(&token))
        .await?
        .ok_or_else(|| {
            Error::Unauthorized(
                "the session has ended (signed out, expired, or the account was changed); sign in again"
                    .into(),
            )
        })?;
    req.extensions_mut().insert(user);
    Ok(next.run(req).await)
}
