//! The board live: the hall's snapshot, then its event stream, resumed with
//! Last-Event-ID after any break, driving the screen, the voice and the
//! counter LED displays.
//!
//! The UI thread owns [`Board`]; a task on a small tokio runtime keeps the
//! link and reports [`Msg`]s, handled in order on the UI thread.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use hall_api::client::HallClient;
use hall_api::{
    Call, CounterState, CounterView, Event, EventKind, HallSnapshot, Lang, TicketSummary,
};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};
use tokio::sync::mpsc;

use crate::led::{Charset, LedPort, encode, not_serving};
use crate::voice::Announcer;
use crate::{BoardWindow, CallRow, StoppedRow, WaitRow};

/// Calls kept: the newest, shown large, and eight before it.
const CALLS_SHOWN: usize = 9;
/// How long a new call stays highlighted.
const FRESH_FOR: Duration = Duration::from_secs(6);
/// Calls older than this when they reach the board (after a break) are
/// shown but not announced: nobody is waiting for a five-minute-old call.
pub const ANNOUNCE_WITHIN: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub enum Msg {
    Snapshot(Box<HallSnapshot>),
    Event(Box<Event>),
    Link(bool),
}

/// A counter's LED display: which port worker, which address on its bus,
/// what characters it shows.
pub struct CounterLed {
    pub port: Rc<LedPort>,
    pub address: u8,
    pub charset: Charset,
}

impl CounterLed {
    /// What the display shows for its counter: the sign while it does not
    /// serve, else the ticket it called or serves (blank when free).
    fn show(&self, counter: &CounterView) {
        let text = match counter.state {
            CounterState::Paused => not_serving(self.charset, false),
            CounterState::Closed => not_serving(self.charset, true),
            CounterState::Open => counter.current.as_ref().map_or("", |t| t.number.as_str()),
        };
        self.port.show(self.address, encode(text, self.charset));
    }
}

pub struct Board {
    ui: slint::Weak<BoardWindow>,
    announcer: Option<Announcer>,
    leds: HashMap<u32, CounterLed>,
    state: RefCell<State>,
    fresh: slint::Timer,
    clock: slint::Timer,
    /// The notice from board.toml, shown while the manager has set none.
    own_notice: slint::SharedString,
}

#[derive(Default)]
struct State {
    hall: Option<HallSnapshot>,
    calls: Vec<Call>,
}

impl State {
    /// The waiting counts an event carries, unless the snapshot is newer
    /// (after a break the stream replays events the snapshot already has).
    fn follow_queues(&mut self, ev: &Event) -> bool {
        let Some(hall) = self.hall.as_mut().filter(|h| ev.id > h.last_event_id) else {
            return false;
        };
        for w in &ev.waiting {
            if let Some(v) = hall.services.iter_mut().find(|v| v.id == w.service) {
                v.waiting = w.waiting;
            }
        }
        true
    }

    /// A counter event or a ticket event at a counter, onto the counter's
    /// state and current ticket (newer than the snapshot only). Answers the
    /// counter when it changed.
    fn follow_counter(&mut self, ev: &Event) -> Option<CounterView> {
        let hall = self.hall.as_mut().filter(|h| ev.id > h.last_event_id)?;
        let c = hall
            .counters
            .iter_mut()
            .find(|c| Some(c.number) == ev.counter)?;
        let ticket = || ev.ticket.clone();
        match ev.kind {
            EventKind::CounterOpened | EventKind::CounterResumed => c.state = CounterState::Open,
            EventKind::CounterPaused => c.state = CounterState::Paused,
            EventKind::CounterClosed => c.state = CounterState::Closed,
            EventKind::TicketCalled | EventKind::TicketRecalled | EventKind::TicketResumed => {
                c.current = ticket();
            }
            EventKind::TicketStarted => {}
            EventKind::TicketCompleted
            | EventKind::TicketNoShow
            | EventKind::TicketTransferred
            | EventKind::TicketCancelled
            | EventKind::TicketHeld => {
                let id = ev.ticket.as_ref().map(|t: &TicketSummary| t.id);
                if c.current.as_ref().map(|t| t.id) == id {
                    c.current = None;
                }
            }
            _ => return None,
        }
        Some(c.clone())
    }
}

impl Board {
    /// Starts the link on `runtime` and wires it to the window.
    pub fn start(
        ui: &BoardWindow,
        client: HallClient,
        announcer: Option<Announcer>,
        leds: HashMap<u32, CounterLed>,
        runtime: &tokio::runtime::Handle,
    ) -> Rc<Board> {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let board = Rc::new(Board {
            ui: ui.as_weak(),
            announcer,
            leds,
            state: RefCell::default(),
            fresh: slint::Timer::default(),
            clock: slint::Timer::default(),
            own_notice: ui.get_notice(),
        });
        ui.set_connected(false);
        let weak = Rc::downgrade(&board);
        slint::spawn_local(async move {
            while let Some(msg) = rx.recv().await {
                match weak.upgrade() {
                    Some(b) => b.handle(msg),
                    None => break,
                }
            }
        })
        .expect("the Slint event loop is available");
        let weak = Rc::downgrade(&board);
        board.clock.start(
            slint::TimerMode::Repeated,
            Duration::from_secs(1),
            move || {
                if let Some(b) = weak.upgrade() {
                    b.tick();
                }
            },
        );
        runtime.spawn(keep_link(client, tx));
        board
    }

