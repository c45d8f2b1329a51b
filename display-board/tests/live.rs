//! The board against a real queue-server: calls made through the API
//! appear on it, are announced and shown on the counter's LED display; when
//! its link drops (a cut in the network, a server restart) it says so,
//! resumes with Last-Event-ID and shows every call made meanwhile.
//!
//! Each test sets up Slint for its own process: run with cargo nextest.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use display_board::BoardWindow;
use display_board::clips::Clips;
use display_board::led::{Charset, LedPort, StxFrame};
use display_board::live::{Board, CounterLed};
use display_board::voice::{Announcer, BETWEEN_CALLS, render};
use hall_api::client::HallClient;
use hall_api::{CounterAction, CounterActionBody, IssueTicket, Lang};
use hall_testkit::screen::{init_slint, pump_until};
use hall_testkit::serial::SerialPair;
use hall_testkit::{ServerProcess, demo};
use slint::{ComponentHandle, Model};

const WAIT: Duration = Duration::from_secs(10);

/// A TCP relay between the board and the server that the test can cut.
struct Link {
    addr: SocketAddr,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
    /// Requests for the hall snapshot that passed through.
    snapshots: Arc<AtomicUsize>,
}

impl Link {
    fn to(upstream: SocketAddr) -> Link {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let cut = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let snapshots = Arc::new(AtomicUsize::new(0));
        let (c, o, counted) = (cut.clone(), open.clone(), snapshots.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if c.load(Ordering::SeqCst) {
                    continue; // dropped: refused while cut
                }
                let Ok(server) = TcpStream::connect(upstream) else {
                    continue;
                };
                o.lock()
                    .unwrap()
                    .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                for (mut from, mut to, upstream) in [
                    (
                        client.try_clone().unwrap(),
                        server.try_clone().unwrap(),
                        true,
                    ),
                    (server, client, false),
                ] {
                    let counted = counted.clone();
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 8192];
                        while let Ok(n @ 1..) = from.read(&mut buf) {
                            if upstream && buf[..n].starts_with(b"GET /api/v1/hall ") {
                                counted.fetch_add(1, Ordering::SeqCst);
                            }
                            if to.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
            }
        });
        Link {
            addr,
            cut,
            open,
            snapshots,
        }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        for s in self.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

fn shown(ui: &BoardWindow) -> Vec<String> {
    ui.get_calls()
        .iter()
        .map(|c| c.number.to_string())
        .collect()
}

fn wait(ui: &BoardWindow, what: &str, done: impl Fn(&BoardWindow) -> bool + 'static) {
    let u = ui.clone_strong();
    assert!(
        pump_until(WAIT, move || done(&u)),
        "waited 10 s for {what}; the board shows {:?}",
        shown(ui)
    );
}

fn call(runtime: &tokio::runtime::Runtime, server: &ServerProcess, service: &str, counter: u32) {
    let key = format!("{service}-{counter}-{}", rand_key());
    runtime
        .block_on(
            server
                .client(demo::KIOSK)
                .issue_ticket(&IssueTicket::new(service, key)),
        )
        .unwrap();
    runtime
        .block_on(server.client(demo::BILLING).counter_action(
            counter,
            CounterAction::CallNext,
            &CounterActionBody::default(),
        ))
        .unwrap();
}

/// One counter's LED display on a serial pair: the pair (keep it), the
/// display's end to read frames from, and the board's map of displays.
fn led_display_for(
    counter: u32,
    address: u8,
    charset: Charset,
) -> (
    SerialPair,
    Box<dyn serialport::SerialPort>,
    std::collections::HashMap<u32, CounterLed>,
) {
    let pair = SerialPair::new();
    let display = serialport::new(pair.device.to_string_lossy(), 9600)
        .timeout(Duration::from_millis(20))
        .open()
        .unwrap();
    let port = std::rc::Rc::new(LedPort::start(
        pair.port.to_string_lossy().into(),
        9600,
        Box::new(StxFrame),
    ));
    let leds = [(
        counter,
        CounterLed {
            port,
            address,
            charset,
        },
    )]
    .into_iter()
    .collect();
    (pair, display, leds)
}

/// Reads frames at the display's end, acknowledging each, until one puts
/// `text` (the display's bytes) on the display at `address`; the frames
/// before it (the blank a board shows at its start) are skipped.
fn led_shows(display: &mut dyn serialport::SerialPort, address: u8, text: &[u8]) {
    let deadline = std::time::Instant::now() + WAIT;
    let mut frame = Vec::new();
    let mut byte = [0u8; 1];
    let mut seen = Vec::new();
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "the display never showed {text:?}; frames: {seen:?}"
        );
        if let Ok(1) = display.read(&mut byte) {
            frame.push(byte[0]);
            let n = frame.len();
            if n >= 2 && frame[n - 2] == 0x03 {
                display.write_all(&[0x06]).unwrap();
                let done = std::mem::take(&mut frame);
                let body = &done[1..done.len() - 1];
                assert_eq!(
                    done[done.len() - 1],
                    body.iter().fold(0, |x, b| x ^ b),
                    "checksum of {done:?}"
                );
                if body[..2] == *format!("{address:02}").as_bytes()
                    && &body[2..body.len() - 1] == text
                {
                    return;
                }
                seen.push(done);
            }
        }
    }
}

