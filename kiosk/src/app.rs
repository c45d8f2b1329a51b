//! The kiosk's screens wired to its behaviour: what each touch does and
//! what the screen shows. The screens read their state from the
//! `KioskState` global and call its callbacks; this module sets the one
//! and binds the other. The work behind a touch (printer, server) is in
//! [`crate::workflow`], off the UI thread.
//!
//! The UI thread owns [`Kiosk`]. Background work reports back as
//! [`Msg`]s, handled in order on the UI thread, so the screen state has
//! one owner and one place where it changes.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use hall_api::client::HallClient;
use hall_api::{HallSnapshot, Lang, PrinterState, ServiceView, Ticket, Unavailable};
use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};
use tokio::sync::mpsc;

use crate::config::KioskConfig;
use crate::printer::Printer;
use crate::workflow::{
    Backend, CheckInRefused, Msg, REQUEST_TIMEOUT, check_in, make_ticket, printer_fault,
    service_by_id, watch_hall, watch_print_jobs, watch_printer,
};
use crate::{
    Availability, Fault, KeypadError, KioskState, KioskWindow, Screen, ServiceTile, TicketInfo,
};

pub struct Kiosk {
    ui: slint::Weak<KioskWindow>,
    backend: Arc<Backend>,
    runtime: tokio::runtime::Handle,
    tiles: Rc<VecModel<ServiceTile>>,
    state: RefCell<State>,
    idle: slint::Timer,
    ticket_timer: slint::Timer,
}

struct State {
    lang: Lang,
    hall: Option<HallSnapshot>,
    server_ok: bool,
    printer: PrinterState,
    screen: Screen,
    /// The service whose account number is being asked.
    pending_service: Option<String>,
    /// The keypad is taking a phone number's check-in code.
    checking_in: bool,
    /// A ticket is being issued and printed: further touches wait.
    busy: bool,
    /// A fault message that stays up a while even if all is well again
    /// (the customer whose ticket was cancelled must read it).
    sticky_until: Option<Instant>,
    fault: Fault,
}

impl Kiosk {
    /// Wires the window to the kiosk's behaviour and starts the background
    /// work on `runtime`. Returns the kiosk; keep it alive as long as the window.
    pub fn start(
        ui: &KioskWindow,
        config: KioskConfig,
        printer: Printer,
        runtime: tokio::runtime::Handle,
    ) -> Rc<Kiosk> {
        let (to_ui, mut from_work) = mpsc::unbounded_channel();
        let client = HallClient::for_device(
            &config.server.url,
            &config.server.token,
            config.server.ca.as_deref(),
        )
        .expect("the server section was checked when the configuration was read")
        .with_timeout(REQUEST_TIMEOUT);
        let lang = config.screen.language;
        let backend = Arc::new(Backend {
            client,
            printer: Mutex::new(printer),
            config,
            to_ui,
        });
        let tiles = Rc::new(VecModel::default());
        ui.global::<KioskState>()
            .set_services(ModelRc::from(tiles.clone()));
        let kiosk = Rc::new(Kiosk {
            ui: ui.as_weak(),
            backend: backend.clone(),
            runtime: runtime.clone(),
            tiles,
            state: RefCell::new(State {
                lang,
                hall: None,
                server_ok: true,
                printer: PrinterState::Unknown,
                screen: Screen::Home,
                pending_service: None,
                checking_in: false,
                busy: false,
                sticky_until: None,
                fault: Fault::None,
            }),
            idle: slint::Timer::default(),
            ticket_timer: slint::Timer::default(),
        });
        kiosk.set_language(lang);
        kiosk.connect(ui);

        let handler = Rc::downgrade(&kiosk);
        slint::spawn_local(async move {
            while let Some(msg) = from_work.recv().await {
                match handler.upgrade() {
                    Some(k) => k.handle(msg),
                    None => break,
                }
            }
        })
        .expect("the Slint event loop is available");

        runtime.spawn(watch_hall(backend.clone()));
        runtime.spawn(watch_print_jobs(backend.clone()));
        runtime.spawn(watch_printer(backend));
        kiosk
    }

