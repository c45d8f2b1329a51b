//! The kiosk: a touch screen where a walk-in customer picks a service and
//! leaves with a printed ticket, knowing how many are ahead.
//!
//! - [`app`]: what each touch does and what the screens show (their state is
//!   the `KioskState` global of `ui/kiosk.slint`).
//! - [`workflow`]: the work behind a touch, off the UI thread: printer
//!   status, issuing with retries, printing, cancelling what did not print.
//! - [`printer`]: ESC/POS tickets over serial, USB, TCP or a file, with
//!   status checks, and a decoder that reads the bytes back.
//! - [`config`]: the kiosk.toml file.
//! - The screens themselves are `ui/kiosk.slint`, translated by the gettext
//!   catalogs in `ui/translations`.

pub mod app;
pub mod config;
pub mod printer;
pub mod workflow;

slint::include_modules!();

use std::sync::Arc;

use config::{ChineseMode, KioskConfig};
use printer::Printer;
use printer::raster::RasterFont;
use printer::receipt::{Chinese, Layout};
use printer::spec::PrinterSpec;

/// The printer as configured: where it is and how tickets look on it.
pub fn printer_from(config: &KioskConfig) -> anyhow::Result<Printer> {
    let spec = PrinterSpec::parse(&config.printer.device)?;
    let chinese = match config.printer.chinese {
        ChineseMode::Gb18030 => Chinese::Gb18030,
        ChineseMode::Raster => {
            Chinese::Raster(Arc::new(RasterFont::load(&config.printer.raster_font)?))
        }
    };
    Ok(Printer {
        spec,
        layout: Layout {
            paper: config.paper().ok_or_else(|| {
                anyhow::anyhow!(
                    "printer.paper_mm = {}: give 58 or 80",
                    config.printer.paper_mm
                )
            })?,
            chinese,
            wording: config.ticket.clone(),
        },
    })
}