    fn ui(&self) -> BoardWindow {
        self.ui
            .upgrade()
            .expect("the board's window outlives the board")
    }

    fn handle(&self, msg: Msg) {
        match msg {
            Msg::Link(up) => self.ui().set_connected(up),
            Msg::Snapshot(hall) => {
                let mut s = self.state.borrow_mut();
                // The snapshot's calls are the truth (after a restore, say);
                // the stream adds to them from here.
                s.calls = hall.last_calls.iter().take(CALLS_SHOWN).cloned().collect();
                // Every display shows its counter as the snapshot has it.
                for c in &hall.counters {
                    if let Some(led) = self.leds.get(&c.number) {
                        led.show(c);
                    }
                }
                s.hall = Some(*hall);
                drop(s);
                self.show_notice();
                self.show();
                self.tick();
            }
            Msg::Event(ev) => self.apply(&ev),
        }
    }

    /// The manager's notice for the boards; else, while the manager has
    /// closed the whole hall, why and until when; else this board's own.
    fn show_notice(&self) {
        let text = {
            let s = self.state.borrow();
            let hall = s.hall.as_ref();
            let now = jiff::Timestamp::now();
            let closure = hall.and_then(|h| {
                h.closures
                    .iter()
                    .find(|c| c.services.is_none() && c.from <= now && now < c.until)
            });
            match (hall.and_then(|h| h.notice.as_ref()), closure) {
                (Some(n), _) => format!("{} · {}", n.zh, n.en).into(),
                (None, Some(c)) => {
                    let tz = hall
                        .and_then(|h| jiff::tz::TimeZone::get(&h.hall.timezone).ok())
                        .unwrap_or_else(jiff::tz::TimeZone::system);
                    let until = c.until.to_zoned(tz).strftime("%H:%M").to_string();
                    format!(
                        "暂停服务：{}，{until} 恢复 · Closed: {}, until {until}",
                        c.reason.zh, c.reason.en
                    )
                    .into()
                }
                (None, None) => self.own_notice.clone(),
            }
        };
        let ui = self.ui();
        if ui.get_notice() != text {
            ui.set_notice(text);
        }
    }

    fn apply(&self, ev: &Event) {
        if ev.kind == EventKind::NoticeChanged {
            if let Some(h) = self.state.borrow_mut().hall.as_mut() {
                h.notice = ev.notice.clone();
            }
            self.show_notice();
            return;
        }
        if ev.kind == EventKind::ClosuresChanged {
            if let Some(h) = self.state.borrow_mut().hall.as_mut() {
                h.closures = ev.closures.clone().unwrap_or_default();
            }
            self.show_notice();
            return;
        }
        if !ev.waiting.is_empty() {
            self.follow_queues(ev);
        }
        let changed = self.state.borrow_mut().follow_counter(ev);
        if let Some(c) = &changed {
            if let Some(led) = self.leds.get(&c.number) {
                led.show(c);
            }
            if matches!(
                ev.kind,
                EventKind::CounterOpened
                    | EventKind::CounterResumed
                    | EventKind::CounterPaused
                    | EventKind::CounterClosed
            ) {
                self.show();
            }
        }
        let (Some(ticket), Some(counter)) = (&ev.ticket, ev.counter) else {
            return;
        };
        match ev.kind {
            EventKind::TicketCalled | EventKind::TicketRecalled => {
                let call = Call {
                    event_id: ev.id,
                    number: ticket.number.clone(),
                    service: ticket.service.clone(),
                    counter,
                    at: ev.at,
                    recall: ev.kind == EventKind::TicketRecalled,
                };
                {
                    // A snapshot taken meanwhile may list it already.
                    let mut s = self.state.borrow_mut();
                    if !s.calls.iter().any(|c| c.event_id == ev.id) {
                        s.calls.insert(0, call);
                        s.calls.truncate(CALLS_SHOWN);
                    }
                }
                self.show();
                let ui = self.ui();
                ui.set_fresh(true);
                let weak = self.ui.clone();
                self.fresh
                    .start(slint::TimerMode::SingleShot, FRESH_FOR, move || {
                        if let Some(ui) = weak.upgrade() {
                            ui.set_fresh(false);
                        }
                    });
                let age = jiff::Timestamp::now().duration_since(ev.at);
                if let Some(announcer) = &self.announcer
                    && age.as_secs_f64() <= ANNOUNCE_WITHIN.as_secs_f64()
                    && let Err(e) = announcer.say(&ticket.number, counter)
                {
                    tracing::warn!(error = %e, "cannot announce {}", ticket.number);
                }
            }
            _ => {}
        }
    }

