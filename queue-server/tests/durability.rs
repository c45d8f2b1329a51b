//! What must hold under load, on a crash and when the clock misbehaves, all
//! against a real queue-server process and its SQLite file.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use hall_api::client::{ClientError, HallClient};
use hall_api::{IssueTicket, Ticket};
use hall_testkit::{ServerOptions, ServerProcess, demo};
use queue_server::load_test::{LOAD_TEST_BILLING, LOAD_TEST_KIOSK, load_test_hall};

const BIN: &str = env!("CARGO_BIN_EXE_queue-server");

fn req(key: String) -> IssueTicket {
    IssueTicket::new("pay", key)
}

fn seq(number: &str) -> u32 {
    number[1..].parse().expect("a ticket number like A012")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixty_four_counters_call_each_ticket_exactly_once() {
    const TICKETS: usize = 1000;
    const COUNTERS: u32 = 64;
    let s = ServerProcess::start(
        BIN,
        ServerOptions {
            config: Some(load_test_hall(COUNTERS)),
            faketime: None,
            ..Default::default()
        },
    )
    .await;
    let kiosk = s.client(LOAD_TEST_KIOSK);
    // Issue from 16 clients at once (this is group commit's job).
    let mut issuers = Vec::new();
    for w in 0..16 {
        let kiosk = kiosk.clone();
        issuers.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            for i in (w..TICKETS).step_by(16) {
                let (t, created) = kiosk.issue_ticket(&req(format!("t{i}"))).await.unwrap();
                assert!(created);
                mine.push(t.id);
            }
            mine
        }));
    }
    let mut issued = HashSet::new();
    for h in issuers {
        issued.extend(h.await.unwrap());
    }
    assert_eq!(issued.len(), TICKETS);

    // 64 counters press call-next at once, over and over, until none is left.
    let billing = s.client(LOAD_TEST_BILLING);
    let mut callers = Vec::new();
    for counter in 1..=COUNTERS {
        let billing = billing.clone();
        callers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(t) = billing.call_next(counter).await.unwrap() {
                assert_eq!(t.counter, Some(counter));
                got.push(t.id);
            }
            got
        }));
    }
    let mut called: HashMap<i64, usize> = HashMap::new();
    let mut busy_counters = 0;
    for h in callers {
        let got = h.await.unwrap();
        busy_counters += usize::from(!got.is_empty());
        for id in got {
            *called.entry(id).or_default() += 1;
        }
    }
    assert_eq!(called.len(), TICKETS, "every ticket is called");
    assert!(
        called.values().all(|&n| n == 1),
        "no ticket is called twice"
    );
    assert_eq!(called.keys().copied().collect::<HashSet<_>>(), issued);
    assert!(busy_counters > 1, "the counters really competed");
    let hall = billing.hall().await.unwrap();
    assert_eq!(hall.services[0].waiting, 0);
}

