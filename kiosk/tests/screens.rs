//! The kiosk as a customer meets it, through Slint's testing backend (touches
//! by accessible label, the screen read back), against a real queue-server
//! process and a simulated printer on a real serial pair.
//!
//! Each test sets up Slint's platform for its own process: run them with
//! cargo nextest (one process per test), as scripts/test does.

mod support;

use std::time::{Duration, Instant};

use hall_api::client::{ActionOutcome, HallClient};
use hall_api::{CounterAction, CounterActionBody, DeviceHealth, PrinterState};
use hall_testkit::demo;
use i_slint_backend_testing::ElementHandle;
use kiosk::config::KioskConfig;
use kiosk::printer::decode::decode;
use kiosk::{Fault, KeypadError, KioskState, KioskWindow, Screen};
use slint::{ComponentHandle, Model};
use support::{Condition, KioskRig, SlowFirstIssue};

const WAIT: Duration = Duration::from_secs(10);

/// Short timers, so the tests see the kiosk's rounds quickly.
fn quick(config: &mut KioskConfig) {
    config.timing.refresh_s = 1;
    config.timing.heartbeat_s = 1;
    config.screen.ticket_s = 2;
    config.screen.idle_s = 2;
}

struct Hall {
    rig: KioskRig,
    ui: KioskWindow,
}

impl Hall {
    fn start() -> Hall {
        Self::start_with(|_| {})
    }

    /// The demo hall, its kiosk on a serial printer with short timers;
    /// `adjust` may change the kiosk's configuration further.
    fn start_with(adjust: impl FnOnce(&mut KioskConfig)) -> Hall {
        Self::start_rig(false, adjust)
    }

    fn start_rig(tls: bool, adjust: impl FnOnce(&mut KioskConfig)) -> Hall {
        let ui = Self::window();
        let start = if tls {
            KioskRig::start_tls
        } else {
            KioskRig::start
        };
        let rig = start(&ui, |config: &mut KioskConfig| {
            quick(config);
            adjust(config);
        });
        Self::ready(rig, ui)
    }

    /// The demo hall linked to a billing system the test may take away.
    fn start_linked() -> (Hall, hall_testkit::billing::BillingSim) {
        let ui = Self::window();
        let (rig, sim) = KioskRig::start_linked(&ui, quick);
        (Self::ready(rig, ui), sim)
    }

    fn window() -> KioskWindow {
        hall_testkit::screen::init_slint(true);
        let ui = KioskWindow::new().unwrap();
        ui.window().set_size(slint::PhysicalSize::new(1080, 1920));
        ui.show().unwrap();
        ui
    }

    fn ready(rig: KioskRig, ui: KioskWindow) -> Hall {
        let hall = Hall { rig, ui };
        hall.wait("the services from the server", |ui| {
            ui.global::<KioskState>().get_services().row_count() == 6
                && ui.global::<KioskState>().get_screen() == Screen::Home
        });
        hall
    }

    fn client(&self, token: &str) -> HallClient {
        self.rig.server.client(token)
    }

    /// Runs the UI until `done` holds (or fails the test after 10 s).
    fn wait(&self, what: &str, done: impl Fn(&KioskWindow) -> bool + 'static) {
        let ui = self.ui.clone_strong();
        assert!(
            hall_testkit::screen::pump_until(WAIT, move || done(&ui)),
            "waited 10 s for {what}; the screen shows {:?}",
            self.ui.global::<KioskState>().get_screen()
        );
    }

    /// A touch on the element a customer reads as `label`.
    fn touch(&self, label: &str) {
        let mut found: Vec<_> = ElementHandle::find_by_accessible_label(&self.ui, label).collect();
        // A button rather than a text that says the same (the typed "8"
        // shown above the keypad is not its "8" key).
        found.sort_by_key(|e| {
            e.accessible_role() != Some(i_slint_backend_testing::AccessibleRole::Button)
        });
        assert!(
            !found.is_empty(),
            "nothing labelled {label:?} on {:?}",
            self.ui.global::<KioskState>().get_screen()
        );
        found[0].invoke_accessible_default_action();
    }