    fn connect(self: &Rc<Self>, ui: &KioskWindow) {
        let state = ui.global::<KioskState>();
        let k = Rc::downgrade(self);
        state.on_choose_service(move |id| {
            if let Some(k) = k.upgrade() {
                k.choose(&id)
            }
        });
        let k = Rc::downgrade(self);
        state.on_switch_language(move || {
            if let Some(k) = k.upgrade() {
                let next = k.state.borrow().lang.other();
                k.set_language(next);
            }
        });
        let k = Rc::downgrade(self);
        state.on_submit_account(move |digits| {
            if let Some(k) = k.upgrade() {
                k.account_done(Some(digits.to_string()))
            }
        });
        let k = Rc::downgrade(self);
        state.on_start_check_in(move || {
            if let Some(k) = k.upgrade() {
                k.start_check_in()
            }
        });
        let k = Rc::downgrade(self);
        state.on_typed(move |text| {
            if let Some(k) = k.upgrade() {
                k.typed(&text)
            }
        });
        let k = Rc::downgrade(self);
        state.on_skip_account(move || {
            if let Some(k) = k.upgrade() {
                k.account_done(None)
            }
        });
        let k = Rc::downgrade(self);
        state.on_back_home(move || {
            if let Some(k) = k.upgrade() {
                k.go_home()
            }
        });
        let weak = ui.as_weak();
        state.on_delete_digit(move || {
            if let Some(ui) = weak.upgrade() {
                let state = ui.global::<KioskState>();
                let mut digits = state.get_account_digits().to_string();
                digits.pop();
                state.set_account_digits(digits.into());
            }
        });
        let k = Rc::downgrade(self);
        state.on_activity(move || {
            if let Some(k) = k.upgrade() {
                k.touched()
            }
        });
    }

    fn ui(&self) -> KioskWindow {
        self.ui
            .upgrade()
            .expect("the kiosk window outlives the kiosk")
    }

    fn handle(&self, msg: Msg) {
        match msg {
            Msg::Hall(Ok(hall)) => {
                let mut s = self.state.borrow_mut();
                s.server_ok = true;
                let offered = hall.hall.remote_tickets;
                s.hall = Some(*hall);
                drop(s);
                self.ui()
                    .global::<KioskState>()
                    .set_check_in_offered(offered);
                self.refresh_tiles();
                self.ui()
                    .global::<KioskState>()
                    .set_hall_name(self.hall_name().into());
                self.settle();
            }
            Msg::Hall(Err(e)) => {
                let was_ok = std::mem::replace(&mut self.state.borrow_mut().server_ok, false);
                if was_ok {
                    tracing::warn!(error = %e, "the queue server does not answer");
                }
                self.settle();
            }
            Msg::Printer(p) => {
                self.state.borrow_mut().printer = p;
                self.settle();
            }
            Msg::Done(outcome) => {
                tracing::debug!(?outcome, "ticket attempt ended");
                self.state.borrow_mut().busy = false;
                match outcome {
                    Ok(made) => self.show_ticket(&made.ticket, made.account.as_ref()),
                    Err(fault) => self.show_fault(fault),
                }
            }
            Msg::CheckedIn(outcome) => {
                tracing::debug!(?outcome, "check-in ended");
                self.state.borrow_mut().busy = false;
                match outcome {
                    Ok(made) => {
                        self.state.borrow_mut().checking_in = false;
                        self.show_ticket(&made.ticket, None)
                    }
                    // A wrong code: the keypad again, saying so, digits kept.
                    Err(CheckInRefused::Code(why)) => {
                        self.ui().global::<KioskState>().set_keypad_error(why);
                        self.show(Screen::Account);
                        self.touched();
                    }
                    Err(CheckInRefused::Kiosk(fault)) => {
                        self.state.borrow_mut().checking_in = false;
                        self.show_fault(fault)
                    }
                }
            }
        }
    }

    /// The out-of-order screen with `fault`, kept up long enough to read.
    fn show_fault(&self, fault: Fault) {
        let mut s = self.state.borrow_mut();
        s.sticky_until =
            Some(Instant::now() + KioskConfig::secs(self.backend.config.screen.ticket_s));
        s.fault = fault;
        drop(s);
        self.show(Screen::OutOfOrder);
        // Come back to look again when the message may go.
        self.home_after(&self.ticket_timer, self.backend.config.screen.ticket_s);
    }

