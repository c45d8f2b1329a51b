//! The whole HTTP API against a real queue-server process on 127.0.0.1 with
//! a real SQLite file, through a real HTTP client.
//!
//! One file on purpose, though long: each file under tests/ is its own
//! binary, linked separately and hundreds of MB with debug info, and this
//! file's tests share every helper below.

use std::time::Duration;

use hall_api::client::{ActionOutcome, ClientError, EventStream, HallClient};
use hall_api::{
    CounterAction, CounterActionBody, CounterState, DeviceHealth, Event, EventKind, Heartbeat,
    IssueTicket, Lang, PrinterState, TicketStatus, Unavailable,
};
use hall_testkit::{ServerOptions, ServerProcess, demo, run_to_end};

const BIN: &str = env!("CARGO_BIN_EXE_queue-server");

async fn demo_server() -> ServerProcess {
    ServerProcess::start(BIN, ServerOptions::default()).await
}

async fn issue(c: &HallClient, service: &str, key: &str) -> hall_api::Ticket {
    let (t, created) = c
        .issue_ticket(&IssueTicket::new(service, key))
        .await
        .expect("issue");
    assert!(created, "{key} should be new");
    t
}

async fn act(
    c: &HallClient,
    counter: u32,
    action: CounterAction,
) -> Result<ActionOutcome, ClientError> {
    c.counter_action(counter, action, &CounterActionBody::default())
        .await
}

fn ticket_of(o: ActionOutcome) -> hall_api::Ticket {
    match o {
        ActionOutcome::Ticket(t) => *t,
        other => panic!("expected a ticket, got {other:?}"),
    }
}

fn status_of<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String) {
    match r {
        Err(ClientError::Api {
            status,
            code,
            message,
        }) => {
            assert!(!message.is_empty(), "an error must say what to do");
            (status, code)
        }
        other => panic!("expected an API error, got {other:?}"),
    }
}

async fn raw(
    server: &ServerProcess,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> (u16, serde_json::Value) {
    let http = reqwest::Client::new();
    let mut req = http.request(
        method.parse().unwrap(),
        format!("{}{}", server.base_url(), path),
    );
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req
            .header("content-type", "application/json")
            .body(b.to_string());
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
    )
}

#[tokio::test]
async fn health_and_openapi_need_no_token() {
    let s = demo_server().await;
    let h = s.client("").health().await.unwrap();
    assert_eq!(h.status, "ok");
    assert!(h.clock_trusted);
    let (status, doc) = raw(&s, "GET", "/openapi.json", None, None).await;
    assert_eq!(status, 200);
    for path in [
        "/api/v1/tickets",
        "/api/v1/tickets/{id}",
        "/api/v1/tickets/{id}/cancel",
        "/api/v1/counters/{number}/{action}",
        "/api/v1/hall",
        "/api/v1/events",
        "/api/v1/stats/day",
        "/healthz",
    ] {
        assert!(doc["paths"][path].is_object(), "openapi lacks {path}");
    }
    assert!(doc["components"]["schemas"]["Ticket"].is_object());
}

#[tokio::test]
async fn metrics_count_what_happened() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    issue(&kiosk, "pay", "m1").await;
    issue(&kiosk, "pay", "m2").await;
    let _ = act(&kiosk, 1, CounterAction::CallNext).await; // refused by role: never reaches the writer
    let _ = s
        .client(demo::MANAGER)
        .counter_action(1, CounterAction::Start, &CounterActionBody::default())
        .await; // 409
    let _stream = s.client(demo::DISPLAY).events(None).await.unwrap();
    let text = reqwest::get(format!("{}/metrics", s.base_url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing from:\n{text}"))
    };
    // Two issues and the refused start; the health probe counts apart.
    assert_eq!(value("queue_writer_requests_total"), 3.0);
    assert_eq!(value("queue_writer_refused_total"), 1.0);
    assert!(value("queue_writer_commits_total") >= 1.0);
    assert_eq!(value("queue_event_streams"), 1.0);
    assert_eq!(value("queue_waiting_tickets{service=\"pay\"}"), 2.0);
    assert_eq!(value("queue_waiting_tickets{service=\"vip\"}"), 0.0);
    assert_eq!(value("queue_last_event_id"), 2.0);
    assert_eq!(value("queue_clock_trusted"), 1.0);
}

#[tokio::test]
async fn tokens_and_roles_are_enforced() {
    let s = demo_server().await;
    // No token, a wrong token: 401 in the error format.
    let (status, body) = raw(&s, "GET", "/api/v1/hall", None, None).await;
    assert_eq!(status, 401);
    assert_eq!(body["error"]["code"], "unauthorized");
    let (status, _) = raw(&s, "GET", "/api/v1/hall", Some("not-a-token"), None).await;
    assert_eq!(status, 401);

    let kiosk = s.client(demo::KIOSK);
    let t = issue(&kiosk, "pay", "k1").await;
    // A kiosk cannot call next; a display cannot issue or read stats.
    assert_eq!(
        status_of(act(&kiosk, 1, CounterAction::CallNext).await),
        (403, "forbidden".into())
    );
    let display = s.client(demo::DISPLAY);
    assert_eq!(
        status_of(display.issue_ticket(&IssueTicket::new("pay", "d1")).await).0,
        403
    );
    assert_eq!(
        status_of(display.day_stats(jiff::civil::date(2026, 1, 1)).await).0,
        403
    );
    assert_eq!(
        status_of(kiosk.day_stats(jiff::civil::date(2026, 1, 1)).await).0,
        403
    );
    // A counter acts on its own counter only.
    let c1 = s.client(&demo::counter(1));
    assert_eq!(status_of(act(&c1, 2, CounterAction::CallNext).await).0, 403);
    assert_eq!(
        status_of(c1.issue_ticket(&IssueTicket::new("pay", "c1")).await).0,
        403
    );
    assert_eq!(c1.call_next(1).await.unwrap().unwrap().id, t.id);
    // Billing and manager act on any counter.
    issue(&kiosk, "pay", "k2").await;
    issue(&kiosk, "enquiry", "k3").await;
    assert!(
        s.client(demo::BILLING)
            .call_next(2)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        s.client(demo::MANAGER)
            .call_next(5)
            .await
            .unwrap()
            .is_some()
    );
    // Every role reads the hall.
    for token in [
        demo::KIOSK,
        demo::DISPLAY,
        demo::BILLING,
        demo::MANAGER,
        &demo::counter(3),
    ] {
        s.client(token).hall().await.unwrap();
    }
}

#[tokio::test]
async fn issuing_is_idempotent_and_validated() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    let req = IssueTicket {
        customer_ref: Some("8800123456".into()),
        lang: Some(Lang::Zh),
        ..IssueTicket::new("pay", "tap-1")
    };
    let (first, created) = kiosk.issue_ticket(&req).await.unwrap();
    assert!(created);
    assert_eq!(first.number, "A001");
    assert_eq!(first.status, TicketStatus::Waiting);
    assert_eq!(first.ahead, Some(0));
    assert!(first.estimated_wait_s.is_some());
    assert_eq!(first.customer_ref.as_deref(), Some("8800123456"));
    assert_eq!(first.lang, Some(Lang::Zh));
    assert_eq!(first.tracking_code.len(), 32);
    assert!(first.tracking_code.chars().all(|c| c.is_ascii_hexdigit()));

    // A retry with the same key: the same ticket, 200, not a second one.
    let (again, created) = kiosk.issue_ticket(&req).await.unwrap();
    assert!(!created);
    assert_eq!(again.id, first.id);
    assert_eq!(again.tracking_code, first.tracking_code);
    // The same key for another service is a client bug: 409.
    assert_eq!(
        status_of(kiosk.issue_ticket(&IssueTicket::new("vip", "tap-1")).await).0,
        409
    );
    // Keys belong to the device: the manager's "tap-1" is its own ticket.
    let (other, created) = s
        .client(demo::MANAGER)
        .issue_ticket(&IssueTicket::new("pay", "tap-1"))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(other.number, "A002");
    assert_eq!(other.ahead, Some(1));
    let t2 = issue(&kiosk, "pay", "tap-2").await;
    assert_ne!(t2.tracking_code, first.tracking_code);

    // Bad input: 400 with a message, and nothing issued.
    for body in [
        r#"{"service":"nope","idempotency_key":"x1"}"#,
        r#"{"service":"pay","idempotency_key":""}"#,
        r#"{"service":"pay"}"#,
        r#"{"service":"pay","idempotency_key":"x2","colour":"red"}"#,
        r#"{"service":"pay","idempotency_key":"x3","customer_ref":"01234567890123456789012345678901234567890123456789012345678901234"}"#,
        r#"{"service":"pay","idempotency_key":"x4","lang":"fr"}"#,
        r#"{"service":"pay","#,
    ] {
        let (status, err) = raw(&s, "POST", "/api/v1/tickets", Some(demo::KIOSK), Some(body)).await;
        assert_eq!(status, 400, "{body} -> {err}");
        assert_eq!(err["error"]["code"], "bad_request");
    }
    let (status, err) = raw(&s, "GET", "/api/v1/tickets/abc", Some(demo::MANAGER), None).await;
    assert_eq!(
        (status, err["error"]["code"].as_str()),
        (400, Some("bad_request"))
    );
    assert_eq!(status_of(kiosk.ticket(9999).await).0, 404);
    assert_eq!(
        s.client(demo::MANAGER).hall().await.unwrap().services[1].waiting,
        3
    );
}

#[tokio::test]
async fn a_counter_works_through_the_life_cycle() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    let c3 = s.client(&demo::counter(3));
    // Nothing called yet: every ticket action is a 409 that says what to do.
    for a in [
        CounterAction::Start,
        CounterAction::Recall,
        CounterAction::Complete,
        CounterAction::NoShow,
    ] {
        assert_eq!(
            status_of(act(&c3, 3, a).await),
            (409, "conflict".into()),
            "{a:?}"
        );
    }
    assert!(
        c3.call_next(3).await.unwrap().is_none(),
        "204 when nobody waits"
    );

    let a1 = issue(&kiosk, "pay", "a1").await;
    let a2 = issue(&kiosk, "pay", "a2").await;
    let called = c3.call_next(3).await.unwrap().unwrap();
    assert_eq!(
        (called.id, called.status, called.counter),
        (a1.id, TicketStatus::Called, Some(3))
    );
    let recalled = ticket_of(act(&c3, 3, CounterAction::Recall).await.unwrap());
    assert_eq!(recalled.recalls, 1);
    let serving = ticket_of(act(&c3, 3, CounterAction::Start).await.unwrap());
    assert_eq!(serving.status, TicketStatus::Serving);
    assert_eq!(status_of(act(&c3, 3, CounterAction::Start).await).0, 409);
    assert_eq!(status_of(act(&c3, 3, CounterAction::Recall).await).0, 409);
    let done = ticket_of(
        c3.counter_action(
            3,
            CounterAction::Complete,
            &CounterActionBody::completing("TX-991"),
        )
        .await
        .unwrap(),
    );
    assert_eq!(
        (done.status, done.transaction_ref.as_deref()),
        (TicketStatus::Done, Some("TX-991"))
    );
    assert!(done.ended_at.is_some() && done.started_at.is_some());

    // No-show frees the counter.
    assert_eq!(c3.call_next(3).await.unwrap().unwrap().id, a2.id);
    let gone = ticket_of(act(&c3, 3, CounterAction::NoShow).await.unwrap());
    assert_eq!(gone.status, TicketStatus::NoShow);
    assert_eq!(status_of(act(&c3, 3, CounterAction::Start).await).0, 409);

    // Pause: nothing is called; close needs the current ticket finished.
    let a3 = issue(&kiosk, "pay", "a3").await;
    match act(&c3, 3, CounterAction::Pause).await.unwrap() {
        ActionOutcome::Counter(v) => assert_eq!(v.state, CounterState::Paused),
        other => panic!("{other:?}"),
    }
    assert_eq!(status_of(act(&c3, 3, CounterAction::CallNext).await).0, 409);
    assert_eq!(status_of(act(&c3, 3, CounterAction::Pause).await).0, 409);
    act(&c3, 3, CounterAction::Resume).await.unwrap();
    assert_eq!(c3.call_next(3).await.unwrap().unwrap().id, a3.id);
    assert_eq!(status_of(act(&c3, 3, CounterAction::Close).await).0, 409);
    assert_eq!(status_of(act(&c3, 3, CounterAction::Open).await).0, 409);
    // Calling next while the last one never started closes it as a no-show.
    let a4 = issue(&kiosk, "pay", "a4").await;
    assert_eq!(c3.call_next(3).await.unwrap().unwrap().id, a4.id);
    assert_eq!(
        kiosk.ticket(a3.id).await.unwrap().status,
        TicketStatus::NoShow
    );
    act(&c3, 3, CounterAction::Start).await.unwrap();
    assert!(c3.call_next(3).await.unwrap().is_none());
    assert_eq!(
        kiosk.ticket(a4.id).await.unwrap().status,
        TicketStatus::Done,
        "a served ticket is closed as done"
    );
    match act(&c3, 3, CounterAction::Close).await.unwrap() {
        ActionOutcome::Counter(v) => assert_eq!((v.state, v.current), (CounterState::Closed, None)),
        other => panic!("{other:?}"),
    }
    assert_eq!(status_of(act(&c3, 3, CounterAction::CallNext).await).0, 409);

    // Unknown counters and actions, and bodies that do not fit the action.
    let m = s.client(demo::MANAGER);
    assert_eq!(status_of(act(&m, 42, CounterAction::Open).await).0, 404);
    for (path, body, expected) in [
        ("/api/v1/counters/1/dance", None, 404),
        ("/api/v1/counters/one/call-next", None, 400),
        (
            "/api/v1/counters/1/pause",
            Some(r#"{"service":"pay"}"#),
            400,
        ),
        ("/api/v1/counters/1/pause", Some("{oops"), 400),
    ] {
        let (status, err) = raw(&s, "POST", path, Some(demo::MANAGER), body).await;
        assert_eq!(status, expected, "{path} {body:?}: {err}");
    }
}

