//! The ticket workflow, off the UI thread: ask the printer, issue the
//! ticket (retrying with the same idempotency key), print it, cancel it
//! when it did not print, and tell the server how the printer is. Also the
//! two watchers that keep the kiosk's view of the hall and the printer
//! fresh, and one that prints the tickets the floor guide sends. Each
//! reports to the UI thread as a [`Msg`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use hall_api::client::{ClientError, HallClient};
use hall_api::{
    AccountInfo, DeviceHealth, HallSnapshot, Heartbeat, IssueTicket, Lang, PrintDone, PrintJob,
    PrinterState, ServiceView, Ticket,
};
use tokio::sync::mpsc;

use crate::config::KioskConfig;
use crate::printer::receipt::Receipt;
use crate::printer::{PrintError, Printer};
use crate::{Fault, KeypadError};

/// Each request to the server may take this long before it is retried.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(3);
/// Attempts at issuing one ticket (all with the same idempotency key).
const ISSUE_ATTEMPTS: u32 = 3;

/// What background work reports to the UI thread.
#[derive(Debug)]
pub enum Msg {
    Hall(Result<Box<HallSnapshot>, String>),
    Printer(PrinterState),
    /// A ticket attempt ended (the printer's state came before, as `Printer`).
    Done(Result<Box<Made>, Fault>),
    /// A check-in at the keypad ended.
    CheckedIn(Result<Box<Made>, CheckInRefused>),
}

/// Why a check-in did not give a ticket: the code (the customer types
/// again), or the kiosk itself (the out-of-order screen says what).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CheckInRefused {
    Code(KeypadError),
    Kiosk(Fault),
}

/// Everything the background work shares.
pub struct Backend {
    pub client: HallClient,
    pub printer: Mutex<Printer>,
    pub config: KioskConfig,
    pub to_ui: mpsc::UnboundedSender<Msg>,
}

pub fn service_by_id<'a>(hall: Option<&'a HallSnapshot>, id: &str) -> Option<&'a ServiceView> {
    hall?.services.iter().find(|v| v.id == id)
}

pub fn printer_fault(p: PrinterState) -> Fault {
    match p {
        PrinterState::Ready | PrinterState::PaperNearEnd | PrinterState::Unknown => Fault::None,
        PrinterState::PaperOut => Fault::PaperOut,
        PrinterState::CoverOpen => Fault::CoverOpen,
        PrinterState::NotAnswering => Fault::PrinterNotAnswering,
        PrinterState::Error => Fault::PrinterError,
    }
}

/// A fresh idempotency key for one customer's ticket.
fn new_key() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the system's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A ticket made, and what the billing system said of the customer's
/// account (none when no account was given or it did not answer in time).
#[derive(Debug)]
pub struct Made {
    pub ticket: Ticket,
    pub account: Option<AccountInfo>,
}

/// How long the ticket screen waits for the billing system's word on the
/// account: the ticket is issued and printed meanwhile, and without it.
const ACCOUNT_WAIT: Duration = Duration::from_millis(800);

/// The billing system's word on `account`, if it comes in time.
async fn look_up(client: &HallClient, account: Option<&str>) -> Option<AccountInfo> {
    let account = account?;
    match tokio::time::timeout(ACCOUNT_WAIT, client.account(account)).await {
        Ok(Ok(info)) => Some(info),
        Ok(Err(e)) => {
            tracing::info!(error = %e, "no account details; the ticket goes on without them");
            None
        }
        Err(_) => {
            tracing::info!("the account lookup took too long; the ticket goes on without it");
            None
        }
    }
}