    /// What is wrong now, if anything, that stops the kiosk issuing tickets.
    fn fault_now(&self) -> Fault {
        let s = self.state.borrow();
        if !s.server_ok {
            Fault::ServerUnreachable
        } else {
            printer_fault(s.printer)
        }
    }

    /// Puts up the out-of-order screen when something broke, and takes it
    /// down when all is well, without interrupting a customer mid-way.
    fn settle(&self) {
        let fault = self.fault_now();
        let mut s = self.state.borrow_mut();
        if s.busy || matches!(s.screen, Screen::Account | Screen::Ticket) {
            return;
        }
        if s.sticky_until.is_some_and(|t| Instant::now() < t) {
            return;
        }
        s.sticky_until = None;
        s.fault = fault;
        drop(s);
        self.show(if fault == Fault::None {
            Screen::Home
        } else {
            Screen::OutOfOrder
        });
    }

    fn show(&self, screen: Screen) {
        let fault = {
            let mut s = self.state.borrow_mut();
            s.screen = screen;
            s.fault
        };
        let checking_in = self.state.borrow().checking_in;
        let ui = self.ui();
        let state = ui.global::<KioskState>();
        state.set_fault(fault);
        state.set_checking_in(checking_in);
        state.set_screen(screen);
        if screen == Screen::Home {
            state.set_account_digits(SharedString::new());
            state.set_keypad_error(KeypadError::None);
        }
    }

    fn choose(&self, id: &str) {
        let service = {
            let s = self.state.borrow();
            if s.busy || s.screen != Screen::Home {
                // A second tap of a double tap, or a tap during a change of screen.
                return;
            }
            match service_by_id(s.hall.as_ref(), id) {
                Some(v) if v.unavailable.is_none() => v.clone(),
                _ => return,
            }
        };
        if service.ask_account {
            self.state.borrow_mut().pending_service = Some(service.id.clone());
            let lang = self.state.borrow().lang;
            self.ui()
                .global::<KioskState>()
                .set_account_service_name(service.name.get(lang).into());
            self.show(Screen::Account);
        } else {
            self.issue(service.id, None);
        }
    }

    /// A key from a scanner that types like a keyboard: on the home screen
    /// a digit starts a check-in with it, on the keypad digits add up, and
    /// Enter is the keypad's OK.
    fn typed(&self, text: &str) {
        let screen = self.state.borrow().screen;
        let offered = self.ui().global::<KioskState>().get_check_in_offered();
        let digit = text.len() == 1 && text.chars().all(|c| c.is_ascii_digit());
        let enter = text == "\n" || text == "\r";
        if screen == Screen::Home && digit && offered {
            self.start_check_in();
        }
        if self.state.borrow().screen != Screen::Account {
            return;
        }
        self.touched();
        let ui = self.ui();
        let state = ui.global::<KioskState>();
        let mut digits = state.get_account_digits().to_string();
        let most = if self.state.borrow().checking_in {
            6
        } else {
            20
        };
        if digit && digits.len() < most {
            digits.push_str(text);
            state.set_account_digits(digits.into());
        } else if enter && !digits.is_empty() {
            self.account_done(Some(digits));
        }
    }

    /// The keypad, for the code of a number taken on a phone.
    fn start_check_in(&self) {
        {
            let mut s = self.state.borrow_mut();
            if s.busy || s.screen != Screen::Home {
                return;
            }
            s.checking_in = true;
            s.pending_service = None;
        }
        self.ui()
            .global::<KioskState>()
            .set_keypad_error(KeypadError::None);
        self.show(Screen::Account);
    }

    fn account_done(&self, digits: Option<String>) {
        if self.state.borrow().checking_in {
            if let Some(code) = digits.filter(|d| d.len() == 6) {
                self.check_in(code);
            }
            return;
        }
        let Some(service) = self.state.borrow_mut().pending_service.take() else {
            return;
        };
        if self.state.borrow().screen != Screen::Account {
            return;
        }
        self.issue(service, digits.filter(|d| !d.is_empty()));
    }