/// SIGKILL while 16 clients issue tickets: every acknowledged ticket is
/// there after the restart, and numbering continues with no repeat and no gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_during_issue_loses_nothing_acknowledged() {
    let mut s = ServerProcess::start(BIN, ServerOptions::default()).await;
    let kiosk = s.client(demo::KIOSK);
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for w in 0..16 {
        let kiosk = kiosk.clone();
        let stop = stop.clone();
        clients.push(tokio::spawn(async move {
            let mut acked: Vec<Ticket> = Vec::new();
            let mut in_flight = None;
            for i in 0..100_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let key = format!("w{w}-{i}");
                match kiosk.issue_ticket(&req(key.clone())).await {
                    Ok((t, _)) => acked.push(t),
                    Err(ClientError::Transport(_)) => {
                        in_flight = Some(key);
                        break;
                    }
                    Err(e) => panic!("unexpected answer: {e}"),
                }
            }
            (acked, in_flight)
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.kill();
    stop.store(true, Ordering::Relaxed);
    let mut acked = Vec::new();
    let mut in_flight = Vec::new();
    for c in clients {
        let (a, f) = c.await.unwrap();
        acked.extend(a);
        in_flight.extend(f);
    }
    assert!(
        acked.len() > 100,
        "the load ran ({} acknowledged)",
        acked.len()
    );

    s.start_again().await;
    let m = s.client(demo::MANAGER);
    for t in &acked {
        let stored = m.ticket(t.id).await.unwrap();
        assert_eq!(
            (stored.number.as_str(), stored.tracking_code.as_str()),
            (t.number.as_str(), t.tracking_code.as_str())
        );
    }
    // A retry of what was in flight gets its ticket exactly once.
    let mut retried = BTreeSet::new();
    for key in &in_flight {
        let (t, _) = kiosk.issue_ticket(&req(key.clone())).await.unwrap();
        let (again, created) = kiosk.issue_ticket(&req(key.clone())).await.unwrap();
        assert!(!created && again.id == t.id);
        retried.insert(t.id);
    }
    // All tickets there are: ids 1..=n, numbers A001..A(n), each once.
    let waiting = m
        .hall()
        .await
        .unwrap()
        .services
        .iter()
        .map(|s| s.waiting)
        .sum::<u32>();
    let mut numbers = BTreeSet::new();
    for id in 1..=i64::from(waiting) {
        assert!(
            numbers.insert(seq(&m.ticket(id).await.unwrap().number)),
            "number repeated"
        );
    }
    assert_eq!(
        numbers,
        (1..=waiting).collect::<BTreeSet<_>>(),
        "no gap and no repeat"
    );
    assert!(acked.len() + retried.len() <= waiting as usize);
    let next = kiosk
        .issue_ticket(&req("after-restart".into()))
        .await
        .unwrap()
        .0;
    assert_eq!(seq(&next.number), waiting + 1);
}

async fn number(c: &HallClient, key: &str) -> Ticket {
    c.issue_ticket(&req(key.into())).await.unwrap().0
}

/// A Raspberry Pi has no real-time clock: after a power cut it may boot at
/// 1970, or NTP may set the clock back. Numbers must not repeat.
#[tokio::test]
async fn numbers_never_repeat_when_the_clock_goes_back() {
    // A morning at the hall: 10:00 in Shanghai.
    let mut s = ServerProcess::start(
        BIN,
        ServerOptions {
            config: None,
            faketime: Some("@2026-11-23 02:00:00".into()),
            ..Default::default()
        },
    )
    .await;
    let kiosk = s.client(demo::KIOSK);
    assert_eq!(number(&kiosk, "1").await.number, "A001");
    assert_eq!(number(&kiosk, "2").await.number, "A002");
    let day = kiosk.health().await.unwrap().business_day;
    assert_eq!(day, jiff::civil::date(2026, 11, 23));

    // Power cut; the box boots at 1970.
    s.kill();
    s.set_faketime(Some("@1970-01-01 00:00:00"));
    s.start_again().await;
    let h = kiosk.health().await.unwrap();
    assert!(!h.clock_trusted, "the server knows its clock is wrong");
    assert_eq!(h.business_day, day, "it stays on the last business day");
    let t = number(&kiosk, "3").await;
    assert_eq!((t.number.as_str(), t.business_day), ("A003", day));
    assert!(
        t.issued_at >= "2026-11-23T02:00:00Z".parse().unwrap(),
        "recorded times never go back"
    );

    // NTP sets the clock to an hour before the last ticket: still no repeat.
    s.restart_with_faketime("@2026-11-23 01:00:00").await;
    assert_eq!(number(&kiosk, "4").await.number, "A004");

    // The clock is right again, later the same day: trusted, numbering goes on.
    s.restart_with_faketime("@2026-11-23 03:00:00").await;
    assert!(kiosk.health().await.unwrap().clock_trusted);
    assert_eq!(number(&kiosk, "5").await.number, "A005");
}

/// Numbering starts again at 1 when the business day turns at day_starts_at.
#[tokio::test]
async fn numbering_resets_at_the_start_of_the_business_day() {
    // 04:59:58 in Shanghai; the demo hall's day starts at 05:00.
    let s = ServerProcess::start(
        BIN,
        ServerOptions {
            config: None,
            faketime: Some("@2026-11-22 20:59:58".into()),
            ..Default::default()
        },
    )
    .await;
    let kiosk = s.client(demo::KIOSK);
    let before = number(&kiosk, "late").await;
    assert_eq!(
        (before.number.as_str(), before.business_day),
        ("A001", jiff::civil::date(2026, 11, 22))
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let after = number(&kiosk, "early").await;
    assert_eq!(
        (after.number.as_str(), after.business_day),
        ("A001", jiff::civil::date(2026, 11, 23))
    );
    // Yesterday's ticket still waits and is still called first.
    assert_eq!(
        s.client(demo::MANAGER)
            .call_next(1)
            .await
            .unwrap()
            .unwrap()
            .id,
        before.id
    );
}

/// Whether `needle` is anywhere in the bytes of the database's files.
fn in_files(paths: &[std::path::PathBuf], needle: &str) -> Vec<String> {
    paths
        .iter()
        .filter(|p| {
            std::fs::read(p)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle.as_bytes()))
                .unwrap_or(false)
        })
        .map(|p| p.display().to_string())
        .collect()
}

#[tokio::test]
async fn personal_data_is_gone_after_the_retention_period_and_the_figures_stay() {
    use hall_api::{CounterAction, CounterActionBody, FollowUpUpdate, RateRequest, RatingLevel};
    // Monday 2026-01-05, 09:00 in the hall.
    let mut s = ServerProcess::start(
        BIN,
        ServerOptions {
            faketime: Some("@2026-01-05 01:00:00".into()),
            ..Default::default()
        },
    )
    .await;
    let kiosk = s.client(demo::KIOSK);
    let m = s.client(demo::MANAGER);
    let account = "8800123456";
    let old = kiosk
        .issue_ticket(&IssueTicket {
            customer_ref: Some(account.into()),
            ..req("old-1".into())
        })
        .await
        .unwrap()
        .0;
    kiosk.issue_ticket(&req("old-2".into())).await.unwrap();
    m.call_next(1).await.unwrap();
    let act = |a: CounterAction, body: CounterActionBody| {
        let m = m.clone();
        async move { m.counter_action(1, a, &body).await.unwrap() }
    };
    act(CounterAction::Start, CounterActionBody::default()).await;
    act(
        CounterAction::Complete,
        CounterActionBody::completing("TX-SECRET-77"),
    )
    .await;
    s.client(&demo::rater(1))
        .rate(
            old.id,
            &RateRequest {
                level: RatingLevel::Dissatisfied,
                reasons: vec!["slow".into()],
            },
        )
        .await
        .unwrap();
    let follow_up = m.follow_ups(false).await.unwrap()[0].id;
    m.update_follow_up(
        follow_up,
        &FollowUpUpdate {
            action: Some("回访客户 13800138000，已致歉".into()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // The next day, within the period: the day's figures, final, and the
    // account number still there.
    s.restart_with_faketime("@2026-01-06 01:00:00").await;
    let m = s.client(demo::MANAGER);
    let day = jiff::civil::date(2026, 1, 5);
    let figures = serde_json::to_value(m.day_stats(day).await.unwrap()).unwrap();
    assert_eq!(
        m.ticket(old.id).await.unwrap().customer_ref.as_deref(),
        Some(account)
    );
    assert!(!s.log().contains("removed the personal data"));

    // 100 days on (the demo hall keeps personal data 90): a new day's
    // ticket keeps its account number, the old one's is gone.
    s.restart_with_faketime("@2026-04-15 01:00:00").await;
    let kiosk = s.client(demo::KIOSK);
    let m = s.client(demo::MANAGER);
    let fresh = kiosk
        .issue_ticket(&IssueTicket {
            customer_ref: Some("8800999999".into()),
            ..req("new-1".into())
        })
        .await
        .unwrap()
        .0;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !s.log().contains("removed the personal data") {
        assert!(
            std::time::Instant::now() < deadline,
            "no retention run: {}",
            s.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let gone = m.ticket(old.id).await.unwrap();
    assert_eq!(
        (gone.customer_ref, gone.transaction_ref.as_deref()),
        (None, Some("TX-SECRET-77")),
        "the billing system's own reference stays"
    );
    assert_eq!(
        m.ticket(fresh.id).await.unwrap().customer_ref.as_deref(),
        Some("8800999999")
    );
    assert!(
        s.client("")
            .public_ticket(&old.tracking_code)
            .await
            .is_err(),
        "the old QR code opens nothing"
    );
    assert_eq!(
        serde_json::to_value(m.day_stats(day).await.unwrap()).unwrap(),
        figures,
        "every figure of the day stays the same"
    );
    let kept = &m.follow_ups(true).await.unwrap()[0];
    assert_eq!(
        kept.action.as_deref(),
        Some("(removed after the retention period)")
    );

    // Not in the database's files, nor in a fresh backup of them.
    let backup = s.dir.path().join("after.db");
    let (ok, _, err) = hall_testkit::run_to_end(
        BIN.as_ref(),
        &[
            "backup",
            backup.to_str().unwrap(),
            "--db",
            s.db_path().to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let db = s.db_path();
    let files = [db.clone(), db.with_extension("db-wal"), backup];
    for secret in [account, old.tracking_code.as_str(), "13800138000"] {
        assert_eq!(
            in_files(&files, secret),
            Vec::<String>::new(),
            "{secret} is still stored"
        );
    }
    assert!(
        !in_files(&files[..2], "8800999999").is_empty(),
        "the check can find what is there"
    );
}

#[test]
fn nightly_backups_are_checked_and_those_past_the_retention_period_removed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hall.db");
    let (rt, server) = hall_testkit::demo_hall_on_a_runtime();
    rt.block_on(server.client(demo::KIOSK).issue_ticket(&req("b1".into())))
        .unwrap();
    // A consistent copy (the live file's WAL holds the ticket).
    let (ok, _, err) = hall_testkit::run_to_end(
        BIN.as_ref(),
        &[
            "backup",
            db.to_str().unwrap(),
            "--db",
            server.db_path().to_str().unwrap(),
        ],
    );
    assert!(ok, "{err}");
    let backups = dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let stamp = |days_ago: i64| {
        let d = today.checked_sub(jiff::Span::new().days(days_ago)).unwrap();
        backups.join(format!("hall-{}-023000.db", d.strftime("%Y%m%d")))
    };
    for days_ago in [200, 91, 89, 2, 1] {
        std::fs::write(stamp(days_ago), b"an older backup").unwrap();
    }
    std::fs::write(backups.join("notes.txt"), b"not a backup").unwrap();
    // This hall keeps three: the new one and the two before it.
    let config = dir.path().join("hall.toml");
    std::fs::write(
        &config,
        format!("{}\n[backup]\nkeep = 3\n", queue_server::config::DEMO_TOML),
    )
    .unwrap();
    let (ok, out, err) = hall_testkit::run_to_end(
        BIN.as_ref(),
        &[
            "backup",
            "--into",
            backups.to_str().unwrap(),
            "--db",
            db.to_str().unwrap(),
            "--config",
            config.to_str().unwrap(),
        ],
    );
    assert!(ok, "{out}{err}");
    assert!(!stamp(200).exists() && !stamp(91).exists(), "{out}");
    assert!(!stamp(89).exists(), "{out}");
    assert!(stamp(2).exists() && stamp(1).exists() && backups.join("notes.txt").exists());
    assert_eq!(out.matches("older than 90 days").count(), 2, "{out}");
    assert_eq!(
        out.matches("only the newest 3 are kept").count(),
        1,
        "{out}"
    );
    let new = out
        .lines()
        .next()
        .and_then(|l| l.rsplit(' ').next())
        .map(std::path::PathBuf::from)
        .unwrap();
    // The new backup is a whole database with the ticket in it.
    let conn = rusqlite::Connection::open(&new).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM tickets", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 1);
}

/// Tickets in a hall database, read directly.
fn tickets_in(db: &std::path::Path) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM tickets", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn restore_checks_the_backup_first_and_keeps_the_database_it_replaces() {
    let mut s = ServerProcess::start(BIN, ServerOptions::default()).await;
    let kiosk = s.client(demo::KIOSK);
    for i in 0..3 {
        kiosk.issue_ticket(&req(format!("r{i}"))).await.unwrap();
    }
    let work = tempfile::tempdir().unwrap();
    let good = work.path().join("good.db");
    let db = s.db_path();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--db", db.to_str().unwrap()]);
        hall_testkit::run_to_end(BIN.as_ref(), &all)
    };
    let (ok, _, err) = run(&["backup", good.to_str().unwrap()]);
    assert!(ok, "{err}");
    for i in 3..5 {
        kiosk.issue_ticket(&req(format!("r{i}"))).await.unwrap();
    }

    // Not while the server runs on the database.
    let (ok, _, err) = run(&["restore", good.to_str().unwrap()]);
    assert!(
        !ok && err.contains("is in use: stop the server first"),
        "{err}"
    );
    s.stop();

    // Files that are no hall backup, each refused with what is wrong.
    let text = work.path().join("notes.txt");
    std::fs::write(&text, "not a database at all").unwrap();
    let short = work.path().join("short.db");
    std::fs::write(&short, b"SQLite").unwrap();
    let foreign = work.path().join("foreign.db");
    rusqlite::Connection::open(&foreign)
        .unwrap()
        .execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('x');")
        .unwrap();
    let newer = work.path().join("newer.db");
    std::fs::copy(&good, &newer).unwrap();
    rusqlite::Connection::open(&newer)
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    // A good backup with its ticket pages overwritten past the header.
    let damaged = work.path().join("damaged.db");
    let mut bytes = std::fs::read(&good).unwrap();
    let page = 4096;
    assert!(bytes.len() > 3 * page, "the backup has several pages");
    for b in &mut bytes[page + 8..3 * page] {
        *b = 0x5a;
    }
    std::fs::write(&damaged, &bytes).unwrap();
    let missing = work.path().join("missing.db");
    for (file, says) in [
        (&text, "is not a hall backup: it is not a SQLite database"),
        (&short, "is not a hall backup: it is too short"),
        (&foreign, "it is a SQLite database, but not a hall's"),
        (&newer, "made by a newer queue-server (schema version 999"),
        (&damaged, "damaged"),
        (&missing, "there is no file"),
    ] {
        let (ok, out, err) = run(&["restore", file.to_str().unwrap()]);
        assert!(!ok, "{} was restored: {out}", file.display());
        assert!(err.contains(says), "{}: {err}", file.display());
        assert_eq!(tickets_in(&db), 5, "the hall database is unchanged");
    }
    let leftovers: Vec<_> = std::fs::read_dir(db.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.contains("restoring") || n.contains("before-restore"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");

    // The good one goes in; the replaced database is kept aside whole.
    let (ok, out, err) = run(&["restore", good.to_str().unwrap()]);
    assert!(ok, "{out}{err}");
    assert!(out.contains(": 3 tickets, the last of "), "{out}");
    let aside = out
        .lines()
        .find_map(|l| l.strip_prefix("the database it replaced is kept at "))
        .map(std::path::PathBuf::from)
        .expect("where the old database went");
    assert_eq!(tickets_in(&aside), 5);
    assert!(
        !std::path::Path::new(&format!("{}-wal", db.display())).exists(),
        "no WAL of the old database beside the restored one"
    );
    s.start_again().await;
    let c = s.client(demo::KIOSK);
    let pay = c.hall().await.unwrap().services[1].waiting;
    assert_eq!(pay, 3);
    let (next, _) = c.issue_ticket(&req("after".into())).await.unwrap();
    assert_eq!(next.number, "A004", "numbering goes on from the backup");
}