/// Printer first, then the server, then the paper. Whatever fails, the
/// customer is told, and a ticket that did not print does not stay in the queue.
pub async fn make_ticket(
    backend: &Arc<Backend>,
    hall: Option<HallSnapshot>,
    service: String,
    account: Option<String>,
    lang: Lang,
) -> Result<Box<Made>, Fault> {
    let state = printer_status(backend).await;
    if !state.can_print() {
        report(backend, state).await;
        return Err(printer_fault(state));
    }

    let mut request = IssueTicket::new(service, new_key());
    request.customer_ref = account;
    request.lang = Some(lang);
    // The account's details are asked beside the issue, not before it.
    let (ticket, account) = tokio::join!(
        issue_with_retries(&backend.client, &request),
        look_up(&backend.client, request.customer_ref.as_deref())
    );
    let ticket = ticket?;
    tracing::debug!(ticket = %ticket.number, "issued; printing");
    match print(backend, &ticket, hall.as_ref(), lang).await {
        Ok(after) => {
            tracing::debug!(ticket = %ticket.number, ?after, "printed");
            report(backend, after).await;
            Ok(Box::new(Made { ticket, account }))
        }
        Err(e) => {
            tracing::error!(ticket = %ticket.number, error = %e, "ticket not printed; cancelling it");
            cancel_until_done(backend.clone(), ticket.id, ticket.number.clone());
            let (state, fault) = match e {
                // Nothing reached the paper: say what is wrong with the printer.
                PrintError::NotReady(s) => (s, printer_fault(s)),
                PrintError::Failed { state, .. } => (state, Fault::NotPrinted),
            };
            report(backend, state).await;
            Err(if fault == Fault::None {
                Fault::NotPrinted
            } else {
                fault
            })
        }
    }
}

/// Prints `ticket`'s receipt on the kiosk's printer.
async fn print(
    backend: &Arc<Backend>,
    ticket: &Ticket,
    hall: Option<&HallSnapshot>,
    lang: Lang,
) -> Result<PrinterState, PrintError> {
    let receipt = receipt_for(backend, ticket, hall, lang);
    let b = backend.clone();
    tokio::task::spawn_blocking(move || {
        b.printer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .print(&receipt)
    })
    .await
    .unwrap_or_else(|e| {
        Err(PrintError::Failed {
            state: PrinterState::Error,
            detail: format!("the print job crashed: {e}"),
        })
    })
}

/// Checks in a number taken on a phone by its six digits and prints its
/// ticket. A ticket that does not print stays checked in: the customer
/// has the number on the phone, and the screen shows it.
pub async fn check_in(
    backend: &Arc<Backend>,
    hall: Option<HallSnapshot>,
    code: String,
    lang: Lang,
) -> Result<Box<Made>, CheckInRefused> {
    let state = printer_status(backend).await;
    if !state.can_print() {
        report(backend, state).await;
        return Err(CheckInRefused::Kiosk(printer_fault(state)));
    }
    let ticket = match backend.client.check_in(&code).await {
        Ok(t) => t,
        Err(ClientError::Api { status: 404, .. } | ClientError::Api { status: 400, .. }) => {
            return Err(CheckInRefused::Code(KeypadError::UnknownCode));
        }
        Err(ClientError::Api {
            status: 409, code, ..
        }) => {
            return Err(CheckInRefused::Code(if code == "too_early" {
                KeypadError::TooEarly
            } else {
                KeypadError::NoLongerValid
            }));
        }
        Err(e) => {
            tracing::warn!(error = %e, "check-in failed");
            return Err(CheckInRefused::Kiosk(Fault::ServerUnreachable));
        }
    };
    match print(backend, &ticket, hall.as_ref(), lang).await {
        Ok(after) => report(backend, after).await,
        Err(e) => {
            tracing::error!(ticket = %ticket.number, error = %e, "checked-in ticket not printed");
            let state = match e {
                PrintError::NotReady(s) | PrintError::Failed { state: s, .. } => s,
            };
            report(backend, state).await;
        }
    }
    Ok(Box::new(Made {
        ticket,
        account: None,
    }))
}

