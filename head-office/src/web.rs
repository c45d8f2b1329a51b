//! The company's page and its API (JSON and CSV), served by axum.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router, middleware};
use deadpool_postgres::Pool;
use futures_util::Stream;
use jiff::civil::Date;
use queue_server::signin::{PinGuard, PinHasher};
use serde::Deserialize;
use tokio::sync::broadcast;

use crate::error::{Error, Result};
use crate::queries::{self, HallNow, HallPeriod, Metric};
use crate::{pushes, relay, signin};

#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    /// Hall ids whose figures changed, after each committed batch.
    pub changed: broadcast::Sender<Vec<String>>,
    /// Slows password guessing before an account's lock does.
    pub guard: Arc<PinGuard>,
    /// Hashes and checks passwords off the async threads.
    pub hasher: PinHasher,
    /// Wakes the pusher when a push is made.
    pub push_wake: Arc<tokio::sync::Notify>,
    /// Relays the phones' pages to their halls.
    pub nats: async_nats::Client,
    /// The company's reverse proxies, whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    /// Halls the relay found in PostgreSQL (`relay::known_hall`).
    pub known_halls: Arc<std::sync::Mutex<std::collections::HashSet<String>>>,
}

impl AppState {
    pub fn new(
        pool: Pool,
        changed: broadcast::Sender<Vec<String>>,
        nats: async_nats::Client,
        trusted_proxies: Vec<std::net::IpAddr>,
    ) -> AppState {
        AppState {
            pool,
            changed,
            nats,
            trusted_proxies: trusted_proxies.into(),
            known_halls: Arc::default(),
            guard: Arc::default(),
            hasher: PinHasher::start(),
            push_wake: Arc::default(),
        }
    }
}

/// The page: one file, its script inline (halls may have no internet,
/// and neither may head office's own network).
const PAGE: &str = include_str!("page.html");

pub fn router(state: AppState) -> Router {
    let signed_in = Router::new()
        .route("/api/v1/session", get(signin::session))
        .route("/api/v1/sign-out", post(signin::sign_out))
        .route("/api/v1/halls", get(halls))
        .route("/api/v1/halls.csv", get(halls_csv))
        .route("/api/v1/halls/{hall}/stats/day", get(hall_day))
        .route("/api/v1/ranking", get(ranking))
        .route("/api/v1/ranking.csv", get(ranking_csv))
        .route("/api/v1/changes", get(changes))
        .route("/api/v1/pushes", get(pushes_recent).post(push_create))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            signin::require_user,
        ));
    Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route("/healthz", get(health))
        .route("/api/v1/sign-in", post(signin::sign_in))
        // The halls' phone pages, for phones outside the halls' networks.
        .route(
            "/h/{hall}/{*rest}",
            any(relay::relay).layer(DefaultBodyLimit::max(relay::REQUEST_BODY_MAX)),
        )
        .merge(signed_in)
        .with_state(state)
}

async fn health(State(st): State<AppState>) -> Result<&'static str> {
    st.pool.get().await?.query_one("SELECT 1", &[]).await?;
    Ok("ok")
}

async fn halls(State(st): State<AppState>) -> Result<Json<Vec<HallNow>>> {
    Ok(Json(queries::halls_now(&st.pool).await?))
}

