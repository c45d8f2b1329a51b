//! The server as an attacker on the hall's LAN and as bad luck would try
//! it: PIN guessing in parallel and from many addresses, sign-in floods,
//! bodies that are too large or never finish, idle connections beyond the
//! file-descriptor limit, damaged and full disks, tokens in URLs, a kiosk
//! reading other customers' tickets. Each against a real server process.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use hall_api::IssueTicket;
use hall_testkit::{ServerOptions, ServerProcess, demo, run_to_end};

/// The server under test; `QUEUE_SERVER_BIN` points these tests at
/// another build (the figures in the README come from the release one).
static BIN: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    std::env::var("QUEUE_SERVER_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_queue-server").into())
});

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap();
    kib / 1024.0
}

/// A client whose requests come from `last` in 127.0.0.0/8: another device.
fn client_from(last: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::from([127, 0, 0, last]))
        .build()
        .unwrap()
}

async fn sign_in(http: &reqwest::Client, s: &ServerProcess, pin: &str) -> (u16, Option<String>) {
    let resp = http
        .post(format!("{}/api/v1/counters/1/sign-in", s.base_url()))
        .json(&serde_json::json!({ "pin": pin }))
        .send()
        .await
        .unwrap();
    let retry = resp
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (resp.status().as_u16(), retry)
}

/// Forty wrong PINs at once are five guesses, not forty; the guesser
/// locks only itself out, and staff at another device still sign in.
#[tokio::test]
async fn wrong_pins_sent_at_once_are_counted_before_they_are_checked() {
    let s = ServerProcess::start(BIN.as_str(), ServerOptions::default()).await;
    s.client(demo::MANAGER).set_pin(1, "2468").await.unwrap();
    let attacker = client_from(66);
    let guesses: Vec<_> = (0..40)
        .map(|i| {
            let (http, s) = (attacker.clone(), &s);
            async move { sign_in(&http, s, &format!("{:04}", 1000 + i)).await }
        })
        .collect();
    let answers = futures_util::future::join_all(guesses).await;
    let wrong = answers.iter().filter(|(status, _)| *status == 401).count();
    let refused: Vec<_> = answers
        .iter()
        .filter(|(status, _)| *status == 429)
        .collect();
    assert_eq!(wrong, 5, "evaluated: {answers:?}");
    assert_eq!(refused.len(), 35);
    for (_, retry) in &refused {
        let secs: u64 = retry
            .as_deref()
            .expect("429 says when to retry")
            .parse()
            .unwrap();
        assert!((1..=61).contains(&secs), "{secs}");
    }
    // Even the right PIN from the locked-out address waits.
    assert_eq!(sign_in(&attacker, &s, "2468").await.0, 429);
    // Staff at their own device are not locked out.
    assert_eq!(sign_in(&client_from(7), &s, "2468").await.0, 200);
}

/// Argon2 runs on a thread of its own: a flood of sign-ins neither stalls
/// the hall's reads nor leaves the server large afterwards.
#[tokio::test]
async fn sign_in_floods_neither_starve_the_hall_nor_grow_the_server() {
    let s = ServerProcess::start(BIN.as_str(), ServerOptions::default()).await;
    s.client(demo::MANAGER).set_pin(1, "2468").await.unwrap();
    let before = rss_mib(s.pid());
    // 120 right PINs, a few devices at a time, so each is evaluated.
    for round in 0..30u8 {
        let batch: Vec<_> = (0..4u8)
            .map(|d| {
                let (http, s) = (client_from(10 + d + 4 * (round % 5)), &s);
                async move { sign_in(&http, s, "2468").await.0 }
            })
            .collect();
        for status in futures_util::future::join_all(batch).await {
            assert_eq!(status, 200);
        }
    }
    let after = rss_mib(s.pid());
    println!("RSS before sign-ins {before:.1} MiB, after 120 {after:.1} MiB");
    assert!(after < 60.0, "the server grew to {after:.1} MiB");

    // 100 at once from 100 devices, while a board reads the hall.
    let flood: Vec<_> = (0..100u8)
        .map(|d| {
            let (http, s) = (client_from(100 + d), &s);
            async move { sign_in(&http, s, "9999").await.0 }
        })
        .collect();
    let board = s.client(demo::DISPLAY);
    let (answers, read) = tokio::join!(futures_util::future::join_all(flood), async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let started = Instant::now();
        board.hall().await.unwrap();
        started.elapsed()
    });
    println!("hall snapshot during 100 parallel sign-ins: {read:?}");
    // Each is refused: a wrong PIN, a lockout, or "too many at once" (503).
    assert!(
        answers.iter().all(|a| [401, 429, 503].contains(a)),
        "{answers:?}"
    );
    assert!(
        answers.contains(&401) && answers.contains(&503),
        "{answers:?}"
    );
    assert!(rss_mib(s.pid()) < 60.0);
}

