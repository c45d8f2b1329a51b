//! Head office under a large provincial company's load: simulated halls
//! publish the halls' event format (a customer's issue, call, start and
//! completion) to a real nats-server with JetStream, and the real
//! head-office binary writes them into a real PostgreSQL (fsync on).
//! Before the load, a year of daily rollups for every hall is put in, so
//! the rankings read a year's history.
//!
//! It reports: the rate ingested (events per second, sampled), the lag
//! from an event's time at its hall to its row in PostgreSQL (p50, p99),
//! and the time of the "every hall now" and a month's ranking requests
//! (the HTTP API, JSON included), during the load and after it.
//!
//! `cargo build --release --workspace --bins && target/release/office-bench [HALLS] [SECONDS] [EVENTS_PER_HALL_PER_S] [BURST]`
//! (5,000 halls, 120 s, 1.0 and 3 by default: the first fifth of the run is
//! the opening burst at BURST times the rate).

use std::collections::VecDeque;
use std::future::IntoFuture;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use hall_api::head_office::{HallProfile, ProfileCounter, ProfileService, ShippedEvent};
use hall_api::{
    CounterState, Event, EventKind, I18nText, ServiceWaiting, TicketStatus, TicketSummary,
};
use hall_testkit::office::{
    ADMIN, HeadOffice, NatsServer, NatsUser, OfficeClient, Postgres, TestCa,
};

const SERVICES: [&str; 4] = ["pay", "open", "transfer", "enquiry"];

struct SimHall {
    id: String,
    next_event: i64,
    next_ticket: i64,
    /// Tickets and the step each is at (0 issued, 1 called, 2 started).
    open: VecDeque<(i64, u8, usize)>,
}

impl SimHall {
    fn next(&mut self, now: jiff::Timestamp) -> Event {
        // Issue while fewer than five are in the hall, else move the oldest on.
        let (ticket, kind, service, status) = if self.open.len() < 5 {
            self.next_ticket += 1;
            let service = (self.next_ticket as usize) % SERVICES.len();
            self.open.push_back((self.next_ticket, 0, service));
            (
                self.next_ticket,
                EventKind::TicketIssued,
                service,
                TicketStatus::Waiting,
            )
        } else {
            let (t, step, service) = self.open.pop_front().expect("five open");
            let (kind, status) = match step {
                0 => (EventKind::TicketCalled, TicketStatus::Called),
                1 => (EventKind::TicketStarted, TicketStatus::Serving),
                _ => (EventKind::TicketCompleted, TicketStatus::Done),
            };
            if step < 2 {
                self.open.push_back((t, step + 1, service));
            }
            (t, kind, service, status)
        };
        self.next_event += 1;
        let waiting = self
            .open
            .iter()
            .filter(|(_, s, sv)| *s == 0 && *sv == service)
            .count() as u32;
        Event {
            id: self.next_event,
            kind,
            at: now,
            ticket: Some(TicketSummary {
                id: ticket,
                number: format!("A{ticket:03}"),
                service: SERVICES[service].into(),
                status,
                issued_at: now,
                counter: (kind != EventKind::TicketIssued).then_some(1 + (ticket % 6) as u32),
                recalls: 0,
                transferred: false,
                priority_reason: None,
                remote: false,
            }),
            counter: (kind != EventKind::TicketIssued).then_some(1 + (ticket % 6) as u32),
            transferred_to: None,
            by: "kiosk-1".into(),
            staff: None,
            reason: None,
            rating: None,
            report: None,
            service: None,
            notice: None,
            kiosk: None,
            closures: None,
            waiting: vec![ServiceWaiting {
                service: SERVICES[service].into(),
                waiting,
            }],
        }
    }
}