#[tokio::test]
async fn transfer_keeps_the_number_and_goes_first() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    let m = s.client(demo::MANAGER);
    let pay = issue(&kiosk, "pay", "p").await;
    let open_early = issue(&kiosk, "open", "o1").await;
    // Counter 1 serves vip, pay; counter 4 prefers open.
    assert_eq!(m.call_next(1).await.unwrap().unwrap().id, pay.id);
    // Transfer needs a serving ticket and a real target.
    assert_eq!(
        status_of(
            m.counter_action(
                1,
                CounterAction::Transfer,
                &CounterActionBody::transfer_to("open")
            )
            .await
        )
        .0,
        409
    );
    act(&m, 1, CounterAction::Start).await.unwrap();
    assert_eq!(status_of(act(&m, 1, CounterAction::Transfer).await).0, 400);
    assert_eq!(
        status_of(
            m.counter_action(
                1,
                CounterAction::Transfer,
                &CounterActionBody::transfer_to("moon")
            )
            .await
        )
        .0,
        400
    );
    let moved = ticket_of(
        m.counter_action(
            1,
            CounterAction::Transfer,
            &CounterActionBody::transfer_to("open"),
        )
        .await
        .unwrap(),
    );
    assert_eq!(moved.number, pay.number);
    assert_eq!(moved.service, "open");
    assert_eq!(moved.status, TicketStatus::Waiting);
    assert_eq!(moved.issued_at, pay.issued_at);
    assert_eq!(moved.transferred_from, Some(pay.id));
    assert_eq!(moved.tracking_code, pay.tracking_code);
    assert_eq!(
        moved.ahead,
        Some(0),
        "a transferred customer is next in the new queue"
    );
    let old = m.ticket(pay.id).await.unwrap();
    assert_eq!(
        (old.status, old.transferred_to),
        (TicketStatus::Transferred, Some(moved.id))
    );
    assert_eq!(m.ticket(open_early.id).await.unwrap().ahead, Some(1));
    // Counter 4 calls the transferred customer before the earlier "open" ticket.
    assert_eq!(m.call_next(4).await.unwrap().unwrap().id, moved.id);
    assert_eq!(m.call_next(4).await.unwrap().unwrap().id, open_early.id);
}

#[tokio::test]
async fn call_order_follows_the_policy() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    let m = s.client(demo::MANAGER);
    let p1 = issue(&kiosk, "pay", "p1").await;
    let o1 = issue(&kiosk, "open", "o1").await;
    let v1 = issue(&kiosk, "vip", "v1").await;
    let p2 = issue(&kiosk, "pay", "p2").await;
    // Counter 1 (vip, pay): VIP first by priority, though issued later.
    assert_eq!(m.call_next(1).await.unwrap().unwrap().id, v1.id);
    // Counter 4 (open, transfer, pay): its preference before issue time.
    assert_eq!(m.call_next(4).await.unwrap().unwrap().id, o1.id);
    // Then issue time within pay.
    assert_eq!(m.call_next(4).await.unwrap().unwrap().id, p1.id);
    assert_eq!(m.call_next(1).await.unwrap().unwrap().id, p2.id);
    // Counter 5 (complaint, enquiry, vip) has nothing it serves.
    assert!(m.call_next(5).await.unwrap().is_none());
}

#[tokio::test]
async fn position_and_estimate_follow_the_queue() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    let m = s.client(demo::MANAGER);
    // Only counter 5 serves complaints; keep it busy so the estimate is not zero.
    let first = issue(&kiosk, "complaint", "c0").await;
    m.call_next(5).await.unwrap();
    let mut tickets = Vec::new();
    for i in 0..4 {
        tickets.push(issue(&kiosk, "complaint", &format!("c{}", i + 1)).await);
    }
    let aheads: Vec<_> = tickets.iter().map(|t| t.ahead.unwrap()).collect();
    assert_eq!(aheads, vec![0, 1, 2, 3]);
    let waits: Vec<_> = tickets
        .iter()
        .map(|t| t.estimated_wait_s.unwrap())
        .collect();
    assert!(waits.windows(2).all(|w| w[0] < w[1]), "{waits:?}");
    // The first wait is part of one 8-minute complaint (the configured
    // expectation before any history), not zero: the counter is busy.
    assert!(waits[0] > 0 && waits[0] <= 8 * 60, "{waits:?}");
    assert_eq!(
        m.ticket(first.id).await.unwrap().ahead,
        None,
        "a called ticket has no position"
    );
    // A call moves everyone up.
    m.call_next(5).await.unwrap();
    assert_eq!(m.ticket(tickets[3].id).await.unwrap().ahead, Some(2));
    // Closing the only counter: no estimate, and the hall shows why.
    act(&m, 5, CounterAction::NoShow).await.unwrap();
    act(&m, 5, CounterAction::Close).await.unwrap();
    let t = m.ticket(tickets[3].id).await.unwrap();
    assert_eq!((t.ahead, t.estimated_wait_s), (Some(2), None));
    let hall = m.hall().await.unwrap();
    let complaint = hall.services.iter().find(|s| s.id == "complaint").unwrap();
    assert_eq!(
        (
            complaint.waiting,
            complaint.open_counters,
            complaint.estimated_wait_s
        ),
        (3, 0, None)
    );
}

#[tokio::test]
async fn cancel_refuses_what_is_not_the_callers() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    let m = s.client(demo::MANAGER);
    let t = issue(&kiosk, "pay", "x").await;
    let theirs = issue(&m, "pay", "y").await;
    assert_eq!(status_of(kiosk.cancel_ticket(theirs.id).await).0, 403);
    assert_eq!(
        kiosk.cancel_ticket(t.id).await.unwrap().status,
        TicketStatus::Cancelled
    );
    assert_eq!(status_of(kiosk.cancel_ticket(t.id).await).0, 409);
    assert_eq!(
        m.call_next(1).await.unwrap().unwrap().id,
        theirs.id,
        "a cancelled ticket is never called"
    );
    // A called ticket can be cancelled and frees the counter.
    assert_eq!(
        m.cancel_ticket(theirs.id).await.unwrap().status,
        TicketStatus::Cancelled
    );
    assert!(m.hall().await.unwrap().counters[0].current.is_none());
    assert_eq!(
        status_of(s.client(&demo::counter(1)).cancel_ticket(theirs.id).await).0,
        403
    );
}

async fn next_event(stream: &mut EventStream) -> Event {
    tokio::time::timeout(Duration::from_secs(5), stream.next())
        .await
        .expect("an event within 5 s")
        .expect("the stream is open")
        .expect("a well-formed event")
}