    fn shows(&self, label: &str) -> bool {
        ElementHandle::find_by_accessible_label(&self.ui, label)
            .next()
            .is_some()
    }

    fn waiting(&self, service: &str) -> u32 {
        let hall = self
            .rig
            .runtime
            .block_on(self.client(demo::MANAGER).hall())
            .unwrap();
        hall.services
            .iter()
            .find(|s| s.id == service)
            .unwrap()
            .waiting
    }

    fn printed(&self) -> kiosk::printer::decode::Decoded {
        decode(&self.rig.sim.next_job(WAIT).expect("a printed ticket")).unwrap()
    }
}

#[test]
fn two_touches_give_one_ticket_shown_and_printed() {
    let hall = Hall::start();
    // A double tap on 开户 (new account, no account number asked): the
    // screen changes at the first touch, and a second touch already queued
    // for the button must not issue a second ticket.
    hall.touch("开户");
    hall.ui
        .global::<KioskState>()
        .invoke_choose_service("open".into());
    hall.wait("the ticket screen", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Ticket
    });
    assert_eq!(hall.ui.global::<KioskState>().get_ticket().number, "B001");
    assert!(hall.shows("B001") && hall.shows("请取走下方的号票"));
    assert_eq!(hall.waiting("open"), 1, "one ticket for a double tap");

    let ticket = hall.printed();
    assert_eq!(ticket.largest_text(), Some(("B001", 7)));
    assert!(ticket.lines().contains(&"开户"));
    // What to bring for a new account: on the screen and on paper, in both languages.
    assert_eq!(
        hall.ui.global::<KioskState>().get_ticket().bring,
        "本人身份证原件，房产证或租赁合同"
    );
    let paper = ticket.lines().concat();
    assert!(
        paper.contains("请携带：本人身份证原件，房产证或租赁合同"),
        "{paper}"
    );
    assert!(paper.contains("Please bring: Your ID card,"), "{paper}");
    // The QR code leads to this very ticket.
    let url = ticket.qr_codes()[0].to_string();
    let code = url.rsplit('/').next().unwrap();
    assert!(url.starts_with(&hall.rig.server.base_url()), "{url}");
    let public = hall
        .rig
        .runtime
        .block_on(hall.client("").public_ticket(code))
        .unwrap();
    assert_eq!(public.number, "B001");

    // The ticket screen goes home by itself.
    hall.wait("home again", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Home
    });
}

/// After the keypad the ticket screen says what the account owes, as the
/// billing system has it; without the billing system the ticket is issued
/// and printed all the same.
#[test]
fn the_ticket_screen_shows_the_amount_due_and_goes_on_without_billing() {
    let (hall, sim) = Hall::start_linked();
    hall.touch("缴费");
    hall.wait("the keypad", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Account
    });
    for key in "8800123456".chars() {
        hall.touch(&key.to_string());
    }
    assert_eq!(
        hall.ui.global::<KioskState>().get_account_digits(),
        "8800123456"
    );
    hall.touch("确定");
    hall.wait("the ticket", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Ticket
    });
    assert_eq!(
        hall.ui.global::<KioskState>().get_ticket().account,
        "张*明 · 待缴 ¥128.50 · Amount due"
    );
    assert!(hall.shows("张*明 · 待缴 ¥128.50 · Amount due"));
    hall_testkit::screen::screenshot(hall.ui.window(), "kiosk-zh-portrait-ticket-arrears");
    hall.printed();
    hall.wait("home again", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Home
    });

    drop(sim);
    hall.touch("缴费");
    hall.wait("the keypad", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Account
    });
    for key in "8800777001".chars() {
        hall.touch(&key.to_string());
    }
    hall.touch("确定");
    hall.wait("the ticket without the billing system", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Ticket
    });
    let ticket = hall.ui.global::<KioskState>().get_ticket();
    assert_eq!(ticket.number, "A002");
    assert_eq!(
        ticket.account, "",
        "nothing said when the billing system is silent"
    );
    assert_eq!(hall.printed().largest_text(), Some(("A002", 7)));
}