/// Writes `head` and then `body` to a fresh connection, and reads the
/// status line of the answer (waiting at most `wait`).
fn raw_exchange(addr: SocketAddr, head: &str, body: &[u8], wait: Duration) -> Option<String> {
    let mut c = TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(wait)).unwrap();
    c.write_all(head.as_bytes()).unwrap();
    c.write_all(body).unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n @ 1..) = c.read(&mut buf) {
        got.extend_from_slice(&buf[..n]);
        if got.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&got).to_string();
    text.lines().next().map(str::to_string)
}

fn post_head(path: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n"
    )
}

/// Large bodies are refused with 413 before they are read, and bodies
/// that never finish are cut off: 200 of them hold no memory to speak of.
#[tokio::test]
async fn large_and_unfinished_bodies_are_refused() {
    let s = ServerProcess::start(BIN.as_str(), ServerOptions::default()).await;
    let status = raw_exchange(
        s.addr,
        &post_head("/api/v1/counters/1/sign-in", 2_000_000),
        &[b' '; 1000],
        Duration::from_secs(5),
    );
    assert_eq!(status.as_deref(), Some("HTTP/1.1 413 Payload Too Large"));
    // Sent without a length, in chunks past the limit: also 413.
    let chunked = "POST /api/v1/tickets HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n";
    let mut body = Vec::new();
    for _ in 0..20 {
        body.extend_from_slice(b"400\r\n");
        body.extend_from_slice(&[b' '; 1024]);
        body.extend_from_slice(b"\r\n");
    }
    let status = raw_exchange(s.addr, chunked, &body, Duration::from_secs(5));
    assert_eq!(status.as_deref(), Some("HTTP/1.1 413 Payload Too Large"));

    // 200 connections each promise 15 KiB and send a little of it.
    let before = rss_mib(s.pid());
    let held: Vec<TcpStream> = (0..200)
        .map(|_| {
            let mut c = TcpStream::connect(s.addr).unwrap();
            c.write_all(post_head("/api/v1/counters/1/sign-in", 15_000).as_bytes())
                .unwrap();
            c.write_all(&[b' '; 10_000]).unwrap();
            c
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    s.client("")
        .health()
        .await
        .expect("healthz answers while bodies are held");
    println!(
        "healthz with 200 held bodies: {:?}; RSS {before:.1} -> {:.1} MiB",
        started.elapsed(),
        rss_mib(s.pid())
    );
    assert!(rss_mib(s.pid()) < 60.0);
    // Each of them is answered 408 once the body timeout passes.
    let mut first = held.into_iter().next().unwrap();
    first
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let mut answer = [0u8; 64];
    let n = first.read(&mut answer).unwrap();
    let line = String::from_utf8_lossy(&answer[..n]).to_string();
    assert!(line.starts_with("HTTP/1.1 408"), "{line}");
}

/// At the common limit of 1024 open files, 1,100 idle connections do not
/// keep the hall out: the longest idle are closed to make room.
#[tokio::test]
async fn idle_connections_beyond_the_descriptor_limit_do_not_lock_the_hall_out() {
    let s = ServerProcess::start(
        BIN.as_str(),
        ServerOptions {
            open_files: Some(1024),
            ..Default::default()
        },
    )
    .await;
    let idle: Vec<TcpStream> = (0..1100)
        .map(|_| TcpStream::connect(s.addr).unwrap())
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let health = tokio::time::timeout(Duration::from_secs(5), s.client("").health())
        .await
        .expect("healthz answered within 5 s");
    health.expect("healthz is ok");
    let took = started.elapsed();
    let hall = s.client(demo::DISPLAY).hall().await;
    assert!(hall.is_ok(), "{hall:?}");
    println!("healthz with 1,100 idle connections at 1024 files: {took:?}");
    drop(idle);
    tokio::time::sleep(Duration::from_millis(300)).await;
    s.client("").health().await.unwrap();
    assert!(s.log().contains("connections admitted at once"));
}

/// A database with a damaged page, or cut short, is refused at start with
/// the file's name and the way back (the newest backup).
#[tokio::test]
async fn a_damaged_database_is_refused_with_the_way_back() {
    let mut s = ServerProcess::start(BIN.as_str(), ServerOptions::default()).await;
    let kiosk = s.client(demo::KIOSK);
    for i in 0..200 {
        kiosk
            .issue_ticket(&IssueTicket::new("pay", format!("k{i}")))
            .await
            .unwrap();
    }
    // A whole copy, whatever is still in the write-ahead log.
    let copy = s.dir.path().join("copy.db");
    let (ok, _, err) = run_to_end(
        BIN.as_str().as_ref(),
        &[
            "backup",
            copy.to_str().unwrap(),
            "--db",
            s.db_path().to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    s.stop();
    let mut bytes = std::fs::read(&copy).unwrap();
    assert!(bytes.len() > 3 * 4096, "{} bytes", bytes.len());
    let mut noise = 0x9e37_79b9_u32;
    for b in &mut bytes[4096..8192] {
        noise ^= noise << 13;
        noise ^= noise >> 17;
        noise ^= noise << 5;
        *b = noise as u8;
    }
    let damaged = s.dir.path().join("damaged.db");
    std::fs::write(&damaged, &bytes).unwrap();
    let truncated = s.dir.path().join("truncated.db");
    std::fs::write(&truncated, &bytes[..3000]).unwrap();
    for file in [&damaged, &truncated] {
        let (ok, _, err) = run_to_end(
            BIN.as_str().as_ref(),
            &["--db", file.to_str().unwrap(), "--listen", "127.0.0.1:0"],
        );
        assert!(!ok, "started on {}", file.display());
        assert!(
            err.contains(&*file.to_string_lossy())
                && err.contains("damaged")
                && err.contains("backups")
                && err.contains("mv "),
            "{err}"
        );
    }
}

/// A data folder that cannot be made names itself and says what to do.
#[test]
fn a_data_folder_that_cannot_be_made_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_folder = dir.path().join("plain-file");
    std::fs::write(&not_a_folder, "x").unwrap();
    let db = not_a_folder.join("hall.db");
    let (ok, _, err) = run_to_end(
        BIN.as_str().as_ref(),
        &["--db", db.to_str().unwrap(), "--listen", "127.0.0.1:0"],
    );
    assert!(!ok);
    assert!(
        err.contains(&*not_a_folder.to_string_lossy())
            && err.contains("let the service user write there"),
        "{err}"
    );
}

/// A disk that fills up shows in /healthz (503, with the reason) within
/// seconds, and the refused ticket says nothing was changed.
#[tokio::test]
async fn a_full_disk_shows_in_healthz() {
    let s = ServerProcess::start(
        BIN.as_str(),
        ServerOptions {
            // Room for the empty schema (about 300 KiB with its WAL), then full.
            file_size: Some(512 * 1024),
            ..Default::default()
        },
    )
    .await;
    let kiosk = s.client(demo::KIOSK);
    let mut refused = None;
    for i in 0..2000 {
        if let Err(e) = kiosk
            .issue_ticket(&IssueTicket::new("pay", format!("fill-{i}")))
            .await
        {
            refused = Some(e.to_string());
            break;
        }
    }
    let refused = refused.expect("the disk filled up");
    assert!(refused.contains("nothing was changed"), "{refused}");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let resp = reqwest::get(format!("{}/healthz", s.base_url()))
            .await
            .unwrap();
        if resp.status() == 503 {
            let text = resp.text().await.unwrap();
            assert!(text.contains("cannot save"), "{text}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "healthz stayed ok on a full disk"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn status(
    method: reqwest::Method,
    url: String,
    bearer: Option<&str>,
    body: Option<serde_json::Value>,
) -> reqwest::Response {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(t) = bearer {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    req.send().await.unwrap()
}

/// Tokens in a URL are taken on the event stream only (EventSource cannot
/// send headers); anywhere else they would end up in logs and history.
#[tokio::test]
async fn tokens_in_urls_open_the_event_stream_only() {
    let s = ServerProcess::start(BIN.as_str(), ServerOptions::default()).await;
    let base = s.base_url();
    let issue = status(
        reqwest::Method::POST,
        format!("{base}/api/v1/tickets?access_token={}", demo::KIOSK),
        None,
        Some(serde_json::json!({"service": "pay", "idempotency_key": "url"})),
    )
    .await;
    assert_eq!(issue.status(), 401);
    let call = status(
        reqwest::Method::POST,
        format!(
            "{base}/api/v1/counters/1/call-next?access_token={}",
            demo::MANAGER
        ),
        None,
        None,
    )
    .await;
    assert_eq!(call.status(), 401);
    let stream = status(
        reqwest::Method::GET,
        format!("{base}/api/v1/events?access_token={}", demo::DISPLAY),
        None,
        None,
    )
    .await;
    assert_eq!(stream.status(), 200);
}

/// A kiosk reads the tickets it issued, not other customers' account
/// numbers and tracking codes; direction-override characters are refused;
/// the pages carry a content policy and cannot be framed.
#[tokio::test]
async fn a_kiosk_reads_only_its_own_tickets_and_pages_refuse_framing() {
    let s = ServerProcess::start(BIN.as_str(), ServerOptions::default()).await;
    let kiosk = s.client(demo::KIOSK);
    let mut own = IssueTicket::new("pay", "own");
    own.customer_ref = Some("1234567".into());
    let (mine, _) = kiosk.issue_ticket(&own).await.unwrap();
    let mut other = IssueTicket::new("pay", "other");
    other.customer_ref = Some("7654321".into());
    let (theirs, _) = s.client(demo::MANAGER).issue_ticket(&other).await.unwrap();
    assert_eq!(
        kiosk.ticket(mine.id).await.unwrap().customer_ref.as_deref(),
        Some("1234567")
    );
    match kiosk.ticket(theirs.id).await {
        Err(hall_api::client::ClientError::Api { status: 404, .. }) => {}
        other => panic!("a kiosk read another's ticket: {other:?}"),
    }
    assert!(s.client(&demo::counter(1)).ticket(theirs.id).await.is_ok());

    let mut sneaky = IssueTicket::new("pay", "bidi");
    sneaky.customer_ref = Some("12\u{202E}34".into());
    match kiosk.issue_ticket(&sneaky).await {
        Err(hall_api::client::ClientError::Api {
            status: 400,
            message,
            ..
        }) => {
            assert!(message.contains("text-direction"), "{message}")
        }
        other => panic!("expected 400, got {other:?}"),
    }

    for page in ["/counter", "/t/abc"] {
        let resp = reqwest::get(format!("{}{page}", s.base_url()))
            .await
            .unwrap();
        let h = resp.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{csp}"
        );
        assert_eq!(h["x-frame-options"], "DENY");
    }
}

/// Every `$ref` in a JSON document, as written.
fn refs(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", serde_json::Value::String(r)) => out.push(r.clone()),
                    _ => refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
        _ => {}
    }
}

/// The published description is whole: every reference resolves, every
/// secured operation documents 401, and the schemas refuse what the
/// server refuses.
#[tokio::test]
async fn the_openapi_description_is_whole_and_says_what_the_server_refuses() {
    let s = ServerProcess::start(BIN.as_str(), ServerOptions::default()).await;
    let spec: serde_json::Value = reqwest::get(format!("{}/openapi.json", s.base_url()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut found = Vec::new();
    refs(&spec, &mut found);
    assert!(found.iter().any(|r| r.ends_with("/CounterAction")));
    for r in &found {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference {r}"));
        assert!(
            spec["components"]["schemas"].get(name).is_some(),
            "{r} does not resolve"
        );
    }
    let mut secured = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let responses = op["responses"].as_object().unwrap();
            assert!(responses.contains_key("503"), "{method} {path}");
            if op
                .get("security")
                .is_some_and(|s| !s.as_array().unwrap().is_empty())
            {
                secured += 1;
                assert!(
                    responses.contains_key("401"),
                    "{method} {path} documents no 401"
                );
            }
        }
    }
    assert!(secured >= 14, "{secured} secured operations");
    let action = &spec["paths"]["/api/v1/counters/{number}/{action}"]["post"];
    let ok = action["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap();
    assert!(ok.ends_with("/CounterAnswer"), "{ok}");
    let schemas = &spec["components"]["schemas"];
    assert_eq!(schemas["PinRequest"]["properties"]["pin"]["minLength"], 4);
    assert_eq!(
        schemas["IssueTicket"]["properties"]["service"]["minLength"],
        1
    );
    assert_eq!(
        schemas["Heartbeat"]["properties"]["interval_s"]["minimum"],
        1
    );
}
