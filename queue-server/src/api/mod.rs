//! The HTTP API (axum): JSON under `/api/v1`, bearer tokens by role, errors
//! as `{"error": {"code", "message"}}`, live events as Server-Sent Events.

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequest, Request};
use axum::routing::{get, post};
use serde::de::DeserializeOwned;
use tokio::sync::{broadcast, watch};

use crate::clock::HallClock;
use crate::config::Config;
use crate::error::Error;
use crate::hall::StoredEvent;
use crate::store::reader::ReadPool;
use crate::store::writer::WriterHandle;

pub mod auth;
pub mod billing;
pub mod counters;
pub mod devices;
pub mod error;
pub mod events;
pub mod hall;
pub mod openapi;
pub mod public;
pub mod station;
pub mod tickets;

#[derive(Clone)]
pub struct AppState {
    pub hall: Arc<Config>,
    pub writer: WriterHandle,
    pub reads: Arc<ReadPool>,
    pub events: broadcast::Sender<StoredEvent>,
    pub clock: Arc<HallClock>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Flips to true when the server shuts down, ending live streams.
    pub shutdown: watch::Receiver<bool>,
    /// For asking the billing system about accounts.
    pub http: reqwest::Client,
    pub pin_guard: Arc<station::PinGuard>,
    pub devices: Arc<devices::DeviceBoard>,
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(hall::health))
        .route("/openapi.json", get(openapi::serve))
        .route("/metrics", get(hall::metrics))
        .route("/api/v1/tickets", post(tickets::issue))
        .route("/api/v1/tickets/{id}", get(tickets::get))
        .route("/api/v1/tickets/{id}/cancel", post(tickets::cancel))
        .route("/api/v1/counters/{number}/{action}", post(counters::act))
        .route("/api/v1/hall", get(hall::snapshot))
        .route("/api/v1/events", get(events::stream))
        .route("/api/v1/stats/day", get(hall::day_stats))
        .route("/api/v1/webhooks", get(billing::webhooks))
        .route("/api/v1/devices", get(devices::list))
        .route("/api/v1/devices/heartbeat", post(devices::heartbeat))
        .route("/api/v1/me", get(station::me))
        .route(
            "/api/v1/counters/{number}/pin",
            axum::routing::put(station::set_pin),
        )
        .route("/api/v1/counters/{number}/sign-in", post(station::sign_in))
        .route("/api/v1/counters/{number}/queue", get(station::queue))
        .route(
            "/api/v1/public/tickets/{tracking_code}",
            get(public::ticket),
        )
        .route("/counter", get(public::counter_page))
        .route("/t/{tracking_code}", get(public::ticket_page))
        .route("/assets/counter.js", get(public::counter_js))
        .route("/assets/style.css", get(public::style_css))
        .route("/api/v1/accounts/{account_ref}", get(billing::account))
        .fallback(|| async { Error::NotFound("no such endpoint; see /openapi.json".into()) })
        .with_state(state)
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

/// Parses a path segment that must be a number.
pub fn path_number<T: std::str::FromStr>(what: &str, raw: &str) -> Result<T, Error> {
    raw.parse()
        .map_err(|_| Error::BadRequest(format!("{what} must be a number, not \"{raw}\"")))
}
