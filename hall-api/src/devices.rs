//! Devices (kiosks, boards): their heartbeats and what the manager sees of them.

use serde::{Deserialize, Serialize};
#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// What a printer reported when last asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PrinterState {
    /// Online with paper.
    Ready,
    /// Printing normally, but the roll is nearly used up: change it soon.
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    /// Asked for its status and did not answer in time (off, unplugged, wrong port or speed).
    NotAnswering,
    /// Answered with an error (cutter jam, overheated head…), or the port failed.
    Error,
    /// The transport cannot answer status requests (a file, or status checks turned off).
    Unknown,
}

impl PrinterState {
    /// Whether a ticket may be printed in this state.
    pub fn can_print(self) -> bool {
        matches!(self, Self::Ready | Self::PaperNearEnd | Self::Unknown)
    }
}

/// How a device is doing, as it reports itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeviceHealth {
    Ok,
    /// Working, but staff should look (paper near end).
    Warning,
    /// Out of order: customers cannot use it until staff act.
    Fault,
}

/// `POST /api/v1/devices/heartbeat`: a device (a kiosk, a board) tells the
/// server how it is, every `interval_s` seconds and at once when that changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct Heartbeat {
    pub health: DeviceHealth,
    /// The printer's state, for devices with one.
    #[serde(default)]
    pub printer: Option<PrinterState>,
    /// A sentence for staff, e.g. "printer out of paper: load a new roll".
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub message: Option<String>,
    /// Seconds until the next heartbeat; the server marks the device
    /// unreachable after three missed ones.
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 86400))]
    pub interval_s: u32,
    /// The device program's version.
    #[serde(default)]
    pub version: Option<String>,
}

/// `GET /api/v1/devices`: one configured device and what it last reported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct DeviceStatus {
    pub name: String,
    pub role: String,
    /// False when the device never reported or missed three heartbeats.
    pub reachable: bool,
    /// Seconds since the last heartbeat; absent when none arrived since the server started.
    pub last_seen_s: Option<u64>,
    /// The last report, absent when none arrived since the server started.
    pub last: Option<Heartbeat>,
}

impl DeviceStatus {
    /// What staff must know about the device, if anything. A device that
    /// reported and then missed three heartbeats is a fault; one that never
    /// reported is not a device that reports (a billing system, a phone).
    pub fn attention(&self) -> Option<(DeviceHealth, String)> {
        let last = self.last.as_ref()?;
        if !self.reachable {
            let s = self.last_seen_s.unwrap_or_default();
            let why = format!("not reporting for {} min", s.div_ceil(60).max(1));
            return Some((DeviceHealth::Fault, why));
        }
        if last.health == DeviceHealth::Ok {
            return None;
        }
        let why = last
            .message
            .clone()
            .or_else(|| last.printer.map(|p| format!("printer {p:?}")))
            .unwrap_or_else(|| format!("{:?}", last.health));
        Some((last.health, why))
    }
}
