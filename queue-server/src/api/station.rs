//! What the counter station page needs beyond the counter actions: who am I,
//! PIN sign-in (the manager sets each counter's PIN), and the waiting list.

use std::net::{IpAddr, SocketAddr};

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use hall_api::{CounterSession, ErrorBody, PinRequest, SignInRequest, TicketSummary, Whoami};

use crate::api::auth::{Caller, role_name, session_name};
use crate::api::{ApiJson, AppState, path_number};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::hall::Actor;
use crate::hall::staff::valid_staff_number;
use crate::rules::policy::rank;
use crate::signin::PinOf;
use crate::store::queries::{self, ms};
use crate::tokens::{random_hex, sha256};

/// How long a PIN session lasts: one working day.
const SESSION: jiff::SignedDuration = jiff::SignedDuration::from_hours(12);
/// Entries shown in a counter's waiting list.
const QUEUE_LIMIT: u32 = 50;

pub fn valid_pin(pin: &str) -> Result<()> {
    if (4..=8).contains(&pin.len()) && pin.chars().all(|c| c.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Error::BadRequest("a PIN is 4 to 8 digits".into()))
    }
}

/// What a PIN sign-in found.
pub enum PinCheck {
    Right,
    Wrong,
    /// Nothing to check against: an unknown staff number, a counter without a PIN.
    NoPin,
}

/// Checks a staff member's or a counter's PIN behind the guard: the
/// attempt is reserved before the PIN is looked at, so guesses sent at
/// once count too, and a wrong one (or none to check) counts against the
/// device and the PIN's owner. Security events say who tried from where.
pub async fn check_pin(st: &AppState, peer: IpAddr, whose: PinOf, pin: String) -> Result<PinCheck> {
    let attempt = st.pin_guard.begin(whose.clone(), peer).inspect_err(|e| {
        tracing::warn!(target: "security", event = "sign_in_locked", pin_of = %whose, peer = %peer, "{e}");
    })?;
    let of = whose.clone();
    let stored = st
        .reads
        .run(move |conn| match &of {
            PinOf::Staff(number) => Ok(queries::staff_by_number(conn, number)?.map(|s| s.pin_hash)),
            PinOf::Counter(counter) => queries::pin_hash(conn, *counter),
            PinOf::Manager(_) => Ok(None),
        })
        .await?;
    let none = stored.is_none();
    // Verified even without a hash, so an unknown number takes as long.
    if st.pin_hasher.verify(pin, stored).await? {
        attempt.succeeded();
        return Ok(PinCheck::Right);
    }
    tracing::warn!(target: "security", event = "sign_in_failed", pin_of = %whose, peer = %peer, "wrong PIN");
    Ok(if none {
        PinCheck::NoPin
    } else {
        PinCheck::Wrong
    })
}

/// A new session's token (given once), its hash (kept) and its end.
pub fn new_session(st: &AppState) -> Result<(String, [u8; 32], jiff::Timestamp)> {
    let token = random_hex::<32>("session")?;
    let expires_at = st
        .clock
        .read()
        .at
        .saturating_add(SESSION)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let token_sha256 = sha256(&token);
    Ok((token, token_sha256, expires_at))
}

/// Who this token belongs to.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Whoami), (status = 401, body = ErrorBody)),
    security(("bearer" = [])), tag = "counters")]
pub async fn me(caller: Caller) -> Json<Whoami> {
    Json(Whoami {
        name: caller.name,
        role: role_name(caller.role).into(),
        counter: caller.counter,
        staff: caller.staff,
    })
}

/// Set a counter's PIN (manager). Sessions the old PIN opened end.
#[utoipa::path(put, path = "/api/v1/counters/{number}/pin", params(("number" = u32, Path)), request_body = PinRequest,
    responses((status = 204), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])), tag = "counters")]
pub async fn set_pin(
    State(st): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
    ApiJson(req): ApiJson<PinRequest>,
) -> Result<StatusCode> {
    caller.require(&[Role::Manager], "set counter PINs")?;
    let counter: u32 = path_number("counter number", &number)?;
    valid_pin(&req.pin)?;
    // Argon2 is slow on purpose: on its own thread, off the writer's.
    let pin_hash = st.pin_hasher.hash(req.pin).await?;
    st.writer
        .run(caller.actor(), move |hall| hall.set_pin(counter, &pin_hash))
        .await?;
    tracing::info!(target: "security", event = "counter_pin_set", counter, by = %caller.name, "counter PIN changed");
    Ok(StatusCode::NO_CONTENT)
}