async fn issue_with_retries(client: &HallClient, request: &IssueTicket) -> Result<Ticket, Fault> {
    let mut last = None;
    for attempt in 1..=ISSUE_ATTEMPTS {
        match client.issue_ticket(request).await {
            Ok((ticket, _)) => return Ok(ticket),
            // The server answered no (bad service, closed): retrying will not help.
            Err(
                e @ ClientError::Api {
                    status: 400..=499, ..
                },
            ) => {
                tracing::warn!(error = %e, "the server refused the ticket");
                return Err(Fault::ServerUnreachable);
            }
            Err(e) => {
                tracing::warn!(attempt, error = %e, "issuing failed; retrying with the same key");
                last = Some(e);
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    }
    tracing::error!(error = ?last, "could not issue a ticket");
    Err(Fault::ServerUnreachable)
}

/// Cancels a ticket that did not print, retrying in the background until the
/// server confirms: a ghost in the queue would be called and wait for nobody.
fn cancel_until_done(backend: Arc<Backend>, id: i64, number: String) {
    tokio::spawn(async move {
        let mut pause = Duration::from_millis(500);
        loop {
            match backend.client.cancel_ticket(id).await {
                Ok(_) => {
                    tracing::info!(ticket = %number, "unprinted ticket cancelled");
                    return;
                }
                // Already cancelled, or called meanwhile: nothing more to do here.
                Err(ClientError::Api {
                    status: 404 | 409, ..
                }) => return,
                Err(e) => {
                    tracing::warn!(ticket = %number, error = %e, "cancelling failed; will retry");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(30));
                }
            }
        }
    });
}

fn receipt_for(
    backend: &Backend,
    ticket: &Ticket,
    hall: Option<&HallSnapshot>,
    lang: Lang,
) -> Receipt {
    let service = service_by_id(hall, &ticket.service);
    let tz = hall
        .and_then(|h| jiff::tz::TimeZone::get(&h.hall.timezone).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let base = hall
        .and_then(|h| h.hall.public_url.clone())
        .unwrap_or_else(|| backend.client.base().to_string());
    Receipt {
        hall_name: hall
            .map(|h| h.hall.name.clone())
            .unwrap_or_else(|| hall_api::I18nText {
                zh: String::new(),
                en: String::new(),
            }),
        service_name: service
            .map(|v| v.name.clone())
            .unwrap_or_else(|| hall_api::I18nText {
                zh: ticket.service.clone(),
                en: ticket.service.clone(),
            }),
        number: ticket.number.clone(),
        ahead: ticket.ahead.unwrap_or(0),
        wait_min: ticket.estimated_wait_s.map(|s| s.div_ceil(60)),
        issued_at: ticket
            .issued_at
            .to_zoned(tz)
            .strftime("%Y-%m-%d %H:%M")
            .to_string(),
        tracking_url: Some(format!("{base}/t/{}", ticket.tracking_code)),
        lang,
        bring: service.and_then(|v| v.bring.clone()),
    }
}

async fn printer_status(backend: &Arc<Backend>) -> PrinterState {
    let b = backend.clone();
    tokio::task::spawn_blocking(move || {
        b.printer.lock().unwrap_or_else(|p| p.into_inner()).status()
    })
    .await
    .unwrap_or(PrinterState::Error)
}

/// How often the kiosk asks for tickets the floor guide sent it.
const PRINT_JOBS_EVERY: Duration = Duration::from_secs(2);

/// Prints the tickets the floor guide sends to this kiosk, and tells the
/// server what the printer did with each (so the guide sees "out of
/// paper" at once and can choose another kiosk).
pub async fn watch_print_jobs(backend: Arc<Backend>) {
    loop {
        tokio::time::sleep(PRINT_JOBS_EVERY).await;
        if backend.to_ui.is_closed() {
            return;
        }
        let jobs = match backend.client.print_jobs().await {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::debug!(error = %e, "no print jobs fetched");
                continue;
            }
        };
        if jobs.is_empty() {
            continue;
        }
        let hall = backend.client.hall().await.ok();
        for job in jobs {
            let done = print_job(&backend, &job, hall.as_ref()).await;
            tracing::info!(job = job.id, ticket = %job.ticket.number, ?done, "print job for the floor guide");
            if let Err(e) = backend.client.print_job_done(job.id, &done).await {
                // Asked again at the next round; printing twice is better
                // than a customer without a ticket.
                tracing::warn!(job = job.id, error = %e, "print job not reported; will retry");
            }
        }
    }
}

async fn print_job(
    backend: &Arc<Backend>,
    job: &PrintJob,
    hall: Option<&HallSnapshot>,
) -> PrintDone {
    let state = printer_status(backend).await;
    if !state.can_print() {
        report(backend, state).await;
        return PrintDone {
            printed: false,
            problem: printer_problem(state).map(str::to_string),
        };
    }
    let lang = job.ticket.lang.unwrap_or(backend.config.screen.language);
    match print(backend, &job.ticket, hall, lang).await {
        Ok(after) => {
            report(backend, after).await;
            PrintDone {
                printed: true,
                problem: None,
            }
        }
        Err(e) => {
            let state = match &e {
                PrintError::NotReady(s) | PrintError::Failed { state: s, .. } => *s,
            };
            report(backend, state).await;
            PrintDone {
                printed: false,
                problem: Some(printer_problem(state).map_or_else(|| e.to_string(), str::to_string)),
            }
        }
    }
}

/// What staff should do about the printer, in words; `None` when it is fine.
fn printer_problem(printer: PrinterState) -> Option<&'static str> {
    match printer {
        PrinterState::Ready | PrinterState::Unknown => None,
        PrinterState::PaperNearEnd => Some("printer paper nearly used up: have a new roll ready"),
        PrinterState::PaperOut => Some("printer out of paper: load a new roll"),
        PrinterState::CoverOpen => Some("printer cover open: close it firmly"),
        PrinterState::NotAnswering => Some("printer does not answer: check its power and cable"),
        PrinterState::Error => {
            Some("printer reports an error: open and close the cover, clear any jam")
        }
    }
}