#[tokio::test]
async fn the_event_stream_resumes_without_gaps() {
    let mut s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    let m = s.client(demo::MANAGER);
    let board = s.client(demo::DISPLAY);
    let first = issue(&kiosk, "pay", "before").await; // event 1, before anyone listens

    // Live from now on: the old event is not replayed without Last-Event-ID.
    let mut live = board.events(None).await.unwrap();
    issue(&kiosk, "pay", "e2").await;
    m.call_next(1).await.unwrap();
    let e2 = next_event(&mut live).await;
    assert_eq!((e2.id, e2.kind), (2, EventKind::TicketIssued));
    assert!(e2.ticket.as_ref().unwrap().number.starts_with('A'));
    let e3 = next_event(&mut live).await;
    assert_eq!(
        (e3.id, e3.kind, e3.counter),
        (3, EventKind::TicketCalled, Some(1))
    );
    assert_eq!(e3.by, "manager");
    drop(live);

    // Missed while disconnected: replayed in order from the log.
    act(&m, 1, CounterAction::Recall).await.unwrap();
    act(&m, 1, CounterAction::Start).await.unwrap();
    let mut resumed = board.events(Some(3)).await.unwrap();
    let ids_kinds = [
        next_event(&mut resumed).await,
        next_event(&mut resumed).await,
    ]
    .map(|e| (e.id, e.kind));
    assert_eq!(
        ids_kinds,
        [
            (4, EventKind::TicketRecalled),
            (5, EventKind::TicketStarted)
        ]
    );
    // And then live again on the same connection.
    act(&m, 1, CounterAction::Complete).await.unwrap();
    let e6 = next_event(&mut resumed).await;
    assert_eq!(
        (e6.id, e6.kind, e6.ticket.unwrap().id),
        (6, EventKind::TicketCompleted, first.id)
    );
    drop(resumed);

    // Browsers' EventSource cannot send headers: the token and the resume
    // point may come in the query.
    let resp = reqwest::get(format!(
        "{}/api/v1/events?last_event_id=5&access_token={}",
        s.base_url(),
        demo::DISPLAY
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/event-stream");
    drop(resp);
    // Query tokens are percent-decoded: a wrong one is refused, not misread.
    let resp = reqwest::get(format!(
        "{}/api/v1/events?access_token=demo%2Ddisplay",
        s.base_url()
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 200, "demo%2Ddisplay is demo-display");
    drop(resp);
    let resp = reqwest::get(format!(
        "{}/api/v1/hall?access_token=demo%2Bdisplay",
        s.base_url()
    ))
    .await
    .unwrap();
    assert_eq!(resp.status(), 401);

    // Across a server restart: the log is durable, ids continue.
    s.restart().await;
    issue(&kiosk, "vip", "after-restart").await;
    let mut again = board.events(Some(5)).await.unwrap();
    assert_eq!(next_event(&mut again).await.id, 6);
    let e7 = next_event(&mut again).await;
    assert_eq!((e7.id, e7.kind), (7, EventKind::TicketIssued));

    // A board that saw ids this log does not have (the database was restored
    // from an older backup) still gets every new call.
    let mut from_the_future = board.events(Some(10_000)).await.unwrap();
    issue(&kiosk, "vip", "after-restore").await;
    let e8 = next_event(&mut from_the_future).await;
    assert_eq!((e8.id, e8.kind), (8, EventKind::TicketIssued));

    let (status, body) = raw(&s, "GET", "/api/v1/events", None, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
}

#[tokio::test]
async fn hall_snapshot_and_day_statistics() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    let m = s.client(demo::MANAGER);
    issue(&kiosk, "pay", "1").await;
    issue(&kiosk, "pay", "2").await;
    issue(&kiosk, "enquiry", "3").await;
    let t = m.call_next(2).await.unwrap().unwrap();
    act(&m, 2, CounterAction::Recall).await.unwrap();
    act(&m, 2, CounterAction::Start).await.unwrap();
    act(&m, 2, CounterAction::Complete).await.unwrap();
    let hall = m.hall().await.unwrap();
    assert_eq!(hall.hall.name.en, "East Side Service Hall");
    assert_eq!(hall.services.len(), 6);
    assert_eq!(hall.counters.len(), 5);
    let waiting = |id: &str| hall.services.iter().find(|s| s.id == id).unwrap().waiting;
    assert_eq!(
        (waiting("pay"), waiting("enquiry"), waiting("vip")),
        (1, 1, 0)
    );
    assert_eq!(hall.last_calls.len(), 2);
    assert!(
        hall.last_calls[0].recall && !hall.last_calls[1].recall,
        "newest first"
    );
    assert_eq!(
        (
            hall.last_calls[1].number.as_str(),
            hall.last_calls[1].counter
        ),
        (t.number.as_str(), 2)
    );
    assert_eq!(hall.last_event_id, 7);

    // The demo counters are open from the hall's first event on: let a
    // second of it pass.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let stats = m.day_stats(hall.hall.business_day).await.unwrap();
    assert_eq!(
        (
            stats.hall.issued,
            stats.hall.called,
            stats.hall.done,
            stats.hall.waiting
        ),
        (3, 1, 1, 2)
    );
    let pay = stats.services.iter().find(|s| s.service == "pay").unwrap();
    assert_eq!(
        (pay.stats.issued, pay.stats.done, pay.stats.wait.count),
        (2, 1, 1)
    );
    assert_eq!(pay.stats.service_level, Some(1.0));
    let c2 = stats.counters.iter().find(|c| c.counter == 2).unwrap();
    assert_eq!((c2.called, c2.done), (1, 1));
    assert!(c2.open_s > 0, "the demo counters are open");
    assert_eq!(stats.hours.iter().map(|h| h.issued).sum::<u32>(), 3);
    assert!(stats.peak_hour.is_some());
    // Another day has nothing; a bad date is a 400.
    let empty = m.day_stats(jiff::civil::date(2025, 3, 1)).await.unwrap();
    assert_eq!(empty.hall.issued, 0);
    let (status, _) = raw(
        &s,
        "GET",
        "/api/v1/stats/day?date=yesterday",
        Some(demo::MANAGER),
        None,
    )
    .await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn bad_configuration_fails_at_start_naming_file_line_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("hall.toml");
    std::fs::write(
        &cfg,
        "[hall]\nname = { zh = \"厅\", en = \"Hall\" }\ntimezone = \"Asia/Shanghai\"\n\n[[service]]\nid = \"pay\"\nprefix = \"A\"\nname = { zh = \"缴费\", en = \"Payment\" }\n\n[[counter]]\nnumber = 1\nname = { zh = \"1\", en = \"1\" }\nservices = [\"pya\"]\n",
    )
    .unwrap();
    let (ok, _, err) = run_to_end(
        BIN.as_ref(),
        &[
            "--config",
            cfg.to_str().unwrap(),
            "--db",
            dir.path().join("x.db").to_str().unwrap(),
        ],
    );
    assert!(!ok);
    assert!(err.contains(&format!("{}:13:", cfg.display())), "{err}");
    assert!(
        err.contains("unknown service \"pya\"") && err.contains("fix:"),
        "{err}"
    );
    assert!(
        !dir.path().join("x.db").exists(),
        "nothing is created from a bad configuration"
    );

    let (ok, out, _) = run_to_end(BIN.as_ref(), &["check-config"]);
    assert!(ok && out.contains("6 services, 5 counters"), "{out}");
}

#[tokio::test]
async fn init_config_makes_a_hall_whose_tokens_exist_only_in_the_installers_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("hall.toml");
    let tokens = dir.path().join("device-tokens");
    let args = [
        "init-config",
        "--out",
        cfg.to_str().unwrap(),
        "--tokens",
        tokens.to_str().unwrap(),
    ];
    let (ok, out, err) = run_to_end(BIN.as_ref(), &args);
    assert!(ok, "{out}{err}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(
        mode(&tokens),
        0o600,
        "the clear tokens are the owner's only"
    );
    assert_eq!(mode(&cfg), 0o640);
    let text = std::fs::read_to_string(&cfg).unwrap();
    assert!(
        !text.contains("demo-") && !text.contains("token = "),
        "{text}"
    );
    let (ok, out, err) = run_to_end(
        BIN.as_ref(),
        &["--config", cfg.to_str().unwrap(), "check-config"],
    );
    assert!(ok && out.contains("configuration OK"), "{out}{err}");
    // A second run changes nothing.
    let before = std::fs::read(&tokens).unwrap();
    let (ok, _, err) = run_to_end(BIN.as_ref(), &args);
    assert!(!ok && err.contains("exists already"), "{err}");
    assert_eq!(std::fs::read(&tokens).unwrap(), before);

    // The hall runs on it: the kiosk's token from the file works, the demo's does not.
    let clear = std::fs::read_to_string(&tokens).unwrap();
    let token_of = |device: &str| hall_testkit::token_in(&clear, device);
    let s = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(text),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        issue(&s.client(&token_of("kiosk-1")), "pay", "k1")
            .await
            .number,
        "A001"
    );
    let demo_kiosk = s
        .client(demo::KIOSK)
        .issue_ticket(&IssueTicket::new("pay", "k2"))
        .await;
    assert_eq!(status_of(demo_kiosk).0, 401);
    assert!(s.client(&token_of("manager")).hall().await.is_ok());
}

#[tokio::test]
async fn online_backup_is_a_working_database() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    for i in 0..5 {
        issue(&kiosk, "pay", &format!("b{i}")).await;
    }
    let copy = s.dir.path().join("copy.db");
    let (ok, out, err) = run_to_end(
        BIN.as_ref(),
        &[
            "backup",
            copy.to_str().unwrap(),
            "--db",
            s.db_path().to_str().unwrap(),
        ],
    );
    assert!(ok, "{out}{err}");
    // Refuses to overwrite.
    let (ok, _, err) = run_to_end(
        BIN.as_ref(),
        &[
            "backup",
            copy.to_str().unwrap(),
            "--db",
            s.db_path().to_str().unwrap(),
        ],
    );
    assert!(!ok && err.contains("already exists"), "{err}");
    // The copy serves the same hall: five waiting, numbering continues.
    let mut from_copy = ServerProcess::start(BIN, ServerOptions::default()).await;
    from_copy.stop();
    std::fs::copy(&copy, from_copy.db_path()).unwrap();
    for ext in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", from_copy.db_path().display()));
    }
    from_copy.start_again().await;
    let c = from_copy.client(demo::KIOSK);
    assert_eq!(c.hall().await.unwrap().services[1].waiting, 5);
    assert_eq!(issue(&c, "pay", "after").await.number, "A006");
}

#[tokio::test]
async fn counter_pins_open_sessions_for_one_counter() {
    let s = demo_server().await;
    let m = s.client(demo::MANAGER);
    let anyone = s.client("");
    // Only the manager sets PINs, and a PIN is 4 to 8 digits.
    assert_eq!(
        status_of(s.client(demo::KIOSK).set_pin(1, "2468").await).0,
        403
    );
    assert_eq!(status_of(m.set_pin(1, "12ab").await).0, 400);
    assert_eq!(
        status_of(anyone.sign_in(1, "2468").await).0,
        401,
        "no PIN set yet"
    );
    m.set_pin(1, "2468").await.unwrap();
    assert_eq!(
        status_of(anyone.sign_in(1, "1357").await),
        (401, "unauthorized".into())
    );
    let session = anyone.sign_in(1, "2468").await.unwrap();
    assert_eq!(session.counter, 1);
    let staff = s.client(&session.token);
    let who = staff.whoami().await.unwrap();
    assert_eq!((who.role.as_str(), who.counter), ("counter", Some(1)));
    // The session acts on its counter, not another, and cannot issue tickets.
    issue(&s.client(demo::KIOSK), "pay", "p1").await;
    let called = staff.call_next(1).await.unwrap().unwrap();
    assert_eq!(called.number, "A001");
    assert_eq!(status_of(staff.call_next(2).await).0, 403);
    assert_eq!(
        status_of(staff.issue_ticket(&IssueTicket::new("pay", "x")).await).0,
        403
    );
    // A new PIN ends the old sessions.
    m.set_pin(1, "97531").await.unwrap();
    assert_eq!(status_of(staff.hall().await).0, 401);
    // Guessing is slowed down: after five wrong PINs, a lockout (429).
    for _ in 0..5 {
        assert_eq!(status_of(anyone.sign_in(1, "0000").await).0, 401);
    }
    assert_eq!(
        status_of(anyone.sign_in(1, "97531").await),
        (429, "too_many_requests".into())
    );
    assert!(
        anyone.sign_in(2, "0000").await.is_err(),
        "other counters are not locked, just without a PIN"
    );
}

#[tokio::test]
async fn a_counter_sees_its_waiting_list_in_calling_order() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    let p1 = issue(&kiosk, "pay", "p1").await;
    let e1 = issue(&kiosk, "enquiry", "e1").await;
    let v1 = issue(&kiosk, "vip", "v1").await;
    // Counter 1 serves vip, pay: VIP first, no enquiry.
    let list = s.client(&demo::counter(1)).counter_queue(1).await.unwrap();
    assert_eq!(
        list.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![v1.id, p1.id]
    );
    // Counter 2 serves pay, enquiry: its own preference.
    let list = s.client(demo::MANAGER).counter_queue(2).await.unwrap();
    assert_eq!(
        list.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![p1.id, e1.id]
    );
    assert_eq!(
        status_of(s.client(&demo::counter(1)).counter_queue(2).await).0,
        403
    );
    // What it shows is what call-next then does.
    assert_eq!(
        s.client(&demo::counter(1))
            .call_next(1)
            .await
            .unwrap()
            .unwrap()
            .id,
        v1.id
    );
}

#[tokio::test]
async fn the_public_ticket_shows_only_that_ticket() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    let first = issue(&kiosk, "pay", "p1").await;
    let mine = issue(&kiosk, "pay", "p2").await;
    let public = s.client("");
    let t = public.public_ticket(&mine.tracking_code).await.unwrap();
    assert_eq!(
        (t.number.as_str(), t.service.en.as_str(), t.ahead),
        ("A002", "Payment", Some(1))
    );
    assert!(t.estimated_wait_s.is_some());
    // Nothing else: the raw answer carries no other ticket, id or account.
    let raw_text = reqwest::get(format!(
        "{}/api/v1/public/tickets/{}",
        s.base_url(),
        mine.tracking_code
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        !raw_text.contains(&first.tracking_code)
            && !raw_text.contains("\"id\"")
            && !raw_text.contains("customer_ref")
    );
    // Called: it says where to go.
    s.client(demo::MANAGER).call_next(1).await.unwrap();
    s.client(demo::MANAGER).call_next(2).await.unwrap();
    let t = public.public_ticket(&mine.tracking_code).await.unwrap();
    assert_eq!(
        (t.status, t.counter, t.counter_name.unwrap().en.as_str()),
        (TicketStatus::Called, Some(2), "Counter 2")
    );
    assert_eq!(
        status_of(
            public
                .public_ticket("00000000000000000000000000000000")
                .await
        )
        .0,
        404
    );
    assert_eq!(status_of(public.public_ticket("../../etc").await).0, 404);
}

#[tokio::test]
async fn devices_report_their_state_and_staff_see_it() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    let manager = s.client(demo::MANAGER);

    let before = manager.devices().await.unwrap();
    let k = before.iter().find(|d| d.name == "kiosk-1").unwrap();
    assert!(!k.reachable && k.last.is_none(), "{k:?}");

    let beat = Heartbeat {
        health: DeviceHealth::Fault,
        printer: Some(PrinterState::PaperOut),
        message: Some("printer out of paper: load a new roll".into()),
        interval_s: 15,
        version: Some("test".into()),
    };
    kiosk.heartbeat(&beat).await.unwrap();
    // A counter sees it too (its page warns staff).
    let seen = s.client(&demo::counter(1)).devices().await.unwrap();
    let k = seen.iter().find(|d| d.name == "kiosk-1").unwrap();
    assert!(k.reachable && k.role == "kiosk" && k.last_seen_s == Some(0));
    assert_eq!(k.last.as_ref(), Some(&beat));
    let metrics = s.client("").get_text("/metrics").await.unwrap();
    assert!(metrics.contains("queue_devices_faulty 1"), "{metrics}");

    // A kiosk may not read the other devices; bad intervals are refused.
    assert_eq!(status_of(kiosk.devices().await).0, 403);
    let bad = Heartbeat {
        interval_s: 0,
        ..beat.clone()
    };
    match kiosk.heartbeat(&bad).await {
        Err(ClientError::Api {
            status: 400,
            message,
            ..
        }) => assert!(message.contains("interval_s"), "{message}"),
        other => panic!("expected 400, got {other:?}"),
    }
    assert_eq!(status_of(s.client("nope").heartbeat(&beat).await).0, 401);
}

