//! The hall as a whole: health, the live snapshot, and a day's statistics.

use std::fmt::Write;

use axum::Json;
use axum::extract::State;
use hall_api::{DayStats, ErrorBody, HallInfo, HallSnapshot, Health};
use jiff::civil::Date;
use serde::Deserialize;

use crate::api::auth::Caller;
use crate::api::{ApiQuery, AppState};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::rules::stats::day_stats as compute_day_stats;
use crate::store::{queries, reader};

/// Liveness and the clock's state; no token needed.
#[utoipa::path(get, path = "/healthz", responses((status = 200, body = Health), (status = 503, body = ErrorBody)), tag = "hall")]
pub async fn health(State(st): State<AppState>) -> Result<Json<Health>> {
    if let Some(failure) = st.write_health.failure() {
        return Err(Error::Unavailable(format!(
            "the hall database cannot save changes ({failure}); check the disk (full? read-only? failing?) \
             and the server log"
        )));
    }
    let now = st.clock.read();
    let last_event_id = st
        .reads
        .run(|conn| Ok(queries::last_event(conn)?.map_or(0, |(id, _)| id)))
        .await?;
    Ok(Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        business_day: st.hall.now().hall.business_day(now.at),
        clock_trusted: now.trusted,
        last_event_id,
    }))
}

/// Services with waiting counts and estimates, counters with their state
/// and current ticket, and the last calls. Every role.
#[utoipa::path(get, path = "/api/v1/hall", responses((status = 200, body = HallSnapshot), (status = 401, body = ErrorBody)),
    security(("bearer" = [])), tag = "hall")]
pub async fn snapshot(State(st): State<AppState>, _caller: Caller) -> Result<Json<HallSnapshot>> {
    let now = st.clock.read();
    let hall = st.hall.now();
    let snapshot = st
        .reads
        .run(move |conn| {
            // One read transaction, so the parts agree with each other and
            // with last_event_id.
            let tx = conn.unchecked_transaction()?;
            let last_event_id = queries::last_event(&tx)?.map_or(0, |(id, _)| id);
            let services = queries::service_views(&tx, &hall, now.at)?;
            let rows = queries::counter_rows(&tx)?;
            let counters = hall
                .counters
                .iter()
                .filter_map(|k| rows.get(&k.number))
                .map(|row| queries::counter_view(&tx, &hall, row, now.at))
                .collect::<Result<Vec<_>>>()?;
            let last_calls = queries::last_calls(&tx, hall.hall.last_calls)?;
            Ok(HallSnapshot {
                hall: HallInfo {
                    name: hall.hall.name.clone(),
                    timezone: hall.hall.timezone_name.clone(),
                    business_day: hall.hall.business_day(now.at),
                    clock_trusted: now.trusted,
                    public_url: hall.hall.public_url.clone(),
                    pause_reasons: hall.hall.pause_reasons.clone(),
                    service_level_target: hall.hall.service_level_target,
                    priority_reasons: hall.hall.priority_reasons.clone(),
                    remote_tickets: hall.remote.is_some(),
                },
                services,
                counters,
                last_calls,
                last_event_id,
                notice: crate::store::managers::notice(&tx)?,
                closures: queries::closure_views(&tx, queries::ms(now.at))?,
            })
        })
        .await?;
    Ok(Json(snapshot))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct DayQuery {
    /// The business day, `YYYY-MM-DD`; today when absent.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub date: Option<String>,
}

/// The manager's metrics for one business day, per service, per counter and per hour.
#[utoipa::path(get, path = "/api/v1/stats/day", params(DayQuery),
    responses((status = 200, body = DayStats), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "stats")]
pub async fn day_stats(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<DayQuery>,
) -> Result<Json<DayStats>> {
    caller.require(&[Role::Manager], "read statistics")?;
    let now = st.clock.read();
    let date = day_or_today(&st, q.date.as_deref())?;
    let hall = st.hall.now();
    let stats = st
        .reads
        .run(move |conn| {
            let h = &hall.hall;
            let (from, next) = h.day_window(date).map_err(Error::BadRequest)?;
            let to = next.min(now.at).max(from);
            let tx = conn.unchecked_transaction()?;
            let facts = reader::day_facts(&tx, &hall, date, from, to)?;
            let mut stats = compute_day_stats(&facts.input(&hall, date, (from, to)));
            stats.unresumed_holds = facts.held;
            Ok(stats)
        })
        .await?;
    Ok(Json(stats))
}

/// The hall's TLS: the CA's fingerprint to compare with what a device or
/// browser shows, the certificate's expiry and last renewal (manager).
#[utoipa::path(get, path = "/api/v1/tls",
    responses((status = 200, body = crate::tls::TlsStatus), (status = 403, body = ErrorBody),
              (status = 404, description = "TLS is not configured", body = ErrorBody)),
    security(("bearer" = [])), tag = "hall")]
pub async fn tls_status(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<crate::tls::TlsStatus>> {
    caller.require(&[Role::Manager], "read the TLS status")?;
    st.tls
        .as_ref()
        .map(|t| Json(t.status()))
        .ok_or_else(|| Error::NotFound("TLS is not configured: add a [tls] section".into()))
}

/// The business day a query names (`YYYY-MM-DD`), or today's.
pub fn day_or_today(st: &AppState, raw: Option<&str>) -> Result<Date> {
    match raw {
        None => Ok(st.hall.now().hall.business_day(st.clock.read().at)),
        Some(raw) => raw.parse::<Date>().map_err(|_| {
            Error::BadRequest(format!(
                "date \"{raw}\" is not a date; write it as YYYY-MM-DD"
            ))
        }),
    }
}

/// Prometheus text format: writer batches, event streams, waiting tickets.
/// No token: it carries counts only.
pub async fn metrics(State(st): State<AppState>) -> Result<String> {
    let trusted = st.clock.read().trusted;
    let hall = st.hall.now();
    let (waiting, last) = st
        .reads
        .run(move |conn| {
            let counts = queries::waiting_counts(conn)?;
            let waiting: Vec<(String, u32)> = hall
                .services
                .iter()
                .map(|s| (s.id.clone(), counts.get(&s.id).copied().unwrap_or(0)))
                .collect();
            Ok((waiting, queries::last_event(conn)?.map_or(0, |(id, _)| id)))
        })
        .await?;
    let mut text = st.metrics.render(&waiting, last, trusted);
    let (faulty, silent) = st.devices.count_faults();
    let _ = write!(
        text,
        "# HELP queue_devices_faulty Devices (kiosks, boards) reporting a fault.\n\
         # TYPE queue_devices_faulty gauge\nqueue_devices_faulty {faulty}\n\
         # HELP queue_devices_silent Devices that missed three heartbeats.\n\
         # TYPE queue_devices_silent gauge\nqueue_devices_silent {silent}\n"
    );
    if let Some(s) = crate::api::billing::shipping_status(&st).await? {
        let _ = write!(
            text,
            "# HELP queue_head_office_connected 1 while connected to head office's NATS.\n\
             # TYPE queue_head_office_connected gauge\nqueue_head_office_connected {}\n\
             # HELP queue_head_office_shipped_event_id The newest event head office acknowledged.\n\
             # TYPE queue_head_office_shipped_event_id counter\nqueue_head_office_shipped_event_id {}\n\
             # HELP queue_head_office_backlog Events not yet acknowledged by head office.\n\
             # TYPE queue_head_office_backlog gauge\nqueue_head_office_backlog {}\n",
            u8::from(s.connected),
            s.shipped_through,
            s.backlog
        );
    }
    Ok(text)
}