    /// The waiting counts the event carries, onto the screen: the board
    /// follows the queues from the stream, without asking for the hall.
    fn follow_queues(&self, ev: &Event) {
        let moved = self.state.borrow_mut().follow_queues(ev);
        if moved {
            self.show();
        }
    }

    /// Puts the calls and the hall on the screen.
    fn show(&self) {
        let s = self.state.borrow();
        let ui = self.ui();
        let counter_name = |n: u32, lang: Lang| {
            s.hall
                .as_ref()
                .and_then(|h| h.counters.iter().find(|c| c.number == n))
                .map_or_else(|| n.to_string(), |c| c.name.get(lang).to_string())
        };
        let rows: Vec<CallRow> = s
            .calls
            .iter()
            .map(|c| CallRow {
                number: c.number.as_str().into(),
                counter_zh: counter_name(c.counter, Lang::Zh).into(),
                counter_en: counter_name(c.counter, Lang::En).into(),
                recall: c.recall,
            })
            .collect();
        let history: Vec<CallRow> = rows.iter().skip(1).cloned().collect();
        ui.set_calls(ModelRc::new(VecModel::from(rows)));
        ui.set_history(ModelRc::new(VecModel::from(history)));
        if let Some(hall) = &s.hall {
            ui.set_hall_name(format!("{} · {}", hall.hall.name.zh, hall.hall.name.en).into());
            let waiting: Vec<WaitRow> = hall
                .services
                .iter()
                .map(|v| WaitRow {
                    service_zh: v.name.zh.as_str().into(),
                    service_en: v.name.en.as_str().into(),
                    waiting: v.waiting as i32,
                })
                .collect();
            ui.set_waiting(ModelRc::new(VecModel::from(waiting)));
            let stopped: Vec<StoppedRow> = hall
                .counters
                .iter()
                .filter(|c| c.state != CounterState::Open)
                .map(|c| StoppedRow {
                    counter_zh: c.name.zh.as_str().into(),
                    counter_en: c.name.en.as_str().into(),
                    closed: c.state == CounterState::Closed,
                })
                .collect();
            ui.set_stopped(ModelRc::new(VecModel::from(stopped)));
        }
    }

    /// The clock, in the hall's time zone.
    fn tick(&self) {
        let s = self.state.borrow();
        let tz = s
            .hall
            .as_ref()
            .and_then(|h| jiff::tz::TimeZone::get(&h.hall.timezone).ok())
            .unwrap_or_else(jiff::tz::TimeZone::system);
        let now = jiff::Timestamp::now().to_zoned(tz);
        let ui = self.ui();
        ui.set_clock(SharedString::from(now.strftime("%H:%M").to_string()));
        ui.set_date(SharedString::from(now.strftime("%Y-%m-%d").to_string()));
        drop(s);
        // A closure starts and ends by the clock, not by an event.
        self.show_notice();
    }
}

/// Keeps the board linked: a snapshot, then the stream from where the
/// board left off; after a break, the stream resumes with Last-Event-ID
/// (the server replays what was missed, waiting counts included, since
/// every event carries the counts it changed).
async fn keep_link(client: HallClient, to_ui: mpsc::UnboundedSender<Msg>) {
    let mut last_id: Option<i64> = None;
    let mut pause = Duration::from_millis(500);
    loop {
        // A snapshot at the start and after every break (the hall may have
        // been restored meanwhile); the stream then resumes where the board
        // left off, so no call is missed.
        match client.hall().await {
            Ok(hall) => {
                last_id.get_or_insert(hall.last_event_id);
                if to_ui.send(Msg::Snapshot(Box::new(hall))).is_err() {
                    return;
                }
            }
            Err(e) if last_id.is_none() => {
                tracing::warn!(error = %e, "the queue server does not answer; retrying");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(10));
                continue;
            }
            Err(e) => tracing::warn!(error = %e, "no snapshot after the break; the stream follows"),
        }
        match client.events(last_id).await {
            Ok(mut stream) => {
                pause = Duration::from_millis(500);
                let _ = to_ui.send(Msg::Link(true));
                loop {
                    match stream.next().await {
                        Some(Ok(ev)) => {
                            last_id = Some(ev.id);
                            let renamed = ev.kind == EventKind::ServiceChanged;
                            if to_ui.send(Msg::Event(Box::new(ev))).is_err() {
                                return;
                            }
                            // The names and papers come only with the hall.
                            if renamed {
                                match client.hall().await {
                                    Ok(hall) => {
                                        if to_ui.send(Msg::Snapshot(Box::new(hall))).is_err() {
                                            return;
                                        }
                                    }
                                    Err(e) => {
                                        tracing::warn!(error = %e, "a service changed but the hall does not answer; its next snapshot has it")
                                    }
                                }
                            }
                        }
                        Some(Err(e)) => {
                            tracing::warn!(error = %e, "the event stream broke; resuming");
                            break;
                        }
                        None => break,
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot open the event stream; retrying"),
        }
        let _ = to_ui.send(Msg::Link(false));
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(10));
    }
}