fn profile(hall: &str) -> HallProfile {
    HallProfile {
        hall: hall.into(),
        name: I18nText {
            zh: format!("{hall} 营业厅"),
            en: format!("Hall {hall}"),
        },
        timezone: "Asia/Shanghai".into(),
        day_starts_at: "05:00".into(),
        services: SERVICES
            .iter()
            .map(|s| ProfileService {
                id: s.to_string(),
                target_wait_min: 10,
            })
            .collect(),
        counters: (1..=6)
            .map(|n| ProfileCounter {
                number: n,
                initial_state: CounterState::Open,
            })
            .collect(),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// p50 and slowest milliseconds, and the body's size.
type Timing = (f64, f64, usize);

async fn time_get(hq: &OfficeClient, path: &str, runs: usize) -> Timing {
    let mut ms = Vec::new();
    let mut bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let r = hq.get(path).await;
        assert!(r.status().is_success(), "{path}: {}", r.status());
        bytes = r.bytes().await.expect("a body").len();
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    (percentile(&ms, 0.5), *ms.last().unwrap(), bytes)
}

#[tokio::main]
async fn main() {
    let arg = |n: usize, default: f64| {
        std::env::args()
            .nth(n)
            .and_then(|a| a.parse::<f64>().ok())
            .unwrap_or(default)
    };
    let halls_n = arg(1, 5000.0) as usize;
    let seconds = arg(2, 120.0);
    let per_hall = arg(3, 1.0);
    // The opening burst's rate, as a multiple of the average.
    let burst_factor = arg(4, 3.0);

    let dir = tempfile::tempdir().expect("a temporary directory");
    let ca = TestCa::make(dir.path());
    let office_user = NatsUser::new(dir.path(), "head-office", None);
    let loadgen = NatsUser::new(dir.path(), "loadgen", None);
    let nats = NatsServer::start(dir.path(), &ca, &[&office_user, &loadgen]);
    let pg = Postgres::start_with(dir.path(), true);
    let office = HeadOffice::start(dir.path(), &nats, &ca, &office_user, &pg);
    office.add_user(ADMIN.0, ADMIN.1);
    let hq = office.admin().await;
    let (db, conn) = tokio_postgres::connect(&pg.url(), tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL");
    tokio::spawn(conn);
    // Head office migrates at its start.
    let deadline = Instant::now() + Duration::from_secs(30);
    while db
        .query_one("SELECT count(*) FROM halls", &[])
        .await
        .is_err()
    {
        assert!(
            Instant::now() < deadline,
            "head office never made its tables:\n{}",
            office.log()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let ids: Vec<String> = (1..=halls_n).map(|i| format!("hall-{i:05}")).collect();
    // A year of history: one daily row per hall, service and day.
    let t = Instant::now();
    db.batch_execute(&format!(
        "INSERT INTO daily (hall_id, business_day, service, issued, called, within_target, done, waits, wait_s) \
         SELECT 'hall-' || lpad(h::text, 5, '0'), d::date, s, 80 + (h * 7 + extract(doy from d)::int) % 60, \
           75 + (h * 7 + extract(doy from d)::int) % 60, 60 + (h * 3) % 15, 70 + (h * 7) % 55, \
           75 + (h * 7 + extract(doy from d)::int) % 60, (75 + (h * 7) % 60) * (300 + (h * 13) % 400) \
         FROM generate_series(1, {halls_n}) h, \
              generate_series(current_date - 366, current_date - 1, interval '1 day') d, \
              unnest(ARRAY['pay','open','transfer','enquiry']) s; \
         ANALYZE daily;"
    ))
    .await
    .expect("a year of history");
    let history_rows: i64 = db
        .query_one("SELECT count(*) FROM daily", &[])
        .await
        .unwrap()
        .get(0);
    println!(
        "history: {history_rows} daily rows ({halls_n} halls x 366 days x 4 services) in {:.0} s",
        t.elapsed().as_secs_f64()
    );

    let client = async_nats::ConnectOptions::with_nkey(loadgen.seed().trim().to_string())
        .require_tls(true)
        .add_root_certificates(ca.ca.clone())
        .connect(nats.url())
        .await
        .expect("the load generator's connection");
    let js = async_nats::jetstream::new(client.clone());
    // The stream is head office's to make; wait for it.
    while js.get_stream(hall_api::head_office::STREAM).await.is_err() {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut acks = FuturesUnordered::new();
    for id in &ids {
        let body = serde_json::to_vec(&profile(id)).unwrap();
        acks.push(
            js.send_publish(
                hall_api::head_office::profile_subject(id),
                async_nats::jetstream::message::PublishMessage::build()
                    .payload(body.into())
                    .message_id(format!("{id}:profile")),
            )
            .await
            .expect("a profile sent")
            .into_future(),
        );
    }
    while let Some(a) = acks.next().await {
        a.expect("a profile acknowledged");
    }

    let mut halls: Vec<SimHall> = ids
        .iter()
        .map(|id| SimHall {
            id: id.clone(),
            next_event: 0,
            next_ticket: 0,
            open: VecDeque::new(),
        })
        .collect();
    let started = Instant::now();
    let tick = Duration::from_millis(10);
    let mut published: i64 = 0;
    let mut owed = 0.0;
    let mut next_hall = 0usize;
    let mut samples: Vec<(f64, i64)> = Vec::new();
    let mut last_sample = Instant::now();
    let mut during: Option<(Timing, Timing)> = None;
    let today = jiff::Zoned::now().date();
    let month_ago = today.checked_sub(jiff::Span::new().days(30)).unwrap();
    let now_url = "/api/v1/halls".to_string();
    let ranking_url = format!("/api/v1/ranking?metric=service_level&from={month_ago}&to={today}");
    let mut interval = tokio::time::interval(tick);
    while started.elapsed().as_secs_f64() < seconds {
        interval.tick().await;
        let burst = if started.elapsed().as_secs_f64() < seconds / 5.0 {
            burst_factor
        } else {
            1.0
        };
        owed += halls_n as f64 * per_hall * burst * tick.as_secs_f64();
        let now = jiff::Timestamp::now();
        while owed >= 1.0 {
            owed -= 1.0;
            let hall = &mut halls[next_hall];
            next_hall = (next_hall + 1) % halls_n;
            // The context lends 5,000 acknowledgements at a time: take
            // some back before asking for more.
            while acks.len() >= 4_000 {
                acks.next()
                    .await
                    .expect("an ack pending")
                    .expect("an event acknowledged");
            }
            let event = hall.next(now);
            let body = serde_json::to_vec(&ShippedEvent {
                hall: hall.id.clone(),
                event,
            })
            .unwrap();
            let ack = js
                .send_publish(
                    hall_api::head_office::events_subject(&hall.id),
                    async_nats::jetstream::message::PublishMessage::build()
                        .payload(body.into())
                        .message_id(hall_api::head_office::event_message_id(
                            &hall.id,
                            hall.next_event,
                        )),
                )
                .await
                .expect("an event sent");
            acks.push(ack.into_future());
            published += 1;
        }
        while let Some(Some(a)) = futures_util::FutureExt::now_or_never(acks.next()) {
            a.expect("an event acknowledged");
        }
        if last_sample.elapsed() >= Duration::from_secs(5) {
            last_sample = Instant::now();
            let stored: i64 = db
                .query_one("SELECT count(*) FROM events", &[])
                .await
                .unwrap()
                .get(0);
            samples.push((started.elapsed().as_secs_f64(), stored));
            if during.is_none() && started.elapsed().as_secs_f64() > seconds / 2.0 {
                during = Some((
                    time_get(&hq, &now_url, 5).await,
                    time_get(&hq, &ranking_url, 5).await,
                ));
            }
        }
    }
    while let Some(a) = acks.next().await {
        a.expect("an event acknowledged");
    }
    let sent_for = started.elapsed().as_secs_f64();
    let drain = Instant::now();
    loop {
        let stored: i64 = db
            .query_one("SELECT count(*) FROM events", &[])
            .await
            .unwrap()
            .get(0);
        if stored >= published {
            break;
        }
        assert!(
            drain.elapsed() < Duration::from_secs(600),
            "only {stored} of {published} stored after 10 min"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let drained_after = drain.elapsed().as_secs_f64();
    let total = started.elapsed().as_secs_f64();

    println!(
        "published: {published} events from {halls_n} halls in {sent_for:.0} s ({:.0}/s offered on average)",
        published as f64 / sent_for
    );
    println!(
        "all stored {drained_after:.1} s after the last was sent ({:.0}/s overall)",
        published as f64 / total
    );
    for w in samples.windows(2) {
        let ((t0, n0), (t1, n1)) = (w[0], w[1]);
        println!(
            "  {t0:5.0}-{t1:3.0} s: {:.0} events/s stored",
            (n1 - n0) as f64 / (t1 - t0)
        );
    }
    let lag = db
        .query_one(
            "SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)), \
             max(extract(epoch FROM received_at - at))::float8 FROM events",
            &[],
        )
        .await
        .unwrap();
    let p: Vec<f64> = lag.get(0);
    let max: f64 = lag.get(1);
    println!(
        "lag, event to its row: p50 {:.3} s, p99 {:.3} s, max {max:.3} s",
        p[0], p[1]
    );
    // Lag by when the event was made: the burst's backlog, and after it.
    for r in db
        .query(
            "WITH s AS (SELECT min(at) AS t0 FROM events) \
             SELECT (floor(extract(epoch FROM at - s.t0) / 20) * 20)::int AS w, \
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)), \
               percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM received_at - at)) \
             FROM events, s GROUP BY w ORDER BY w",
            &[],
        )
        .await
        .unwrap()
    {
        let (w, p50, p99): (i32, f64, f64) = (r.get(0), r.get(1), r.get(2));
        println!(
            "  events made {w:3}-{:3} s: lag p50 {p50:.3} s, p99 {p99:.3} s",
            w + 20
        );
    }
    if let Some(((n50, nmax, nbytes), (r50, rmax, rbytes))) = during {
        println!(
            "during the load: all halls now p50 {n50:.0} ms max {nmax:.0} ms ({nbytes} bytes); month ranking p50 {r50:.0} ms max {rmax:.0} ms ({rbytes} bytes)"
        );
    }
    let (n50, nmax, nbytes) = time_get(&hq, &now_url, 10).await;
    let (r50, rmax, rbytes) = time_get(&hq, &ranking_url, 10).await;
    println!(
        "after: all halls now p50 {n50:.0} ms max {nmax:.0} ms ({nbytes} bytes); month ranking p50 {r50:.0} ms max {rmax:.0} ms ({rbytes} bytes)"
    );
    // A push to every hall. The halls are simulated by one client that
    // answers each request at once: this measures head office and NATS
    // (a real hall's apply is one SQLite transaction, milliseconds).
    let answerer = client.clone();
    let mut requests = answerer.subscribe("office.*.push").await.unwrap();
    answerer.flush().await.unwrap();
    tokio::spawn(async move {
        while let Some(m) = requests.next().await {
            let push: hall_api::head_office::Push = serde_json::from_slice(&m.payload).unwrap();
            let answer = hall_api::head_office::PushAnswer {
                id: push.id,
                applied: true,
                refused: None,
            };
            if let Some(reply) = m.reply {
                let _ = answerer
                    .publish(reply, serde_json::to_vec(&answer).unwrap().into())
                    .await;
            }
        }
    });
    let t = Instant::now();
    let r = hq
        .post(
            "/api/v1/pushes",
            &serde_json::json!({ "halls": ids, "changes": [{ "kind": "notice",
                "notice": { "zh": "明日系统升级", "en": "System upgrade tomorrow" } }] }),
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let made_s = t.elapsed().as_secs_f64();
    let applied = loop {
        let n: i64 = db
            .query_one(
                "SELECT count(*) FROM push_targets WHERE state = 'applied'",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if n as usize == halls_n || t.elapsed() > Duration::from_secs(600) {
            break n;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    println!(
        "push to every hall: {applied} of {halls_n} applied in {:.1} s (kept and answered 201 in {made_s:.2} s)",
        t.elapsed().as_secs_f64()
    );
    let size: String = db
        .query_one(
            "SELECT pg_size_pretty(pg_database_size(current_database()))",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    println!("database size: {size}");
    drop(office);
    drop(pg);
    drop(nats);
}
