//! What the printer says about itself: DLE EOT 1 (online?), 2 (why
//! offline: cover, paper end, error) and 4 (roll paper sensors), decoded
//! with escpos's `RealTimeStatusResponse`.

use std::io;

use escpos::utils::{RealTimeStatusRequest, RealTimeStatusResponse as R};
use hall_api::PrinterState;

use super::link::Link;

/// Asks the printer; `PrinterState::NotAnswering` when it stays silent or
/// answers something that is not a status byte.
pub fn ask(link: &mut Link) -> io::Result<PrinterState> {
    let Some(printer) = query(link, RealTimeStatusRequest::Printer)? else {
        return Ok(PrinterState::NotAnswering);
    };
    let Some(offline) = query(link, RealTimeStatusRequest::OfflineCause)? else {
        return Ok(PrinterState::NotAnswering);
    };
    let Some(paper) = query(link, RealTimeStatusRequest::RollPaperSensor)? else {
        return Ok(PrinterState::NotAnswering);
    };
    Ok(judge(
        printer.get(&R::Online).copied().unwrap_or(false),
        &offline,
        &paper,
    ))
}

type Flags = std::collections::HashMap<R, bool>;

fn query(link: &mut Link, request: RealTimeStatusRequest) -> io::Result<Option<Flags>> {
    let (n, _) = request.into();
    Ok(link.ask(n)?.and_then(|byte| R::parse(request, byte).ok()))
}

/// The order matters: a printer with its cover open also reports paper
/// "missing" on some models, and the cover is what staff must fix first.
fn judge(online: bool, offline: &Flags, paper: &Flags) -> PrinterState {
    let flag = |f: &Flags, k: R| f.get(&k).copied().unwrap_or(false);
    if !flag(offline, R::CoverClosed) {
        PrinterState::CoverOpen
    } else if flag(offline, R::PrintingStopsDueToPaperEnd)
        || !flag(paper, R::RollPaperEndSensorPaperPresent)
    {
        PrinterState::PaperOut
    } else if flag(offline, R::ErrorOccurred) || !online {
        PrinterState::Error
    } else if !flag(paper, R::RollPaperNearEndSensorPaperAdequate) {
        PrinterState::PaperNearEnd
    } else {
        PrinterState::Ready
    }
}

/// Status bytes a printer sends, for tests and the printer simulator:
/// the fixed bits 0xx1xx10 plus the flags of each state.
pub mod bytes {
    /// DLE EOT 1: online.
    pub const ONLINE: u8 = 0b0001_0010;
    /// DLE EOT 1: offline (bit 3).
    pub const OFFLINE: u8 = 0b0001_1010;
    /// DLE EOT 2: nothing wrong.
    pub const NO_OFFLINE_CAUSE: u8 = 0b0001_0010;
    /// DLE EOT 2: cover open (bit 2).
    pub const COVER_OPEN: u8 = 0b0001_0110;
    /// DLE EOT 2: stopped at paper end (bit 5).
    pub const STOPPED_AT_PAPER_END: u8 = 0b0011_0010;
    /// DLE EOT 4: paper adequate.
    pub const PAPER_OK: u8 = 0b0001_0010;
    /// DLE EOT 4: near end (bits 2 and 3).
    pub const PAPER_NEAR_END: u8 = 0b0001_1110;
    /// DLE EOT 4: no paper (bits 5 and 6).
    pub const PAPER_OUT: u8 = 0b0111_0010;
}

#[cfg(test)]
mod tests {
    use super::bytes::*;
    use super::*;

    fn state(printer: u8, offline: u8, paper: u8) -> PrinterState {
        let p = R::parse(RealTimeStatusRequest::Printer, printer).unwrap();
        let o = R::parse(RealTimeStatusRequest::OfflineCause, offline).unwrap();
        let r = R::parse(RealTimeStatusRequest::RollPaperSensor, paper).unwrap();
        judge(p[&R::Online], &o, &r)
    }

    #[test]
    fn status_bytes_mean_what_the_reference_says() {
        assert_eq!(
            state(ONLINE, NO_OFFLINE_CAUSE, PAPER_OK),
            PrinterState::Ready
        );
        assert_eq!(
            state(ONLINE, NO_OFFLINE_CAUSE, PAPER_NEAR_END),
            PrinterState::PaperNearEnd
        );
        assert_eq!(
            state(OFFLINE, STOPPED_AT_PAPER_END, PAPER_OUT),
            PrinterState::PaperOut
        );
        assert_eq!(
            state(OFFLINE, COVER_OPEN, PAPER_OK),
            PrinterState::CoverOpen
        );
        assert_eq!(
            state(OFFLINE, NO_OFFLINE_CAUSE, PAPER_OK),
            PrinterState::Error
        );
    }
}