#[tokio::test]
async fn opening_hours_close_a_service_and_the_kiosk_is_told_why() {
    let config = r#"
[hall]
name = { zh = "厅", en = "Hall" }
timezone = "UTC"
public_url = "http://hall.example:8080/"

[[service]]
id = "pay"
prefix = "A"
name = { zh = "缴费", en = "Payment" }
hours = "08:00-17:00"

[[service]]
id = "enq"
prefix = "E"
name = { zh = "咨询", en = "Enquiry" }

[[service]]
id = "vip"
prefix = "V"
name = { zh = "贵宾", en = "VIP" }

[[counter]]
number = 1
name = { zh = "1号窗口", en = "Counter 1" }
services = ["pay", "enq"]
initial_state = "open"

[[device]]
name = "kiosk-1"
role = "kiosk"
token = "kiosk-token"
"#;
    let mut s = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(config.into()),
            faketime: Some("@2026-03-02 06:30:00".into()),
            ..Default::default()
        },
    )
    .await;
    let kiosk = s.client("kiosk-token");
    let hall = kiosk.hall().await.unwrap();
    assert_eq!(
        hall.hall.public_url.as_deref(),
        Some("http://hall.example:8080")
    );
    let by_id = |h: &hall_api::HallSnapshot, id: &str| {
        h.services.iter().find(|v| v.id == id).unwrap().clone()
    };
    let pay = by_id(&hall, "pay");
    assert_eq!(pay.unavailable, Some(Unavailable::OutsideHours));
    assert_eq!(pay.hours.as_deref(), Some("08:00-17:00"));
    assert_eq!(by_id(&hall, "enq").unavailable, None);
    assert_eq!(
        by_id(&hall, "vip").unavailable,
        Some(Unavailable::NoCounterOpen)
    );

    let refused = kiosk
        .issue_ticket(&IssueTicket::new("pay", "early-bird"))
        .await;
    match refused {
        Err(ClientError::Api {
            status: 409,
            message,
            ..
        }) => assert!(
            message.contains("outside its hours") && message.contains("opens again at 08:00"),
            "{message}"
        ),
        other => panic!("expected 409, got {other:?}"),
    }

    s.restart_with_faketime("@2026-03-02 08:00:00").await;
    let kiosk = s.client("kiosk-token");
    assert_eq!(by_id(&kiosk.hall().await.unwrap(), "pay").unavailable, None);
    let (t, created) = kiosk
        .issue_ticket(&IssueTicket::new("pay", "early-bird"))
        .await
        .unwrap();
    assert!(created && t.number == "A001", "{t:?}");

    // Past closing time a kiosk retrying that request (its answer was
    // lost) still gets the ticket it holds; a new request is refused.
    s.restart_with_faketime("@2026-03-02 17:00:05").await;
    let kiosk = s.client("kiosk-token");
    let (again, created) = kiosk
        .issue_ticket(&IssueTicket::new("pay", "early-bird"))
        .await
        .expect("the same key after closing time answers the same ticket");
    assert!(!created && again.id == t.id, "{again:?}");
    let (status, _) = status_of(
        kiosk
            .issue_ticket(&IssueTicket::new("pay", "late-comer"))
            .await,
    );
    assert_eq!(status, 409);
}

/// A hall that requires recalls before a no-show gets the same rule when
/// staff call the next customer over a called one as when they press
/// no-show, and the no-show made by call-next is an event like any other.
#[tokio::test]
async fn call_next_over_a_called_ticket_keeps_the_recall_rule() {
    let config = queue_server::config::DEMO_TOML.replace(
        "timezone = \"Asia/Shanghai\"",
        "timezone = \"Asia/Shanghai\"\nrecalls_before_no_show = 1",
    );
    assert_ne!(config, queue_server::config::DEMO_TOML);
    let s = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(config),
            faketime: None,
            ..Default::default()
        },
    )
    .await;
    let kiosk = s.client(demo::KIOSK);
    let c1 = s.client(&demo::counter(1));
    let first = issue(&kiosk, "pay", "k1").await;
    let second = issue(&kiosk, "pay", "k2").await;
    let mut events = c1.events(None).await.unwrap();
    let called = ticket_of(act(&c1, 1, CounterAction::CallNext).await.unwrap());
    assert_eq!(called.id, first.id);

    for action in [CounterAction::CallNext, CounterAction::NoShow] {
        match act(&c1, 1, action).await {
            Err(ClientError::Api {
                status: 409,
                message,
                ..
            }) => assert!(
                message.contains("recalled 0 of the 1") && message.contains("recall it first"),
                "{action:?}: {message}"
            ),
            other => panic!("{action:?}: expected 409, got {other:?}"),
        }
    }
    let still = c1.ticket(first.id).await.unwrap();
    assert_eq!(
        still.status,
        TicketStatus::Called,
        "refusals change nothing"
    );

    act(&c1, 1, CounterAction::Recall).await.unwrap();
    let next = ticket_of(act(&c1, 1, CounterAction::CallNext).await.unwrap());
    assert_eq!(next.id, second.id);
    assert_eq!(
        c1.ticket(first.id).await.unwrap().status,
        TicketStatus::NoShow
    );
    let kinds: Vec<_> = [
        next_event(&mut events).await,
        next_event(&mut events).await,
        next_event(&mut events).await,
        next_event(&mut events).await,
    ]
    .into_iter()
    .map(|e| (e.kind, e.ticket.map(|t| t.id)))
    .collect();
    assert_eq!(
        kinds,
        [
            (EventKind::TicketCalled, Some(first.id)),
            (EventKind::TicketRecalled, Some(first.id)),
            (EventKind::TicketNoShow, Some(first.id)),
            (EventKind::TicketCalled, Some(second.id)),
        ]
    );
}

/// Events carry the waiting counts they change, so a screen can follow the
/// queues from the stream alone.
#[tokio::test]
async fn events_carry_the_waiting_counts_they_change() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    let c1 = s.client(&demo::counter(1));
    let mut events = c1.events(None).await.unwrap();
    let waiting = |e: &Event| {
        e.waiting
            .iter()
            .map(|w| (w.service.clone(), w.waiting))
            .collect::<Vec<_>>()
    };
    issue(&kiosk, "pay", "w1").await;
    issue(&kiosk, "pay", "w2").await;
    assert_eq!(waiting(&next_event(&mut events).await), [("pay".into(), 1)]);
    assert_eq!(waiting(&next_event(&mut events).await), [("pay".into(), 2)]);
    ticket_of(act(&c1, 1, CounterAction::CallNext).await.unwrap());
    let called = next_event(&mut events).await;
    assert_eq!(
        (called.kind, waiting(&called)),
        (EventKind::TicketCalled, vec![("pay".into(), 1)])
    );
    act(&c1, 1, CounterAction::Start).await.unwrap();
    assert!(
        next_event(&mut events).await.waiting.is_empty(),
        "a start moves no queue"
    );
    c1.counter_action(
        1,
        CounterAction::Transfer,
        &CounterActionBody::transfer_to("open"),
    )
    .await
    .unwrap();
    let moved = next_event(&mut events).await;
    assert_eq!(moved.kind, EventKind::TicketTransferred);
    assert_eq!(waiting(&moved), [("open".into(), 1)]);
    let hall = c1.hall().await.unwrap();
    for w in [("pay", 1), ("open", 1)] {
        let v = hall.services.iter().find(|v| v.id == w.0).unwrap();
        assert_eq!(
            v.waiting, w.1,
            "the snapshot agrees with the stream for {}",
            w.0
        );
    }
}

fn new_staff(number: &str, name: &str, pin: &str) -> hall_api::NewStaff {
    hall_api::NewStaff {
        number: number.into(),
        name: name.into(),
        pin: pin.into(),
    }
}

/// A new member of staff, added by the manager and signed in at `counter`:
/// a client acting as them there.
async fn staff_at(s: &ServerProcess, counter: u32, number: &str, name: &str) -> HallClient {
    const PIN: &str = "2468";
    s.client(demo::MANAGER)
        .add_staff(&new_staff(number, name, PIN))
        .await
        .unwrap();
    let session = s
        .client("")
        .sign_in_staff(counter, number, PIN)
        .await
        .unwrap();
    s.client(&session.token)
}

#[tokio::test]
async fn staff_sign_in_as_people_and_its_refusals() {
    let s = demo_server().await;
    let m = s.client(demo::MANAGER);
    let anyone = s.client("");
    m.add_staff(&new_staff("1024", "张三", "2468"))
        .await
        .unwrap();
    m.add_staff(&new_staff("2048", "李四", "1357"))
        .await
        .unwrap();
    // Numbers are unique and never reused; only the manager adds staff.
    assert_eq!(
        status_of(m.add_staff(&new_staff("1024", "王五", "1111")).await).0,
        409
    );
    assert_eq!(
        status_of(
            s.client(&demo::counter(1))
                .add_staff(&new_staff("9", "x", "1111"))
                .await
        )
        .0,
        403
    );
    assert_eq!(
        status_of(m.add_staff(&new_staff("a b", "x", "1111")).await).0,
        400
    );

    // A wrong PIN and an unknown number get the same answer.
    let (status, _, wrong_pin) = api_error(anyone.sign_in_staff(1, "1024", "0000").await);
    let (status2, _, unknown) = api_error(anyone.sign_in_staff(1, "7777", "2468").await);
    assert_eq!((status, status2), (401, 401));
    assert_eq!(wrong_pin, unknown);

    let zhang = anyone.sign_in_staff(1, "1024", "2468").await.unwrap();
    assert_eq!(zhang.staff.as_ref().unwrap().name, "张三");
    let zhang = s.client(&zhang.token);
    let who = zhang.whoami().await.unwrap();
    assert_eq!(
        (who.counter, who.staff.map(|s| s.number)),
        (Some(1), Some("1024".into()))
    );
    // One counter at a time: the message says where they are signed in.
    let (status, _, message) = api_error(anyone.sign_in_staff(2, "1024", "2468").await);
    assert_eq!(status, 409);
    assert!(message.contains("counter 1"), "{message}");

    // Whoever serves records who served.
    issue(&s.client(demo::KIOSK), "pay", "s1").await;
    let called = zhang.call_next(1).await.unwrap().unwrap();
    assert_eq!(
        called.staff.as_ref().map(|s| s.number.as_str()),
        Some("1024")
    );
    let snapshot = m.hall().await.unwrap();
    assert_eq!(snapshot.counters[0].staff.as_ref().unwrap().name, "张三");

    // Someone else signing in at counter 1 takes the post over.
    let li = anyone.sign_in_staff(1, "2048", "1357").await.unwrap();
    assert_eq!(status_of(zhang.hall().await).0, 401);
    let li = s.client(&li.token);
    li.hall().await.unwrap();
    // 张三 may now sign in elsewhere.
    anyone.sign_in_staff(2, "1024", "2468").await.unwrap();
    let list = m.staff().await.unwrap();
    let at: Vec<_> = list
        .iter()
        .map(|p| (p.number.as_str(), p.signed_in_at))
        .collect();
    assert_eq!(at, [("1024", Some(2)), ("2048", Some(1))]);

    // Disabled: signed out at once, refused after, kept in the list.
    m.disable_staff("2048").await.unwrap();
    assert_eq!(status_of(li.hall().await).0, 401);
    assert_eq!(
        status_of(anyone.sign_in_staff(1, "2048", "1357").await).0,
        403
    );
    let list = m.staff().await.unwrap();
    assert!(
        list.iter()
            .any(|p| p.number == "2048" && p.disabled && p.signed_in_at.is_none())
    );

    // The counter's own PIN keeps working for halls without accounts.
    m.set_pin(3, "9753").await.unwrap();
    let pin = anyone.sign_in(3, "9753").await.unwrap();
    assert!(pin.staff.is_none());
    let pin = s.client(&pin.token);
    assert!(pin.whoami().await.unwrap().staff.is_none());
    // Signing out ends the session.
    pin.sign_out().await.unwrap();
    assert_eq!(status_of(pin.hall().await).0, 401);
}