fn csv_response(name: &str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

async fn halls_csv(State(st): State<AppState>) -> Result<Response> {
    let halls = queries::halls_now(&st.pool).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let row = |w: &mut csv::Writer<Vec<u8>>, r: &[String]| {
        w.write_record(r)
            .map_err(|e| Error::Internal(e.to_string()))
    };
    row(
        &mut w,
        &[
            "hall",
            "name",
            "waiting",
            "longest_wait_s",
            "issued_today",
            "done_today",
            "service_level",
            "counters_open",
            "devices_needing_attention",
            "last_event_id",
            "shipping_lag_s",
            "silent_s",
            "silent",
        ]
        .map(String::from),
    )?;
    for h in halls {
        row(
            &mut w,
            &[
                h.hall,
                h.name.map(|n| n.zh).unwrap_or_default(),
                h.waiting.to_string(),
                opt(h.longest_wait_s),
                h.issued_today.to_string(),
                h.done_today.to_string(),
                opt(h.service_level.map(|l| format!("{l:.4}"))),
                h.counters_open.to_string(),
                h.devices
                    .iter()
                    .map(|d| format!("{}: {}", d.name, d.why))
                    .collect::<Vec<_>>()
                    .join("; "),
                h.last_event_id.to_string(),
                opt(h.shipping_lag_s.map(|s| format!("{s:.3}"))),
                opt(h.silent_s.map(|s| format!("{s:.0}"))),
                h.silent.to_string(),
            ],
        )?;
    }
    let body = w.into_inner().map_err(|e| Error::Internal(e.to_string()))?;
    Ok(csv_response("halls-now.csv", body))
}

#[derive(Deserialize)]
struct DayQuery {
    date: Option<String>,
}

fn date(raw: &str, what: &str) -> Result<Date> {
    raw.parse().map_err(|_| {
        Error::BadRequest(format!(
            "{what} \"{raw}\" is not a date; write it YYYY-MM-DD"
        ))
    })
}

async fn hall_day(
    State(st): State<AppState>,
    Path(hall): Path<String>,
    Query(q): Query<DayQuery>,
) -> Result<Json<hall_api::DayStats>> {
    if !hall_api::head_office::valid_hall_id(&hall) {
        return Err(Error::NotFound(format!("\"{hall}\" is not a hall id")));
    }
    let date = q.date.as_deref().map(|d| date(d, "date")).transpose()?;
    Ok(Json(queries::hall_day(&st.pool, &hall, date).await?))
}

#[derive(Deserialize)]
struct RankingQuery {
    metric: Option<String>,
    from: String,
    to: String,
}

impl RankingQuery {
    fn parse(&self) -> Result<(Metric, Date, Date)> {
        let metric = match self.metric.as_deref().unwrap_or("service_level") {
            "issued" => Metric::Issued,
            "done" => Metric::Done,
            "service_level" => Metric::ServiceLevel,
            "average_wait" => Metric::AverageWait,
            other => {
                return Err(Error::BadRequest(format!(
                    "cannot rank on \"{other}\"; give metric=issued, done, service_level or average_wait"
                )));
            }
        };
        Ok((metric, date(&self.from, "from")?, date(&self.to, "to")?))
    }
}

async fn ranking(
    State(st): State<AppState>,
    Query(q): Query<RankingQuery>,
) -> Result<Json<Vec<HallPeriod>>> {
    let (metric, from, to) = q.parse()?;
    Ok(Json(queries::ranking(&st.pool, metric, from, to).await?))
}

async fn ranking_csv(
    State(st): State<AppState>,
    Query(q): Query<RankingQuery>,
) -> Result<Response> {
    let (metric, from, to) = q.parse()?;
    let rows = queries::ranking(&st.pool, metric, from, to).await?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let err = |e: csv::Error| Error::Internal(e.to_string());
    w.write_record([
        "rank",
        "hall",
        "issued",
        "called",
        "done",
        "service_level",
        "average_wait_s",
    ])
    .map_err(err)?;
    for r in rows {
        w.write_record([
            r.rank.to_string(),
            r.hall,
            r.issued.to_string(),
            r.called.to_string(),
            r.done.to_string(),
            opt(r.service_level.map(|l| format!("{l:.4}"))),
            opt(r.average_wait_s.map(|s| format!("{s:.1}"))),
        ])
        .map_err(err)?;
    }
    let body = w.into_inner().map_err(|e| Error::Internal(e.to_string()))?;
    Ok(csv_response(&format!("ranking-{from}-{to}.csv"), body))
}

/// Which halls changed, as they change: the page fetches their figures then.
async fn changes(
    State(st): State<AppState>,
) -> Sse<impl Stream<Item = std::result::Result<SseEvent, Infallible>>> {
    let rx = st.changed.subscribe();
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        let data = match rx.recv().await {
            Ok(halls) => serde_json::to_string(&halls).unwrap_or_default(),
            // Fell behind: everything may have changed.
            Err(broadcast::error::RecvError::Lagged(_)) => "[]".into(),
            Err(broadcast::error::RecvError::Closed) => return None,
        };
        Some((Ok(SseEvent::default().event("halls").data(data)), rx))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// The newest 50 pushes, each hall's answer with them.
async fn pushes_recent(State(st): State<AppState>) -> Result<Json<Vec<pushes::PushView>>> {
    Ok(Json(pushes::recent(&st.pool, 50).await?))
}

/// Keeps a push and starts sending it; answers it as kept (every hall pending).
async fn push_create(
    State(st): State<AppState>,
    axum::Extension(user): axum::Extension<crate::users::User>,
    body: std::result::Result<Json<pushes::NewPush>, axum::extract::rejection::JsonRejection>,
) -> Result<(axum::http::StatusCode, Json<pushes::PushView>)> {
    let Json(new) = body.map_err(|e| {
        Error::BadRequest(format!(
            "{}; send {{\"halls\": [hall ids], \"changes\": [{{\"kind\": \"notice\", \"notice\": {{\"zh\", \"en\"}}}} or {{\"kind\": \"closure\", \"closure\": {{from, until, reason}}}}, {{\"kind\": \"staff\", number, name, pin}} or {{\"kind\": \"staff_disable\", number}}]}}",
            e.body_text()
        ))
    })?;
    let mut changes = Vec::with_capacity(new.changes.len());
    for change in new.changes {
        changes.push(change.into_push(&st.hasher).await?);
    }
    let id = pushes::create(&st.pool, &user.name, &new.halls, &changes).await?;
    st.push_wake.notify_one();
    let view = pushes::one(&st.pool, id)
        .await?
        .ok_or_else(|| Error::Internal(format!("push {id} was kept but cannot be read")))?;
    Ok((axum::http::StatusCode::CREATED, Json(view)))
}
