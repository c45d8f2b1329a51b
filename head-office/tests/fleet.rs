//! Three real halls (queue-server processes), nats-server with JetStream
//! and TLS, PostgreSQL and head office, all on loopback: every event
//! reaches PostgreSQL exactly once and in each hall's order, through a
//! NATS outage and a hall killed meanwhile; each hall's day from head
//! office equals the hall's own; a hall's key cannot write another
//! hall's history, and plain text is refused.

use std::io::{BufRead, BufReader, Write};
use std::time::Duration;

use hall_api::{CounterAction, CounterActionBody, DayStats, IssueTicket};
use hall_testkit::office::{ADMIN, Company, NatsUser, OfficeClient};
use hall_testkit::{ServerOptions, ServerProcess, demo, eventually, queue_server_bin};
use head_office::users::WRONG_BEFORE_LOCK;

const HALLS: [&str; 3] = ["east-1", "west-2", "north-3"];

/// A hall of the demo's shape that ships to `company`'s head office.
async fn start_hall(company: &Company, hall: &str) -> ServerProcess {
    ServerProcess::start(
        queue_server_bin(),
        ServerOptions {
            config: Some(company.hall_config(queue_server::config::DEMO_TOML, hall)),
            ..Default::default()
        },
    )
    .await
}

/// A round of a hall's work: four customers, three counters calling,
/// serving, one transfer, one hold and a pause.
async fn work(hall: &ServerProcess, round: u32) {
    let kiosk = hall.client("demo-kiosk");
    for (i, service) in ["pay", "open", "enquiry", "vip"].into_iter().enumerate() {
        kiosk
            .issue_ticket(&IssueTicket::new(service, format!("r{round}-{i}")))
            .await
            .unwrap();
    }
    for c in 1..=3u32 {
        let counter = hall.client(&demo::counter(c));
        let act = |a: CounterAction, body: CounterActionBody| {
            let counter = counter.clone();
            async move { counter.counter_action(c, a, &body).await.unwrap() }
        };
        let Some(t) = counter.call_next(c).await.unwrap() else {
            continue;
        };
        act(CounterAction::Start, CounterActionBody::default()).await;
        match (c, round % 2) {
            (2, 0) => {
                act(
                    CounterAction::Transfer,
                    CounterActionBody {
                        service: Some("enquiry".into()),
                        ..Default::default()
                    },
                )
                .await;
            }
            (3, _) => {
                act(CounterAction::Hold, CounterActionBody::default()).await;
                act(
                    CounterAction::ResumeHeld,
                    CounterActionBody::resuming(t.number.clone()),
                )
                .await;
                act(CounterAction::Complete, CounterActionBody::default()).await;
            }
            _ => {
                act(CounterAction::Complete, CounterActionBody::default()).await;
            }
        }
    }
    let four = hall.client(&demo::counter(4));
    four.counter_action(
        4,
        CounterAction::Pause,
        &CounterActionBody::pausing_for("break"),
    )
    .await
    .unwrap();
    four.counter_action(4, CounterAction::Resume, &CounterActionBody::default())
        .await
        .unwrap();
}

/// Serves everyone left and closes every counter, so that the day's
/// figures no longer move with the clock.
async fn close_the_day(hall: &ServerProcess) {
    for c in 1..=5u32 {
        let counter = hall.client(&demo::counter(c));
        while let Some(_t) = counter.call_next(c).await.unwrap() {
            for a in [CounterAction::Start, CounterAction::Complete] {
                counter
                    .counter_action(c, a, &CounterActionBody::default())
                    .await
                    .unwrap();
            }
        }
    }
    let manager = hall.client("demo-manager");
    let snapshot = manager.hall().await.unwrap();
    assert!(
        snapshot.services.iter().all(|s| s.waiting == 0),
        "someone still waits: {:?}",
        snapshot.services
    );
    for c in 1..=5u32 {
        hall.client(&demo::counter(c))
            .counter_action(c, CounterAction::Close, &CounterActionBody::default())
            .await
            .unwrap();
    }
}

