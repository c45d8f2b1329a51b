//! The board's figures, with the queue-server (release build) on 127.0.0.1:
//!
//! 1. call to pixels: from the counter's call-next request to the board's
//!    next rendered frame showing the number (software renderer, headless);
//! 2. call to sound: from the same request to the announcement's samples
//!    reaching the output (a collecting output: no sound card here);
//! 3. memory: this process's resident set.
//!
//! Run: `cargo build --release -p queue-server && cargo bench -p display-board`
//! (CALLS=n sets how many calls; 100 by default).

use std::sync::Arc;
use std::time::{Duration, Instant};

use display_board::BoardWindow;
use display_board::clips::Clips;
use display_board::live::Board;
use display_board::voice::Announcer;
use hall_api::{CounterAction, CounterActionBody, IssueTicket, Lang};
use hall_testkit::demo;
use hall_testkit::measure::{peak_rss_kib, report_ms, rss_kib};
use hall_testkit::screen::{init_slint, pump_until};
use slint::{ComponentHandle, Model};

fn main() {
    let calls: usize = std::env::var("CALLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    hall_api::logging::init();
    init_slint(true);
    let (runtime, server) = hall_testkit::demo_hall_on_a_runtime();
    let sounds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds");
    let clips = Arc::new(Clips::load(&sounds).unwrap());
    let announcer = Announcer::collecting(clips, vec![Lang::Zh, Lang::En]);
    let heard = announcer.collected().unwrap();
    let ui = BoardWindow::new().unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1920, 1080));
    ui.show().unwrap();
    let _board = Board::start(
        &ui,
        server.client(demo::DISPLAY),
        Some(announcer),
        Default::default(),
        runtime.handle(),
    );
    let up = ui.clone_strong();
    assert!(pump_until(Duration::from_secs(10), move || up.get_connected()));

    let kiosk = server.client(demo::KIOSK);
    let billing = server.client(demo::BILLING);
    let mut to_pixels = Vec::new();
    let mut to_sound = Vec::new();
    for i in 0..calls {
        let (ticket, _) = runtime
            .block_on(kiosk.issue_ticket(&IssueTicket::new("enquiry", format!("bench-{i}"))))
            .unwrap();
        let asked = Instant::now();
        runtime
            .block_on(billing.counter_action(
                2,
                CounterAction::CallNext,
                &CounterActionBody::default(),
            ))
            .unwrap();
        let shown = ui.clone_strong();
        let number = ticket.number.clone();
        assert!(pump_until(Duration::from_secs(10), move || {
            shown
                .get_calls()
                .row_data(0)
                .is_some_and(|c| c.number == number)
        }));
        ui.window().take_snapshot().unwrap();
        to_pixels.push(asked.elapsed().as_secs_f64() * 1000.0);
        let h = heard.clone();
        assert!(pump_until(Duration::from_secs(10), move || {
            !h.lock().unwrap().is_empty()
        }));
        to_sound.push(asked.elapsed().as_secs_f64() * 1000.0);
        // The collected sound would otherwise count as the board's memory.
        heard.lock().unwrap().clear();
    }
    report_ms("call-next request to the board's rendered frame", to_pixels);
    report_ms(
        "call-next request to the announcement at the output",
        to_sound,
    );
    let me = std::process::id();
    println!(
        "board process (with the testing backend): RSS {} KiB now, peak {} KiB",
        rss_kib(me),
        peak_rss_kib(me)
    );
}