fn rand_key() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
fn calls_appear_are_heard_and_nothing_is_missed_across_breaks() {
    init_slint(true);
    let (runtime, mut server) = hall_testkit::demo_hall_on_a_runtime();
    let link = Link::to(server.addr);
    let sounds = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sounds");
    let clips = Arc::new(Clips::load(&sounds).unwrap());
    let langs = vec![Lang::Zh, Lang::En];
    let announcer = Announcer::collecting(clips.clone(), langs.clone());
    let heard = announcer.collected().unwrap();
    let (_pair, mut led_display, leds) = led_display_for(1, 1, Charset::Ascii);

    let ui = BoardWindow::new().unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1920, 1080));
    ui.show().unwrap();
    let client = HallClient::new(format!("http://{}", link.addr), demo::DISPLAY);
    let _board = Board::start(&ui, client, Some(announcer), leds, runtime.handle());
    wait(&ui, "the link", |ui| {
        ui.get_connected() && ui.get_hall_name().contains("城东")
    });

    // A call through the API: on the board, highlighted, heard, on the LED.
    call(&runtime, &server, "pay", 1);
    wait(&ui, "A001", |ui| shown(ui) == ["A001"] && ui.get_fresh());
    led_shows(led_display.as_mut(), 1, b"A001");

    // The network is cut; two calls are made meanwhile.
    link.cut();
    wait(&ui, "the break to show", |ui| !ui.get_connected());
    call(&runtime, &server, "pay", 2);
    call(&runtime, &server, "open", 3);
    link.restore();
    wait(&ui, "the calls made during the break", |ui| {
        ui.get_connected() && shown(ui) == ["B001", "A002", "A001"]
    });

    // The server restarts; a call right after.
    server.kill();
    wait(&ui, "the restart to show", |ui| !ui.get_connected());
    runtime.block_on(server.start_again());
    call(&runtime, &server, "pay", 4);
    wait(&ui, "the call after the restart", |ui| {
        shown(ui) == ["A003", "B001", "A002", "A001"]
    });

    // Heard: each call once, in order, one after the other.
    let expected: usize = [("A001", 1), ("A002", 2), ("B001", 3), ("A003", 4)]
        .iter()
        .map(|(t, c)| render(&clips, t, *c, &langs).unwrap().len())
        .sum::<usize>()
        + 3 * (BETWEEN_CALLS.as_secs_f64() * f64::from(clips.rate())) as usize;
    let h = heard.clone();
    assert!(
        pump_until(WAIT, move || h.lock().unwrap().len() == expected),
        "heard {} samples, expected {expected}",
        heard.lock().unwrap().len()
    );
}

fn waiting_for(ui: &BoardWindow, service_en: &str) -> Option<i32> {
    ui.get_waiting()
        .iter()
        .find(|w| w.service_en == service_en)
        .map(|w| w.waiting)
}