#[test]
fn english_and_the_account_keypad() {
    let hall = Hall::start();
    hall.touch("English");
    hall.wait("English names", |ui| {
        ui.global::<KioskState>()
            .get_services()
            .iter()
            .any(|t| t.name == "Payment")
    });
    hall.touch("Payment");
    hall.wait("the keypad", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Account
    });
    assert!(hall.shows("Skip") && hall.shows("OK"));
    for key in ["4", "2", "7", "Delete", "1"] {
        hall.touch(key);
    }
    assert_eq!(hall.ui.global::<KioskState>().get_account_digits(), "421");
    hall.touch("OK");
    hall.wait("the ticket", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Ticket
    });
    assert_eq!(hall.ui.global::<KioskState>().get_ticket().number, "A001");
    assert!(hall.shows("Your number"));
    let printed = hall.printed();
    let lines = printed.lines();
    let pos = |s: &str| lines.iter().position(|l| *l == s).unwrap();
    assert!(pos("Payment") < pos("缴费"), "English first on paper too");

    // The counter that calls it sees the account number.
    let called = hall
        .rig
        .runtime
        .block_on(hall.client(demo::BILLING).counter_action(
            2,
            CounterAction::CallNext,
            &CounterActionBody::default(),
        ))
        .unwrap();
    match called {
        ActionOutcome::Ticket(t) => {
            assert_eq!(t.number, "A001");
            assert_eq!(t.customer_ref.as_deref(), Some("421"));
        }
        other => panic!("expected the ticket, got {other:?}"),
    }
}

#[test]
fn an_idle_kiosk_goes_home_in_the_halls_language() {
    let hall = Hall::start();
    hall.touch("English");
    hall.touch("Payment");
    hall.wait("the keypad", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Account
    });
    hall.touch("3");
    // Nobody touches for idle_s (2 s here).
    hall.wait("home in Chinese", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Home
            && ui.global::<KioskState>().get_language() == "zh"
    });
    assert!(hall.shows("缴费"));
    assert_eq!(
        hall.ui.global::<KioskState>().get_account_digits(),
        "",
        "the next customer starts empty"
    );
    assert_eq!(hall.waiting("pay"), 0);
}

#[test]
fn a_lost_server_puts_the_kiosk_out_of_order_until_it_returns() {
    let mut hall = Hall::start();
    hall.rig.server.kill();
    hall.wait("out of order", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::OutOfOrder
            && ui.global::<KioskState>().get_fault() == Fault::ServerUnreachable
    });
    assert!(hall.shows("out of order"));
    hall.rig.runtime.block_on(hall.rig.server.start_again());
    hall.wait("home again", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Home
    });
}

