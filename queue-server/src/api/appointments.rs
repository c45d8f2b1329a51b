//! Appointments over HTTP: a service's slots, booking (the booking page and
//! the company's app), a booking's own page data, cancelling and moving it.
//! Checking in is the kiosk's `POST /api/v1/check-in`, as for remote tickets.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use hall_api::{
    BookableService, Booking, BookingRequest, BookingSetup, ErrorBody, MoveBooking, Slot,
};
use jiff::civil::Date;
use serde::Deserialize;

use crate::api::auth::Caller;
use crate::api::{ApiJson, ApiQuery, AppState};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::hall::Actor;
use crate::hall::appointments::BookingClient;
use crate::rules::appointments::{bookable, slots};
use crate::store::bookings::{self, BookingRow};
use crate::store::queries::{self, ms, ts};

fn phone() -> Actor {
    Actor::device("booking page", Role::Kiosk)
}

/// A booking as its holder sees it.
fn view(st: &AppState, b: &BookingRow) -> Booking {
    let hall = st.hall.now();
    let w = hall.appointments.window;
    let slot = ts(b.slot_start);
    Booking {
        service: b.service.clone(),
        service_name: hall
            .service(&b.service)
            .map(|s| s.name.clone())
            .unwrap_or_else(|| hall_api::I18nText {
                zh: b.service.clone(),
                en: b.service.clone(),
            }),
        slot_start: slot,
        code: b.code.clone(),
        tracking_code: b.tracking_code.clone(),
        status: b.status,
        check_in_from: slot - jiff::SignedDuration::from_mins(i64::from(w.early_min)),
        check_in_until: slot + jiff::SignedDuration::from_mins(i64::from(w.late_min)),
        ticket_number: None,
        hall_name: hall.hall.name.clone(),
        timezone: hall.hall.timezone_name.clone(),
    }
}

async fn with_ticket(st: &AppState, b: BookingRow) -> Result<Booking> {
    let mut v = view(st, &b);
    if let Some(id) = b.ticket {
        v.ticket_number = st
            .reads
            .run(move |conn| queries::ticket_by_id(conn, id))
            .await?
            .map(|t| t.number);
    }
    Ok(v)
}

/// The services that take appointments, and the check-in window.
#[utoipa::path(get, path = "/api/v1/public/booking-setup",
    responses((status = 200, body = BookingSetup)), tag = "public")]
pub async fn booking_setup(State(st): State<AppState>) -> Json<BookingSetup> {
    let hall = st.hall.now();
    let w = hall.appointments.window;
    Json(BookingSetup {
        hall_name: hall.hall.name.clone(),
        timezone: hall.hall.timezone_name.clone(),
        today: hall.hall.business_day(st.clock.read().at),
        services: hall
            .services
            .iter()
            .filter_map(|s| {
                s.slots.map(|r| BookableService {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    slot_min: r.slot_min,
                    days_ahead: r.days_ahead,
                    bring: s.bring.clone(),
                })
            })
            .collect(),
        early_min: w.early_min,
        late_min: w.late_min,
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SlotsQuery {
    /// The day, `YYYY-MM-DD`; today without it.
    pub date: Option<String>,
}

/// A service's slots of a day with the places left.
#[utoipa::path(get, path = "/api/v1/public/services/{id}/slots", params(("id" = String, Path), SlotsQuery),
    responses((status = 200, body = Vec<Slot>), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody),
              (status = 409, body = ErrorBody)),
    tag = "public")]
pub async fn service_slots(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<SlotsQuery>,
) -> Result<Json<Vec<Slot>>> {
    let hall = st.hall.now();
    let cfg = hall
        .service(&id)
        .ok_or_else(|| Error::NotFound(format!("no service \"{id}\"")))?
        .clone();
    let rules = cfg
        .slots
        .ok_or_else(|| Error::Conflict(format!("service \"{id}\" takes no appointments")))?;
    let now = st.clock.read().at;
    let today = hall.hall.business_day(now);
    let date: Date = match &q.date {
        Some(d) => d
            .parse()
            .map_err(|_| Error::BadRequest(format!("date \"{d}\" is not YYYY-MM-DD")))?,
        None => today,
    };
    let list = st
        .reads
        .run(move |conn| {
            let held = queries::held_calendar(conn, &hall)?;
            let closures = queries::closures_for(conn, &cfg.id, ms(now))?;
            let cal = hall.calendar(&cfg, &held, &closures);
            let starts = slots(&cal, date, &rules);
            let (Some(first), Some(last)) = (starts.first(), starts.last()) else {
                return Ok(Vec::new());
            };
            let taken = bookings::taken_between(conn, &cfg.id, ms(*first), ms(*last) + 1)?;
            Ok(starts
                .iter()
                .map(|&start| Slot {
                    start,
                    free: rules
                        .per_slot
                        .saturating_sub(taken.get(&ms(start)).copied().unwrap_or(0)),
                    bookable: bookable(&cal, &rules, now, today, start).is_ok(),
                })
                .collect())
        })
        .await?;
    Ok(Json(list))
}