/// The waiting counts follow the event stream: a burst of tickets and
/// calls moves them without the board asking for the hall again.
#[test]
fn waiting_counts_follow_the_stream_without_snapshots() {
    init_slint(true);
    let (runtime, server) = hall_testkit::demo_hall_on_a_runtime();
    let link = Link::to(server.addr);
    let ui = BoardWindow::new().unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1920, 1080));
    ui.show().unwrap();
    let client = HallClient::new(format!("http://{}", link.addr), demo::DISPLAY);
    let _board = Board::start(&ui, client, None, Default::default(), runtime.handle());
    wait(&ui, "the link", |ui| {
        ui.get_connected() && waiting_for(ui, "Payment") == Some(0)
    });
    let kiosk = server.client(demo::KIOSK);
    for i in 0..5 {
        runtime
            .block_on(kiosk.issue_ticket(&IssueTicket::new("pay", format!("burst-{i}"))))
            .unwrap();
    }
    runtime
        .block_on(kiosk.issue_ticket(&IssueTicket::new("open", "burst-open")))
        .unwrap();
    wait(&ui, "five waiting for payment", |ui| {
        waiting_for(ui, "Payment") == Some(5) && waiting_for(ui, "New account") == Some(1)
    });
    call(&runtime, &server, "pay", 1);
    wait(&ui, "the call to move the count", |ui| {
        waiting_for(ui, "Payment") == Some(5) && shown(ui) == ["A001"]
    });
    // Give a refetch after the burst the time it used to take, then count.
    std::thread::sleep(Duration::from_millis(800));
    slint::platform::update_timers_and_animations();
    assert_eq!(
        link.snapshots.load(Ordering::SeqCst),
        1,
        "one snapshot at the start, none after the events"
    );
}

/// The manager's notice replaces the board's own at once, and taken down
/// gives it back; a board started later shows it from the snapshot.
#[test]
fn the_managers_notice_shows_on_the_board_and_goes() {
    init_slint(true);
    let (runtime, server) = hall_testkit::demo_hall_on_a_runtime();
    let ui = BoardWindow::new().unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1920, 1080));
    ui.set_notice("请留意叫号 · Please watch for your number".into());
    ui.show().unwrap();
    let client = HallClient::new(server.base_url(), demo::DISPLAY);
    let _board = Board::start(&ui, client, None, Default::default(), runtime.handle());
    wait(&ui, "the link", |ui| ui.get_connected());
    let http = reqwest::Client::new();
    let put = runtime
        .block_on(
            http.put(format!("{}/api/v1/notice", server.base_url()))
                .bearer_auth(demo::MANAGER)
                .json(&serde_json::json!({ "zh": "今日停电检修，暂停办理过户", "en": "No changes of owner today" }))
                .send(),
        )
        .unwrap();
    assert_eq!(put.status(), 204);
    wait(&ui, "the manager's notice", |ui| {
        ui.get_notice() == "今日停电检修，暂停办理过户 · No changes of owner today"
    });
    let later = BoardWindow::new().unwrap();
    let _second = Board::start(
        &later,
        HallClient::new(server.base_url(), demo::DISPLAY),
        None,
        Default::default(),
        runtime.handle(),
    );
    wait(&later, "the notice from the snapshot", |ui| {
        ui.get_notice().starts_with("今日停电检修")
    });
    let delete = runtime
        .block_on(
            http.delete(format!("{}/api/v1/notice", server.base_url()))
                .bearer_auth(demo::MANAGER)
                .send(),
        )
        .unwrap();
    assert_eq!(delete.status(), 204);
    wait(&ui, "the board's own notice again", |ui| {
        ui.get_notice() == "请留意叫号 · Please watch for your number"
    });
}