#[test]
fn printer_faults_stop_tickets_and_staff_are_told() {
    let hall = Hall::start();
    let manager = hall.client(demo::MANAGER);

    // Noticed while idle, before anyone tries.
    hall.rig.sim.set(Condition::PaperOut);
    hall.wait("out of paper", |ui| {
        ui.global::<KioskState>().get_fault() == Fault::PaperOut
    });
    assert_eq!(
        hall.ui.global::<KioskState>().get_screen(),
        Screen::OutOfOrder
    );
    // The screen changes before the heartbeat that tells the server is
    // sent: wait for the server to have it.
    let reported = || {
        let devices = hall.rig.runtime.block_on(manager.devices()).unwrap();
        let kiosk = devices.iter().find(|d| d.name == "kiosk-1").unwrap();
        let last = kiosk.last.as_ref().unwrap();
        (last.health, last.printer)
    };
    let deadline = Instant::now() + WAIT;
    while reported() != (DeviceHealth::Fault, Some(PrinterState::PaperOut))
        && Instant::now() < deadline
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        reported(),
        (DeviceHealth::Fault, Some(PrinterState::PaperOut))
    );
    hall.rig.sim.set(Condition::Ready);
    hall.wait("home again", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Home
    });

    // The cover opens just as a customer touches: no ticket is issued.
    hall.rig.sim.set(Condition::CoverOpen);
    hall.touch("开户");
    hall.wait("cover open", |ui| {
        ui.global::<KioskState>().get_fault() == Fault::CoverOpen
    });
    assert_eq!(hall.waiting("open"), 0);

    // Paper runs out halfway through a ticket: it is cancelled, and the
    // customer is told so.
    hall.rig.sim.set(Condition::Ready);
    hall.wait("home again", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Home
    });
    hall.rig.sim.set(Condition::RunsOutWhilePrinting);
    hall.touch("开户");
    hall.wait("the not-printed message", |ui| {
        ui.global::<KioskState>().get_fault() == Fault::NotPrinted
    });
    let deadline = Instant::now() + WAIT;
    while hall.waiting("open") != 0 {
        assert!(
            Instant::now() < deadline,
            "the unprinted ticket was not cancelled"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let today = hall
        .rig
        .runtime
        .block_on(manager.hall())
        .unwrap()
        .hall
        .business_day;
    let stats = hall.rig.runtime.block_on(manager.day_stats(today)).unwrap();
    assert_eq!((stats.hall.issued, stats.hall.cancelled), (1, 1));
}

#[test]
fn a_timed_out_ticket_request_is_retried_with_the_same_key() {
    let mut proxy = None;
    let hall = Hall::start_with(|config| {
        let upstream = config
            .server
            .url
            .trim_start_matches("http://")
            .parse()
            .unwrap();
        let p = SlowFirstIssue::start(upstream, Duration::from_secs(4));
        config.server.url = format!("http://{}", p.addr);
        proxy = Some(p);
    });
    let proxy = proxy.unwrap();
    hall.touch("开户");
    hall.wait("the ticket", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Ticket
    });
    assert_eq!(
        proxy
            .issue_requests
            .load(std::sync::atomic::Ordering::SeqCst),
        2
    );
    assert_eq!(hall.ui.global::<KioskState>().get_ticket().number, "B001");
    assert_eq!(hall.waiting("open"), 1, "the retry got the same ticket");
    assert_eq!(hall.printed().largest_text(), Some(("B001", 7)));
}

#[test]
fn a_kiosk_on_the_hall_network_issues_over_https_with_the_pinned_ca() {
    let hall = Hall::start_rig(true, |_| {});
    assert!(hall.rig.url.starts_with("https://"));
    hall.touch("开户");
    hall.wait("the ticket", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Ticket
    });
    assert_eq!(hall.ui.global::<KioskState>().get_ticket().number, "B001");
    assert_eq!(hall.printed().largest_text(), Some(("B001", 7)));
}

