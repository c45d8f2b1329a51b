//! The billing link end to end: a real queue-server and a real billing-sim,
//! both processes on 127.0.0.1.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use hall_api::client::{ClientError, HallClient};
use hall_api::signature::{EVENT_ID_HEADER, SIGNATURE_HEADER, sign};
use hall_api::{CounterAction, CounterActionBody, IssueTicket};
use hall_testkit::billing::{BillingSim, SECRET, linked_hall};
use hall_testkit::{ServerOptions, ServerProcess, demo, free_port, queue_server_bin};

const SIM: &str = env!("CARGO_BIN_EXE_billing-sim");

/// A queue-server whose webhook and account lookup point at `sim_port`.
async fn linked_server(sim_port: u16) -> ServerProcess {
    ServerProcess::start(
        queue_server_bin(),
        ServerOptions {
            config: Some(linked_hall(sim_port)),
            faketime: None,
            ..Default::default()
        },
    )
    .await
}

async fn start_sim(port: u16) -> BillingSim {
    BillingSim::start(Path::new(SIM), port).await
}

async fn act(c: &HallClient, counter: u32, action: CounterAction) {
    c.counter_action(counter, action, &CounterActionBody::default())
        .await
        .unwrap();
}

fn kinds(log: &serde_json::Value) -> Vec<(i64, String, u64)> {
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["event_id"].as_i64().unwrap(),
                e["kind"].as_str().unwrap().to_string(),
                e["deliveries"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_arrives_in_order_after_the_billing_system_was_down() {
    let sim_port = free_port();
    let mut server = linked_server(sim_port).await;
    let kiosk = server.client(demo::KIOSK);
    let billing = server.client(demo::BILLING);
    let manager = server.client(demo::MANAGER);
    for i in 0..3 {
        kiosk
            .issue_ticket(&IssueTicket::new("pay", format!("k{i}")))
            .await
            .unwrap();
    }
    // The billing system is down; the hall goes on.
    act(&billing, 1, CounterAction::CallNext).await; // called
    act(&billing, 1, CounterAction::Start).await; // (not subscribed)
    billing
        .counter_action(
            1,
            CounterAction::Complete,
            &CounterActionBody::completing("TX-1"),
        )
        .await
        .unwrap(); // completed
    act(&billing, 1, CounterAction::CallNext).await; // called
    act(&billing, 1, CounterAction::NoShow).await; // no_show
    act(&billing, 1, CounterAction::CallNext).await; // called
    act(&billing, 1, CounterAction::Start).await;
    billing
        .counter_action(
            1,
            CounterAction::Transfer,
            &CounterActionBody::transfer_to("open"),
        )
        .await
        .unwrap(); // transferred

    // The manager sees what is waiting to go out, and why.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let status = manager.webhooks().await.unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].pending, 6, "{status:?}");
    assert!(
        status[0].attempts >= 1 && status[0].last_error.is_some(),
        "{status:?}"
    );
    assert!(!status[0].overdue);

    // A restart of the server loses nothing from the outbox.
    server.kill();
    server.start_again().await;

    let sim = start_sim(sim_port).await;
    let log = sim.wait_for(6).await;
    let got = kinds(&log);
    let expected = [
        "ticket.called",
        "ticket.completed",
        "ticket.called",
        "ticket.no_show",
        "ticket.called",
        "ticket.transferred",
    ];
    assert_eq!(
        got.iter().map(|g| g.1.as_str()).collect::<Vec<_>>(),
        expected
    );
    assert!(
        got.windows(2).all(|w| w[0].0 < w[1].0),
        "in event order: {got:?}"
    );
    assert!(
        got.iter().all(|g| g.2 == 1),
        "each acknowledged id delivered once: {got:?}"
    );
    assert_eq!(log["rejected"], 0, "every signature verified");
    assert_eq!(log["events"][1]["ticket"], "A001");

    // While it is up, news goes out at once.
    // Counter 4 serves "open", where the transferred customer now waits.
    act(
        &server.client(&demo::counter(4)),
        4,
        CounterAction::CallNext,
    )
    .await;
    let log = sim.wait_for(7).await;
    assert_eq!(kinds(&log)[6].1, "ticket.called");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let s = &manager.webhooks().await.unwrap()[0];
        if s.pending == 0 {
            assert_eq!((s.delivered, s.last_error.as_deref()), (7, None));
            break;
        }
        assert!(Instant::now() < deadline, "still pending: {s:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(kiosk.webhooks().await.unwrap_err().status(), Some(403));
}

#[tokio::test]
async fn a_tampered_or_unsigned_body_is_refused() {
    let sim = start_sim(free_port()).await;
    let http = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/hall/events", sim.port);
    let body = r#"{"id":5,"kind":"ticket.called","at":"2026-11-22T10:00:00Z","ticket":null,"counter":3,"by":"counter-3"}"#;
    let tampered = body.replace("\"counter\":3", "\"counter\":4");
    let post = |b: String, sig: Option<String>| {
        let mut req = http.post(&url).header(EVENT_ID_HEADER, "5").body(b);
        if let Some(s) = sig {
            req = req.header(SIGNATURE_HEADER, s);
        }
        req.send()
    };
    let good = sign(SECRET.as_bytes(), body.as_bytes());
    assert_eq!(
        post(tampered, Some(good.clone())).await.unwrap().status(),
        401
    );
    assert_eq!(post(body.into(), None).await.unwrap().status(), 401);
    assert_eq!(
        post(body.into(), Some(sign(b"wrong secret", body.as_bytes())))
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(post(body.into(), Some(good)).await.unwrap().status(), 200);
    let log = sim.received().await.unwrap();
    assert_eq!((log["rejected"].as_u64(), kinds(&log).len()), (Some(3), 1));
}

#[tokio::test]
async fn account_lookup_goes_through_and_fails_fast() {
    let sim_port = free_port();
    let server = linked_server(sim_port).await;
    let kiosk = server.client(demo::KIOSK);
    // Billing system down: a 503 that says to go on without it.
    match kiosk.account("8800123456").await {
        Err(ClientError::Api {
            status: 503,
            message,
            ..
        }) => assert!(message.contains("without the account"), "{message}"),
        other => panic!("{other:?}"),
    }
    let _sim = start_sim(sim_port).await;
    let info = kiosk.account("8800123456").await.unwrap();
    assert_eq!(
        (
            info.name_masked.as_str(),
            info.amount_due_minor,
            info.currency.as_str()
        ),
        ("张*明", 12850, "CNY")
    );
    assert_eq!(
        kiosk.account("0000000000").await.unwrap_err().status(),
        Some(404)
    );
    assert_eq!(
        kiosk.account("88;DROP").await.unwrap_err().status(),
        Some(400)
    );
    assert_eq!(
        server
            .client(demo::DISPLAY)
            .account("8800123456")
            .await
            .unwrap_err()
            .status(),
        Some(403)
    );
}

#[tokio::test]
async fn the_billing_system_drives_a_counter() {
    let server = ServerProcess::start(queue_server_bin(), ServerOptions::default()).await;
    server
        .client(demo::KIOSK)
        .issue_ticket(&IssueTicket::new("enquiry", "e"))
        .await
        .unwrap();
    let mut events = server.client(demo::DISPLAY).events(None).await.unwrap();
    let out = Command::new(SIM)
        .args([
            "act",
            "--server",
            &server.base_url(),
            "--token",
            demo::BILLING,
            "--counter",
            "2",
            "call-next",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "counter 2: E001 called (enquiry)"
    );
    let ev = tokio::time::timeout(Duration::from_secs(5), events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (ev.kind.as_str(), ev.counter, ev.by.as_str()),
        ("ticket.called", Some(2), "billing")
    );
    // A wrong action is a clear error, not a panic.
    let out = Command::new(SIM)
        .args([
            "act",
            "--server",
            &server.base_url(),
            "--counter",
            "2",
            "dance",
        ])
        .output()
        .unwrap();
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("unknown action")
    );
}