/// Book a slot from the booking page; the per-client limit counts by the
/// phone's address.
#[utoipa::path(post, path = "/api/v1/public/bookings", request_body = BookingRequest,
    responses((status = 201, body = Booking), (status = 200, body = Booking, description = "already booked under this key"),
              (status = 400, body = ErrorBody), (status = 409, body = ErrorBody, description = "the slot is full, too soon or not offered"),
              (status = 429, body = ErrorBody)),
    tag = "public")]
pub async fn book_on_page(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(req): ApiJson<BookingRequest>,
) -> Result<(StatusCode, Json<Booking>)> {
    let who = BookingClient {
        client: crate::api::remote::phone_client(peer, req.client.as_ref())?,
    };
    book(&st, phone(), req, who).await
}

/// Book a slot for a customer of the company's app (`client`).
#[utoipa::path(post, path = "/api/v1/bookings", request_body = BookingRequest,
    responses((status = 201, body = Booking), (status = 200, body = Booking), (status = 400, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)),
    security(("bearer" = [])), tag = "tickets")]
pub async fn book_for_app(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<BookingRequest>,
) -> Result<(StatusCode, Json<Booking>)> {
    caller.require(&[Role::Billing, Role::Manager], "book appointments")?;
    let who = BookingClient {
        client: crate::api::remote::app_client(&caller, req.client.as_ref())?,
    };
    book(&st, caller.actor(), req, who).await
}

async fn book(
    st: &AppState,
    actor: Actor,
    req: BookingRequest,
    who: BookingClient,
) -> Result<(StatusCode, Json<Booking>)> {
    let (b, created) = st
        .writer
        .run(actor, move |hall| hall.book(&req, &who))
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view(st, &b))))
}

/// The booking with this page code.
async fn find(st: &AppState, tracking: String) -> Result<BookingRow> {
    valid(&tracking)?;
    st.reads
        .run(move |conn| bookings::by_tracking(conn, &tracking))
        .await?
        .ok_or_else(|| Error::NotFound("no booking has this code".into()))
}

fn valid(tracking: &str) -> Result<()> {
    if tracking.len() != 32 || !tracking.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::NotFound("no booking has this code".into()));
    }
    Ok(())
}

/// A booking by the code of its page.
#[utoipa::path(get, path = "/api/v1/public/bookings/{tracking_code}", params(("tracking_code" = String, Path)),
    responses((status = 200, body = Booking), (status = 404, body = ErrorBody)), tag = "public")]
pub async fn get_booking(
    State(st): State<AppState>,
    Path(tracking): Path<String>,
) -> Result<Json<Booking>> {
    let b = find(&st, tracking).await?;
    Ok(Json(with_ticket(&st, b).await?))
}

/// Cancel a booking (until `cancel_until_min` before its slot).
#[utoipa::path(post, path = "/api/v1/public/bookings/{tracking_code}/cancel", params(("tracking_code" = String, Path)),
    responses((status = 200, body = Booking), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "public")]
pub async fn cancel_booking(
    State(st): State<AppState>,
    Path(tracking): Path<String>,
) -> Result<Json<Booking>> {
    valid(&tracking)?;
    let b = st
        .writer
        .run(phone(), move |hall| hall.cancel_booking(&tracking))
        .await?;
    Ok(Json(view(&st, &b)))
}

/// Move a booking to another slot of its service.
#[utoipa::path(put, path = "/api/v1/public/bookings/{tracking_code}", params(("tracking_code" = String, Path)),
    request_body = MoveBooking,
    responses((status = 200, body = Booking), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)), tag = "public")]
pub async fn move_booking(
    State(st): State<AppState>,
    Path(tracking): Path<String>,
    ApiJson(req): ApiJson<MoveBooking>,
) -> Result<Json<Booking>> {
    valid(&tracking)?;
    let b = st
        .writer
        .run(phone(), move |hall| {
            hall.move_booking(&tracking, req.slot_start)
        })
        .await?;
    Ok(Json(view(&st, &b)))
}

/// The booking's code as a QR code (SVG): a kiosk with a scanner that types
/// like a keyboard reads it as the six digits.
#[utoipa::path(get, path = "/api/v1/public/bookings/{tracking_code}/qr", params(("tracking_code" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String), (status = 404, body = ErrorBody)), tag = "public")]
pub async fn booking_qr(
    State(st): State<AppState>,
    Path(tracking): Path<String>,
) -> Result<impl axum::response::IntoResponse> {
    let b = find(&st, tracking).await?;
    crate::api::guide::qr_svg(&b.code)
}