/// A number taken on a phone is checked in at the keypad by its six
/// digits, printed, and from then on called; a wrong code says so and
/// leaves the customer at the keypad.
#[test]
fn a_number_taken_on_a_phone_is_checked_in_at_the_keypad() {
    let hall = Hall::start();
    let rt = &hall.rig.runtime;
    let (remote, _) = rt
        .block_on(hall.client("").take_remote_ticket(
            &hall_api::RemoteTicketRequest {
                service: "enquiry".into(),
                idempotency_key: "phone-1".into(),
                lang: None,
                client: None,
            },
            true,
        ))
        .unwrap();
    let code = remote.remote.check_in_code.clone();
    // Not here yet: the counter does not get it.
    let counter = hall.client(&demo::counter(5));
    assert!(rt.block_on(counter.call_next(5)).unwrap().is_none());

    hall.touch("手机取号或预约？点此签到");
    hall.wait("the keypad for the code", |ui| {
        let s = ui.global::<KioskState>();
        s.get_screen() == Screen::Account && s.get_checking_in()
    });
    assert!(hall.shows("请输入6位签到码"));
    assert!(!hall.shows("跳过"), "a check-in cannot be skipped");
    // One digit wrong.
    let first = code.chars().next().unwrap();
    let wrong = format!(
        "{}{}",
        if first == '9' {
            '0'
        } else {
            char::from(first as u8 + 1)
        },
        &code[1..]
    );
    for key in wrong.chars() {
        hall.touch(&key.to_string());
    }
    hall.touch("7"); // a seventh digit is not taken
    assert_eq!(hall.ui.global::<KioskState>().get_account_digits(), wrong);
    hall.touch("确定");
    hall.wait("the keypad saying the code is unknown", |ui| {
        let s = ui.global::<KioskState>();
        s.get_screen() == Screen::Account && s.get_keypad_error() == KeypadError::UnknownCode
    });
    assert!(hall.shows("keypad message"));
    hall_testkit::screen::screenshot(hall.ui.window(), "kiosk-zh-portrait-check-in-wrong-code");
    for _ in 0..6 {
        hall.touch("删除");
    }
    for key in code.chars() {
        hall.touch(&key.to_string());
    }
    hall.touch("确定");
    hall.wait("the checked-in ticket", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Ticket
    });
    let shown = hall.ui.global::<KioskState>().get_ticket();
    assert_eq!(shown.number, remote.number.as_str());
    assert!(shown.checked_in);
    assert!(hall.shows("已签到：您的号码保留原有位置"));
    hall_testkit::screen::screenshot(hall.ui.window(), "kiosk-zh-portrait-checked-in");
    assert_eq!(
        hall.printed().largest_text(),
        Some((remote.number.as_str(), 7))
    );
    // Now it is called.
    let called = rt.block_on(counter.call_next(5)).unwrap().unwrap();
    assert_eq!(called.number, remote.number);
}

/// The floor guide's handheld (headless Chromium at a phone's size) takes
/// a number for an elderly customer and has it printed at this kiosk: the
/// kiosk's printer receives it, the guide sees it printed; with the paper
/// out the guide is told, in words, and can show the QR code instead.
#[test]
fn the_floor_guide_has_an_elderly_customers_ticket_printed_here() {
    use hall_testkit::browser::Browser;
    let hall = Hall::start();
    let rt = &hall.rig.runtime;
    rt.block_on(hall.client(demo::MANAGER).add_staff(&hall_api::NewStaff {
        number: "G01".into(),
        name: "王芳".into(),
        pin: "1357".into(),
    }))
    .unwrap();
    let base = hall.rig.server.base_url();
    let b = rt.block_on(Browser::start(390, 844, "zh-CN"));
    rt.block_on(async {
        b.goto(&format!("{base}/guide")).await;
        b.type_into("#staff", "G01").await;
        b.type_into("#pin", "1357").await;
        b.click("#sign-in").await;
        b.wait_text("#who", "signed in", |t| t.contains("王芳"))
            .await;
        b.wait_for("#services button[data-value=pay]").await;
        b.click("#services button[data-value=pay]").await;
        b.click("#reasons button[data-value=elderly]").await;
        b.wait_attr(
            "#reasons button[data-value=elderly]",
            "aria-pressed",
            "true",
        )
        .await;
        b.screenshot("guide-phone-zh-issue").await;
        b.click("#take").await;
        b.wait_text("#result-print", "printed at the kiosk", |t| {
            t.starts_with("已在 kiosk-1 打印")
        })
        .await;
        b.screenshot("guide-phone-zh-printed").await;
    });
    let number = rt.block_on(b.text("#result-number"));
    let printed = hall.printed();
    assert_eq!(printed.largest_text(), Some((number.as_str(), 7)));
    // The guide's customer goes first, and the counter sees why.
    let queue = rt
        .block_on(hall.client(&demo::counter(1)).counter_queue(1))
        .unwrap();
    assert_eq!(queue[0].number, number);
    assert_eq!(queue[0].priority_reason.as_deref(), Some("elderly"));

    // Out of paper: the guide reads why, and shows the QR code instead.
    hall.rig.sim.set(Condition::PaperOut);
    rt.block_on(async {
        b.click("#next").await;
        b.click("#lang-toggle").await;
        b.wait_for("#services button[data-value=enquiry]").await;
        b.click("#services button[data-value=enquiry]").await;
        b.click("#take").await;
        b.wait_text("#result-print", "the refusal", |t| {
            t.contains("did not print it: printer out of paper: load a new roll")
        })
        .await;
        b.screenshot("guide-phone-en-not-printed").await;
        b.click("#next").await;
        b.wait_for("#services button[data-value=enquiry]").await;
        b.click("#services button[data-value=enquiry]").await;
        b.find("#where").await.select_by_value("").await.unwrap();
        b.click("#take").await;
        b.wait_text("#result-hint", "the QR code", |t| t.contains("scan"))
            .await;
        b.wait_attr(
            "#result-qr",
            "alt",
            &format!("QR {}", b.text("#result-number").await),
        )
        .await;
        b.screenshot("guide-phone-en-qr").await;
        // The customer's phone reads the ticket's own page from it.
        let codes = b.qr_codes("#result-qr").await;
        assert_eq!(codes.len(), 1, "one QR code: {codes:?}");
        let page = codes[0].clone();
        let tracking = page.rsplit('/').next().unwrap().to_string();
        let seen = hall.client("").public_ticket(&tracking).await.unwrap();
        assert_eq!(seen.number, b.text("#result-number").await);
        b.close().await;
    });
}

