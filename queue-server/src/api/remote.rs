//! Tickets taken before arriving and their check-in: the phone page and
//! the company's app take them, a kiosk or the hall's posted QR checks
//! them in. The rules are in `crate::hall::remote`.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use hall_api::{
    CheckInRequest, ErrorBody, PlaceCheckIn, PublicTicket, RemoteSetup, RemoteTicket,
    RemoteTicketRequest, Ticket,
};

use crate::api::auth::Caller;
use crate::api::{ApiJson, AppState};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::hall::Actor;
use crate::hall::remote::RemoteAsk;
use crate::store::queries;

/// Who asks from a public page, for the per-client limits: the phone's
/// address (the app's `client` field is refused there).
pub fn phone_client(peer: SocketAddr, client: Option<&String>) -> Result<String> {
    if client.is_some() {
        return Err(Error::BadRequest(
            "client is for the company's app; the phone's pages leave it out".into(),
        ));
    }
    Ok(format!("address:{}", peer.ip()))
}

/// Who asks through the company's app: the customer id it names, within
/// the app's own name.
pub fn app_client(caller: &Caller, client: Option<&String>) -> Result<String> {
    let client = client.ok_or_else(|| {
        Error::BadRequest("client is required: the app's id of the customer it asks for".into())
    })?;
    let ok = (1..=64).contains(&client.len())
        && client
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.:@-".contains(c));
    if !ok {
        return Err(Error::BadRequest(
            "client must be 1 to 64 letters, digits or _ . : @ -".into(),
        ));
    }
    Ok(format!("app:{}:{client}", caller.name))
}

/// Who acts when a phone takes or checks in a ticket: no device, no token.
fn phone() -> Actor {
    Actor::device("phone", Role::Kiosk)
}

async fn take(
    st: &AppState,
    actor: Actor,
    req: RemoteTicketRequest,
    ask: RemoteAsk,
) -> Result<(StatusCode, Json<RemoteTicket>)> {
    let issued = st
        .writer
        .run(actor, move |hall| hall.issue_remote(&req, &ask))
        .await?;
    let t = issued.ticket;
    let remote = t
        .remote
        .ok_or_else(|| Error::Internal("a remote ticket was issued without its check-in".into()))?;
    let status = if issued.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(RemoteTicket {
            number: t.number,
            service: t.service,
            tracking_code: t.tracking_code,
            remote,
            ahead: t.ahead,
            estimated_wait_s: t.estimated_wait_s,
        }),
    ))
}

/// What the phone page offers: the services as the kiosk shows them, and
/// the time to check in. 404 when the hall takes no remote tickets.
#[utoipa::path(get, path = "/api/v1/public/remote-setup",
    responses((status = 200, body = RemoteSetup), (status = 404, body = ErrorBody)), tag = "public")]
pub async fn remote_setup(State(st): State<AppState>) -> Result<Json<RemoteSetup>> {
    let hall = st.hall.now();
    let Some(rc) = hall.remote.clone() else {
        return Err(Error::NotFound(
            "this hall does not take tickets before arrival; take one at the kiosk in the hall"
                .into(),
        ));
    };
    let now = st.clock.read().at;
    let of = hall.clone();
    let services = st
        .reads
        .run(move |conn| queries::service_views(conn, &of, now))
        .await?;
    Ok(Json(RemoteSetup {
        hall_name: hall.hall.name.clone(),
        timezone: hall.hall.timezone_name.clone(),
        services,
        check_in_within_min: rc.check_in_within_min,
        place_check_in: rc.place_code.is_some(),
    }))
}

/// Take a ticket for today before arriving, from the phone page. The
/// limit per client counts by the phone's address.
#[utoipa::path(post, path = "/api/v1/public/remote-tickets", request_body = RemoteTicketRequest,
    responses((status = 201, body = RemoteTicket, description = "taken"),
              (status = 200, body = RemoteTicket, description = "already taken under this idempotency key"),
              (status = 400, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "not offered, closed, or the service's remote tickets are full"),
              (status = 429, body = ErrorBody, description = "this client took as many as the hall allows today")),
    tag = "public")]
pub async fn take_on_phone(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<RemoteTicketRequest>,
) -> Result<(StatusCode, Json<RemoteTicket>)> {
    let ask = RemoteAsk {
        client: phone_client(peer, req.client.as_ref())?,
    };
    take(&st, phone(), req, ask).await
}

/// Take a ticket for today before arriving, for a customer of the
/// company's app (`client`: the app's id of that customer).
#[utoipa::path(post, path = "/api/v1/remote-tickets", request_body = RemoteTicketRequest,
    responses((status = 201, body = RemoteTicket, description = "taken"),
              (status = 200, body = RemoteTicket, description = "already taken under this idempotency key"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])), tag = "tickets")]
pub async fn take_for_app(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<RemoteTicketRequest>,
) -> Result<(StatusCode, Json<RemoteTicket>)> {
    caller.require(
        &[Role::Billing, Role::Manager],
        "take tickets before arrival",
    )?;
    let ask = RemoteAsk {
        client: app_client(&caller, req.client.as_ref())?,
    };
    take(&st, caller.actor(), req, ask).await
}

/// Check in a remote ticket at a kiosk by the six digits its holder was given.
#[utoipa::path(post, path = "/api/v1/check-in", request_body = CheckInRequest,
    responses((status = 200, body = Ticket), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody, description = "expired, already called, or not a remote ticket")),
    security(("bearer" = [])), tag = "tickets")]
pub async fn check_in_at_kiosk(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<CheckInRequest>,
) -> Result<Json<Ticket>> {
    caller.require(
        &[Role::Kiosk, Role::Guide, Role::Manager],
        "check in tickets",
    )?;
    let ticket = st
        .writer
        .run(caller.actor(), move |hall| hall.check_in_by_code(&req.code))
        .await?;
    Ok(Json(ticket))
}

/// Check in a remote ticket from its holder's phone, with the code the QR
/// posted in the hall carries.
#[utoipa::path(post, path = "/api/v1/public/tickets/{tracking_code}/check-in",
    params(("tracking_code" = String, Path)), request_body = PlaceCheckIn,
    responses((status = 200, body = PublicTicket), (status = 400, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    tag = "public")]
pub async fn check_in_on_phone(
    State(st): State<AppState>,
    Path(code): Path<String>,
    ApiJson(req): ApiJson<PlaceCheckIn>,
) -> Result<Json<PublicTicket>> {
    crate::api::public::valid_tracking_code(&code)?;
    let tracking = code.clone();
    st.writer
        .run(phone(), move |hall| {
            hall.check_in_at_place(&tracking, &req.place).map(|_| ())
        })
        .await?;
    crate::api::public::ticket(State(st), Path(code)).await
}
