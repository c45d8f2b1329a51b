//! The manager console against a real server: accounts made at the
//! terminal, sign-in and its lock, the session cookie's limits, the live
//! view in headless Chromium, a report whose every figure is checked
//! against what the test computes from the tickets it made (on the page,
//! in the CSV, in the workbook, on the printed page), and the end of the day.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use hall_api::{
    CounterAction, CounterActionBody, DeviceHealth, Heartbeat, IssueTicket, PrinterState, Ticket,
    TicketStatus,
};
use hall_testkit::billing::{BillingSim, linked_hall};
use hall_testkit::browser::Browser;
use hall_testkit::{ServerOptions, ServerProcess, demo, eventually, free_port, workspace_bin};

const BIN: &str = env!("CARGO_BIN_EXE_queue-server");
const PASSWORD: &str = "a long hall password";

/// Adds a manager at the terminal, the password on stdin, as an installer would.
fn add_manager(server: &ServerProcess, name: &str, password: &str) {
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(server.db_path())
        .args(["manager", "add", name])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running queue-server manager add");
    writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "manager add failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Opens the console at `path` and signs in as `name`, as a manager would.
async fn sign_in_page(b: &Browser, server: &ServerProcess, path: &str, name: &str) {
    b.goto(&format!("{}{path}", server.base_url())).await;
    b.type_into("#signin-name", name).await;
    b.type_into("#signin-password", PASSWORD).await;
    b.click("#signin-button").await;
    b.wait_text("#who", "the signed-in name", |t| t == name)
        .await;
}

/// GET `path` with the manager device's token, as a script would, decoded.
async fn manager_get<T: serde::de::DeserializeOwned>(server: &ServerProcess, path: &str) -> T {
    reqwest::Client::new()
        .get(format!("{}{path}", server.base_url()))
        .bearer_auth(demo::MANAGER)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// A console session as a script holds it: the cookie the sign-in set.
struct Console {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Console {
    async fn sign_in(server: &ServerProcess, name: &str, password: &str) -> Console {
        let http = reqwest::Client::new();
        let resp = http
            .post(format!("{}/api/v1/manager/sign-in", server.base_url()))
            .json(&serde_json::json!({ "name": name, "password": password }))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        let set = resp.headers()["set-cookie"].to_str().unwrap().to_string();
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age="] {
            assert!(set.contains(attr), "the cookie lacks {attr}: {set}");
        }
        Console {
            http,
            base: server.base_url(),
            cookie: set.split(';').next().unwrap().to_string(),
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manager_signs_in_is_locked_out_after_five_wrong_passwords_and_signs_out() {
    let server = ServerProcess::start(BIN, ServerOptions::default()).await;
    add_manager(&server, "wang", PASSWORD);
    let b = Browser::start(1366, 768, "en-US").await;
    b.goto(&format!("{}/manager", server.base_url())).await;
    b.wait_for("#signin-name").await;
    b.screenshot("manager-signin-1366x768-en").await;

    // Four wrong passwords say only that; the fifth locks the account.
    for _ in 0..4 {
        b.type_into("#signin-name", "wang").await;
        b.type_into("#signin-password", "not the password").await;
        b.click("#signin-button").await;
        b.wait_attr("#signin-error", "data-status", "401").await;
        b.client
            .execute(
                "document.getElementById('signin-error').dataset.status = ''",
                vec![],
            )
            .await
            .unwrap();
    }
    b.type_into("#signin-name", "wang").await;
    b.type_into("#signin-password", "not the password").await;
    b.click("#signin-button").await;
    b.wait_attr("#signin-error", "data-status", "429").await;
    let said = b.text("#signin-error").await;
    assert!(said.contains("locked until"), "{said}");
    b.screenshot("manager-locked-1366x768-en").await;

    // Locked, the right password is refused too, until another manager
    // (here the manager device's token, as a script) sets a new one.
    let http = reqwest::Client::new();
    let refused = http
        .post(format!("{}/api/v1/manager/sign-in", server.base_url()))
        .json(&serde_json::json!({ "name": "wang", "password": PASSWORD }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().contains_key("retry-after"));
    let reset = http
        .put(format!(
            "{}/api/v1/managers/wang/password",
            server.base_url()
        ))
        .bearer_auth(demo::MANAGER)
        .json(&serde_json::json!({ "password": "another long password" }))
        .send()
        .await
        .unwrap();
    assert_eq!(reset.status(), 204);

    b.type_into("#signin-name", "wang").await;
    b.type_into("#signin-password", "another long password")
        .await;
    b.click("#signin-button").await;
    b.wait_text("#who", "the signed-in name", |t| t == "wang")
        .await;
    let cookies = b.client.get_all_cookies().await.unwrap();
    let cookie = cookies
        .iter()
        .find(|c| c.name() == "hall_console")
        .expect("the console cookie");
    assert_eq!(cookie.http_only(), Some(true));
    let stolen = format!("hall_console={}", cookie.value());

    // Signing out ends the session: the same cookie is refused after.
    let console = Console {
        http: http.clone(),
        base: server.base_url(),
        cookie: stolen,
    };
    assert_eq!(console.get("/api/v1/managers").await.status(), 200);
    b.click("#sign-out").await;
    b.wait_for("#signin:not(.hidden)").await;
    eventually("the signed-out cookie is refused", || async {
        console.get("/api/v1/managers").await.status() == 401
    })
    .await;

    // The audit log names who changed the password.
    let audit: Vec<hall_api::AuditEntry> = manager_get(&server, "/api/v1/audit").await;
    assert!(
        audit
            .iter()
            .any(|a| a.action == "manager.password" && a.who == "manager"),
        "{audit:?}"
    );
    b.close().await;
}

/// A page on another site (localhost, not 127.0.0.1) that sends the
/// browser to the console's session endpoint, and posts a form that would
/// add a manager.
async fn serve_other_site(target: String) -> u16 {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let target = target.clone();
            tokio::spawn(async move {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let mut buf = [0u8; 4096];
                let n = socket.read(&mut buf).await.unwrap_or(0);
                let request = String::from_utf8_lossy(&buf[..n]);
                let body = if request.starts_with("GET /form") {
                    format!(
                        "<form id=f method=post action=\"{target}/api/v1/managers\" enctype=\"text/plain\">\
                         <input name='{{\"name\":\"mallory\",\"password\":\"' value='0123456789abc\"}}'></form>\
                         <script>document.getElementById('f').submit()</script>"
                    )
                } else {
                    format!("<script>location.href = \"{target}/api/v1/manager/session\"</script>")
                };
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(resp.as_bytes()).await;
            });
        }
    });
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_session_is_not_sent_from_another_site_nor_opened_by_counters() {
    let server = ServerProcess::start(BIN, ServerOptions::default()).await;
    add_manager(&server, "li", PASSWORD);
    let b = Browser::start(1366, 768, "en-US").await;
    sign_in_page(&b, &server, "/manager", "li").await;
    b.wait_text("#who", "the signed-in name", |t| t == "li")
        .await;

    // Typed in the same browser, the session endpoint knows who it is.
    b.goto_raw(&format!("{}/api/v1/manager/session", server.base_url()))
        .await;
    let own = b.text("body").await;
    assert!(own.contains("\"name\":\"li\""), "{own}");

    // Reached from another site's page, the browser does not send the
    // cookie (SameSite=Strict): not signed in. Lax would have sent it on
    // this top-level navigation.
    let other = serve_other_site(server.base_url()).await;
    b.goto_raw(&format!("http://localhost:{other}/")).await;
    b.wait_text("body", "the redirect to land", |t| t.contains("error"))
        .await;
    let there = b.text("body").await;
    assert!(there.contains("not signed in"), "{there}");

    // Nor can another site's form add a manager.
    b.goto_raw(&format!("http://localhost:{other}/form")).await;
    b.wait_text("body", "the form to be answered", |t| t.contains("error"))
        .await;
    let managers: Vec<hall_api::ManagerAccount> = manager_get(&server, "/api/v1/managers").await;
    assert!(managers.iter().all(|m| m.name != "mallory"), "{managers:?}");

    // Even with the cookie, a change needs the console's header.
    let console = Console::sign_in(&server, "li", PASSWORD).await;
    let bare = console
        .http
        .post(format!("{}/api/v1/managers", server.base_url()))
        .header("cookie", &console.cookie)
        .json(&serde_json::json!({ "name": "mallory", "password": "0123456789abc" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bare.status(), 403);

    // A counter's token, and a counter's PIN session, cannot open the console.
    let http = reqwest::Client::new();
    let counter = http
        .get(format!("{}/api/v1/reports", server.base_url()))
        .bearer_auth(demo::counter(1))
        .send()
        .await
        .unwrap();
    assert_eq!(counter.status(), 403);
    let manager = server.client(demo::MANAGER);
    manager.set_pin(2, "1357").await.unwrap();
    let pin_session = server.client("").sign_in(2, "1357").await.unwrap();
    let as_bearer = http
        .get(format!("{}/api/v1/managers", server.base_url()))
        .bearer_auth(&pin_session.token)
        .send()
        .await
        .unwrap();
    assert_eq!(as_bearer.status(), 403);
    let as_cookie = http
        .get(format!("{}/api/v1/manager/session", server.base_url()))
        .header("cookie", format!("hall_console={}", pin_session.token))
        .send()
        .await
        .unwrap();
    assert_eq!(as_cookie.status(), 401);
    let page = http
        .get(format!("{}/manager/daily/2026-12-01", server.base_url()))
        .bearer_auth(&pin_session.token)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_view_follows_tickets_counters_and_devices_without_a_reload() {
    let server = ServerProcess::start(BIN, ServerOptions::default()).await;
    add_manager(&server, "zhao", PASSWORD);
    let kiosk = server.client(demo::KIOSK);
    let b = Browser::start(1920, 1080, "zh-CN").await;
    sign_in_page(&b, &server, "/manager", "zhao").await;
    let waiting = "#now-services tr[data-service='pay'] td[data-k='waiting']";
    b.wait_text(waiting, "nobody waiting", |t| t == "0").await;

    kiosk
        .issue_ticket(&IssueTicket::new("pay", "live-1"))
        .await
        .unwrap();
    kiosk
        .issue_ticket(&IssueTicket::new("pay", "live-2"))
        .await
        .unwrap();
    b.wait_text(waiting, "two waiting", |t| t == "2").await;

    let called = server
        .client(&demo::counter(2))
        .call_next(2)
        .await
        .unwrap()
        .unwrap();
    b.wait_text(
        "#now-counters [data-counter='2'] [data-k='current']",
        "the called ticket at counter 2",
        |t| t == called.number,
    )
    .await;
    b.wait_text(waiting, "one waiting", |t| t == "1").await;

    // A kiosk out of paper is an alert a manager acts on.
    server
        .client(demo::KIOSK)
        .heartbeat(&Heartbeat {
            health: DeviceHealth::Fault,
            printer: Some(PrinterState::PaperOut),
            message: Some("printer out of paper: load a new roll".into()),
            interval_s: 30,
            version: None,
        })
        .await
        .unwrap();
    b.wait_for("#alerts li[data-kind='paper_out']").await;

    // Close a service for today from the console: the kiosk's view of the
    // hall says so, and its tickets are refused. Then a notice for the boards.
    b.click("#now-services tr[data-service='transfer'] td[data-k='today'] button")
        .await;
    b.wait_for("#now-services tr[data-service='transfer'] [data-k='closed']")
        .await;
    let kiosk_view = kiosk.hall().await.unwrap();
    let transfer = kiosk_view
        .services
        .iter()
        .find(|s| s.id == "transfer")
        .unwrap();
    assert_eq!(
        transfer.unavailable,
        Some(hall_api::Unavailable::ClosedToday)
    );
    b.type_into("#notice-zh", "今日过户业务暂停").await;
    b.type_into("#notice-en", "No changes of owner today").await;
    b.click("#notice-form button[type='submit']").await;
    b.wait_text("#notice-now", "the notice shown", |t| {
        t.contains("今日过户业务暂停")
    })
    .await;
    b.screenshot("manager-now-1920x1080-zh").await;
    b.set_viewport(1366, 768).await;
    b.screenshot("manager-now-1366x768-zh").await;
    b.click("#lang-toggle").await;
    b.wait_text(
        "#now-counters [data-counter='2'] [data-k='state']",
        "English",
        |t| t == "Open",
    )
    .await;
    b.screenshot("manager-now-1366x768-en").await;
    b.set_viewport(1920, 1080).await;
    b.screenshot("manager-now-1920x1080-en").await;
    b.set_viewport(800, 1280).await;
    b.screenshot("manager-now-tablet-en").await;
    b.close().await;
}

/// The figures the test expects for a group of tickets, computed from the
/// tickets alone by the README's definitions.
#[derive(Debug, Default)]
struct Expected {
    issued: u32,
    done: u32,
    no_show: u32,
    cancelled: u32,
    transferred: u32,
    called: u32,
    waits: Vec<f64>,
    within: u32,
    overdue: u32,
}

impl Expected {
    fn of<'a>(
        tickets: impl IntoIterator<Item = &'a Ticket>,
        target_min: impl Fn(&str) -> f64,
        now: jiff::Timestamp,
    ) -> Expected {
        let mut e = Expected::default();
        for t in tickets {
            let fresh = t.transferred_from.is_none();
            if fresh {
                e.issued += 1;
            }
            if t.called_at.is_some() {
                e.called += 1;
            }
            match t.status {
                TicketStatus::Done => e.done += 1,
                TicketStatus::NoShow => e.no_show += 1,
                TicketStatus::Cancelled => e.cancelled += 1,
                TicketStatus::Transferred => e.transferred += 1,
                _ => {}
            }
            let target = target_min(&t.service) * 60.0;
            if let (true, Some(called)) = (fresh, t.called_at) {
                let w = (called.as_millisecond() - t.issued_at.as_millisecond()) as f64 / 1000.0;
                e.waits.push(w);
                if w <= target {
                    e.within += 1;
                }
            }
            if fresh
                && t.status == TicketStatus::Waiting
                && (now.as_millisecond() - t.issued_at.as_millisecond()) as f64 / 1000.0 > target
            {
                e.overdue += 1;
            }
        }
        e.waits.sort_by(f64::total_cmp);
        e
    }

    fn quantile(&self, q: f64) -> Option<f64> {
        if self.waits.is_empty() {
            return None;
        }
        let pos = q * (self.waits.len() - 1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        Some(self.waits[lo] + (self.waits[hi] - self.waits[lo]) * (pos - lo as f64))
    }

    fn mean(&self) -> Option<f64> {
        (!self.waits.is_empty()).then(|| self.waits.iter().sum::<f64>() / self.waits.len() as f64)
    }

    fn level(&self) -> Option<f64> {
        let n = self.waits.len() as u32 + self.overdue;
        (n > 0).then(|| f64::from(self.within) / f64::from(n))
    }
}

/// Seconds as the console shows minutes: to 0.1 s first, as the server keeps them.
fn minutes(s: Option<f64>) -> String {
    s.map_or("—".into(), |s| {
        format!("{:.1}", ((s * 10.0).round() / 10.0) / 60.0)
    })
}

fn minutes_value(s: Option<f64>) -> Option<f64> {
    s.map(|s| (((s * 10.0).round() / 10.0) / 6.0).round() / 10.0)
}

fn share(x: Option<f64>) -> String {
    x.map_or("—".into(), |x| format!("{:.1}%", x * 100.0))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_days_report_matches_the_tickets_on_the_page_in_the_csv_the_workbook_and_on_paper() {
    // One real second is a minute in the hall, so waits are minutes long.
    let server = ServerProcess::start(
        BIN,
        ServerOptions {
            faketime: Some("@2026-12-01 01:00:00 x60".into()),
            ..Default::default()
        },
    )
    .await;
    add_manager(&server, "chen", PASSWORD);
    let kiosk = server.client(demo::KIOSK);
    let c = |n: u32| server.client(&demo::counter(n));
    let pause = |s: f64| tokio::time::sleep(Duration::from_secs_f64(s));
    let mut ids = Vec::new();
    for (i, service) in [
        "pay", "pay", "pay", "pay", "pay", "pay", "vip", "vip", "enquiry", "enquiry",
    ]
    .iter()
    .enumerate()
    {
        let (t, _) = kiosk
            .issue_ticket(&IssueTicket::new(*service, format!("seed-{i}")))
            .await
            .unwrap();
        ids.push(t.id);
        pause(0.3).await;
    }
    kiosk.cancel_ticket(ids[5]).await.unwrap();
    let act = |n: u32, action: CounterAction| {
        let client = c(n);
        async move {
            client
                .counter_action(n, action, &CounterActionBody::default())
                .await
                .unwrap_or_else(|e| panic!("counter {n} {}: {e}", action.as_str()))
        }
    };
    use CounterAction::{Complete, NoShow, Start};
    pause(1.5).await;
    c(1).call_next(1).await.unwrap().unwrap(); // V1
    act(1, Start).await;
    pause(1.0).await;
    act(1, Complete).await;
    c(2).call_next(2).await.unwrap().unwrap(); // P1
    act(2, Start).await;
    c(2).counter_action(
        2,
        CounterAction::Transfer,
        &CounterActionBody {
            service: Some("open".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    pause(3.0).await;
    c(1).call_next(1).await.unwrap().unwrap(); // V2, past its 5-minute target
    act(1, Start).await;
    pause(0.5).await;
    act(1, Complete).await;
    pause(2.0).await;
    c(2).call_next(2).await.unwrap().unwrap(); // P2
    act(2, NoShow).await;
    pause(4.0).await;
    c(2).call_next(2).await.unwrap().unwrap(); // P3, past the 10-minute target
    act(2, Start).await;
    pause(1.0).await;
    act(2, Complete).await;
    c(3).call_next(3).await.unwrap().unwrap(); // P4
    act(3, Start).await;
    act(3, Complete).await;
    c(4).call_next(4).await.unwrap().unwrap(); // P1 again, transferred to "open"
    act(4, Start).await;
    pause(2.0).await;
    act(4, Complete).await;
    c(5).call_next(5).await.unwrap().unwrap(); // E1
    act(5, Start).await;
    act(5, Complete).await;
    // P5 and E2 keep waiting, past their targets by the time anyone looks.
    pause(11.0).await;

    let manager = server.client(demo::MANAGER);
    let mut tickets = Vec::new();
    for id in &ids {
        let t = manager.ticket(*id).await.unwrap();
        if let Some(next) = t.transferred_to {
            tickets.push(manager.ticket(next).await.unwrap());
        }
        tickets.push(t);
    }
    let day = tickets[0].business_day;
    let hall = manager.hall().await.unwrap();
    let target = |id: &str| {
        f64::from(
            hall.services
                .iter()
                .find(|s| s.id == id)
                .map_or(0, |s| s.target_wait_min),
        )
    };
    // Those still waiting have waited past their targets already, so any
    // later time counts them the same as the server's "now".
    let later = jiff::Timestamp::MAX;
    let hall_e = Expected::of(&tickets, target, later);
    let pay = Expected::of(tickets.iter().filter(|t| t.service == "pay"), target, later);
    let vip = Expected::of(tickets.iter().filter(|t| t.service == "vip"), target, later);
    assert_eq!(
        (
            hall_e.issued,
            hall_e.done,
            hall_e.no_show,
            hall_e.cancelled,
            hall_e.transferred
        ),
        (10, 6, 1, 1, 1),
        "the seed did what the test meant"
    );
    assert_eq!(hall_e.overdue, 2, "P5 and E2 are past their targets");

    // The page.
    let b = Browser::start(1920, 1080, "en-US").await;
    sign_in_page(&b, &server, "/manager#reports", "chen").await;
    let figure = |key: &'static str| format!("#figures [data-figure='{key}'] .value");
    b.wait_text(&figure("issued"), "the report", |t| t == "10")
        .await;
    let expect = [
        ("done", hall_e.done.to_string()),
        ("mean_wait", minutes(hall_e.mean())),
        ("median_wait", minutes(hall_e.quantile(0.5))),
        ("p90_wait", minutes(hall_e.quantile(0.9))),
        ("service_level", share(hall_e.level())),
        (
            "no_show_rate",
            share(Some(f64::from(hall_e.no_show) / f64::from(hall_e.called))),
        ),
        (
            "transfer_rate",
            share(Some(
                f64::from(hall_e.transferred) / f64::from(hall_e.called),
            )),
        ),
        (
            "cancel_rate",
            share(Some(f64::from(hall_e.cancelled) / f64::from(hall_e.issued))),
        ),
    ];
    for (key, want) in &expect {
        assert_eq!(&b.text(&figure(key)).await, want, "figure {key}");
    }
    // The services table: the hall's row, then pay's and vip's.
    let row = |service: &str| {
        format!("#report-tables [data-table='services'] tbody tr:nth-child({service})")
    };
    for (nth, e) in [("1", &hall_e), ("2", &vip), ("3", &pay)] {
        let cells: Vec<String> = {
            let mut out = Vec::new();
            for el in b.find_all(&format!("{} td", row(nth))).await {
                out.push(el.text().await.unwrap());
            }
            out
        };
        assert_eq!(cells[1], e.issued.to_string(), "row {nth} issued");
        assert_eq!(cells[3], e.done.to_string(), "row {nth} served");
        assert_eq!(
            cells[7].parse::<f64>().ok(),
            minutes_value(e.mean()),
            "row {nth} mean wait"
        );
        assert_eq!(cells[11], share(e.level()), "row {nth} service level");
    }
    b.wait_for("#chart-waits").await;
    b.screenshot("manager-reports-1920x1080-en").await;
    b.set_viewport(1366, 768).await;
    b.screenshot("manager-reports-1366x768-en").await;
    b.click("#lang-toggle").await;
    b.wait_text("#report-title", "Chinese", |t| t.contains("报表"))
        .await;
    b.screenshot("manager-reports-1366x768-zh").await;
    b.set_viewport(1920, 1080).await;
    b.screenshot("manager-reports-1920x1080-zh").await;
    for (view, name) in [
        ("daily", "daily"),
        ("accounts", "accounts"),
        ("audit", "audit"),
    ] {
        b.click(&format!("#nav button[data-view='{view}']")).await;
        b.wait_for(&format!("#view-{view}:not(.hidden)")).await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        b.screenshot(&format!("manager-{name}-1920x1080-zh")).await;
        b.set_viewport(1366, 768).await;
        b.screenshot(&format!("manager-{name}-1366x768-zh")).await;
        b.click("#lang-toggle").await;
        tokio::time::sleep(Duration::from_millis(400)).await;
        b.screenshot(&format!("manager-{name}-1366x768-en")).await;
        b.set_viewport(1920, 1080).await;
        b.screenshot(&format!("manager-{name}-1920x1080-en")).await;
        b.click("#lang-toggle").await;
    }

    // The CSV, parsed back.
    let console = Console::sign_in(&server, "chen", PASSWORD).await;
    let csv = console
        .get(&format!(
            "/api/v1/reports/export?from={day}&to={day}&format=csv&table=services&lang=en"
        ))
        .await
        .text()
        .await
        .unwrap();
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let headers = reader.headers().unwrap().clone();
    assert_eq!(&headers[7], "Mean wait (min)");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    for (i, e) in [(0, &hall_e), (1, &vip), (2, &pay)] {
        assert_eq!(rows[i][1], e.issued.to_string());
        assert_eq!(rows[i][3], e.done.to_string());
        let mean: f64 = rows[i][7].parse().unwrap();
        assert_eq!(Some(mean), minutes_value(e.mean()), "csv row {i} mean wait");
        let level: f64 = rows[i][11].parse().unwrap();
        assert!(
            (level - e.level().unwrap()).abs() < 1e-9,
            "csv row {i} level"
        );
    }

    // The workbook, read back: numbers are numbers.
    let book = console
        .get(&format!(
            "/api/v1/reports/export?from={day}&to={day}&format=xlsx&lang=zh"
        ))
        .await
        .bytes()
        .await
        .unwrap();
    use calamine::{Data, DataType, Reader, Xlsx};
    let mut xlsx: Xlsx<_> = Xlsx::new(std::io::Cursor::new(book.to_vec())).unwrap();
    assert_eq!(
        xlsx.sheet_names(),
        [
            "services", "counters", "staff", "hours", "weekdays", "days", "arrivals", "waits"
        ]
    );
    let sheet = xlsx.worksheet_range("services").unwrap();
    assert_eq!(sheet.get((0, 1)), Some(&Data::String("取号".into())));
    for (r, e) in [(1, &hall_e), (2, &vip), (3, &pay)] {
        assert_eq!(sheet.get((r, 1)), Some(&Data::Float(f64::from(e.issued))));
        assert_eq!(sheet.get((r, 3)), Some(&Data::Float(f64::from(e.done))));
        assert_eq!(
            sheet.get((r, 7)).and_then(|d| d.as_f64()),
            minutes_value(e.mean())
        );
    }
    let days = xlsx.worksheet_range("days").unwrap();
    assert!(
        matches!(days.get((1, 0)), Some(Data::DateTime(_))),
        "dates are dates: {:?}",
        days.get((1, 0))
    );

    // The daily report printed by Chromium to PDF, then to PNG to look at.
    b.goto(&format!("{}/manager/daily/{day}", server.base_url()))
        .await;
    b.wait_for("[data-figure='Issued']").await;
    assert_eq!(b.text("[data-figure='Issued']").await, "10");
    assert_eq!(
        b.text("[data-figure='Service level']").await,
        share(hall_e.level())
    );
    let pdf = b.print_to_png("manager-daily-print-a4").await;
    assert!(pdf.len() > 10_000, "a real page, not a blank one");
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_closing_time_idle_counters_close_and_the_days_report_is_kept_and_announced() {
    let sim = BillingSim::start(&workspace_bin("billing-sim"), free_port()).await;
    let config = linked_hall(sim.port)
        .replace("[hall]\n", "[hall]\ncloses_at = \"18:00\"\n")
        .replace(
            "events = [\"ticket.called\"",
            "events = [\"day.reported\", \"ticket.called\"",
        );
    // 17:59 in the hall (Asia/Shanghai), ten times as fast: 18:00 in 6 s.
    let server = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(config),
            faketime: Some("@2026-12-01 09:59:00 x10".into()),
            ..Default::default()
        },
    )
    .await;
    let kiosk = server.client(demo::KIOSK);
    for i in 0..3 {
        kiosk
            .issue_ticket(&IssueTicket::new("pay", format!("late-{i}")))
            .await
            .unwrap();
    }
    let counter = server.client(&demo::counter(2));
    counter.call_next(2).await.unwrap().unwrap();
    counter
        .counter_action(2, CounterAction::Start, &CounterActionBody::default())
        .await
        .unwrap();

    // Closing time passes: every idle counter closes; counter 2 is still serving.
    let manager = server.client(demo::MANAGER);
    let closed = |hall: &hall_api::HallSnapshot, n: u32| {
        hall.counters
            .iter()
            .find(|c| c.number == n)
            .is_some_and(|c| c.state == hall_api::CounterState::Closed)
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let hall = manager.hall().await.unwrap();
        if [1, 3, 4, 5].iter().all(|&n| closed(&hall, n)) {
            assert!(!closed(&hall, 2), "a counter still serving stays open");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the counters never closed: {:?}",
            hall.counters
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // ...and closes once its customer is served.
    counter
        .counter_action(2, CounterAction::Complete, &CounterActionBody::default())
        .await
        .unwrap();
    eventually("counter 2 closes after its last customer", || async {
        closed(&manager.hall().await.unwrap(), 2)
    })
    .await;

    // The report was kept, and head office's link was told.
    let http = reqwest::Client::new();
    let kept: Vec<hall_api::KeptReport> = manager_get(&server, "/api/v1/reports/kept").await;
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].date, jiff::civil::date(2026, 12, 1));
    let log = sim.wait_for(1).await;
    let reported = log["events"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "day.reported")
        .unwrap_or_else(|| panic!("no day.reported among {log}"));
    assert!(reported["event_id"].as_i64().unwrap() > 0);
    let events = manager.events(Some(0)).await.unwrap();
    let mut events = events;
    let report = loop {
        let e = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("the event log")
            .unwrap()
            .unwrap();
        if e.kind == hall_api::EventKind::DayReported {
            break e.report.expect("day.reported carries the report");
        }
    };
    assert_eq!(report.issued, 3);
    assert_eq!(report.counters_closed, vec![1, 3, 4, 5]);

    // The kept workbook and the printable page.
    let book = http
        .get(format!("{}{}", server.base_url(), report.workbook))
        .bearer_auth(demo::MANAGER)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    use calamine::{Data, Reader, Xlsx};
    let mut xlsx: Xlsx<_> = Xlsx::new(std::io::Cursor::new(book.to_vec())).unwrap();
    let services = xlsx.worksheet_range("services").unwrap();
    assert_eq!(services.get((1, 1)), Some(&Data::Float(3.0)));
    let page = http
        .get(format!("{}{}", server.base_url(), report.page))
        .bearer_auth(demo::MANAGER)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("日报 · Daily report 2026-12-01"), "{page}");

    // In the console the kept day is two clicks from signing in: the
    // daily tab, then its page.
    add_manager(&server, "sun", PASSWORD);
    let b = Browser::start(1366, 768, "zh-CN").await;
    sign_in_page(&b, &server, "/manager", "sun").await;
    b.wait_text("#who", "the signed-in name", |t| t == "sun")
        .await;
    b.click("#nav button[data-view='daily']").await;
    let link = b
        .wait_for("#kept-list li[data-date='2026-12-01'] a.print")
        .await;
    assert_eq!(
        link.attr("href").await.unwrap().as_deref(),
        Some("/manager/daily/2026-12-01")
    );
    b.wait_for("#kept-list li[data-date='2026-12-01'] a.workbook")
        .await;
    b.screenshot("manager-daily-kept-1366x768-zh").await;
    b.click("#lang-toggle").await;
    b.wait_text("#nav button[data-view='daily']", "English", |t| {
        t == "Daily"
    })
    .await;
    b.screenshot("manager-daily-kept-1366x768-en").await;
    b.click("#kept-list li[data-date='2026-12-01'] a.print")
        .await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_service_closed_for_today_refuses_tickets_and_the_notice_reaches_the_stream() {
    let server = ServerProcess::start(BIN, ServerOptions::default()).await;
    let manager = server.client(demo::MANAGER);
    let kiosk = server.client(demo::KIOSK);
    let http = reqwest::Client::new();
    let post = |path: String, token: &'static str| {
        let http = http.clone();
        async move {
            http.post(path)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let base = server.base_url();
    kiosk
        .issue_ticket(&IssueTicket::new("open", "before"))
        .await
        .unwrap();
    assert_eq!(
        post(
            format!("{base}/api/v1/services/open/close-today"),
            demo::KIOSK
        )
        .await,
        403
    );
    assert_eq!(
        post(
            format!("{base}/api/v1/services/open/close-today"),
            demo::MANAGER
        )
        .await,
        204
    );
    assert_eq!(
        post(
            format!("{base}/api/v1/services/open/close-today"),
            demo::MANAGER
        )
        .await,
        409,
        "closed already"
    );
    assert_eq!(
        post(
            format!("{base}/api/v1/services/nope/close-today"),
            demo::MANAGER
        )
        .await,
        404
    );
    let refused = kiosk
        .issue_ticket(&IssueTicket::new("open", "after"))
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("closed for today"), "{refused}");
    // Those already waiting are still served.
    let called = server
        .client(&demo::counter(4))
        .call_next(4)
        .await
        .unwrap()
        .expect("the customer who took a number before the closing");
    assert_eq!(called.service, "open");
    assert_eq!(
        post(
            format!("{base}/api/v1/services/open/reopen-today"),
            demo::MANAGER
        )
        .await,
        204
    );
    kiosk
        .issue_ticket(&IssueTicket::new("open", "again"))
        .await
        .unwrap();

    let mut events = manager.events(Some(0)).await.unwrap();
    let set = http
        .put(format!("{base}/api/v1/notice"))
        .bearer_auth(demo::MANAGER)
        .json(&serde_json::json!({ "zh": "今日停电检修", "en": "Power works today" }))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 204);
    let bad = http
        .put(format!("{base}/api/v1/notice"))
        .bearer_auth(demo::MANAGER)
        .json(&serde_json::json!({ "zh": "", "en": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        manager.hall().await.unwrap().notice.map(|n| n.en),
        Some("Power works today".into())
    );
    let mut kinds = Vec::new();
    loop {
        let e = tokio::time::timeout(Duration::from_secs(5), events.next())
            .await
            .expect("the stream")
            .unwrap()
            .unwrap();
        kinds.push(e.kind);
        if e.kind == hall_api::EventKind::NoticeChanged {
            assert_eq!(e.notice.map(|n| n.zh), Some("今日停电检修".into()));
            break;
        }
    }
    assert!(kinds.contains(&hall_api::EventKind::ServiceClosed));
    assert!(kinds.contains(&hall_api::EventKind::ServiceReopened));
    let audit: Vec<hall_api::AuditEntry> = manager_get(&server, "/api/v1/audit").await;
    let actions: Vec<&str> = audit.iter().map(|a| a.action.as_str()).collect();
    assert_eq!(
        actions,
        ["notice.set", "service.reopened", "service.closed"],
        "newest first, the refused attempts not at all"
    );
}

/// The manager sets a closure in the console (停电, an hour from now on the
/// hall's clock): the kiosks' snapshot greys every service out with the
/// reason, tickets are refused; lifted from the list, the hall opens again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closure_set_in_the_console_closes_the_hall_until_lifted() {
    // 09:00 in the hall (Asia/Shanghai), Monday 2027-03-01.
    let server = ServerProcess::start(
        BIN,
        ServerOptions {
            faketime: Some("@2027-03-01 01:00:00".into()),
            ..Default::default()
        },
    )
    .await;
    add_manager(&server, "zhao", PASSWORD);
    let b = Browser::start(1920, 1080, "zh-CN").await;
    sign_in_page(&b, &server, "/manager", "zhao").await;
    b.wait_text("#closure-list", "no closures yet", |t| {
        t.contains("没有已设定的暂停")
    })
    .await;
    // The hall's local times: the page turns them into instants itself.
    b.pick("#closure-from", "2027-03-01T08:30").await;
    b.pick("#closure-until", "2027-03-01T10:00").await;
    b.type_into("#closure-zh", "停电").await;
    b.type_into("#closure-en", "Power cut").await;
    b.click("#closure-form button[type=submit]").await;
    b.wait_text("#closure-list", "the closure listed", |t| {
        t.contains("08:30") && t.contains("10:00") && t.contains("停电 · Power cut")
    })
    .await;
    b.wait_text(
        "#now-services tr[data-service='pay'] [data-k='calendar']",
        "the service marked closed",
        |t| t == "停电",
    )
    .await;
    b.screenshot("manager-1920-zh-closure").await;
    let kiosk = server.client(demo::KIOSK);
    let pay = kiosk
        .hall()
        .await
        .unwrap()
        .services
        .into_iter()
        .find(|s| s.id == "pay")
        .unwrap();
    assert_eq!(pay.unavailable, Some(hall_api::Unavailable::Closure));
    assert_eq!(
        pay.opens_at.unwrap(),
        "2027-03-01T02:00:00Z".parse::<jiff::Timestamp>().unwrap(),
        "10:00 in the hall, as typed"
    );
    let refused = kiosk
        .issue_ticket(&IssueTicket::new("pay", "dark"))
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("Power cut"), "{refused}");

    b.click("#closure-list button[data-closure]").await;
    b.wait_text("#closure-list", "lifted", |t| {
        t.contains("没有已设定的暂停")
    })
    .await;
    kiosk
        .issue_ticket(&IssueTicket::new("pay", "light"))
        .await
        .expect("open again once lifted");
    b.close().await;
}