/// A booking checked in at the keypad by its code, against a hall whose
/// clock libfaketime holds at 09:55 on a Monday: the 10:00 appointment
/// gets its ticket with the appointment's priority (printed, first in the
/// counter's queue); the 10:30 one is told check-in opens later.
#[test]
fn an_appointment_is_checked_in_at_the_keypad_and_goes_first() {
    let files = tempfile::tempdir().unwrap();
    let holidays = files.path().join("holidays.toml");
    std::fs::write(&holidays, "").unwrap();
    let config = hall_testkit::lunch_break_hall(&holidays).replace(
        "expected_service_min = 20",
        "expected_service_min = 20\nappointments = { slot_min = 30, per_slot = 2, book_until_min = 0 }",
    );
    let ui = Hall::window();
    let rig = KioskRig::start_with(
        &ui,
        hall_testkit::ServerOptions {
            config: Some(config),
            faketime: Some("@2027-03-01 01:55:00".into()),
            ..Default::default()
        },
        |c| {
            quick(c);
            c.server.token = "kiosk-token".into();
        },
    );
    let hall = Hall { rig, ui };
    hall.wait("the hall's one service", |ui| {
        ui.global::<KioskState>().get_services().row_count() == 1
    });
    let rt = &hall.rig.runtime;
    let book = |at: &str, key: &str| {
        let req = hall_api::BookingRequest {
            service: "pay".into(),
            slot_start: at.parse().unwrap(),
            idempotency_key: key.into(),
            lang: None,
            client: None,
        };
        let (booking, created) = rt.block_on(hall.client("").book(&req, true)).unwrap();
        assert!(created);
        booking
    };
    let ten = book("2027-03-01T02:00:00Z", "b-ten");
    let half_past = book("2027-03-01T02:30:00Z", "b-half");
    let walk_in = rt
        .block_on(
            hall.client("kiosk-token")
                .issue_ticket(&hall_api::IssueTicket::new("pay", "walk-in")),
        )
        .unwrap()
        .0;

    // Too early for the 10:30 appointment.
    hall.touch("手机取号或预约？点此签到");
    hall.wait("the keypad", |ui| {
        ui.global::<KioskState>().get_checking_in()
    });
    for key in half_past.code.chars() {
        hall.touch(&key.to_string());
    }
    hall.touch("确定");
    hall.wait("too early", |ui| {
        ui.global::<KioskState>().get_keypad_error() == KeypadError::TooEarly
    });
    assert!(hall.shows("keypad message"));
    hall_testkit::screen::screenshot(hall.ui.window(), "kiosk-zh-portrait-appointment-too-early");
    for _ in 0..6 {
        hall.touch("删除");
    }
    for key in ten.code.chars() {
        hall.touch(&key.to_string());
    }
    hall.touch("确定");
    hall.wait("the appointment's ticket", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Ticket
    });
    let number = hall
        .ui
        .global::<KioskState>()
        .get_ticket()
        .number
        .to_string();
    assert_eq!(hall.printed().largest_text(), Some((number.as_str(), 7)));
    // Called before the walk-in who came first.
    let queue = rt
        .block_on(hall.client("manager-token").counter_queue(1))
        .unwrap();
    assert_eq!(
        queue.iter().map(|t| t.number.as_str()).collect::<Vec<_>>(),
        [number.as_str(), walk_in.number.as_str()]
    );
    assert_eq!(queue[0].priority_reason.as_deref(), Some("appointment"));

    // 12:10, the lunch break: the kiosk greys the service out and says
    // when it opens again, in both languages.
    let mut hall = hall;
    hall.rig.runtime.block_on(
        hall.rig
            .server
            .restart_with_faketime("@2027-03-01 04:10:00"),
    );
    hall.touch("完成");
    hall.wait("the break on the tile", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Home
            && ui
                .global::<KioskState>()
                .get_services()
                .row_data(0)
                .is_some_and(|t| {
                    t.availability == kiosk::Availability::OnBreak && t.opens.contains("13:30")
                })
    });
    hall_testkit::screen::screenshot(hall.ui.window(), "kiosk-zh-portrait-lunch-break");
    hall.touch("English");
    hall.wait("English", |ui| {
        ui.global::<KioskState>().get_language() == "en"
    });
    hall_testkit::screen::screenshot(hall.ui.window(), "kiosk-en-portrait-lunch-break");

    // A closure 14:00–15:00 for a power cut; at 14:10 the tile says why.
    let closure = hall_api::NewClosure {
        from: "2027-03-01T06:00:00Z".parse().unwrap(),
        until: "2027-03-01T07:00:00Z".parse().unwrap(),
        reason: hall_api::I18nText {
            zh: "停电检修".into(),
            en: "Power maintenance".into(),
        },
        services: None,
    };
    hall.rig
        .runtime
        .block_on(hall.client("manager-token").add_closure(&closure))
        .unwrap();
    hall.rig.runtime.block_on(
        hall.rig
            .server
            .restart_with_faketime("@2027-03-01 06:10:00"),
    );
    hall.wait("the closure on the tile", |ui| {
        ui.global::<KioskState>()
            .get_services()
            .row_data(0)
            .is_some_and(|t| {
                t.availability == kiosk::Availability::Closure
                    && t.closed_reason == "Power maintenance"
            })
    });
    hall_testkit::screen::screenshot(hall.ui.window(), "kiosk-en-portrait-closure");
    hall.touch("中文");
    hall.wait("Chinese", |ui| {
        ui.global::<KioskState>().get_language() == "zh"
    });
    hall_testkit::screen::screenshot(hall.ui.window(), "kiosk-zh-portrait-closure");
}

/// A code scanner that types like a keyboard: on the home screen its
/// digits open the check-in, and its Enter checks the number in.
#[test]
fn a_scanner_typing_the_code_checks_in() {
    let hall = Hall::start();
    let rt = &hall.rig.runtime;
    let (remote, _) = rt
        .block_on(hall.client("").take_remote_ticket(
            &hall_api::RemoteTicketRequest {
                service: "complaint".into(),
                idempotency_key: "scan-1".into(),
                lang: None,
                client: None,
            },
            true,
        ))
        .unwrap();
    for c in remote.remote.check_in_code.chars().chain(['\n']) {
        hall.ui
            .window()
            .dispatch_event(slint::platform::WindowEvent::KeyPressed {
                text: c.to_string().into(),
            });
        hall.ui
            .window()
            .dispatch_event(slint::platform::WindowEvent::KeyReleased {
                text: c.to_string().into(),
            });
    }
    hall.wait("the checked-in ticket", |ui| {
        ui.global::<KioskState>().get_screen() == Screen::Ticket
    });
    let shown = hall.ui.global::<KioskState>().get_ticket();
    assert_eq!(shown.number, remote.number.as_str());
    assert!(shown.checked_in);
    hall.printed();
}