fn api_error<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String, String) {
    match r {
        Err(ClientError::Api {
            status,
            code,
            message,
        }) => (status, code, message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

/// What the test itself knows of one ticket, from the event log.
#[derive(Default, Debug)]
struct Seen {
    issued_at: i64,
    continuation: bool,
    staff: Option<String>,
    called: Option<i64>,
    started: Option<i64>,
    ended: Option<i64>,
    status: Option<TicketStatus>,
    held_ms: i64,
    held_since: Option<i64>,
}

async fn body_act(
    c: &HallClient,
    counter: u32,
    action: CounterAction,
    body: CounterActionBody,
) -> Result<ActionOutcome, ClientError> {
    c.counter_action(counter, action, &body).await
}

#[tokio::test]
async fn pauses_holds_and_per_staff_statistics_agree_with_the_event_log() {
    // The clock runs 60 times fast, so short real pauses make minutes.
    let s = ServerProcess::start(
        BIN,
        ServerOptions {
            faketime: Some("@2026-03-02 01:00:00 x60".into()),
            ..Default::default()
        },
    )
    .await;
    let pause = || tokio::time::sleep(Duration::from_millis(150));
    let m = s.client(demo::MANAGER);
    let kiosk = s.client(demo::KIOSK);
    let a = staff_at(&s, 1, "1024", "张三").await;
    let b = staff_at(&s, 2, "2048", "李四").await;
    for i in 0..6 {
        issue(&kiosk, "pay", &format!("k{i}")).await;
        pause().await;
    }

    // 张三 at counter 1: serve, hold, serve another meanwhile, resume, finish.
    let first = a.call_next(1).await.unwrap().unwrap();
    assert_eq!(
        status_of(act(&a, 1, CounterAction::Hold).await).0,
        409,
        "only a customer being served can be held"
    );
    act(&a, 1, CounterAction::Start).await.unwrap();
    pause().await;
    let held = ticket_of(act(&a, 1, CounterAction::Hold).await.unwrap());
    assert_eq!(held.status, TicketStatus::Held);
    let view = m.hall().await.unwrap();
    assert_eq!(view.counters[0].current, None);
    assert_eq!(view.counters[0].held[0].number, first.number);
    let second = a.call_next(1).await.unwrap().unwrap();
    act(&a, 1, CounterAction::Start).await.unwrap();
    let resume = CounterActionBody::resuming(first.number.clone());
    assert_eq!(
        status_of(body_act(&a, 1, CounterAction::ResumeHeld, resume.clone()).await).0,
        409,
        "busy with {}",
        second.number
    );
    pause().await;
    act(&a, 1, CounterAction::Complete).await.unwrap();
    assert_eq!(
        status_of(
            body_act(
                &a,
                1,
                CounterAction::ResumeHeld,
                CounterActionBody::resuming("Z999")
            )
            .await
        )
        .0,
        404
    );
    let back = ticket_of(
        body_act(&a, 1, CounterAction::ResumeHeld, resume)
            .await
            .unwrap(),
    );
    assert_eq!(back.status, TicketStatus::Serving);
    pause().await;
    let done = ticket_of(act(&a, 1, CounterAction::Complete).await.unwrap());
    assert!(done.held_s > 0, "{done:?}");

    // Pauses with a reason: a configured one, the default, and a refusal.
    let (status, _, message) = api_error(
        body_act(
            &a,
            1,
            CounterAction::Pause,
            CounterActionBody::pausing_for("nap"),
        )
        .await,
    );
    assert_eq!(status, 400);
    assert!(message.contains("meal"), "lists the reasons: {message}");
    let paused = match body_act(
        &a,
        1,
        CounterAction::Pause,
        CounterActionBody::pausing_for("meal"),
    )
    .await
    .unwrap()
    {
        ActionOutcome::Counter(c) => c,
        other => panic!("{other:?}"),
    };
    assert_eq!(
        (paused.state, paused.pause_reason.as_deref()),
        (CounterState::Paused, Some("meal"))
    );
    pause().await;
    act(&a, 1, CounterAction::Resume).await.unwrap();
    act(&a, 1, CounterAction::Pause).await.unwrap();
    pause().await;
    act(&a, 1, CounterAction::Resume).await.unwrap();

    // 李四 at counter 2: a no-show, a transfer, and a hold never resumed.
    b.call_next(2).await.unwrap().unwrap();
    pause().await;
    act(&b, 2, CounterAction::NoShow).await.unwrap();
    b.call_next(2).await.unwrap().unwrap();
    act(&b, 2, CounterAction::Start).await.unwrap();
    pause().await;
    body_act(
        &b,
        2,
        CounterAction::Transfer,
        CounterActionBody::transfer_to("enquiry"),
    )
    .await
    .unwrap();
    let parked = b.call_next(2).await.unwrap().unwrap();
    act(&b, 2, CounterAction::Start).await.unwrap();
    pause().await;
    act(&b, 2, CounterAction::Hold).await.unwrap();
    pause().await;
    // Closing leaves the held ticket held, and reported.
    act(&b, 2, CounterAction::Close).await.unwrap();
    a.sign_out().await.unwrap();
    b.sign_out().await.unwrap();

    // The test's own account of the day, from the event log alone.
    let last = m.hall().await.unwrap().last_event_id;
    let mut stream = m.events(Some(0)).await.unwrap();
    let mut tickets: std::collections::BTreeMap<i64, Seen> = Default::default();
    let mut signed_in: std::collections::HashMap<String, (u32, i64)> = Default::default();
    let mut attendance: Vec<(String, u32, i64, i64)> = Vec::new();
    let mut pauses: Vec<(u32, String, i64, i64)> = Vec::new();
    let mut paused_since: std::collections::HashMap<u32, (String, i64)> = Default::default();
    loop {
        let e = next_event(&mut stream).await;
        let at = e.at.as_millisecond();
        let staff = e.staff.as_ref().map(|s| s.number.clone());
        if let Some(t) = &e.ticket {
            let seen = tickets.entry(t.id).or_default();
            seen.status = Some(t.status);
            match e.kind {
                EventKind::TicketIssued => {
                    seen.issued_at = t.issued_at.as_millisecond();
                }
                EventKind::TicketCalled => {
                    seen.called = Some(at);
                    seen.staff = staff.clone();
                }
                EventKind::TicketStarted => seen.started = Some(at),
                EventKind::TicketHeld => seen.held_since = Some(at),
                EventKind::TicketResumed => {
                    seen.held_ms += at - seen.held_since.take().unwrap();
                }
                EventKind::TicketCompleted
                | EventKind::TicketNoShow
                | EventKind::TicketTransferred => seen.ended = Some(at),
                _ => {}
            }
        }
        if let Some(to) = &e.transferred_to {
            let seen = tickets.entry(to.id).or_default();
            seen.issued_at = to.issued_at.as_millisecond();
            seen.continuation = true;
            seen.status = Some(to.status);
        }
        match (e.kind, e.counter) {
            (EventKind::StaffSignedIn, Some(c)) => {
                signed_in.insert(staff.clone().unwrap(), (c, at));
            }
            (EventKind::StaffSignedOut, Some(_)) => {
                let who = staff.clone().unwrap();
                let (c, from) = signed_in.remove(&who).unwrap();
                attendance.push((who, c, from, at));
            }
            (EventKind::CounterPaused, Some(c)) => {
                paused_since.insert(c, (e.reason.clone().unwrap(), at));
            }
            (EventKind::CounterResumed | EventKind::CounterClosed, Some(c)) => {
                if let Some((reason, from)) = paused_since.remove(&c) {
                    pauses.push((c, reason, from, at));
                }
            }
            _ => {}
        }
        if e.id == last {
            break;
        }
    }

    // 李四 leaves: disabled, and still named in the day's figures.
    m.disable_staff("2048").await.unwrap();
    let stats = m.day_stats(jiff::civil::date(2026, 3, 2)).await.unwrap();
    assert_eq!(
        stats
            .staff
            .iter()
            .map(|r| r.staff.name.as_str())
            .collect::<Vec<_>>(),
        ["张三", "李四"]
    );
    assert_eq!(
        stats
            .unresumed_holds
            .iter()
            .map(|t| &t.number)
            .collect::<Vec<_>>(),
        [&parked.number]
    );
    assert_eq!(stats.staff.len(), 2);
    let close = |got: u64, want_ms: i64, what: &str| {
        // Both sides round a sum of milliseconds to seconds.
        assert!(
            (got as i64 - (want_ms as f64 / 1000.0).round() as i64).abs() <= 1,
            "{what}: server {got} s, test {want_ms} ms"
        );
    };
    for row in &stats.staff {
        let who = row.staff.number.as_str();
        let mine: Vec<&Seen> = tickets
            .values()
            .filter(|t| t.staff.as_deref() == Some(who))
            .collect();
        let count =
            |want: TicketStatus| mine.iter().filter(|t| t.status == Some(want)).count() as u32;
        assert_eq!(row.called, mine.len() as u32, "{who} called");
        assert_eq!(row.served, count(TicketStatus::Done), "{who} served");
        assert_eq!(row.no_show, count(TicketStatus::NoShow), "{who} no-shows");
        assert_eq!(
            row.transferred,
            count(TicketStatus::Transferred),
            "{who} transfers"
        );
        let waits: Vec<i64> = mine
            .iter()
            .filter(|t| !t.continuation)
            .map(|t| t.called.unwrap() - t.issued_at)
            .collect();
        assert_eq!(row.wait.count, waits.len() as u32);
        let mean = waits.iter().sum::<i64>() as f64 / waits.len() as f64 / 1000.0;
        assert!(
            (row.wait.mean_s.unwrap() - mean).abs() < 0.11,
            "{who} wait {row:?} vs {mean}"
        );
        let serving: i64 = mine
            .iter()
            .filter_map(|t| Some(t.ended? - t.started? - t.held_ms))
            .sum();
        close(row.serving_s, serving, "serving");
        let on_duty: Vec<_> = attendance.iter().filter(|a| a.0 == who).collect();
        let duty_ms: i64 = on_duty.iter().map(|a| a.3 - a.2).sum();
        close(row.signed_in_s, duty_ms, "signed in");
        let mut paused_ms: std::collections::BTreeMap<String, i64> = Default::default();
        for (_, c, from, to) in &on_duty {
            for (pc, reason, pf, pt) in &pauses {
                let overlap = (*pt).min(*to) - (*pf).max(*from);
                if pc == c && overlap > 0 {
                    *paused_ms.entry(reason.clone()).or_default() += overlap;
                }
            }
        }
        assert_eq!(
            row.paused
                .iter()
                .map(|p| p.reason.as_str())
                .collect::<Vec<_>>(),
            paused_ms.keys().map(String::as_str).collect::<Vec<_>>(),
            "{who} pause reasons"
        );
        for p in &row.paused {
            close(p.seconds, paused_ms[&p.reason], "paused");
        }
        let available = (duty_ms - paused_ms.values().sum::<i64>()) as f64;
        let utilisation = serving as f64 / available;
        assert!(
            (row.utilisation.unwrap() - utilisation).abs() < 0.01,
            "{who} utilisation {:?} vs {utilisation}",
            row.utilisation
        );
        if who == "1024" {
            assert_eq!(row.staff.name, "张三");
            assert_eq!(row.paused.len(), 2, "meal and other");
            close(row.held_s, mine.iter().map(|t| t.held_ms).sum(), "held");
            assert!(row.served == 2 && row.held_s > 0);
        } else {
            assert_eq!((row.no_show, row.transferred), (1, 1));
            assert!(row.held_s > 0, "the hold still running counts");
        }
    }
    // Held time is counted apart: the hall held two tickets (the transfer's
    // enquiry entry went first at counter 2, and is the one parked).
    assert_eq!(stats.hall.held, 2);
    assert_eq!(parked.service, "enquiry");
}

#[tokio::test]
async fn staff_added_at_the_terminal_sign_in_at_the_running_server() {
    use std::io::Write;
    let s = demo_server().await;
    let add = |number: &str, name: &str, pin: &str| {
        let mut child = std::process::Command::new(BIN)
            .args([
                "--db",
                s.db_path().to_str().unwrap(),
                "staff",
                "add",
                number,
                name,
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{pin}").unwrap();
        let out = child.wait_with_output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (ok, said) = add("1024", "张三", "2468");
    assert!(ok, "{said}");
    // The same rules as the API: numbers are not reused, a PIN is digits.
    let (ok, said) = add("1024", "王五", "1357");
    assert!(!ok && said.contains("already belongs to 张三"), "{said}");
    let (ok, said) = add("2048", "李四", "12ab");
    assert!(!ok && said.contains("4 to 8 digits"), "{said}");
    let session = s.client("").sign_in_staff(4, "1024", "2468").await.unwrap();
    assert_eq!(session.staff.unwrap().name, "张三");
}

async fn serve_one(c: &HallClient, counter: u32, reference: &str) -> hall_api::Ticket {
    let called = c.call_next(counter).await.unwrap().expect("someone waits");
    act(c, counter, CounterAction::Start).await.unwrap();
    let done = ticket_of(
        c.counter_action(
            counter,
            CounterAction::Complete,
            &CounterActionBody::completing(reference),
        )
        .await
        .unwrap(),
    );
    assert_eq!(done.id, called.id);
    done
}

fn rating(level: hall_api::RatingLevel, reasons: &[&str]) -> hall_api::RateRequest {
    hall_api::RateRequest {
        level,
        reasons: reasons.iter().map(|r| r.to_string()).collect(),
    }
}

#[tokio::test]
async fn ratings_are_taken_once_from_the_right_place_in_time_and_bad_ones_followed_up() {
    use hall_api::RatingLevel::*;
    // Friday 2026-03-06, 09:00 in the hall; the clock runs 60 times fast.
    let config = format!(
        "{}\n[ratings]\nrater_window_min = 1\n",
        include_str!("../demo.toml")
    );
    let mut s = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(config),
            faketime: Some("@2026-03-06 01:00:00 x60".into()),
            ..Default::default()
        },
    )
    .await;
    let m = s.client(demo::MANAGER);
    let kiosk = s.client(demo::KIOSK);
    let rater1 = s.client(&demo::rater(1));
    let rater2 = s.client(&demo::rater(2));
    let mut live = m.events(None).await.unwrap();
    let zhang = staff_at(&s, 1, "1024", "张三").await;
    let mut issued = Vec::new();
    for i in 0..4 {
        issued.push(issue(&kiosk, "pay", &format!("r{i}")).await);
    }
    let a1 = serve_one(&zhang, 1, "TX-1").await;

    // Only the rater of the counter that served it, once.
    assert_eq!(
        status_of(rater2.rate(a1.id, &rating(VerySatisfied, &[])).await).0,
        403
    );
    assert_eq!(
        status_of(m.rate(a1.id, &rating(VerySatisfied, &[])).await).0,
        403,
        "a manager cannot rate for a customer"
    );
    let r1 = rater1
        .rate(a1.id, &rating(VerySatisfied, &[]))
        .await
        .unwrap();
    assert_eq!(
        (
            r1.counter,
            r1.staff.as_ref().map(|s| s.number.as_str()),
            r1.transaction_ref.as_deref(),
            r1.follow_up
        ),
        (Some(1), Some("1024"), Some("TX-1"), None)
    );
    assert_eq!(
        status_of(rater1.rate(a1.id, &rating(Satisfied, &[])).await).0,
        409
    );
    // Not completed yet: refused.
    assert_eq!(
        status_of(rater1.rate(issued[1].id, &rating(Satisfied, &[])).await).0,
        409
    );

    // A bad rating with reasons opens a follow-up due three working days on:
    // across the weekend, Wednesday.
    let a2 = serve_one(&zhang, 1, "TX-2").await;
    assert_eq!(
        status_of(rater1.rate(a2.id, &rating(Satisfied, &["attitude"])).await).0,
        400,
        "reasons go with bad ratings only"
    );
    assert_eq!(
        status_of(rater1.rate(a2.id, &rating(Dissatisfied, &["rude"])).await).0,
        400
    );
    let r2 = rater1
        .rate(
            a2.id,
            &rating(Dissatisfied, &["waited_too_long", "attitude"]),
        )
        .await
        .unwrap();
    let open = m.follow_ups(false).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].id, r2.follow_up.unwrap());
    assert_eq!(open[0].due, jiff::civil::date(2026, 3, 11));
    assert!(!open[0].overdue);

    // On the phone, for a ticket the rater did not rate; once.
    let a3 = serve_one(&zhang, 1, "TX-3").await;
    let anyone = s.client("");
    let page = anyone.public_ticket(&a3.tracking_code).await.unwrap();
    assert!(page.can_rate && page.rated.is_none());
    anyone
        .rate_on_phone(&a3.tracking_code, &rating(Satisfied, &[]))
        .await
        .unwrap();
    let page = anyone.public_ticket(&a3.tracking_code).await.unwrap();
    assert_eq!((page.can_rate, page.rated), (false, Some(Satisfied)));
    assert_eq!(
        status_of(
            anyone
                .rate_on_phone(&a3.tracking_code, &rating(VerySatisfied, &[]))
                .await
        )
        .0,
        409
    );
    let page = anyone.public_ticket(&a1.tracking_code).await.unwrap();
    assert_eq!((page.can_rate, page.rated), (false, Some(VerySatisfied)));

    // After the rater's minute, the rater is refused; the phone still may.
    let a4 = serve_one(&zhang, 1, "TX-4").await;
    tokio::time::sleep(Duration::from_millis(1300)).await;
    let (status, _, message) = api_error(rater1.rate(a4.id, &rating(Satisfied, &[])).await);
    assert_eq!(status, 409);
    assert!(message.contains("has passed"), "{message}");
    anyone
        .rate_on_phone(
            &a4.tracking_code,
            &rating(VeryDissatisfied, &["not_solved"]),
        )
        .await
        .unwrap();

    // Ratings are events, with who served and the billing reference.
    let mut rated = Vec::new();
    while rated.len() < 4 {
        let e = next_event(&mut live).await;
        if e.kind == EventKind::TicketRated {
            rated.push(e);
        }
    }
    let first = &rated[0];
    assert_eq!(first.staff.as_ref().unwrap().number, "1024");
    let r = first.rating.as_ref().unwrap();
    assert_eq!(
        (r.level, r.transaction_ref.as_deref()),
        (VerySatisfied, Some("TX-1"))
    );
    assert_eq!(
        rated[1].rating.as_ref().unwrap().reasons,
        ["waited_too_long", "attitude"]
    );

    // The day's figures, as the test counts them: four served, four rated.
    let stats = m.day_stats(jiff::civil::date(2026, 3, 6)).await.unwrap();
    let given = [VerySatisfied, Dissatisfied, Satisfied, VeryDissatisfied];
    for r in [
        &stats.hall.ratings,
        &stats.staff[0].ratings,
        &stats.counters[0].ratings,
    ] {
        assert_eq!((r.rated, r.coverage), (4, Some(1.0)));
        let satisfied = given.iter().filter(|l| l.is_satisfied()).count() as f64;
        assert_eq!(r.satisfaction_rate, Some(satisfied / 4.0));
        for lc in &r.levels {
            assert_eq!(
                lc.count,
                given.iter().filter(|l| **l == lc.level).count() as u32
            );
        }
    }
    assert_eq!(
        stats
            .low_rated
            .iter()
            .map(|r| (r.number.as_str(), r.reasons.clone()))
            .collect::<Vec<_>>(),
        [
            (
                a2.number.as_str(),
                vec!["waited_too_long".to_string(), "attitude".into()]
            ),
            (a4.number.as_str(), vec!["not_solved".to_string()])
        ]
    );

    // Following up: what was done is needed to close; closed stays closed.
    let f = &open[0];
    let close_only = hall_api::FollowUpUpdate {
        close: true,
        ..Default::default()
    };
    assert_eq!(
        status_of(m.update_follow_up(f.id, &close_only).await).0,
        400
    );
    let done = m
        .update_follow_up(
            f.id,
            &hall_api::FollowUpUpdate {
                owner: Some("王经理".into()),
                action: Some("致电客户致歉，已安排错峰办理".into()),
                called_back: Some(true),
                close: true,
            },
        )
        .await
        .unwrap();
    assert!(done.closed_at.is_some() && done.called_back);
    assert_eq!(
        status_of(m.update_follow_up(f.id, &close_only).await).0,
        409
    );
    assert_eq!(
        status_of(rater1.follow_ups(false).await).0,
        403,
        "only the manager sees follow-ups"
    );

    // The other one, opened Friday, is overdue on Thursday.
    s.restart_with_faketime("@2026-03-12 01:00:00").await;
    let m = s.client(demo::MANAGER);
    let open = m.follow_ups(false).await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].rating.number.as_str(), open[0].overdue),
        (a4.number.as_str(), true)
    );
    assert_eq!(m.follow_ups(true).await.unwrap().len(), 2);
}

