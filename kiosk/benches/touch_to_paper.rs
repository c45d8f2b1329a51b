//! The kiosk's figures, with the queue-server (release build) on 127.0.0.1
//! and a simulated printer on a socat serial pair at 115200 baud:
//!
//! 1. first frame: process start to the first rendered 1080×1920 frame
//!    (software renderer, headless);
//! 2. touch to paper: a touch on a service to the last byte of its ticket at
//!    the printer (status asked before and after, the issue request, the
//!    ticket's ESC/POS bytes), over many tickets;
//! 3. memory: this process's resident set after all of it.
//!
//! Run: `cargo build --release -p queue-server && cargo bench -p kiosk`
//! (TICKETS=n sets how many tickets; 200 by default).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use hall_testkit::measure::{peak_rss_kib, report_ms, rss_kib};
use i_slint_backend_testing::ElementHandle;
use kiosk::{KioskState, KioskWindow, Screen};
use slint::{ComponentHandle, Model};
use support::KioskRig;

/// Seconds since this process was started, from /proc (10 ms resolution).
fn since_process_start() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Field 22 (after the command name in parentheses): start time in clock ticks.
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let start_ticks: f64 = after_name.split(' ').nth(19).unwrap().parse().unwrap();
    let ticks_per_s = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .unwrap()
        .split(' ')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    uptime - start_ticks / ticks_per_s
}

fn main() {
    // cargo bench passes --bench; nothing else is read from the command line.
    let tickets: usize = std::env::var("TICKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);

    hall_api::logging::init();
    hall_testkit::screen::init_slint(true);
    let ui = KioskWindow::new().unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1080, 1920));
    ui.show().unwrap();
    ui.window().take_snapshot().unwrap();
    println!(
        "first frame: {:.0} ms from process start (headless, software renderer, 1080×1920)",
        since_process_start() * 1000.0
    );

    let rig = KioskRig::start(&ui, |config| {
        config.printer.device = format!("{}?baud=115200", config.printer.device);
    });
    let ready = ui.clone_strong();
    assert!(hall_testkit::screen::pump_until(
        Duration::from_secs(10),
        move || { ready.global::<KioskState>().get_services().row_count() == 6 }
    ));

    let mut touch_to_paper = Vec::new();
    let mut job_bytes = 0;
    for i in 0..tickets {
        tracing::debug!(i, "ticket");
        let button = ElementHandle::find_by_accessible_label(&ui, "开户")
            .next()
            .expect("the 开户 button");
        let touched = Instant::now();
        button.invoke_accessible_default_action();
        let job = rig.sim.next_job(Duration::from_secs(10)).expect("a ticket");
        job_bytes = job.len();
        let last_byte = rig.sim.last_byte_at().unwrap();
        touch_to_paper.push((last_byte - touched).as_secs_f64() * 1000.0);
        let shown = ui.clone_strong();
        assert!(
            hall_testkit::screen::pump_until(Duration::from_secs(10), move || {
                shown.global::<KioskState>().get_screen() == Screen::Ticket
            }),
            "no ticket shown: {:?} {:?}",
            ui.global::<KioskState>().get_screen(),
            ui.global::<KioskState>().get_fault()
        );
        ui.global::<KioskState>().invoke_back_home();
        let home = ui.clone_strong();
        assert!(
            hall_testkit::screen::pump_until(Duration::from_secs(10), move || {
                home.global::<KioskState>().get_screen() == Screen::Home
            }),
            "not home: {:?} {:?}",
            ui.global::<KioskState>().get_screen(),
            ui.global::<KioskState>().get_fault()
        );
    }
    report_ms("touch to last byte at the printer", touch_to_paper);
    // A pty passes bytes at memory speed; a real serial line does not.
    println!(
        "one ticket is {job_bytes} bytes: on the wire {:.0} ms at 19200 baud, {:.0} ms at 115200 baud (8N1)",
        job_bytes as f64 * 10.0 / 19.2,
        job_bytes as f64 * 10.0 / 115.2
    );
    let me = std::process::id();
    println!(
        "kiosk process (with the testing backend): RSS {} KiB now, peak {} KiB; queue-server RSS {} KiB",
        rss_kib(me),
        peak_rss_kib(me),
        rss_kib(rig.server.pid())
    );
}
