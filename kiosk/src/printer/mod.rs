//! The ticket printer: ESC/POS over serial, USB, TCP or a file, asked for
//! its status before each ticket.

pub mod decode;
pub mod link;
pub mod raster;
pub mod receipt;
pub mod spec;
pub mod status;

use hall_api::PrinterState;

use link::Link;
use receipt::{Layout, Receipt};
use spec::PrinterSpec;

pub struct Printer {
    pub spec: PrinterSpec,
    pub layout: Layout,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PrintError {
    /// Nothing was sent: the printer said it cannot print.
    #[error("the printer cannot print now: {0:?}")]
    NotReady(PrinterState),
    /// Sending failed or the printer stopped during the ticket: the customer
    /// may hold a partial ticket or none.
    #[error("the ticket did not print ({state:?}): {detail}")]
    Failed { state: PrinterState, detail: String },
}

impl Printer {
    /// Asks the printer how it is (blocking, at most about 1.5 s).
    pub fn status(&self) -> PrinterState {
        match Link::open(&self.spec) {
            Ok(mut link) => self.ask(&mut link),
            Err(e) => {
                tracing::debug!(printer = %self.spec, error = %e, "cannot open the printer");
                PrinterState::NotAnswering
            }
        }
    }

    fn ask(&self, link: &mut Link) -> PrinterState {
        if !self.spec.ask_status {
            return PrinterState::Unknown;
        }
        status::ask(link).unwrap_or_else(|e| {
            tracing::debug!(printer = %self.spec, error = %e, "status request failed");
            PrinterState::NotAnswering
        })
    }

    /// Checks the printer, prints the ticket, and checks again: a printer
    /// that ran out of paper halfway has not printed it.
    pub fn print(&self, receipt: &Receipt) -> Result<PrinterState, PrintError> {
        let bytes = receipt::build(receipt, &self.layout).map_err(|e| PrintError::Failed {
            state: PrinterState::Error,
            detail: format!("could not lay out the ticket: {e}"),
        })?;
        self.send(&bytes)
    }

    /// Sends a ready job with the same checks before and after.
    pub fn send(&self, bytes: &[u8]) -> Result<PrinterState, PrintError> {
        let mut link =
            Link::open(&self.spec).map_err(|_| PrintError::NotReady(PrinterState::NotAnswering))?;
        let before = self.ask(&mut link);
        if !before.can_print() {
            return Err(PrintError::NotReady(before));
        }
        link.write_all(bytes).map_err(|e| PrintError::Failed {
            state: PrinterState::NotAnswering,
            detail: format!("sending to {} failed: {e}", self.spec),
        })?;
        let after = self.ask(&mut link);
        if !after.can_print() {
            return Err(PrintError::Failed {
                state: after,
                detail: format!("the printer reported {after:?} right after the ticket"),
            });
        }
        Ok(after)
    }
}