#[tokio::test]
async fn a_rater_that_rates_instantly_and_all_top_is_flagged() {
    use hall_api::RatingLevel::*;
    let s = demo_server().await;
    let m = s.client(demo::MANAGER);
    let kiosk = s.client(demo::KIOSK);
    for i in 0..12 {
        issue(&kiosk, "pay", &format!("f{i}")).await;
    }
    // Counter 1's rater rates ten tickets 非常满意 the moment they end.
    for i in 0..10 {
        let t = serve_one(&m, 1, &format!("TX-{i}")).await;
        s.client(&demo::rater(1))
            .rate(t.id, &rating(VerySatisfied, &[]))
            .await
            .unwrap();
    }
    // Counter 2's customers are rated as customers rate.
    for level in [Satisfied, FairlySatisfied] {
        let t = serve_one(&m, 2, "TX").await;
        s.client(&demo::rater(2))
            .rate(t.id, &rating(level, &[]))
            .await
            .unwrap();
    }
    let today = m.health().await.unwrap().business_day;
    let stats = m.day_stats(today).await.unwrap();
    let flags: Vec<_> = stats
        .rating_flags
        .iter()
        .map(|f| (f.counter, f.kind))
        .collect();
    assert_eq!(
        flags,
        [
            (1, hall_api::RatingFlagKind::Instant),
            (1, hall_api::RatingFlagKind::UniformTop)
        ],
        "{:?}",
        stats.rating_flags
    );
    assert!(
        stats.rating_flags[1]
            .detail
            .contains("10 非常满意 in a row")
    );
}

#[tokio::test]
async fn who_saw_an_account_number_is_kept_and_security_events_are_logged() {
    let s = demo_server().await;
    let kiosk = s.client(demo::KIOSK);
    let m = s.client(demo::MANAGER);
    let (t, _) = kiosk
        .issue_ticket(&IssueTicket {
            customer_ref: Some("8800123456".into()),
            ..IssueTicket::new("pay", "seen")
        })
        .await
        .unwrap();
    issue(&kiosk, "pay", "no-account").await;
    // The kiosk reading back its own ticket is no access.
    kiosk.ticket(t.id).await.unwrap();
    let zhang = staff_at(&s, 1, "1024", "张三").await;
    let called = zhang.call_next(1).await.unwrap().unwrap();
    // The counter page reads its current ticket on every refresh: one record.
    for _ in 0..3 {
        assert_eq!(
            zhang
                .ticket(called.id)
                .await
                .unwrap()
                .customer_ref
                .as_deref(),
            Some("8800123456")
        );
    }
    let seen = s.client(&demo::counter(2)).ticket(called.id).await.unwrap();
    assert_eq!(seen.number, t.number);
    let today = m.health().await.unwrap().business_day;
    let access: Vec<hall_api::AccessRecord> = serde_json::from_str(
        &m.get_text(&format!("/api/v1/access?date={today}"))
            .await
            .unwrap(),
    )
    .unwrap();
    let seen: Vec<_> = access
        .iter()
        .map(|a| {
            (
                a.who.as_str(),
                a.staff.as_ref().map(|s| s.name.as_str()),
                a.number.as_deref(),
                a.what.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            (
                "counter-1 (1024 张三)",
                Some("张三"),
                Some("A001"),
                "account_number"
            ),
            ("counter-2", None, Some("A001"), "account_number"),
        ]
    );
    assert_eq!(
        status_of(zhang.get_text("/api/v1/access").await).0,
        403,
        "only the manager reads it"
    );

    // Security events, in a form an auditor filters on.
    let _ = s.client("").sign_in_staff(1, "1024", "0000").await;
    let log = s.log();
    for event in [
        "event=\"signed_in\"",
        "event=\"sign_in_failed\"",
        "event=\"staff_added\"",
        "event=\"token_new_address\"",
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains(" security: ") && l.contains(event)),
            "{event} missing from the log:\n{log}"
        );
    }
}

