//! Device heartbeats: kiosks and boards report how they are (printer out of
//! paper, say), so staff and the manager see it without walking over.
//!
//! Kept in memory: after a server restart every device reports again within
//! one interval, and an old report is worth nothing then anyway.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use hall_api::{DeviceHealth, DeviceStatus, ErrorBody, Heartbeat};

use crate::api::auth::{Caller, role_name};
use crate::api::{ApiJson, AppState};
use crate::config::{DeviceConfig, Role};
use crate::error::{Error, Result};

/// Longest interval a device may announce: a day.
const MAX_INTERVAL_S: u32 = 86_400;
/// Heartbeats a device may miss before it counts as unreachable.
const MISSED_BEFORE_UNREACHABLE: u64 = 3;

/// The last heartbeat of each device, by device name.
#[derive(Debug, Default)]
pub struct DeviceBoard {
    last: Mutex<HashMap<String, (Heartbeat, Instant)>>,
    /// Woken when a device's health changes (head office is told at once).
    pub changed: tokio::sync::Notify,
    /// The addresses each device's token came from since the server started.
    addresses: Mutex<HashMap<String, std::collections::HashSet<std::net::IpAddr>>>,
}

impl DeviceBoard {
    /// Notes where a device's token was used; an address not seen before
    /// for it is a security event (a copied token shows up this way).
    pub fn note_address(&self, device: &str, ip: std::net::IpAddr) {
        let mut map = self.addresses.lock().unwrap_or_else(|p| p.into_inner());
        let seen = map.entry(device.to_string()).or_default();
        if seen.insert(ip) {
            tracing::info!(
                target: "security",
                event = "token_new_address",
                device,
                peer = %ip,
                addresses = seen.len(),
                "a device token was used from an address not seen before"
            );
        }
    }

    fn record(&self, device: &str, beat: Heartbeat) -> Option<DeviceHealth> {
        let mut map = self.last.lock().unwrap_or_else(|p| p.into_inner());
        map.insert(device.to_string(), (beat, Instant::now()))
            .map(|(old, _)| old.health)
    }

    fn status(&self, name: &str, role: Role) -> DeviceStatus {
        let map = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let last = map.get(name);
        let last_seen_s = last.map(|(_, at)| at.elapsed().as_secs());
        let reachable = last.is_some_and(|(beat, at)| {
            at.elapsed().as_secs() <= MISSED_BEFORE_UNREACHABLE * u64::from(beat.interval_s)
        });
        DeviceStatus {
            name: name.to_string(),
            role: role_name(role).to_string(),
            reachable,
            last_seen_s,
            last: last.map(|(beat, _)| beat.clone()),
        }
    }

    /// Every configured device with its last report.
    pub fn all(&self, devices: &[DeviceConfig]) -> Vec<DeviceStatus> {
        devices
            .iter()
            .map(|d| self.status(&d.name, d.role))
            .collect()
    }

    /// Devices reporting a fault now, and devices that stopped reporting.
    pub fn count_faults(&self) -> (usize, usize) {
        let map = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let faults = map
            .values()
            .filter(|(beat, _)| beat.health == DeviceHealth::Fault)
            .count();
        let silent = map
            .values()
            .filter(|(beat, at)| {
                at.elapsed().as_secs() > MISSED_BEFORE_UNREACHABLE * u64::from(beat.interval_s)
            })
            .count();
        (faults, silent)
    }
}

/// A device reports its state (any device token).
#[utoipa::path(post, path = "/api/v1/devices/heartbeat", request_body = Heartbeat,
    responses((status = 204, description = "recorded"), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = [])), tag = "devices")]
pub async fn heartbeat(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(beat): ApiJson<Heartbeat>,
) -> Result<StatusCode> {
    if beat.interval_s == 0 || beat.interval_s > MAX_INTERVAL_S {
        return Err(Error::BadRequest(format!(
            "interval_s {} is out of range; send the seconds until your next heartbeat, 1 to {MAX_INTERVAL_S}",
            beat.interval_s
        )));
    }
    if beat
        .message
        .as_ref()
        .is_some_and(|m| m.chars().count() > 500)
    {
        return Err(Error::BadRequest(
            "message is longer than 500 characters; say it in one sentence".into(),
        ));
    }
    let health = beat.health;
    let message = beat.message.clone().unwrap_or_default();
    let before = st.devices.record(&caller.name, beat);
    if before != Some(health) {
        st.devices.changed.notify_one();
        match health {
            DeviceHealth::Ok => tracing::info!(device = %caller.name, "device reports ok"),
            DeviceHealth::Warning => {
                tracing::warn!(device = %caller.name, %message, "device reports a warning")
            }
            DeviceHealth::Fault => {
                tracing::error!(device = %caller.name, %message, "device reports a fault")
            }
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Every configured device with its last report: for staff and the manager.
#[utoipa::path(get, path = "/api/v1/devices",
    responses((status = 200, body = Vec<DeviceStatus>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "devices")]
pub async fn list(State(st): State<AppState>, caller: Caller) -> Result<Json<Vec<DeviceStatus>>> {
    caller.require(
        &[Role::Counter, Role::Billing, Role::Manager, Role::Guide],
        "read device states",
    )?;
    Ok(Json(st.devices.all(&st.hall.now().devices)))
}