    fn issue(&self, service: String, account: Option<String>) {
        let (lang, hall) = {
            let mut s = self.state.borrow_mut();
            s.busy = true;
            (s.lang, s.hall.clone())
        };
        self.ticket_timer.stop();
        self.show(Screen::Working);
        let backend = self.backend.clone();
        self.runtime.spawn(async move {
            let outcome = make_ticket(&backend, hall, service, account, lang).await;
            let _ = backend.to_ui.send(Msg::Done(outcome));
        });
    }

    fn check_in(&self, code: String) {
        let (lang, hall) = {
            let mut s = self.state.borrow_mut();
            if s.busy || s.screen != Screen::Account {
                return;
            }
            s.busy = true;
            (s.lang, s.hall.clone())
        };
        self.ticket_timer.stop();
        self.ui()
            .global::<KioskState>()
            .set_keypad_error(KeypadError::None);
        self.show(Screen::Working);
        let backend = self.backend.clone();
        self.runtime.spawn(async move {
            let outcome = check_in(&backend, hall, code, lang).await;
            let _ = backend.to_ui.send(Msg::CheckedIn(outcome));
        });
    }

    fn show_ticket(&self, ticket: &Ticket, account: Option<&hall_api::AccountInfo>) {
        let lang = self.state.borrow().lang;
        let (service, bring) = {
            let s = self.state.borrow();
            let bring = service_by_id(s.hall.as_ref(), &ticket.service)
                .and_then(|v| v.bring.as_ref())
                .map(|b| b.get(lang).to_string())
                .unwrap_or_default();
            (service_name(s.hall.as_ref(), &ticket.service, lang), bring)
        };
        self.ui().global::<KioskState>().set_ticket(TicketInfo {
            number: ticket.number.as_str().into(),
            service: service.into(),
            ahead: ticket.ahead.unwrap_or(0) as i32,
            wait_min: minutes(ticket.estimated_wait_s),
            bring: bring.into(),
            account: account.map(arrears).unwrap_or_default().into(),
            checked_in: ticket
                .remote
                .as_ref()
                .is_some_and(|r| r.checked_in_at.is_some()),
        });
        self.show(Screen::Ticket);
        self.home_after(&self.ticket_timer, self.backend.config.screen.ticket_s);
        self.touched();
    }

    fn go_home(&self) {
        if self.state.borrow().busy {
            return;
        }
        self.ticket_timer.stop();
        self.idle.stop();
        // A new customer: back to the hall's language.
        self.set_language(self.backend.config.screen.language);
        let mut s = self.state.borrow_mut();
        s.pending_service = None;
        s.checking_in = false;
        if s.sticky_until.is_some_and(|t| Instant::now() < t) {
            return;
        }
        // The customer is gone: no screen of theirs to keep; `settle` picks
        // home or out of order.
        s.screen = Screen::Home;
        drop(s);
        self.settle();
    }

    /// Any touch: the idle timer starts again.
    fn touched(&self) {
        self.home_after(&self.idle, self.backend.config.screen.idle_s);
    }

    /// (Re)starts `timer` to go home after `secs` seconds.
    fn home_after(&self, timer: &slint::Timer, secs: u32) {
        let ui = self.ui.clone();
        timer.start(
            slint::TimerMode::SingleShot,
            KioskConfig::secs(secs),
            move || {
                if let Some(ui) = ui.upgrade() {
                    ui.global::<KioskState>().invoke_back_home();
                }
            },
        );
    }

    fn set_language(&self, lang: Lang) {
        self.state.borrow_mut().lang = lang;
        let catalog = match lang {
            Lang::Zh => "zh_CN",
            Lang::En => "en",
        };
        if let Err(e) = slint::select_bundled_translation(catalog) {
            tracing::error!(error = %e, "cannot switch the screens' language");
        }
        let ui = self.ui();
        let state = ui.global::<KioskState>();
        state.set_language(lang.as_str().into());
        state.set_hall_name(self.hall_name().into());
        self.refresh_tiles();
    }