/// A paused counter's display says 暂停服务 in GB2312 and the board marks
/// it; resumed, the display clears and the mark goes.
#[test]
fn a_paused_counter_shows_its_sign_on_the_led_and_the_board() {
    init_slint(true);
    let (runtime, server) = hall_testkit::demo_hall_on_a_runtime();
    let (_pair, mut display, leds) = led_display_for(2, 12, Charset::Gb2312);
    let ui = BoardWindow::new().unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1920, 1080));
    ui.show().unwrap();
    let client = HallClient::new(server.base_url(), demo::DISPLAY);
    let _board = Board::start(&ui, client, None, leds, runtime.handle());
    wait(&ui, "the link", |ui| {
        ui.get_connected() && ui.get_stopped().row_count() == 0
    });

    let act = |action: CounterAction, body: CounterActionBody| {
        runtime
            .block_on(
                server
                    .client(demo::MANAGER)
                    .counter_action(2, action, &body),
            )
            .unwrap();
    };
    act(CounterAction::Pause, CounterActionBody::pausing_for("meal"));
    wait(&ui, "counter 2 marked", |ui| {
        ui.get_stopped()
            .iter()
            .map(|r| (r.counter_zh.to_string(), r.closed))
            .eq([("2号窗口".to_string(), false)])
    });
    // 暂停服务 in GB2312: D4DD CDA3 B7FE CEF1.
    led_shows(
        display.as_mut(),
        12,
        &[0xD4, 0xDD, 0xCD, 0xA3, 0xB7, 0xFE, 0xCE, 0xF1],
    );
    hall_testkit::screen::screenshot(ui.window(), "board-landscape-counter-paused");

    act(CounterAction::Resume, CounterActionBody::default());
    wait(&ui, "the mark gone", |ui| ui.get_stopped().row_count() == 0);
    led_shows(display.as_mut(), 12, b"");
    // A call at the counter shows its number as before.
    call(&runtime, &server, "pay", 2);
    wait(&ui, "the call", |ui| shown(ui) == ["A001"]);
    led_shows(display.as_mut(), 12, b"A001");
    act(CounterAction::NoShow, CounterActionBody::default());
    act(CounterAction::Close, CounterActionBody::default());
    wait(&ui, "counter 2 closed", |ui| {
        ui.get_stopped()
            .iter()
            .any(|r| r.counter_en == "Counter 2" && r.closed)
    });
    led_shows(
        display.as_mut(),
        12,
        &[0xD4, 0xDD, 0xCD, 0xA3, 0xB7, 0xFE, 0xCE, 0xF1],
    );
}

/// On the hall network: the board reaches the server over https, trusting
/// the hall CA from its configuration, and shows the calls as before.
#[test]
fn the_board_follows_the_hall_over_https_with_the_pinned_ca() {
    init_slint(true);
    let runtime = hall_testkit::two_thread_runtime();
    let tls_port = hall_testkit::free_port();
    let config = format!(
        "{}\n[tls]\nlisten = \"127.0.0.1:{tls_port}\"\n",
        include_str!("../../queue-server/demo.toml")
    );
    let server = runtime.block_on(ServerProcess::start(
        hall_testkit::queue_server_bin(),
        hall_testkit::ServerOptions {
            config: Some(config),
            ..Default::default()
        },
    ));
    // The board's own configuration, as an installer writes it.
    let ca = server.dir.path().join("tls/ca.crt");
    let toml = display_board::config::DEFAULT.replace(
        "url = \"http://127.0.0.1:8080\"",
        &format!(
            "url = \"https://127.0.0.1:{tls_port}\"\nca = \"{}\"",
            ca.display()
        ),
    );
    let board_config = display_board::config::BoardConfig::parse("board.toml", &toml).unwrap();
    let client = HallClient::for_device(
        &board_config.server.url,
        &board_config.server.token,
        board_config.server.ca.as_deref(),
    )
    .unwrap();
    // Without the CA line the configuration is refused, naming the line.
    let without = toml.replace(&format!("ca = \"{}\"", ca.display()), "");
    let e = display_board::config::BoardConfig::parse("board.toml", &without)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("server.ca") && e.starts_with("board.toml:"),
        "{e}"
    );

    let ui = BoardWindow::new().unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1920, 1080));
    ui.show().unwrap();
    let _board = Board::start(&ui, client, None, Default::default(), runtime.handle());
    wait(&ui, "the link over https", |ui| {
        ui.get_connected() && ui.get_hall_name().contains("城东")
    });
    call(&runtime, &server, "pay", 3);
    wait(&ui, "the call", |ui| shown(ui) == ["A001"]);
}