/// A key account (the billing system says which) and a customer the floor
/// guide gave a priority reason are called before others of their service;
/// the counter's list says why. Without the billing system the ticket is
/// still issued, as any other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_accounts_and_the_guides_reasons_go_first() {
    use hall_testkit::billing::{BillingSim, linked_hall};
    let sim = BillingSim::start(
        &hall_testkit::workspace_bin("billing-sim"),
        hall_testkit::free_port(),
    )
    .await;
    let config = format!(
        "{}\n[[device]]\nname = \"guide-1\"\nrole = \"guide\"\ntoken = \"test-guide\"\n",
        linked_hall(sim.port)
    );
    let server = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(config),
            ..Default::default()
        },
    )
    .await;
    let kiosk = server.client(demo::KIOSK);
    let guide = server.client("test-guide");
    let with_account = |key: &str, account: &str| IssueTicket {
        customer_ref: Some(account.into()),
        ..IssueTicket::new("pay", key)
    };
    let plain = kiosk
        .issue_ticket(&IssueTicket::new("pay", "p1"))
        .await
        .unwrap()
        .0;
    let ordinary = kiosk
        .issue_ticket(&with_account("p2", "8800654321"))
        .await
        .unwrap()
        .0;
    let key = kiosk
        .issue_ticket(&with_account("p3", "8800900900"))
        .await
        .unwrap()
        .0;
    assert_eq!(key.priority_reason.as_deref(), Some("key_account"));
    assert_eq!(ordinary.priority_reason, None);
    let elderly_req = IssueTicket {
        priority_reason: Some("elderly".into()),
        ..IssueTicket::new("pay", "p4")
    };
    // Only the floor guide (and the manager) may give a reason.
    let refused = kiosk.issue_ticket(&elderly_req).await.unwrap_err();
    assert!(
        matches!(refused, ClientError::Api { status: 403, .. }),
        "{refused}"
    );
    let unknown = guide
        .issue_ticket(&IssueTicket {
            priority_reason: Some("tall".into()),
            ..IssueTicket::new("pay", "p5")
        })
        .await
        .unwrap_err();
    assert!(unknown.to_string().contains("elderly"), "{unknown}");
    let elderly = guide.issue_ticket(&elderly_req).await.unwrap().0;
    assert_eq!(elderly.priority_reason.as_deref(), Some("elderly"));
    // The key account and the elderly customer are ahead of the others.
    assert_eq!(elderly.ahead, Some(1));

    let counter = server.client(&demo::counter(2));
    let queue = counter.counter_queue(2).await.unwrap();
    let order: Vec<(&str, Option<&str>)> = queue
        .iter()
        .map(|t| (t.number.as_str(), t.priority_reason.as_deref()))
        .collect();
    assert_eq!(
        order,
        [
            (key.number.as_str(), Some("key_account")),
            (elderly.number.as_str(), Some("elderly")),
            (plain.number.as_str(), None),
            (ordinary.number.as_str(), None),
        ]
    );
    let first = counter.call_next(2).await.unwrap().unwrap();
    assert_eq!(first.number, key.number);
    assert_eq!(
        counter.call_next(2).await.unwrap().unwrap().number,
        elderly.number
    );
    // The day's figures count them by reason.
    let day = server
        .client(demo::MANAGER)
        .day_stats(first.business_day)
        .await
        .unwrap();
    let by_reason: Vec<(String, u32)> = day
        .priority
        .iter()
        .map(|p| (p.reason.clone(), p.issued))
        .collect();
    assert_eq!(
        by_reason,
        [("elderly".to_string(), 1), ("key_account".to_string(), 1)]
    );

    // The billing system gone: the key account's ticket is issued all the same.
    drop(sim);
    let (late, created) = kiosk
        .issue_ticket(&with_account("p6", "8800900900"))
        .await
        .unwrap();
    assert!(created);
    assert_eq!(late.priority_reason, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remote_tickets_wait_for_check_in_then_expire() {
    use hall_api::RemoteTicketRequest;
    // 10:00 in the hall (Asia/Shanghai); the demo hall takes remote
    // tickets, 60 minutes to check in, two per client a day.
    let mut server = ServerProcess::start(
        BIN,
        ServerOptions {
            faketime: Some("@2026-03-02 02:00:00".into()),
            ..Default::default()
        },
    )
    .await;
    let phone = server.client("");
    let kiosk = server.client(demo::KIOSK);
    let app = server.client(demo::BILLING);
    let counter = server.client(&demo::counter(1));
    let ask = |key: &str| RemoteTicketRequest {
        service: "pay".into(),
        idempotency_key: key.into(),
        lang: Some(Lang::En),
        client: None,
    };

    let (early, created) = phone.take_remote_ticket(&ask("r1"), true).await.unwrap();
    assert!(created);
    assert_eq!(early.remote.check_in_code.len(), 6);
    assert_eq!(early.remote.checked_in_at, None);
    assert_eq!(
        early.remote.check_in_by.as_second(),
        "2026-03-02T03:00:00Z"
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_second(),
        "an hour to check in"
    );
    // A retry with the same key is the same ticket, not a second one.
    let (again, created) = phone.take_remote_ticket(&ask("r1"), true).await.unwrap();
    assert!(!created);
    assert_eq!(again.tracking_code, early.tracking_code);

    // A walk-in after it is called first: the remote holder is not here.
    let walk_in = issue(&kiosk, "pay", "w1").await;
    assert_eq!(walk_in.ahead, Some(1), "the remote ticket keeps its place");
    let queue = counter.counter_queue(1).await.unwrap();
    assert_eq!(
        queue.iter().map(|t| t.number.as_str()).collect::<Vec<_>>(),
        [walk_in.number.as_str()]
    );
    assert_eq!(
        counter.call_next(1).await.unwrap().unwrap().number,
        walk_in.number
    );
    assert!(
        counter.call_next(1).await.unwrap().is_none(),
        "nobody here to call"
    );
    let seen = phone.public_ticket(&early.tracking_code).await.unwrap();
    assert_eq!(seen.status, TicketStatus::Waiting);
    assert_eq!(seen.remote.as_ref().unwrap().checked_in_at, None);

    // Checked in at the kiosk by its six digits: called next.
    let (status, _) = status_of(kiosk.check_in("000000x").await);
    assert_eq!(status, 404);
    let checked = kiosk.check_in(&early.remote.check_in_code).await.unwrap();
    assert!(checked.remote.as_ref().unwrap().checked_in_at.is_some());
    assert_eq!(checked.ahead, Some(0));
    assert_eq!(
        counter.call_next(1).await.unwrap().unwrap().number,
        early.number
    );

    // The second from the same phone is taken; the third is refused.
    let (second, _) = phone.take_remote_ticket(&ask("r2"), true).await.unwrap();
    let flood = phone.take_remote_ticket(&ask("r3"), true).await;
    match flood {
        Err(ClientError::Api {
            status: 429,
            message,
            ..
        }) => assert!(message.contains("kiosk"), "{message}"),
        other => panic!("expected 429, got {other:?}"),
    }
    // Checked in from the phone with the hall's posted code; a wrong one is refused.
    let (status, _) = status_of(
        phone
            .check_in_on_phone(&second.tracking_code, "not-this-hall")
            .await,
    );
    assert_eq!(status, 400);
    let here = phone
        .check_in_on_phone(&second.tracking_code, "demo-entrance-qr")
        .await
        .unwrap();
    assert!(here.remote.unwrap().checked_in_at.is_some());

    // The company's app names its customer; without one it is refused.
    let (status, _) = status_of(app.take_remote_ticket(&ask("a0"), false).await);
    assert_eq!(status, 400);
    let for_app = |key: &str| RemoteTicketRequest {
        client: Some("customer-42".into()),
        ..ask(key)
    };
    let (never, _) = app.take_remote_ticket(&for_app("a1"), false).await.unwrap();
    // A kiosk may not take remote tickets through the app's endpoint.
    let (status, _) = status_of(kiosk.take_remote_ticket(&for_app("a2"), false).await);
    assert_eq!(status, 403);

    // 65 minutes later: the one nobody checked in has expired; the
    // checked-in one still waits.
    server.restart_with_faketime("@2026-03-02 03:05:00").await;
    let phone = server.client("");
    hall_testkit::eventually("the unchecked remote ticket expires", || {
        let phone = phone.clone();
        let code = never.tracking_code.clone();
        async move { phone.public_ticket(&code).await.unwrap().status == TicketStatus::Expired }
    })
    .await;
    assert_eq!(
        phone
            .public_ticket(&second.tracking_code)
            .await
            .unwrap()
            .status,
        TicketStatus::Waiting
    );
    let kiosk = server.client(demo::KIOSK);
    let (status, _) = status_of(kiosk.check_in(&never.remote.check_in_code).await);
    assert_eq!(status, 409, "an expired ticket cannot be checked in");

    let day = server
        .client(demo::MANAGER)
        .day_stats(checked.business_day)
        .await
        .unwrap();
    assert_eq!((day.hall.remote, day.hall.expired), (3, 1));
    assert_eq!(day.hall.issued, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_floor_guide_signs_in_as_staff_and_has_a_kiosk_print() {
    let server = demo_server().await;
    let manager = server.client(demo::MANAGER);
    manager
        .add_staff(&new_staff("G01", "王芳", "1357"))
        .await
        .unwrap();
    let anyone = server.client("");
    let (status, _) = status_of(anyone.guide_sign_in("G01", "0000").await);
    assert_eq!(status, 401);
    let session = anyone.guide_sign_in("G01", "1357").await.unwrap();
    assert_eq!(session.staff.name, "王芳");
    let guide = server.client(&session.token);
    let me = guide.whoami().await.unwrap();
    assert_eq!(
        (me.role.as_str(), me.staff),
        ("guide", Some(session.staff.clone()))
    );

    // An elderly customer's ticket, printed at the kiosk by the door.
    let elderly = guide
        .issue_ticket(&IssueTicket {
            priority_reason: Some("elderly".into()),
            ..IssueTicket::new("pay", "guide-1")
        })
        .await
        .unwrap()
        .0;
    assert_eq!(elderly.channel, "guide (G01 王芳)");
    let (status, _) = status_of(guide.request_print(elderly.id, "kiosk-9").await);
    assert_eq!(status, 400, "no such kiosk");
    let job = guide.request_print(elderly.id, "kiosk-1").await.unwrap();
    assert_eq!(job.outcome, None);
    // Only the guide and the manager ask for prints.
    let kiosk = server.client(demo::KIOSK);
    let (status, _) = status_of(kiosk.request_print(elderly.id, "kiosk-1").await);
    assert_eq!(status, 403);

    // The kiosk finds it waiting, prints, and says so; the guide sees it.
    let pending = kiosk.print_jobs().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].ticket.number, elderly.number);
    assert_eq!(
        pending[0].ticket.priority_reason.as_deref(),
        Some("elderly")
    );
    let done = hall_api::PrintDone {
        printed: true,
        problem: None,
    };
    let (status, _) = status_of(
        server
            .client(demo::DISPLAY)
            .print_job_done(job.id, &done)
            .await,
    );
    assert_eq!(status, 403, "a board does not print");
    kiosk.print_job_done(job.id, &done).await.unwrap();
    assert!(kiosk.print_jobs().await.unwrap().is_empty());
    assert_eq!(guide.print_job(job.id).await.unwrap().outcome, Some(done));

    // A refusal reaches the guide with what to do about it.
    let second = guide
        .issue_ticket(&IssueTicket::new("enquiry", "guide-2"))
        .await
        .unwrap()
        .0;
    let job = guide.request_print(second.id, "kiosk-1").await.unwrap();
    let refused = hall_api::PrintDone {
        printed: false,
        problem: Some("printer out of paper: load a new roll".into()),
    };
    kiosk.print_job_done(job.id, &refused).await.unwrap();
    assert_eq!(
        guide.print_job(job.id).await.unwrap().outcome,
        Some(refused)
    );

    // The QR for the customer's phone leads to the ticket's page.
    let qr = guide
        .get_text(&format!("/api/v1/tickets/{}/qr", second.id))
        .await
        .unwrap();
    assert!(qr.contains("<svg"), "{qr}");

    // A disabled member of staff's session ends at once.
    manager.disable_staff("G01").await.unwrap();
    let (status, _) = status_of(guide.whoami().await);
    assert_eq!(status, 401);
}

/// The hall's calendar against a real server whose clock libfaketime moves
/// through the days: a lunch break, a closure the manager sets, a public
/// holiday from the yearly file, and a wait estimate that goes on after
/// the break instead of promising service through it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calendar_closes_for_lunch_a_closure_and_a_holiday() {
    use hall_api::{NewClosure, Unavailable};
    let files = tempfile::tempdir().unwrap();
    let holidays = files.path().join("holidays-2027.toml");
    std::fs::write(
        &holidays,
        r#"
[[holiday]]
name = { zh = "劳动节", en = "Labour Day" }
from = "2027-05-01"
until = "2027-05-05"
"#,
    )
    .unwrap();
    let config = hall_testkit::lunch_break_hall(&holidays);
    // Monday 2027-03-01, 11:50 in the hall (03:50 UTC).
    let mut s = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(config),
            faketime: Some("@2027-03-01 03:50:00".into()),
            ..Default::default()
        },
    )
    .await;
    let kiosk = s.client("kiosk-token");
    issue(&kiosk, "pay", "t1").await;
    issue(&kiosk, "pay", "t2").await;
    // Two ahead, one free counter: one service time (20 min) of waiting.
    // Ten minutes of it before noon, the other ten after 13:30.
    let third = issue(&kiosk, "pay", "t3").await;
    let wait = third.estimated_wait_s.unwrap();
    let expected = (13 * 60 + 40 - (11 * 60 + 50)) * 60;
    assert!(
        (i64::from(wait) - expected).abs() <= 2,
        "estimated {wait} s, expected {expected} s (to 13:40)"
    );

    // 12:10: the lunch break.
    s.restart_with_faketime("@2027-03-01 04:10:00").await;
    let kiosk = s.client("kiosk-token");
    let pay = kiosk.hall().await.unwrap().services[0].clone();
    assert_eq!(pay.unavailable, Some(Unavailable::Break));
    assert_eq!(
        pay.opens_at.unwrap(),
        "2027-03-01T05:30:00Z".parse::<jiff::Timestamp>().unwrap()
    );
    assert_eq!(pay.hours.as_deref(), Some("08:30-12:00, 13:30-17:00"));
    let (status, message) = match kiosk.issue_ticket(&IssueTicket::new("pay", "lunch")).await {
        Err(ClientError::Api {
            status, message, ..
        }) => (status, message),
        other => panic!("expected a refusal, got {other:?}"),
    };
    assert_eq!(status, 409);
    assert!(
        message.contains("break") && message.contains("opens again at 13:30"),
        "{message}"
    );

    // The manager closes the hall 14:00–15:00 for a power cut.
    let manager = s.client("manager-token");
    let at = |h: &str| {
        format!("2027-03-01T{h}:00+08:00[Asia/Shanghai]")
            .parse::<jiff::Zoned>()
            .unwrap()
            .timestamp()
    };
    let closure = NewClosure {
        from: at("14:00"),
        until: at("15:00"),
        reason: hall_api::I18nText {
            zh: "停电".into(),
            en: "Power cut".into(),
        },
        services: None,
    };
    let bad = NewClosure {
        services: Some(vec!["nope".into()]),
        ..closure.clone()
    };
    assert_eq!(
        raw(
            &s,
            "POST",
            "/api/v1/closures",
            Some("manager-token"),
            Some(&serde_json::to_string(&bad).unwrap())
        )
        .await
        .0,
        400
    );
    let (status, made) = raw(
        &s,
        "POST",
        "/api/v1/closures",
        Some("manager-token"),
        Some(&serde_json::to_string(&closure).unwrap()),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let (_, list) = raw(&s, "GET", "/api/v1/closures", Some("manager-token"), None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(
        raw(
            &s,
            "POST",
            "/api/v1/closures",
            Some("kiosk-token"),
            Some(&serde_json::to_string(&closure).unwrap())
        )
        .await
        .0,
        403
    );
    drop(manager);
    s.restart_with_faketime("@2027-03-01 06:10:00").await; // 14:10
    let kiosk = s.client("kiosk-token");
    let pay = kiosk.hall().await.unwrap().services[0].clone();
    assert_eq!(pay.unavailable, Some(Unavailable::Closure));
    assert_eq!(pay.closed_reason.unwrap().zh, "停电");
    assert_eq!(pay.opens_at.unwrap(), at("15:00"));
    let refused = kiosk
        .issue_ticket(&IssueTicket::new("pay", "in-the-dark"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("停电 · Power cut") && refused.contains("15:00"),
        "{refused}"
    );

    // Labour Day (from the holiday file), a Monday: closed, and the next
    // opening is the Thursday after the holiday.
    s.restart_with_faketime("@2027-05-03 02:00:00").await;
    let kiosk = s.client("kiosk-token");
    let pay = kiosk.hall().await.unwrap().services[0].clone();
    assert_eq!(pay.unavailable, Some(Unavailable::Holiday));
    assert_eq!(pay.closed_reason.unwrap().en, "Labour Day");
    assert_eq!(
        pay.opens_at.unwrap(),
        "2027-05-06T00:30:00Z".parse::<jiff::Timestamp>().unwrap()
    );
    let refused = kiosk
        .issue_ticket(&IssueTicket::new("pay", "holiday"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("Labour Day") && refused.contains("opens on 2027-05-06 at 08:30"),
        "{refused}"
    );
}

/// Appointments against a real server moved through a morning by
/// libfaketime: a slot takes exactly its capacity when many book at once;
/// check-in opens ten minutes before the slot; on time the ticket goes
/// before walk-ins, late it joins in walk-in order; a booking nobody
/// checks in becomes a no-show; cancelling frees the place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn appointments_hold_their_capacity_and_are_called_in_their_window() {
    use hall_api::{Booking, BookingRequest, BookingStatus};
    let files = tempfile::tempdir().unwrap();
    let holidays = files.path().join("holidays.toml");
    std::fs::write(&holidays, "").unwrap();
    let config = hall_testkit::lunch_break_hall(&holidays)
        .replace(
            "expected_service_min = 20",
            "expected_service_min = 20\nappointments = { slot_min = 30, per_slot = 3, days_ahead = 7, book_until_min = 30, cancel_until_min = 30 }",
        )
        + "\n[[device]]\nname = \"app\"\nrole = \"billing\"\ntoken = \"app-token\"\n";
    // Monday 2027-03-01, 08:00 in the hall.
    let mut s = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(config),
            faketime: Some("@2027-03-01 00:00:00".into()),
            ..Default::default()
        },
    )
    .await;
    let slot = |hh_mm: &str| -> jiff::Timestamp {
        format!("2027-03-01T{hh_mm}:00+08:00[Asia/Shanghai]")
            .parse::<jiff::Zoned>()
            .unwrap()
            .timestamp()
    };
    let ten = slot("10:00");
    let request = |key: String, client: Option<String>, at: jiff::Timestamp| BookingRequest {
        service: "pay".into(),
        slot_start: at,
        idempotency_key: key,
        lang: None,
        client,
    };

    // Twenty customers of the app book the 10:00 slot at the same moment.
    let http = reqwest::Client::new();
    let base = s.base_url();
    let attempts = (0..20).map(|i| {
        let (http, base) = (http.clone(), base.clone());
        let body = request(format!("rush-{i}"), Some(format!("customer-{i}")), ten);
        async move {
            let r = http
                .post(format!("{base}/api/v1/bookings"))
                .bearer_auth("app-token")
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let booked: Vec<Booking> = answers
        .iter()
        .filter(|(status, _)| *status == 201)
        .map(|(_, b)| serde_json::from_value(b.clone()).unwrap())
        .collect();
    assert_eq!(booked.len(), 3, "exactly the slot's capacity: {answers:?}");
    assert!(
        answers
            .iter()
            .filter(|(status, _)| *status != 201)
            .all(|(status, body)| *status == 409
                && body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("fully booked")),
        "{answers:?}"
    );
    let (_, slots) = raw(
        &s,
        "GET",
        "/api/v1/public/services/pay/slots?date=2027-03-01",
        None,
        None,
    )
    .await;
    let free_at = |at: jiff::Timestamp| {
        slots
            .as_array()
            .unwrap()
            .iter()
            .find(|x| {
                x["start"]
                    .as_str()
                    .unwrap()
                    .parse::<jiff::Timestamp>()
                    .unwrap()
                    == at
            })
            .map(|x| x["free"].as_u64().unwrap())
    };
    assert_eq!(free_at(ten), Some(0));
    assert_eq!(free_at(slot("10:30")), Some(3));
    assert_eq!(free_at(slot("12:00")), None, "lunch has no slots");
    assert_eq!(
        free_at(slot("11:30")),
        Some(3),
        "the last that ends by noon"
    );

    // One of them cancels from the booking page: the place is free again.
    let (status, cancelled) = raw(
        &s,
        "POST",
        &format!("/api/v1/public/bookings/{}/cancel", booked[2].tracking_code),
        None,
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(cancelled["status"], "cancelled");
    let (status, never) = raw(
        &s,
        "POST",
        "/api/v1/bookings",
        Some("app-token"),
        Some(
            &serde_json::to_string(&request("after".into(), Some("late-booker".into()), ten))
                .unwrap(),
        ),
    )
    .await;
    assert_eq!(status, 201, "the cancelled place is taken again");
    let never = never["tracking_code"].as_str().unwrap().to_string();

    // A booking moves to another slot; a full one refuses it.
    let (_, mover) = raw(
        &s,
        "POST",
        "/api/v1/bookings",
        Some("app-token"),
        Some(
            &serde_json::to_string(&request(
                "mover".into(),
                Some("mover".into()),
                slot("11:00"),
            ))
            .unwrap(),
        ),
    )
    .await;
    let path = format!(
        "/api/v1/public/bookings/{}",
        mover["tracking_code"].as_str().unwrap()
    );
    let to = |at: jiff::Timestamp| serde_json::json!({ "slot_start": at }).to_string();
    let (status, full) = raw(&s, "PUT", &path, None, Some(&to(ten))).await;
    assert_eq!(status, 409, "{full}");
    let (status, moved) = raw(&s, "PUT", &path, None, Some(&to(slot("11:30")))).await;
    assert_eq!(status, 200, "{moved}");
    assert_eq!(moved["code"], mover["code"], "the code stays");
    let (status, _) = raw(&s, "POST", &format!("{path}/cancel"), None, None).await;
    assert_eq!(status, 200);
    let (on_time, late) = (&booked[0], &booked[1]);

    // 09:40: too early to check in; it says when.
    s.restart_with_faketime("@2027-03-01 01:40:00").await;
    let kiosk = s.client("kiosk-token");
    let early = kiosk.check_in(&on_time.code).await.unwrap_err().to_string();
    assert!(early.contains("opens at 09:50"), "{early}");

    // 09:55: a walk-in takes a ticket, then the booked customer checks in
    // and is called first.
    s.restart_with_faketime("@2027-03-01 01:55:00").await;
    let kiosk = s.client("kiosk-token");
    let walk_in = issue(&kiosk, "pay", "walk-in").await;
    // Nobody waits, but three appointments are due at 10:00 and go first:
    // with one counter free, the walk-in waits two service times (40 min).
    let est = walk_in.estimated_wait_s.unwrap();
    assert!((i64::from(est) - 2400).abs() <= 2, "estimate {est} s");
    let appointment = kiosk.check_in(&on_time.code).await.unwrap();
    assert_eq!(appointment.priority_reason.as_deref(), Some("appointment"));
    // OK pressed again (or a lost answer): the same ticket, not a second.
    assert_eq!(
        kiosk.check_in(&on_time.code).await.unwrap().id,
        appointment.id
    );
    let counter = s.client("manager-token");
    assert_eq!(
        counter.call_next(1).await.unwrap().unwrap().number,
        appointment.number
    );

    // 10:20: past the window. The late one gets a ticket in walk-in
    // order; the one nobody checked in is a no-show.
    s.restart_with_faketime("@2027-03-01 02:20:00").await;
    let kiosk = s.client("kiosk-token");
    let late_ticket = kiosk.check_in(&late.code).await.unwrap();
    assert_eq!(late_ticket.priority_reason, None);
    assert_eq!(late_ticket.ahead, Some(1), "behind the walk-in");
    let counter = s.client("manager-token");
    assert_eq!(
        counter.call_next(1).await.unwrap().unwrap().number,
        walk_in.number
    );
    let watch = |tracking: String| {
        let (http, base) = (http.clone(), s.base_url());
        async move {
            http.get(format!("{base}/api/v1/public/bookings/{tracking}"))
                .send()
                .await
                .unwrap()
                .json::<Booking>()
                .await
                .unwrap()
        }
    };
    hall_testkit::eventually("the booking nobody checked in is a no-show", || {
        let b = watch(never.clone());
        async move { b.await.status == BookingStatus::NoShow }
    })
    .await;
    let seen: Booking = http
        .get(format!(
            "{}/api/v1/public/bookings/{}",
            s.base_url(),
            on_time.tracking_code
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen.status, BookingStatus::CheckedIn);
    assert_eq!(
        seen.ticket_number.as_deref(),
        Some(appointment.number.as_str())
    );

    // The day's figures, as the test counted them: three kept bookings and
    // two cancelled; two checked in (one late), one missed; 14 slots of
    // three places (08:30–12:00 and 13:30–17:00 by half hours); the one on
    // time called five minutes before its slot, at once after its
    // check-in; the walk-in waited 25 minutes; most booked two hours ahead.
    let day = s
        .client("manager-token")
        .day_stats(jiff::civil::date(2027, 3, 1))
        .await
        .unwrap()
        .appointments;
    assert_eq!(
        (
            day.booked,
            day.cancelled,
            day.checked_in,
            day.late,
            day.no_show
        ),
        (3, 2, 2, 1, 1)
    );
    assert_eq!(day.places, 14 * 3);
    assert_eq!(day.slot_utilisation, Some(2.0 / 42.0));
    // The faked clock runs on from each restart: within a few seconds.
    let near = |got: Option<f64>, want: f64| got.is_some_and(|g| (g - want).abs() < 5.0);
    assert_eq!(day.wait_from_slot.count, 1);
    assert!(
        near(day.wait_from_slot.mean_s, -300.0),
        "{:?}",
        day.wait_from_slot
    );
    assert!(
        near(day.wait_from_check_in.mean_s, 0.0),
        "{:?}",
        day.wait_from_check_in
    );
    assert_eq!(day.walk_in_wait.count, 1);
    assert!(
        near(day.walk_in_wait.mean_s, 1500.0),
        "{:?}",
        day.walk_in_wait
    );
    assert_eq!(day.booked_ahead.count, 5);
    assert!(
        near(day.booked_ahead.median_s, 7200.0),
        "{:?}",
        day.booked_ahead
    );
}