    fn hall_name(&self) -> String {
        let s = self.state.borrow();
        s.hall
            .as_ref()
            .map(|h| h.hall.name.get(s.lang).to_string())
            .unwrap_or_default()
    }

    /// Rewrites only the tiles that changed, so a button is not rebuilt
    /// under a finger every few seconds.
    fn refresh_tiles(&self) {
        let s = self.state.borrow();
        let Some(hall) = &s.hall else { return };
        let tz = jiff::tz::TimeZone::get(&hall.hall.timezone).unwrap_or(jiff::tz::TimeZone::UTC);
        let today = jiff::Timestamp::now().to_zoned(tz.clone()).date();
        let tiles: Vec<ServiceTile> = hall
            .services
            .iter()
            .map(|v| tile(v, s.lang, &tz, today))
            .collect();
        if tiles.len() != self.tiles.row_count() {
            self.tiles.set_vec(tiles);
            return;
        }
        for (i, t) in tiles.into_iter().enumerate() {
            if self.tiles.row_data(i).as_ref() != Some(&t) {
                self.tiles.set_row_data(i, t);
            }
        }
    }
}

fn service_name(hall: Option<&HallSnapshot>, id: &str, lang: Lang) -> String {
    service_by_id(hall, id).map_or_else(|| id.to_string(), |v| v.name.get(lang).to_string())
}

/// Whole minutes, rounded up; -1 for "no estimate".
fn minutes(seconds: Option<u32>) -> i32 {
    seconds.map_or(-1, |s| s.div_ceil(60) as i32)
}

/// When a closed service opens, as the tile says it: "13:30" today, else
/// "5月6日 08:30" or "6 May 08:30".
fn opens_text(
    at: jiff::Timestamp,
    lang: Lang,
    tz: &jiff::tz::TimeZone,
    today: jiff::civil::Date,
) -> String {
    let z = at.to_zoned(tz.clone());
    let time = format!("{:02}:{:02}", z.hour(), z.minute());
    if z.date() == today {
        return time;
    }
    match lang {
        Lang::Zh => format!("{}月{}日 {time}", z.month(), z.day()),
        Lang::En => format!("{} {} {time}", z.day(), z.strftime("%b")),
    }
}

fn tile(
    v: &ServiceView,
    lang: Lang,
    tz: &jiff::tz::TimeZone,
    today: jiff::civil::Date,
) -> ServiceTile {
    ServiceTile {
        id: v.id.as_str().into(),
        name: v.name.get(lang).into(),
        waiting: v.waiting as i32,
        wait_min: minutes(v.estimated_wait_s),
        availability: match v.unavailable {
            None => Availability::Open,
            Some(Unavailable::OutsideHours) => Availability::OutsideHours,
            Some(Unavailable::NoCounterOpen) => Availability::NoCounterOpen,
            Some(Unavailable::ClosedToday) => Availability::ClosedToday,
            Some(Unavailable::Break) => Availability::OnBreak,
            Some(Unavailable::Holiday) => Availability::Holiday,
            Some(Unavailable::Closure) => Availability::Closure,
        },
        hours: v.hours.clone().unwrap_or_default().into(),
        ask_account: v.ask_account,
        opens: v
            .opens_at
            .map(|at| opens_text(at, lang, tz, today))
            .unwrap_or_default()
            .into(),
        closed_reason: v
            .closed_reason
            .as_ref()
            .map(|r| r.get(lang).to_string())
            .unwrap_or_default()
            .into(),
    }
}

/// What the billing system says a customer owes, in both languages at once
/// (staff read it over the customer's shoulder): "张*明 · 待缴 ¥128.50 · Amount due".
pub fn arrears(info: &hall_api::AccountInfo) -> String {
    if info.amount_due_minor <= 0 {
        return format!("{} · 无欠费 · Nothing due", info.name_masked);
    }
    let currency = if info.currency == "CNY" {
        "¥".to_string()
    } else {
        format!("{} ", info.currency)
    };
    format!(
        "{} · 待缴 {currency}{}.{:02} · Amount due",
        info.name_masked,
        info.amount_due_minor / 100,
        info.amount_due_minor % 100
    )
}