/// Tells the UI and the server how the printer is.
async fn report(backend: &Arc<Backend>, printer: PrinterState) {
    let _ = backend.to_ui.send(Msg::Printer(printer));
    let health = match printer {
        PrinterState::Ready | PrinterState::Unknown => DeviceHealth::Ok,
        PrinterState::PaperNearEnd => DeviceHealth::Warning,
        _ => DeviceHealth::Fault,
    };
    let message = printer_problem(printer);
    let beat = Heartbeat {
        health,
        printer: Some(printer),
        message: message.map(str::to_string),
        interval_s: backend.config.timing.heartbeat_s,
        version: Some(env!("CARGO_PKG_VERSION").into()),
    };
    if let Err(e) = backend.client.heartbeat(&beat).await {
        tracing::debug!(error = %e, "heartbeat not delivered");
    }
}

/// Looks at the hall every few seconds: waiting counts, estimates, and
/// whether the server answers at all.
pub async fn watch_hall(backend: Arc<Backend>) {
    let every = KioskConfig::secs(backend.config.timing.refresh_s);
    loop {
        let hall = backend
            .client
            .hall()
            .await
            .map(Box::new)
            .map_err(|e| e.to_string());
        if backend.to_ui.send(Msg::Hall(hall)).is_err() {
            return;
        }
        tokio::time::sleep(every).await;
    }
}

/// Asks the printer while nobody is using the kiosk, so a fault shows before
/// a customer tries, and tells the server (the heartbeat).
pub async fn watch_printer(backend: Arc<Backend>) {
    let every = KioskConfig::secs(backend.config.timing.heartbeat_s);
    loop {
        let state = printer_status(&backend).await;
        report(&backend, state).await;
        if backend.to_ui.is_closed() {
            return;
        }
        tokio::time::sleep(every).await;
    }
}