/// Sign in at a counter: as a member of staff with their staff number and
/// PIN, or with the counter's own PIN. Either gives a session token acting
/// as that counter.
#[utoipa::path(post, path = "/api/v1/counters/{number}/sign-in", params(("number" = u32, Path)), request_body = SignInRequest,
    responses((status = 200, body = CounterSession), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, description = "the member of staff is disabled", body = ErrorBody),
              (status = 404, body = ErrorBody),
              (status = 409, description = "the member of staff is signed in at another counter", body = ErrorBody),
              (status = 429, body = ErrorBody)),
    tag = "counters")]
pub async fn sign_in(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(number): Path<String>,
    ApiJson(req): ApiJson<SignInRequest>,
) -> Result<Json<CounterSession>> {
    let counter: u32 = path_number("counter number", &number)?;
    st.hall
        .now()
        .counter(counter)
        .ok_or_else(|| Error::NotFound(format!("counter {counter} is not configured")))?;
    valid_pin(&req.pin)?;
    if let Some(staff) = &req.staff {
        valid_staff_number(staff)?;
    }
    let whose = match &req.staff {
        Some(staff) => PinOf::Staff(staff.clone()),
        None => PinOf::Counter(counter),
    };
    let wrong = || match &req.staff {
        // One answer for an unknown number and a wrong PIN: the page
        // must not tell a guesser which staff numbers exist.
        Some(_) => Error::Unauthorized("wrong staff number or PIN".into()),
        None => Error::Unauthorized(format!("wrong PIN for counter {counter}")),
    };
    match check_pin(&st, peer.ip(), whose, req.pin.clone()).await? {
        PinCheck::Right => {}
        PinCheck::NoPin if req.staff.is_none() => {
            return Err(Error::Unauthorized(format!(
                "counter {counter} has no PIN yet; ask the manager to set one, or sign in with your staff number"
            )));
        }
        PinCheck::Wrong | PinCheck::NoPin => return Err(wrong()),
    }
    let (token, token_sha256, expires_at) = new_session(&st)?;
    let staff = match req.staff {
        Some(number) => {
            let actor = Actor::device(format!("counter-{counter} (sign-in)"), Role::Counter);
            let who = st
                .writer
                .run(actor, move |hall| {
                    hall.sign_in_staff(counter, &number, &token_sha256, ms(expires_at))
                })
                .await?;
            Some(who)
        }
        None => {
            let actor = Actor::device(session_name(counter, None), Role::Counter);
            st.writer
                .run(actor, move |hall| {
                    hall.open_session(counter, &token_sha256, ms(expires_at))
                })
                .await?;
            None
        }
    };
    tracing::info!(
        target: "security",
        event = "signed_in",
        counter,
        staff = staff.as_ref().map_or("", |s| s.number.as_str()),
        peer = %peer.ip(),
        "signed in"
    );
    Ok(Json(CounterSession {
        token,
        counter,
        staff,
        expires_at,
    }))
}

/// End this session: a member of staff's attendance at the counter ends
/// with it. A device token has no session; nothing happens.
#[utoipa::path(post, path = "/api/v1/sign-out",
    responses((status = 204), (status = 401, body = ErrorBody)),
    security(("bearer" = [])), tag = "counters")]
pub async fn sign_out(
    State(st): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
) -> Result<StatusCode> {
    let Some(token) = crate::api::auth::bearer(&headers) else {
        return Ok(StatusCode::NO_CONTENT);
    };
    let token_sha256 = sha256(&token);
    st.writer
        .run(caller.actor(), move |hall| hall.sign_out(&token_sha256))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The tickets this counter would call, in the order it would call them.
#[utoipa::path(get, path = "/api/v1/counters/{number}/queue", params(("number" = u32, Path)),
    responses((status = 200, body = Vec<TicketSummary>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])), tag = "counters")]
pub async fn queue(
    State(st): State<AppState>,
    caller: Caller,
    Path(number): Path<String>,
) -> Result<Json<Vec<TicketSummary>>> {
    let counter: u32 = path_number("counter number", &number)?;
    caller.require_counter(counter, "see a counter's waiting list")?;
    let hall = st.hall.now();
    let list = st
        .reads
        .run(move |conn| {
            let cfg = hall
                .counter(counter)
                .ok_or_else(|| Error::NotFound(format!("counter {counter} is not configured")))?;
            let served = hall.served_by(cfg);
            let mut rows = queries::waiting_in(conn, &cfg.services, QUEUE_LIMIT)?;
            rows.sort_by_key(|t| rank(&served, &t.candidate()));
            rows.truncate(QUEUE_LIMIT as usize);
            Ok(rows.iter().map(|t| t.summary()).collect())
        })
        .await?;
    Ok(Json(list))
}