/// While the manager has closed the whole hall (停电), the board says so
/// and until when; lifted, the board's own notice is back.
#[test]
fn a_closure_of_the_hall_shows_on_the_board_until_it_is_lifted() {
    init_slint(true);
    let (runtime, server) = hall_testkit::demo_hall_on_a_runtime();
    let ui = BoardWindow::new().unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1920, 1080));
    ui.set_notice("请留意叫号 · Please watch for your number".into());
    ui.show().unwrap();
    let client = HallClient::new(server.base_url(), demo::DISPLAY);
    let _board = Board::start(&ui, client, None, Default::default(), runtime.handle());
    wait(&ui, "the link", |ui| ui.get_connected());
    let now = jiff::Timestamp::now();
    let until = now + jiff::SignedDuration::from_mins(40);
    let http = reqwest::Client::new();
    let made: serde_json::Value = runtime
        .block_on(async {
            http.post(format!("{}/api/v1/closures", server.base_url()))
                .bearer_auth(demo::MANAGER)
                .json(&serde_json::json!({
                    "from": now - jiff::SignedDuration::from_mins(1),
                    "until": until,
                    "reason": { "zh": "停电", "en": "Power cut" },
                }))
                .send()
                .await
                .unwrap()
                .json()
                .await
        })
        .unwrap();
    let hh_mm = until
        .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .strftime("%H:%M")
        .to_string();
    let expected = format!("暂停服务：停电，{hh_mm} 恢复 · Closed: Power cut, until {hh_mm}");
    let shown = expected.clone();
    wait(&ui, "the closure on the board", move |ui| {
        ui.get_notice() == shown
    });
    hall_testkit::screen::screenshot(ui.window(), "board-closure");
    let lifted = runtime
        .block_on(
            http.post(format!(
                "{}/api/v1/closures/{}/lift",
                server.base_url(),
                made["id"]
            ))
            .bearer_auth(demo::MANAGER)
            .send(),
        )
        .unwrap();
    assert_eq!(lifted.status(), 204);
    wait(&ui, "the board's own notice again", |ui| {
        ui.get_notice() == "请留意叫号 · Please watch for your number"
    });
}

/// Head office renames a service: the board, linked all along, shows the
/// new name at once (the event makes it take the hall again), and the
/// hall's own again when head office gives it back.
#[test]
fn a_service_head_office_renames_is_renamed_on_the_board() {
    init_slint(true);
    let runtime = hall_testkit::two_thread_runtime();
    let company = hall_testkit::office::Company::start(&["east-1"]);
    let server = runtime.block_on(ServerProcess::start(
        hall_testkit::queue_server_bin(),
        hall_testkit::ServerOptions {
            config: Some(company.hall_config(queue_server_demo(), "east-1")),
            ..Default::default()
        },
    ));
    let hq = runtime.block_on(company.office.admin());
    let ui = BoardWindow::new().unwrap();
    ui.window().set_size(slint::PhysicalSize::new(1920, 1080));
    ui.show().unwrap();
    let client = HallClient::new(server.base_url(), demo::DISPLAY);
    let _board = Board::start(&ui, client, None, Default::default(), runtime.handle());
    wait(&ui, "the hall's own name", |ui| {
        ui.get_connected() && waiting_for(ui, "Payment").is_some()
    });
    let push = |settings: serde_json::Value| {
        let mut change = serde_json::json!({ "kind": "service", "service": "pay" });
        if !settings.is_null() {
            change["settings"] = settings;
        }
        let r = runtime.block_on(hq.post(
            "/api/v1/pushes",
            &serde_json::json!({ "halls": ["east-1"], "changes": [change] }),
        ));
        let status = r.status();
        assert_eq!(status, 201, "{}", runtime.block_on(r.text()).unwrap());
    };
    runtime.block_on(hall_testkit::eventually(
        "head office knows the hall",
        || async {
            !hq.json::<Vec<serde_json::Value>>("/api/v1/halls")
                .await
                .is_empty()
        },
    ));
    push(serde_json::json!({ "name": { "zh": "电费缴纳", "en": "Electricity bills" } }));
    wait(&ui, "head office's name", |ui| {
        waiting_for(ui, "Electricity bills") == Some(0) && waiting_for(ui, "Payment").is_none()
    });
    assert!(
        ui.get_waiting().iter().any(|w| w.service_zh == "电费缴纳"),
        "the Chinese name too"
    );
    hall_testkit::screen::screenshot(ui.window(), "board-service-renamed");
    push(serde_json::Value::Null);
    wait(&ui, "the hall's own name again", |ui| {
        waiting_for(ui, "Payment") == Some(0)
    });
}

fn queue_server_demo() -> &'static str {
    include_str!("../../queue-server/demo.toml")
}
