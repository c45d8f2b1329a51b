//! The HTTP API (axum): JSON under `/api/v1`, bearer tokens by role, errors
//! as `{"error": {"code", "message"}}`, live events as Server-Sent Events.

use std::sync::Arc;

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use tokio::sync::{broadcast, watch};

use crate::clock::HallClock;
use crate::error::Error;
use crate::hall::StoredEvent;
use crate::store::reader::ReadPool;
use crate::store::writer::WriterHandle;

pub mod access;
pub mod appointments;
pub mod auth;
pub mod billing;
pub mod counters;
pub mod devices;
pub mod error;
pub mod events;
pub mod guide;
pub mod hall;
pub mod manager;
pub mod openapi;
pub mod public;
pub mod ratings;
pub mod remote;
pub mod reports;
pub mod staff;
pub mod station;
pub mod tickets;
pub mod today;

#[derive(Clone)]
pub struct AppState {
    /// The configuration now: take it once per request (`now()`).
    pub hall: Arc<crate::config::LiveConfig>,
    pub writer: WriterHandle,
    pub reads: Arc<ReadPool>,
    pub events: broadcast::Sender<StoredEvent>,
    pub clock: Arc<HallClock>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Whether the database takes writes, for `/healthz`.
    pub write_health: Arc<crate::store::writer::WriteHealth>,
    /// Flips to true when the server shuts down, ending live streams.
    pub shutdown: watch::Receiver<bool>,
    /// For asking the billing system about accounts.
    pub http: reqwest::Client,
    pub pin_guard: Arc<crate::signin::PinGuard>,
    pub pin_hasher: crate::signin::PinHasher,
    pub devices: Arc<devices::DeviceBoard>,
    /// Who read which personal data lately (one record per ten minutes).
    pub recent_reads: Arc<access::RecentReads>,
    /// HTTPS on the hall network, when configured.
    pub tls: Option<Arc<crate::tls::HallTls>>,
    /// Shipping to head office, when configured.
    pub shipping: Option<Arc<crate::head_office::Shipping>>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(hall::health))
        .route("/openapi.json", get(openapi::serve))
        .route("/metrics", get(hall::metrics))
        .route("/api/v1/tickets", post(tickets::issue))
        .route("/api/v1/tickets/{id}", get(tickets::get))
        .route("/api/v1/tickets/{id}/cancel", post(tickets::cancel))
        .route("/api/v1/remote-tickets", post(remote::take_for_app))
        .route("/api/v1/public/remote-tickets", post(remote::take_on_phone))
        .route("/api/v1/public/remote-setup", get(remote::remote_setup))
        .route("/take", get(public::take_page))
        .route("/here/{place}", get(public::here_page))
        .route("/assets/take.js", get(public::take_js))
        .route("/assets/here.js", get(public::here_js))
        .route("/api/v1/check-in", post(remote::check_in_at_kiosk))
        .route(
            "/api/v1/public/services/{id}/slots",
            get(appointments::service_slots),
        )
        .route("/api/v1/public/bookings", post(appointments::book_on_page))
        .route(
            "/api/v1/public/booking-setup",
            get(appointments::booking_setup),
        )
        .route("/api/v1/bookings", post(appointments::book_for_app))
        .route(
            "/api/v1/public/bookings/{tracking_code}",
            get(appointments::get_booking).put(appointments::move_booking),
        )
        .route(
            "/api/v1/public/bookings/{tracking_code}/cancel",
            post(appointments::cancel_booking),
        )
        .route(
            "/api/v1/public/bookings/{tracking_code}/qr",
            get(appointments::booking_qr),
        )
        .route("/book", get(public::book_page))
        .route("/booking/{tracking_code}", get(public::booking_page))
        .route("/assets/book.js", get(public::book_js))
        .route(
            "/api/v1/closures",
            get(today::closures).post(today::add_closure),
        )
        .route("/api/v1/closures/{id}/lift", post(today::lift_closure))
        .route("/api/v1/guide/sign-in", post(guide::guide_sign_in))
        .route("/api/v1/guide/sign-out", post(guide::guide_sign_out))
        .route("/api/v1/tickets/{id}/print", post(guide::request_print))
        .route("/api/v1/tickets/{id}/qr", get(guide::ticket_qr))
        .route("/api/v1/print-jobs", get(guide::pending_print_jobs))
        .route("/api/v1/print-jobs/{id}", get(guide::print_job))
        .route("/api/v1/print-jobs/{id}/done", post(guide::print_job_done))
        .route("/guide", get(public::guide_page))
        .route("/assets/guide.js", get(public::guide_js))
        .route(
            "/api/v1/public/tickets/{tracking_code}/check-in",
            post(remote::check_in_on_phone),
        )
        .route("/api/v1/counters/{number}/{action}", post(counters::act))
        .route("/api/v1/hall", get(hall::snapshot))
        .route("/api/v1/events", get(events::stream))
        .route("/api/v1/stats/day", get(hall::day_stats))
        .route("/api/v1/webhooks", get(billing::webhooks))
        .route("/api/v1/head-office", get(billing::head_office))
        .route("/api/v1/devices", get(devices::list))
        .route("/api/v1/devices/heartbeat", post(devices::heartbeat))
        .route("/api/v1/me", get(station::me))
        .route("/api/v1/tls", get(hall::tls_status))
        .route("/api/v1/access", get(access::access_records))
        .route(
            "/api/v1/counters/{number}/pin",
            axum::routing::put(station::set_pin),
        )
        .route("/api/v1/counters/{number}/sign-in", post(station::sign_in))
        .route("/api/v1/sign-out", post(station::sign_out))
        .route(
            "/api/v1/staff",
            get(staff::list_staff).post(staff::add_staff),
        )
        .route(
            "/api/v1/staff/{number}/pin",
            axum::routing::put(staff::set_staff_pin),
        )
        .route("/api/v1/staff/{number}/disable", post(staff::disable_staff))
        .route(
            "/api/v1/staff/{number}/sign-out",
            post(staff::sign_staff_out),
        )
        .route("/api/v1/counters/{number}/queue", get(station::queue))
        .route(
            "/api/v1/public/tickets/{tracking_code}",
            get(public::ticket),
        )
        .route("/api/v1/public/rating-setup", get(ratings::setup))
        .route(
            "/api/v1/tickets/{id}/rating",
            post(ratings::rate_at_counter),
        )
        .route(
            "/api/v1/public/tickets/{tracking_code}/rating",
            post(ratings::rate_on_phone),
        )
        .route("/api/v1/ratings", get(ratings::day_ratings))
        .route("/api/v1/follow-ups", get(ratings::follow_ups))
        .route(
            "/api/v1/follow-ups/{id}",
            axum::routing::put(ratings::update_follow_up),
        )
        .route("/api/v1/manager/sign-in", post(manager::manager_sign_in))
        .route("/api/v1/manager/sign-out", post(manager::manager_sign_out))
        .route("/api/v1/manager/session", get(manager::manager_session))
        .route(
            "/api/v1/managers",
            get(manager::list_managers).post(manager::add_manager),
        )
        .route(
            "/api/v1/managers/{name}/password",
            axum::routing::put(manager::set_manager_password),
        )
        .route(
            "/api/v1/managers/{name}/disable",
            post(manager::disable_manager),
        )
        .route("/api/v1/audit", get(manager::audit_log))
        .route(
            "/api/v1/services/{id}/{change}",
            post(today::change_service_today),
        )
        .route(
            "/api/v1/notice",
            axum::routing::put(today::set_notice).delete(today::clear_notice),
        )
        .merge(report_routes())
        .route("/manager", get(public::manager_page))
        .route("/assets/manager.js", get(public::manager_js))
        .route("/assets/manager.css", get(public::manager_css))
        .route("/assets/report.css", get(public::report_css))
        .route("/assets/chart.umd.min.js", get(public::chart_js))
        .route("/counter", get(public::counter_page))
        .route("/t/{tracking_code}", get(public::ticket_page))
        .route("/rate/{counter}", get(public::rater_page))
        .route("/assets/rater.js", get(public::rater_js))
        .route("/assets/rating.js", get(public::rating_js))
        .route("/assets/counter.js", get(public::counter_js))
        .route("/assets/ticket.js", get(public::ticket_js))
        .route("/assets/style.css", get(public::style_css))
        .route("/api/v1/accounts/{account_ref}", get(billing::account))
        .fallback(|| async { Error::NotFound("no such endpoint; see /openapi.json".into()) })
        .layer(axum::middleware::from_fn(body_in_time))
        .with_state(state)
}