/// The day's figures both sides can know: appointments are not shipped
/// (bookings are not events), nor a rating's follow-up.
fn comparable(stats: &DayStats) -> serde_json::Value {
    let mut v = serde_json::to_value(stats).unwrap();
    let o = v.as_object_mut().unwrap();
    for key in ["appointments", "low_rated", "rating_flags"] {
        o.remove(key);
    }
    v
}

/// The hall's own figures for its business day today.
async fn own_day(hall: &ServerProcess) -> DayStats {
    let manager = hall.client("demo-manager");
    let today = manager.hall().await.unwrap().hall.business_day;
    manager.day_stats(today).await.unwrap()
}

async fn office_day(office: &OfficeClient, hall: &str) -> DayStats {
    office
        .json(&format!("/api/v1/halls/{hall}/stats/day"))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_of_three_halls_arrives_once_in_order_through_a_nats_outage_and_a_crash() {
    let mut company = Company::start(&HALLS);
    let mut halls = Vec::new();
    for h in HALLS {
        halls.push(start_hall(&company, h).await);
    }
    for round in 0..2 {
        for hall in &halls {
            work(hall, round).await;
        }
    }

    // Head office away: the halls serve as before, their events wait.
    company.nats.stop();
    for round in 2..4 {
        for hall in &halls {
            work(hall, round).await;
        }
    }
    let backlog = |hall: &ServerProcess| {
        let manager = hall.client("demo-manager");
        async move {
            let text = manager.get_text("/metrics").await.unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("queue_head_office_backlog "))
                .map(|n| n.parse::<i64>().unwrap())
                .expect("the backlog in /metrics")
        }
    };
    assert!(
        backlog(&halls[0]).await > 0,
        "nothing waits while NATS is down"
    );
    // ...and one hall loses power meanwhile.
    halls[1].kill();
    halls[1].start_again().await;
    work(&halls[1], 4).await;
    company.nats.start_again();
    for hall in &halls {
        work(hall, 5).await;
    }
    for hall in &halls {
        close_the_day(hall).await;
    }

    let hq = company.office.admin().await;
    for (hall, id) in halls.iter().zip(HALLS) {
        let last = hall
            .client("demo-manager")
            .hall()
            .await
            .unwrap()
            .last_event_id;
        let pg = &company.pg;
        let stored = || {
            pg.psql(&format!(
                "SELECT count(*) FROM events WHERE hall_id = '{id}'"
            ))
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while stored() != last.to_string() {
            assert!(
                std::time::Instant::now() < deadline,
                "{} of {last} events of {id} in PostgreSQL after 60 s\nhall:\n{}\nhead office:\n{}\nnats:\n{}",
                stored(),
                hall.log(),
                company.office.log(),
                company.nats.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Once each: ids 1..=last, no gap, no repeat (the key forbids
        // repeats; count = max = last rules out gaps).
        assert_eq!(
            pg.psql(&format!(
                "SELECT count(DISTINCT event_id), min(event_id), max(event_id) FROM events WHERE hall_id = '{id}'"
            )),
            format!("{last}|1|{last}")
        );
        // In the hall's order: each row arrived right after its predecessor.
        assert_eq!(
            pg.psql(&format!(
                "SELECT count(*) FROM (SELECT event_id - lag(event_id) OVER (ORDER BY arrival) AS step \
                 FROM events WHERE hall_id = '{id}') s WHERE step <> 1"
            )),
            "0",
            "{id}'s events arrived out of order"
        );
        assert_eq!(
            pg.psql(&format!(
                "SELECT out_of_order FROM halls WHERE hall_id = '{id}'"
            )),
            "0"
        );
        eventually(&format!("{id}'s backlog shipped"), || async {
            backlog(hall).await == 0
        })
        .await;

        // The same day, computed at head office from the events alone.
        let own = own_day(hall).await;
        let office = office_day(&hq, id).await;
        assert!(own.hall.issued >= 20, "{id} issued {}", own.hall.issued);
        assert!(own.hall.transferred > 0 && own.hall.held > 0);
        assert_eq!(comparable(&office), comparable(&own), "{id}'s day differs");
    }

    // The live view agrees with what the halls did.
    let now: Vec<head_office::queries::HallNow> = hq.json("/api/v1/halls").await;
    assert_eq!(now.len(), 3);
    for (hall, id) in halls.iter().zip(HALLS) {
        let h = now
            .iter()
            .find(|h| h.hall == id)
            .expect("every hall in the view");
        let own = own_day(hall).await;
        assert_eq!(h.waiting, 0);
        assert_eq!(h.issued_today, i64::from(own.hall.issued), "{}", h.hall);
        assert_eq!(h.done_today, i64::from(own.hall.done), "{}", h.hall);
        assert_eq!(h.counters_open, 0);
        assert_eq!(h.longest_wait_s, None);
    }
    assert_eq!(company.pg.psql("SELECT count(*) FROM refused"), "0");
    drop(halls);
    company.office.stop();
    company.pg.stop();
    company.nats.stop();
    let _ = &company.dir;
}

/// Connects as `user` and publishes one core NATS message to `subject`;
/// answers the errors the server sent back.
async fn publish_as(company: &Company, user: &NatsUser, subject: &str, body: &str) -> Vec<String> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let client = async_nats::ConnectOptions::with_nkey(user.seed().trim().to_string())
        .require_tls(true)
        .add_root_certificates(company.ca.ca.clone())
        .custom_inbox_prefix(format!("_INBOX_{}", user.hall.as_deref().unwrap_or("x")))
        .event_callback(move |event| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(event.to_string());
            }
        })
        .connect(company.nats.url())
        .await
        .unwrap();
    client
        .publish(subject.to_string(), body.to_string().into())
        .await
        .unwrap();
    client.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut errors = Vec::new();
    while let Ok(e) = rx.try_recv() {
        errors.push(e);
    }
    errors
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hall_writes_only_its_own_history_and_never_in_plain_text() {
    let company = Company::start(&HALLS);
    let east = company.user("east-1");
    eventually("head office set up the halls' stream", || async {
        reqwest::get(format!("{}/healthz", company.office.base_url()))
            .await
            .is_ok_and(|r| r.status().is_success())
            && company.office.log().contains("head office ready")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    // East's key, west's subject: the server refuses it.
    let forged = r#"{"hall":"west-2","event":{"id":1,"kind":"ticket.issued","at":"2026-12-01T02:00:00Z","ticket":null,"counter":null,"by":"kiosk-1"}}"#;
    let errors = publish_as(&company, east, "halls.west-2.events", forged).await;
    assert!(
        errors.iter().any(|e| e.contains("Permissions Violation")),
        "no permissions violation: {errors:?}"
    );
    // Nor may it read anything but its own inbox.
    let client = async_nats::ConnectOptions::with_nkey(east.seed().trim().to_string())
        .require_tls(true)
        .add_root_certificates(company.ca.ca.clone())
        .connect(company.nats.url())
        .await
        .unwrap();
    let _sub = client.subscribe("halls.>").await.unwrap();
    client.flush().await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        company.nats.log().contains("Subscription Violation")
            || company.nats.log().contains("Permissions Violation"),
        "the server let east subscribe to every hall: {}",
        company.nats.log()
    );

    // Under its own subject but naming another hall: head office refuses it.
    let errors = publish_as(&company, east, "halls.east-1.events", forged).await;
    assert!(
        !errors.iter().any(|e| e.contains("Violation")),
        "{errors:?}"
    );
    let pg = &company.pg;
    eventually("head office refused the event", || async {
        pg.psql("SELECT count(*) FROM refused") == "1"
    })
    .await;
    assert!(
        pg.psql("SELECT reason FROM refused")
            .contains("the subject is hall east-1's, the event says hall west-2"),
        "{}",
        pg.psql("SELECT reason FROM refused")
    );
    assert_eq!(pg.psql("SELECT count(*) FROM events"), "0");

    // Plain text: the server announces TLS as required and drops a
    // client that goes on without it, before any sign-in is read.
    let mut plain = std::net::TcpStream::connect(company.nats.addr).unwrap();
    plain
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(plain.try_clone().unwrap());
    let mut info = String::new();
    reader.read_line(&mut info).unwrap();
    assert!(info.contains("\"tls_required\":true"), "{info}");
    plain
        .write_all(b"CONNECT {\"verbose\":false}\r\nPING\r\n")
        .unwrap();
    let mut answer = String::new();
    let _ = reader.read_line(&mut answer);
    assert!(
        !answer.starts_with("PONG") && !answer.starts_with("+OK"),
        "the server answered a plain-text client: {answer:?}"
    );

    // And a hall's server refuses a plain-text address in its configuration.
    let config = format!(
        "{}\n[head_office]\nhall_id = \"east-1\"\nurl = \"nats://{}\"\nnkey_seed_file = \"{}\"\n",
        queue_server::config::DEMO_TOML,
        company.nats.addr,
        east.seed_file.display()
    );
    let path = company.dir.path().join("plain.toml");
    std::fs::write(&path, config).unwrap();
    let (ok, _, err) = hall_testkit::run_to_end(
        &queue_server_bin(),
        &["--config", path.to_str().unwrap(), "check-config"],
    );
    assert!(!ok);
    assert!(err.contains("is not a tls:// address"), "{err}");
}

/// The figure in `column` (1-based) of `hall`'s row on head office's page.
async fn shown(browser: &hall_testkit::browser::Browser, hall: &str, column: u32) -> String {
    browser
        .text(&format!(
            "#halls tr[data-hall='{hall}'] td:nth-child({column})"
        ))
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_company_page_follows_a_call_in_a_hall_as_it_happens() {
    let halls_ids = ["east-1", "west-2"];
    let mut company = Company::start(&halls_ids);
    let east = start_hall(&company, "east-1").await;
    let west = start_hall(&company, "west-2").await;
    let hq = company.office.admin().await;
    work(&east, 0).await;
    work(&west, 1).await;
    // Two more wait in the east, none is called yet.
    let kiosk = east.client("demo-kiosk");
    for key in ["late-1", "late-2"] {
        kiosk
            .issue_ticket(&IssueTicket::new("pay", key))
            .await
            .unwrap();
    }
    let waiting_in = |hall: &ServerProcess| {
        let manager = hall.client("demo-manager");
        async move {
            let snapshot = manager.hall().await.unwrap();
            snapshot.services.iter().map(|s| s.waiting).sum::<u32>()
        }
    };
    let (east_waiting, west_waiting) = (waiting_in(&east).await, waiting_in(&west).await);
    assert!(east_waiting >= 2);

    let browser = hall_testkit::browser::Browser::start(1440, 900, "zh-CN").await;
    browser.goto(&company.office.base_url()).await;
    // The page asks who is there first.
    browser.wait_for("#sign-in:not([hidden])").await;
    browser.screenshot("head-office-zh-sign-in").await;
    browser.type_into("#name", ADMIN.0).await;
    browser.type_into("#password", ADMIN.1).await;
    browser.click("#sign-in-button").await;
    browser
        .wait_text("#who-name", "the signed-in user", |t| t == ADMIN.0)
        .await;
    assert!(
        !browser.find("#sign-in").await.is_displayed().await.unwrap(),
        "the sign-in form stays on screen after signing in"
    );
    for (hall, waiting, issued) in [
        ("east-1", east_waiting, own_day(&east).await.hall.issued),
        ("west-2", west_waiting, own_day(&west).await.hall.issued),
    ] {
        browser
            .wait_text(
                &format!("#halls tr[data-hall='{hall}'] td.waiting"),
                &format!("{hall}'s {waiting} waiting"),
                |t| t == waiting.to_string(),
            )
            .await;
        assert_eq!(
            shown(&browser, hall, 5).await,
            issued.to_string(),
            "{hall} issued"
        );
    }
    for (hall, process) in [("east-1", &east), ("west-2", &west)] {
        let snapshot = process.client("demo-manager").hall().await.unwrap();
        let open = snapshot
            .counters
            .iter()
            .filter(|c| c.state == hall_api::CounterState::Open)
            .count();
        assert_eq!(
            shown(&browser, hall, 8).await,
            open.to_string(),
            "{hall}'s open counters"
        );
    }
    browser
        .wait_text("#live", "the live stream open", |t| t.contains("实时"))
        .await;
    browser.screenshot("head-office-zh-halls").await;

    // A call in the east: the page shows one fewer waiting, unreloaded.
    let called = east.client(&demo::counter(1)).call_next(1).await.unwrap();
    assert!(called.is_some());
    let now_waiting = waiting_in(&east).await;
    assert_eq!(now_waiting, east_waiting - 1);
    browser
        .wait_text(
            "#halls tr[data-hall='east-1'] td.waiting",
            &format!("east-1's {now_waiting} waiting after the call"),
            |t| t == now_waiting.to_string(),
        )
        .await;

    // The east's kiosk runs out of paper: head office sees it at once, in
    // the kiosk's own words, and the west stays clear.
    let paper_out = "printer out of paper: load a new roll";
    kiosk
        .heartbeat(&hall_api::Heartbeat {
            health: hall_api::DeviceHealth::Fault,
            printer: Some(hall_api::PrinterState::PaperOut),
            message: Some(paper_out.into()),
            interval_s: 30,
            version: None,
        })
        .await
        .unwrap();
    browser
        .wait_text(
            "#halls tr[data-hall='east-1'] td.devices",
            "the east's kiosk in fault",
            |t| t == format!("kiosk-1: {paper_out}"),
        )
        .await;
    assert_eq!(shown(&browser, "west-2", 9).await, "✓");
    assert!(browser.text("#summary").await.contains("1 厅设备故障"));
    let now: Vec<head_office::queries::HallNow> = hq.json("/api/v1/halls").await;
    let east_now = now.iter().find(|h| h.hall == "east-1").unwrap();
    assert_eq!(east_now.devices.len(), 1, "{:?}", east_now.devices);
    assert_eq!(east_now.devices[0].health, hall_api::DeviceHealth::Fault);
    assert!(
        now.iter().all(|h| !h.silent),
        "a hall counted silent: {now:?}"
    );
    browser.screenshot("head-office-zh-kiosk-fault").await;

    // A notice pushed from the page to the east alone reaches its boards.
    browser.type_into("#push-zh", "今日下午系统维护").await;
    browser
        .type_into("#push-en", "Maintenance this afternoon")
        .await;
    browser.type_into("#push-halls", "east-1").await;
    browser.click("#push-button").await;
    browser
        .wait_text(
            "#pushes tbody tr:first-child td.applied",
            "the push applied",
            |t| t == "1",
        )
        .await;
    assert_eq!(
        browser
            .text("#pushes tbody tr:first-child td.pending")
            .await,
        "0"
    );
    let notice = east.client("demo-manager").hall().await.unwrap().notice;
    assert_eq!(notice.unwrap().en, "Maintenance this afternoon");
    assert!(
        west.client("demo-manager")
            .hall()
            .await
            .unwrap()
            .notice
            .is_none()
    );
    browser.screenshot("head-office-zh-pushed").await;

    // The east's day, as the hall itself counts it.
    browser.click("#halls tr[data-hall='east-1']").await;
    let own = own_day(&east).await;
    browser
        .wait_text("#day-title", "the east's day", |t| {
            t.contains(&own.date.to_string())
        })
        .await;
    let figures = browser.text("#day-figures").await;
    assert!(
        figures.contains(&format!("取号 Issued\n{}", own.hall.issued)),
        "{figures}"
    );
    assert!(
        figures.contains(&format!("办结 Done\n{}", own.hall.done)),
        "{figures}"
    );
    let services = browser.find_all("#day-services tbody tr").await;
    assert_eq!(services.len(), own.services.len());
    let pay = own.services.iter().find(|s| s.service == "pay").unwrap();
    let pay_row = browser.text("#day-services tbody tr:nth-child(2)").await;
    assert!(
        pay_row.starts_with(&format!(
            "pay ≤ 10 min {} {} {}",
            pay.stats.issued, pay.stats.called, pay.stats.done
        )),
        "{pay_row}"
    );
    browser.screenshot("head-office-zh-east-day").await;

    // Head office away: the east's manager sees in the console that its
    // events wait, and how far shipping got.
    add_manager(&east, "lin");
    company.nats.stop();
    kiosk
        .issue_ticket(&IssueTicket::new("pay", "while-away"))
        .await
        .unwrap();
    browser.goto(&format!("{}/manager", east.base_url())).await;
    browser.type_into("#signin-name", "lin").await;
    browser
        .type_into("#signin-password", "a long hall password")
        .await;
    browser.click("#signin-button").await;
    let alert = browser
        .wait_text(
            "#alerts li[data-kind='head_office']",
            "head office unreachable",
            |t| t.starts_with("总部连不上"),
        )
        .await;
    let status: hall_api::head_office::ShippingStatus = reqwest::Client::new()
        .get(format!("{}/api/v1/head-office", east.base_url()))
        .bearer_auth("demo-manager")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!status.connected && status.backlog >= 1, "{status:?}");
    assert!(
        alert.contains(&format!("{} 条事件待传", status.backlog)),
        "{alert}"
    );
    let line = browser.text("#shipping").await;
    assert_eq!(
        line,
        format!(
            "传送总部 east-1：已传至事件 {}，待传 {}",
            status.shipped_through, status.backlog
        )
    );
    browser.screenshot("manager-zh-head-office-away").await;
    browser.close().await;
}

/// Adds a manager account to a running hall, the password on stdin. The
/// server's writer may hold the database a moment under load; the command
/// then says to retry, and a person would.
fn add_manager(hall: &ServerProcess, name: &str) {
    use std::process::{Command, Stdio};
    let mut last = String::new();
    for _ in 0..10 {
        let mut child = Command::new(queue_server_bin())
            .arg("--config")
            .arg(hall.dir.path().join("hall.toml"))
            .arg("--db")
            .arg(hall.db_path())
            .args(["manager", "add", name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "a long hall password").unwrap();
        let out = child.wait_with_output().unwrap();
        if out.status.success() {
            return;
        }
        last = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(last.contains("database is locked"), "{last}");
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!("manager add kept failing: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn company_users_sign_in_and_wrong_passwords_lock_the_account() {
    let company = Company::start(&[]);
    let office = &company.office;
    let url = |path: &str| format!("{}{path}", office.base_url());

    // Nothing but the page, its health and the sign-in without a session.
    let r = reqwest::get(url("/api/v1/halls")).await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("sign in"));
    assert_eq!(reqwest::get(url("/")).await.unwrap().status(), 200);

    // Wrong passwords: four are refused, the fifth locks the account, and
    // while locked even the right password is refused, saying until when.
    for _ in 1..WRONG_BEFORE_LOCK {
        let e = office
            .sign_in(ADMIN.0, "not the password")
            .await
            .err()
            .unwrap();
        assert!(
            e.starts_with("401") && e.contains("wrong name or password"),
            "{e}"
        );
    }
    let e = office
        .sign_in(ADMIN.0, "not the password")
        .await
        .err()
        .unwrap();
    assert!(e.starts_with("429") && e.contains("locked"), "{e}");
    let e = office.sign_in(ADMIN.0, ADMIN.1).await.err().unwrap();
    assert!(e.starts_with("429") && e.contains("locked for"), "{e}");
    // A name nobody has is refused in the same words as a wrong password.
    let e = office.sign_in("nobody", ADMIN.1).await.err().unwrap();
    assert!(e.contains("wrong name or password"), "{e}");

    // A new password lifts the lock; the old one no longer opens.
    let new = "another long password";
    let out = office.user_command(&["password", ADMIN.0], Some(new));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(office.sign_in(ADMIN.0, ADMIN.1).await.is_err());
    let admin = office.sign_in(ADMIN.0, new).await.unwrap();
    let session: hall_api::ManagerSession = admin.json("/api/v1/session").await;
    assert_eq!(session.name, ADMIN.0);
    assert!(session.expires_at > jiff::Timestamp::now());
    assert_eq!(admin.get("/api/v1/halls").await.status(), 200);

    // A change needs the page's header; signing out ends the session.
    let r = reqwest::Client::new()
        .post(url("/api/v1/sign-out"))
        .header(reqwest::header::COOKIE, &admin.cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(
        admin
            .post("/api/v1/sign-out", &serde_json::json!({}))
            .await
            .status(),
        204
    );
    assert_eq!(admin.get("/api/v1/halls").await.status(), 401);

    // The command line says what is wrong with a new account.
    let out = office.user_command(&["add", "clerk"], Some("short"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("10 to 128 characters"));
    let out = office.user_command(&["add", ADMIN.0], Some("a long enough password"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already a user"));

    // Disabling a user ends their sessions and refuses their sign-in.
    office.add_user("clerk", "the clerk's password");
    let clerk = office
        .sign_in("clerk", "the clerk's password")
        .await
        .unwrap();
    let out = office.user_command(&["disable", "clerk"], None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(clerk.get("/api/v1/halls").await.status(), 401);
    let e = office
        .sign_in("clerk", "the clerk's password")
        .await
        .err()
        .unwrap();
    assert!(e.starts_with("403") && e.contains("disabled"), "{e}");

    // Who changed which account, and when, is kept; no password is.
    assert_eq!(
        company
            .pg
            .psql("SELECT string_agg(what, ',' ORDER BY id) FROM audit"),
        "user.add,user.password,user.add,user.disable"
    );
    assert_eq!(
        company
            .pg
            .psql("SELECT count(*) FROM users WHERE password_hash LIKE '$argon2id$%'"),
        "2"
    );
}

/// A push's answer from one hall, once it has one (not pending).
async fn answer(hq: &OfficeClient, push: i64, hall: &str) -> head_office::pushes::PushTarget {
    let mut last = None;
    for _ in 0..400 {
        let pushes: Vec<head_office::pushes::PushView> = hq.json("/api/v1/pushes").await;
        let target = pushes
            .iter()
            .find(|p| p.id == push)
            .and_then(|p| p.halls.iter().find(|t| t.hall == hall))
            .cloned()
            .expect("the push names the hall");
        if target.state != "pending" {
            return target;
        }
        last = Some(target);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{hall} never answered push {push}: {last:?}");
}

async fn push(hq: &OfficeClient, halls: &[&str], changes: serde_json::Value) -> i64 {
    let r = hq
        .post(
            "/api/v1/pushes",
            &serde_json::json!({ "halls": halls, "changes": changes }),
        )
        .await;
    let status = r.status();
    let text = r.text().await.unwrap();
    assert_eq!(status, 201, "{text}");
    let view: head_office::pushes::PushView = serde_json::from_str(&text).unwrap();
    view.id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn head_office_pushes_notices_and_closures_and_halls_keep_what_they_refuse() {
    let company = Company::start(&["east-1", "west-2"]);
    let east = start_hall(&company, "east-1").await;
    // The west takes closures from head office but keeps its own notice.
    let mut west = ServerProcess::start(
        queue_server_bin(),
        ServerOptions {
            config: Some(format!(
                "{}accept = [\"closure\"]\n",
                company.hall_config(queue_server::config::DEMO_TOML, "west-2")
            )),
            ..Default::default()
        },
    )
    .await;
    let hq = company.office.admin().await;
    eventually("head office knows both halls", || async {
        hq.json::<Vec<head_office::queries::HallNow>>("/api/v1/halls")
            .await
            .len()
            == 2
    })
    .await;

    // A notice for both: the east shows it, the west says why not.
    let notice = serde_json::json!([{ "kind": "notice",
        "notice": { "zh": "12月24日系统升级，暂停办理", "en": "Closed on 24 December for an upgrade" } }]);
    let id = push(&hq, &["east-1", "west-2"], notice).await;
    let east_answer = answer(&hq, id, "east-1").await;
    assert_eq!(east_answer.state, "applied", "{east_answer:?}");
    let west_answer = answer(&hq, id, "west-2").await;
    assert_eq!(west_answer.state, "refused");
    assert!(
        west_answer
            .reason
            .as_deref()
            .unwrap()
            .contains("does not take notice changes"),
        "{west_answer:?}"
    );
    let manager = |hall: &ServerProcess| hall.client("demo-manager");
    let shown = manager(&east).hall().await.unwrap().notice.unwrap();
    assert_eq!(shown.en, "Closed on 24 December for an upgrade");
    assert!(manager(&west).hall().await.unwrap().notice.is_none());

    // An invalid push (a service the east does not have) changes nothing,
    // not even the change before it: all or none.
    let from = jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24);
    let until = from + jiff::SignedDuration::from_hours(4);
    let bad = serde_json::json!([
        { "kind": "notice", "notice": { "zh": "不该出现", "en": "must not show" } },
        { "kind": "closure", "closure": { "from": from, "until": until,
          "reason": { "zh": "停电", "en": "Power cut" }, "services": ["no-such-service"] } }
    ]);
    let id = push(&hq, &["east-1"], bad).await;
    let refused = answer(&hq, id, "east-1").await;
    assert_eq!(refused.state, "refused");
    let why = refused.reason.unwrap();
    assert!(
        why.contains("change 2 (closure)") && why.contains("unknown service"),
        "{why}"
    );
    let snapshot = manager(&east).hall().await.unwrap();
    assert_eq!(
        snapshot.notice.unwrap().en,
        shown.en,
        "the last good notice stays"
    );
    assert!(snapshot.closures.is_empty());

    // A hall that is off gets its push when it is back, once.
    west.stop();
    let closure = serde_json::json!([{ "kind": "closure", "closure": { "from": from, "until": until,
        "reason": { "zh": "计划停电", "en": "Planned power cut" } } }]);
    let id = push(&hq, &["west-2"], closure).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let pushes: Vec<head_office::pushes::PushView> = hq.json("/api/v1/pushes").await;
    let pending = &pushes.iter().find(|p| p.id == id).unwrap().halls[0];
    assert_eq!(pending.state, "pending", "{pending:?}");
    west.start_again().await;
    let applied = answer(&hq, id, "west-2").await;
    assert_eq!(applied.state, "applied", "{applied:?}");
    let closures = manager(&west).hall().await.unwrap().closures;
    assert_eq!(closures.len(), 1, "{closures:?}");
    assert_eq!(closures[0].reason.en, "Planned power cut");
    assert_eq!(closures[0].created_by, format!("head office ({})", ADMIN.0));

    // Head office keeps who pushed what; unknown halls are refused at once.
    assert_eq!(
        company
            .pg
            .psql("SELECT count(*) FROM audit WHERE what = 'push' AND who = 'hq-admin'"),
        "3"
    );
    let r = hq
        .post(
            "/api/v1/pushes",
            &serde_json::json!({ "halls": ["south-9"], "changes": [{ "kind": "notice", "notice": null }] }),
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("never heard from hall south-9")
    );
}