/// The routes that compute reports, each giving its memory back after.
fn report_routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reports", get(reports::period_report))
        .route("/api/v1/reports/export", get(reports::export_report))
        .route("/api/v1/reports/kept", get(reports::kept_reports))
        .route(
            "/api/v1/reports/kept/{date}/workbook",
            get(reports::kept_workbook),
        )
        .route("/manager/daily/{date}", get(reports::daily_page))
        .route("/manager/print", get(reports::print_page))
        .route_layer(axum::middleware::from_fn(reports::give_memory_back))
}

/// The largest body any endpoint takes; the largest real one (an issue
/// request with an account number) is a few hundred bytes.
pub const MAX_BODY: usize = 16 * 1024;
/// How long a client has to send its body once its headers are in (the
/// headers have their own limit, in `http`).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads every request's body before any handler runs, within
/// [`MAX_BODY`] and [`BODY_TIMEOUT`]: a client that sends a large body, or
/// sends it slowly to hold memory, is answered 413 or 408 (and its
/// connection closed) instead of being waited for.
async fn body_in_time(req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    let too_large = || {
        Error::TooLarge(format!(
            "the body is larger than the {} KiB this server takes",
            MAX_BODY / 1024
        ))
        .into_response()
    };
    if declared.is_some_and(|n| n > MAX_BODY as u64) {
        return too_large();
    }
    let mut bytes = Vec::new();
    let mut chunks = body.into_data_stream();
    let read = tokio::time::timeout(BODY_TIMEOUT, async {
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| Error::BadRequest(format!("the body broke off: {e}")))?;
            if bytes.len() + chunk.len() > MAX_BODY {
                return Err(Error::TooLarge(String::new()));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(())
    })
    .await;
    match read {
        Err(_) => Error::Timeout(format!(
            "the body did not arrive within {} s; send the whole request at once",
            BODY_TIMEOUT.as_secs()
        ))
        .into_response(),
        Ok(Err(Error::TooLarge(_))) => too_large(),
        Ok(Err(e)) => e.into_response(),
        Ok(Ok(())) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    }
}

/// A JSON body whose problems answer 400 in the API's error format.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(rejection) => Err(Error::BadRequest(rejection.body_text())),
        }
    }
}

/// A query string whose problems answer 400 in the API's error format.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for ApiQuery<T> {
    type Rejection = Error;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(rejection) => Err(Error::BadRequest(rejection.body_text())),
        }
    }
}

/// Parses a path segment that must be a number.
pub fn path_number<T: std::str::FromStr>(what: &str, raw: &str) -> Result<T, Error> {
    raw.parse()
        .map_err(|_| Error::BadRequest(format!("{what} must be a number, not \"{raw}\"")))
}
