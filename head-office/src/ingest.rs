//! The durable JetStream consumer that writes every hall's events into
//! PostgreSQL. Messages come in batches (what is ready, up to
//! [`BATCH`]); a batch is one transaction, and only after it commits is
//! its last message acknowledged (the consumer acknowledges all before
//! it). A crash, a PostgreSQL restart or a lost acknowledgement brings
//! messages again: an event already stored is recognised by its
//! (hall, event id) and changes nothing, so each is counted once.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use deadpool_postgres::{Pool, Transaction};
use futures_util::StreamExt;
use hall_api::head_office::{
    HallProfile, STREAM, STREAM_SUBJECTS, Shipped, ShippedEvent, parse_subject,
};
use hall_api::{CounterState, Event, EventKind, TicketStatus};
use jiff::Timestamp;
use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use tokio::sync::broadcast;

use crate::config::NatsConfig;

/// Messages taken in one transaction at most.
pub const BATCH: usize = 1000;
/// The durable consumer's name.
pub const CONSUMER: &str = "head-office";

/// What head office keeps of a hall's profile to place its events.
#[derive(Clone)]
pub struct Placing {
    pub tz: TimeZone,
    pub day_starts_at: Time,
    /// Service id → target wait in seconds.
    pub targets: HashMap<String, f64>,
}

impl Placing {
    pub fn of(p: &HallProfile) -> Placing {
        Placing {
            tz: TimeZone::get(&p.timezone).unwrap_or(TimeZone::UTC),
            day_starts_at: p.day_starts_at.parse().unwrap_or(Time::midnight()),
            targets: p
                .services
                .iter()
                .map(|s| (s.id.clone(), f64::from(s.target_wait_min) * 60.0))
                .collect(),
        }
    }

    /// For a hall whose profile has not come (yet): UTC, days from midnight.
    pub fn utc() -> Placing {
        Placing {
            tz: TimeZone::UTC,
            day_starts_at: Time::midnight(),
            targets: HashMap::new(),
        }
    }

    pub fn business_day(&self, at: Timestamp) -> Date {
        queue_server::rules::numbering::business_day(at, &self.tz, self.day_starts_at)
    }

    fn hour(&self, at: Timestamp) -> i16 {
        i16::from(at.to_zoned(self.tz.clone()).hour())
    }
}

/// Connects to NATS as head office (TLS only, its nkey).
pub async fn connect(cfg: &NatsConfig) -> anyhow::Result<async_nats::Client> {
    let seed = queue_server::head_office::read_seed(&cfg.nkey_seed_file)
        .map_err(|e| anyhow::anyhow!(e))?;
    let mut options = async_nats::ConnectOptions::with_nkey(seed)
        .require_tls(true)
        .name("head-office")
        .retry_on_initial_connect()
        .max_reconnects(None)
        .reconnect_delay_callback(|attempts| {
            Duration::from_millis((100 * 2u64.saturating_pow(attempts.min(8) as u32)).min(10_000))
        });
    if let Some(ca) = &cfg.ca {
        options = options.add_root_certificates(ca.clone());
    }
    Ok(options.connect(cfg.url.as_str()).await?)
}

/// The halls' stream, made if it is not there yet.
pub async fn stream(js: &jetstream::Context) -> anyhow::Result<stream::Stream> {
    loop {
        match js
            .get_or_create_stream(stream::Config {
                name: STREAM.into(),
                subjects: STREAM_SUBJECTS.iter().map(|s| s.to_string()).collect(),
                storage: stream::StorageType::File,
                // The halls keep their own log; a month covers any outage.
                max_age: Duration::from_secs(31 * 24 * 3600),
                // A resend within the hour is dropped by JetStream itself;
                // later ones by the (hall, event id) key.
                duplicate_window: Duration::from_secs(3600),
                ..Default::default()
            })
            .await
        {
            Ok(s) => return Ok(s),
            Err(e) => {
                tracing::warn!(error = %e, "cannot set up the halls' stream yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

/// Runs the consumer for good: reconnects, and retries a batch that
/// PostgreSQL did not take until it does (never acknowledging past it).
pub async fn run(js: jetstream::Context, pool: Pool, changed: broadcast::Sender<Vec<String>>) {
    let mut placings: HashMap<String, Placing> = HashMap::new();
    loop {
        let s = match stream(&js).await {
            Ok(s) => s,
            Err(e) => {
                tracing::error!(error = %e, "no halls' stream");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let consumer = match s
            .get_or_create_consumer(
                CONSUMER,
                consumer::pull::Config {
                    durable_name: Some(CONSUMER.into()),
                    ack_policy: consumer::AckPolicy::All,
                    ack_wait: Duration::from_secs(60),
                    max_ack_pending: 100_000,
                    ..Default::default()
                },
            )
            .await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot set up the consumer yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let messages = match consumer.messages().await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "cannot pull messages yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let mut chunks = messages.ready_chunks(BATCH);
        while let Some(chunk) = chunks.next().await {
            let mut batch = Vec::with_capacity(chunk.len());
            for m in chunk {
                match m {
                    Ok(m) => batch.push(m),
                    // Heartbeats missed while NATS was away: the stream
                    // goes on once it is back.
                    Err(e) => tracing::debug!(error = %e, "pull interrupted"),
                }
            }
            let Some(last) = batch.last() else { continue };
            let halls = match take_batch(&pool, &mut placings, &batch).await {
                Ok(halls) => halls,
                Err(e) => {
                    tracing::warn!(
                        error = format!("{e:#}"),
                        "PostgreSQL did not take a batch; taking its messages one by one"
                    );
                    take_one_by_one(&pool, &mut placings, &batch).await
                }
            };
            if let Err(e) = last.ack().await {
                // Brought again later, and recognised as already taken.
                tracing::debug!(error = %e, "acknowledgement not sent");
            }
            if !halls.is_empty() {
                let _ = changed.send(halls);
            }
        }
        tracing::warn!("the message stream ended; setting it up again");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Takes each message of a batch PostgreSQL refused in its own
/// transaction: one it refuses for what the message holds (a text it
/// cannot store, say) goes to `refused` with PostgreSQL's words, so it
/// cannot hold up the halls' events behind it. Any other failure
/// (PostgreSQL away, a deadlock) is retried until it passes.
async fn take_one_by_one(
    pool: &Pool,
    placings: &mut HashMap<String, Placing>,
    batch: &[jetstream::Message],
) -> Vec<String> {
    let mut halls = Vec::new();
    for m in batch {
        let mut backoff = Duration::from_millis(200);
        loop {
            let failed = match take_batch(pool, placings, std::slice::from_ref(m)).await {
                Ok(changed) => {
                    for h in changed {
                        if !halls.contains(&h) {
                            halls.push(h);
                        }
                    }
                    break;
                }
                Err(e) => match refused_for_its_content(&e) {
                    Some(why) => match refuse(pool, &m.subject, &why, &m.payload).await {
                        Ok(()) => break,
                        Err(e) => e,
                    },
                    None => e,
                },
            };
            tracing::warn!(error = format!("{failed:#}"), retry_in = ?backoff, "PostgreSQL did not take a message; nothing acknowledged");
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(10));
        }
    }
    halls
}

/// PostgreSQL's reason when it refused a statement for the data in it
/// (SQL states of class 22, data exception, and 23, integrity), which
/// no retry would change.
fn refused_for_its_content(e: &anyhow::Error) -> Option<String> {
    let db = e
        .chain()
        .find_map(|c| c.downcast_ref::<tokio_postgres::Error>())?;
    let code = db.code()?.code();
    (code.starts_with("22") || code.starts_with("23")).then(|| {
        format!(
            "PostgreSQL cannot store it: {}",
            db.as_db_error()
                .map_or_else(|| db.to_string(), |d| d.message().to_string())
        )
    })
}

/// Keeps a message that will never be taken, and why.
pub async fn refuse(pool: &Pool, subject: &str, why: &str, payload: &[u8]) -> anyhow::Result<()> {
    tracing::warn!(%subject, reason = %why, "message refused");
    pool.get()
        .await?
        .execute(
            "INSERT INTO refused (subject, reason, body) VALUES ($1, $2, $3)",
            &[
                &subject,
                &why,
                &String::from_utf8_lossy(&payload[..payload.len().min(4096)])
                    .replace('\0', "\\u0000"),
            ],
        )
        .await?;
    Ok(())
}

/// What one message is, once read.
enum Read {
    Profile(HallProfile),
    Event(Box<Incoming>),
    Refused(String),
}

/// An event to store, placed in its hall's business day.
struct Incoming {
    hall: String,
    day: Date,
    event: Event,
}

/// Reads one message: a hall's profile or one of its events, refusing
/// what does not parse or whose subject and payload name different halls.
async fn read(
    tx: &Transaction<'_>,
    placings: &mut HashMap<String, Placing>,
    subject: &str,
    payload: &[u8],
) -> anyhow::Result<Read> {
    let Some(shipped) = parse_subject(subject) else {
        return Ok(Read::Refused(format!("{subject} is not a hall's subject")));
    };
    Ok(match shipped {
        Shipped::Profile(hall) => match serde_json::from_slice::<HallProfile>(payload) {
            Err(e) => Read::Refused(format!("not a hall profile: {e}")),
            Ok(p) if p.hall != hall => Read::Refused(format!(
                "the subject is hall {hall}'s, the profile is hall {}'s",
                p.hall
            )),
            Ok(p) if TimeZone::get(&p.timezone).is_err() => {
                Read::Refused(format!("unknown time zone {}", p.timezone))
            }
            Ok(p) => Read::Profile(p),
        },
        Shipped::Status(_) => Read::Refused("a hall's status does not belong in the stream".into()),
        Shipped::Events(hall) => match serde_json::from_slice::<ShippedEvent>(payload) {
            Err(e) => Read::Refused(format!("not a hall's event: {e}")),
            Ok(s) if s.hall != hall => Read::Refused(format!(
                "the subject is hall {hall}'s, the event says hall {}",
                s.hall
            )),
            Ok(s) => {
                let day = placing(tx, placings, hall).await?.business_day(s.event.at);
                Read::Event(Box::new(Incoming {
                    hall: s.hall,
                    day,
                    event: s.event,
                }))
            }
        },
    })
}

/// One batch in one transaction; answers the halls it changed. Profiles
/// are taken as they come (the events after them are placed by them);
/// events are written set-wise, a few statements per batch whatever its
/// size.
async fn take_batch(
    pool: &Pool,
    placings: &mut HashMap<String, Placing>,
    batch: &[jetstream::Message],
) -> anyhow::Result<Vec<String>> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let mut events = Vec::with_capacity(batch.len());
    let mut halls: Vec<String> = Vec::new();
    for m in batch {
        match read(&tx, placings, &m.subject, &m.payload).await? {
            Read::Profile(p) => {
                tx.execute(
                    "INSERT INTO halls (hall_id, profile) VALUES ($1, $2::text::jsonb) \
                     ON CONFLICT (hall_id) DO UPDATE SET profile = excluded.profile",
                    &[&p.hall, &serde_json::to_string(&p)?],
                )
                .await?;
                placings.insert(p.hall.clone(), Placing::of(&p));
                if !halls.contains(&p.hall) {
                    halls.push(p.hall);
                }
            }
            Read::Event(e) => events.push(*e),
            Read::Refused(reason) => {
                tracing::warn!(subject = %m.subject, %reason, "message refused");
                tx.execute(
                    "INSERT INTO refused (subject, reason, body) VALUES ($1, $2, $3)",
                    &[
                        &m.subject.as_str(),
                        &reason,
                        &String::from_utf8_lossy(&m.payload[..m.payload.len().min(4096)]),
                    ],
                )
                .await?;
            }
        }
    }
    for h in write_events(&tx, placings, events).await? {
        if !halls.contains(&h) {
            halls.push(h);
        }
    }
    tx.commit().await?;
    Ok(halls)
}

/// A hall's row as the batch leaves it.
struct HallRow {
    last_event_id: i64,
    last_event_at: Option<Timestamp>,
    waiting: serde_json::Map<String, serde_json::Value>,
    out_of_order: i64,
}

/// A ticket in a hall now (waiting, called, serving or held).
#[derive(Clone)]
struct OpenTicket {
    service: String,
    status: TicketStatus,
    continuation: bool,
    wait_from: Option<Timestamp>,
}

/// Stores a batch's events: the new ones (not stored before) in one
/// statement, then, from them in order, each hall's newest event and
/// queues, its counters, its open tickets and the rollups, each written
/// in one statement.
async fn write_events(
    tx: &Transaction<'_>,
    placings: &mut HashMap<String, Placing>,
    mut events: Vec<Incoming>,
) -> anyhow::Result<Vec<String>> {
    // A redelivery may bring an event twice in one batch.
    let mut seen = std::collections::HashSet::new();
    events.retain(|e| seen.insert((e.hall.clone(), e.event.id)));
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let mut bodies = Vec::with_capacity(events.len());
    for e in &events {
        bodies.push(serde_json::to_string(&e.event)?);
    }
    let hall_ids: Vec<&str> = events.iter().map(|e| e.hall.as_str()).collect();
    let ids: Vec<i64> = events.iter().map(|e| e.event.id).collect();
    let kinds: Vec<&str> = events.iter().map(|e| e.event.kind.as_str()).collect();
    let ats: Vec<Timestamp> = events.iter().map(|e| e.event.at).collect();
    let days: Vec<Date> = events.iter().map(|e| e.day).collect();
    let counters: Vec<Option<i32>> = events
        .iter()
        .map(|e| e.event.counter.map(|c| c as i32))
        .collect();
    let inserted = tx
        .query(
            "INSERT INTO events (hall_id, event_id, kind, at, business_day, counter, body) \
             SELECT h, id, k, a, d, c, b::jsonb FROM unnest($1::text[], $2::bigint[], $3::text[], \
               $4::timestamptz[], $5::date[], $6::int[], $7::text[]) WITH ORDINALITY AS u(h, id, k, a, d, c, b, n) \
             ORDER BY n \
             ON CONFLICT DO NOTHING RETURNING hall_id, event_id",
            &[&hall_ids, &ids, &kinds, &ats, &days, &counters, &bodies],
        )
        .await?;
    let new: std::collections::HashSet<(String, i64)> =
        inserted.iter().map(|r| (r.get(0), r.get(1))).collect();
    events.retain(|e| new.contains(&(e.hall.clone(), e.event.id)));
    if events.is_empty() {
        return Ok(Vec::new());
    }

    // What the batch starts from: its halls' rows and the tickets it touches.
    let mut touched_halls: Vec<String> = events.iter().map(|e| e.hall.clone()).collect();
    touched_halls.sort();
    touched_halls.dedup();
    let mut halls: HashMap<String, HallRow> = HashMap::new();
    for r in tx
        .query(
            "SELECT hall_id, last_event_id, last_event_at, waiting::text, out_of_order FROM halls \
             WHERE hall_id = ANY($1) FOR UPDATE",
            &[&touched_halls],
        )
        .await?
    {
        halls.insert(
            r.get(0),
            HallRow {
                last_event_id: r.get(1),
                last_event_at: r.get(2),
                waiting: serde_json::from_str(r.get(3)).unwrap_or_default(),
                out_of_order: r.get(4),
            },
        );
    }
    let mut ticket_keys: Vec<(String, i64)> = Vec::new();
    for e in &events {
        for t in e.event.ticket.iter().chain(e.event.transferred_to.iter()) {
            ticket_keys.push((e.hall.clone(), t.id));
        }
    }
    ticket_keys.sort();
    ticket_keys.dedup();
    let (key_halls, key_ids): (Vec<&str>, Vec<i64>) =
        ticket_keys.iter().map(|(h, t)| (h.as_str(), *t)).unzip();
    let mut open: HashMap<(String, i64), Option<OpenTicket>> = HashMap::new();
    for r in tx
        .query(
            "SELECT o.hall_id, o.ticket_id, o.service, o.status, o.continuation, o.wait_from \
             FROM open_tickets o JOIN unnest($1::text[], $2::bigint[]) AS k(h, t) \
               ON o.hall_id = k.h AND o.ticket_id = k.t",
            &[&key_halls, &key_ids],
        )
        .await?
    {
        let status: &str = r.get(3);
        open.insert(
            (r.get(0), r.get(1)),
            Some(OpenTicket {
                service: r.get(2),
                status: TicketStatus::parse(status).unwrap_or(TicketStatus::Waiting),
                continuation: r.get(4),
                wait_from: r.get(5),
            }),
        );
    }

    // The batch, in order.
    let mut counter_states: HashMap<(String, i32), (CounterState, Timestamp)> = HashMap::new();
    let mut rollups = Rollups::default();
    for Incoming {
        hall,
        day,
        event: e,
    } in &events
    {
        let p = placing_known(placings, hall);
        let row = halls.entry(hall.clone()).or_insert(HallRow {
            last_event_id: 0,
            last_event_at: None,
            waiting: Default::default(),
            out_of_order: 0,
        });
        if e.id != row.last_event_id + 1 {
            row.out_of_order += 1;
        }
        if e.id > row.last_event_id {
            row.last_event_id = e.id;
            row.last_event_at = Some(e.at);
            for w in &e.waiting {
                row.waiting.insert(w.service.clone(), w.waiting.into());
            }
        }
        if let (Some(c), Some(state)) = (
            e.counter,
            queue_server::rules::replay::counter_state_after(e.kind),
        ) {
            counter_states.insert((hall.clone(), c as i32), (state, e.at));
        }
        if let Some(n) = &e.transferred_to {
            open.insert((hall.clone(), n.id), Some(open_entry(n)));
        }
        let Some(t) = &e.ticket else { continue };
        let key = (hall.clone(), t.id);
        match e.kind {
            EventKind::TicketIssued => {
                if !t.transferred {
                    rollups.add(
                        hall,
                        p.business_day(t.issued_at),
                        &t.service,
                        p.hour(t.issued_at),
                        |d| d.issued += 1,
                    );
                }
                open.insert(key.clone(), Some(open_entry(t)));
            }
            EventKind::TicketCheckedIn => {
                if let Some(Some(o)) = open.get_mut(&key) {
                    o.wait_from = Some(e.at);
                }
            }
            EventKind::TicketCalled => {
                let wait_from = open
                    .get(&key)
                    .and_then(|o| o.as_ref()?.wait_from)
                    .unwrap_or(t.issued_at);
                let wait = (e.at.as_millisecond() - wait_from.as_millisecond()) as f64 / 1000.0;
                let target = p.targets.get(&t.service).copied();
                rollups.add(hall, *day, &t.service, p.hour(e.at), |d| {
                    d.called += 1;
                    d.within_target += i32::from(target.is_some_and(|limit| wait <= limit));
                });
                if !t.transferred {
                    rollups.add(
                        hall,
                        p.business_day(wait_from),
                        &t.service,
                        p.hour(wait_from),
                        |d| {
                            d.waits += 1;
                            d.wait_s += wait;
                        },
                    );
                }
            }
            _ => {}
        }
        if t.status.is_final() {
            open.insert(key, None);
            if e.kind == EventKind::TicketCompleted {
                rollups.add(hall, *day, &t.service, p.hour(e.at), |d| d.done += 1);
            }
        } else if let Some(Some(o)) = open.get_mut(&key) {
            o.status = t.status;
        }
    }

    // Written back, one statement each.
    let mut h_ids = Vec::new();
    let (mut h_last, mut h_at, mut h_waiting, mut h_ooo) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (id, r) in &halls {
        h_ids.push(id.as_str());
        h_last.push(r.last_event_id);
        h_at.push(r.last_event_at);
        h_waiting.push(serde_json::Value::Object(r.waiting.clone()).to_string());
        h_ooo.push(r.out_of_order);
    }
    tx.execute(
        "INSERT INTO halls (hall_id, last_event_id, last_event_at, received_at, waiting, out_of_order) \
         SELECT h, l, a, clock_timestamp(), w::jsonb, o \
         FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::bigint[]) AS u(h, l, a, w, o) \
         ON CONFLICT (hall_id) DO UPDATE SET last_event_id = excluded.last_event_id, \
           last_event_at = excluded.last_event_at, received_at = excluded.received_at, \
           waiting = excluded.waiting, out_of_order = excluded.out_of_order",
        &[&h_ids, &h_last, &h_at, &h_waiting, &h_ooo],
    )
    .await?;
    if !counter_states.is_empty() {
        let mut c_h = Vec::new();
        let (mut c_n, mut c_s, mut c_at) = (Vec::new(), Vec::new(), Vec::new());
        for ((h, n), (state, at)) in &counter_states {
            c_h.push(h.as_str());
            c_n.push(*n);
            c_s.push(state.as_str());
            c_at.push(*at);
        }
        tx.execute(
            "INSERT INTO counters (hall_id, counter, state, since) \
             SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::timestamptz[]) \
             ON CONFLICT (hall_id, counter) DO UPDATE SET state = excluded.state, since = excluded.since",
            &[&c_h, &c_n, &c_s, &c_at],
        )
        .await?;
    }
    let (k_h, k_t): (Vec<&str>, Vec<i64>) = open.keys().map(|(h, t)| (h.as_str(), *t)).unzip();
    tx.execute(
        "DELETE FROM open_tickets o USING unnest($1::text[], $2::bigint[]) AS k(h, t) \
         WHERE o.hall_id = k.h AND o.ticket_id = k.t",
        &[&k_h, &k_t],
    )
    .await?;
    let mut o_h = Vec::new();
    let (mut o_t, mut o_s, mut o_st, mut o_c, mut o_w) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for ((h, t), o) in &open {
        if let Some(o) = o {
            o_h.push(h.as_str());
            o_t.push(*t);
            o_s.push(o.service.as_str());
            o_st.push(o.status.as_str());
            o_c.push(o.continuation);
            o_w.push(o.wait_from);
        }
    }
    tx.execute(
        "INSERT INTO open_tickets (hall_id, ticket_id, service, status, continuation, wait_from) \
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bool[], $6::timestamptz[])",
        &[&o_h, &o_t, &o_s, &o_st, &o_c, &o_w],
    )
    .await?;
    rollups.write(tx).await?;
    Ok(touched_halls)
}

/// A hall's placing once [`placing`] has loaded it (UTC before any profile).
fn placing_known(placings: &HashMap<String, Placing>, hall: &str) -> Placing {
    placings.get(hall).cloned().unwrap_or_else(Placing::utc)
}

/// A ticket now in the hall: issued, or the entry a transfer made (which
/// keeps the original issue time). A remote one waits from its check-in.
fn open_entry(t: &hall_api::TicketSummary) -> OpenTicket {
    OpenTicket {
        service: t.service.clone(),
        status: t.status,
        continuation: t.transferred,
        wait_from: (!t.remote).then_some(t.issued_at),
    }
}

/// A hall's placing, from memory or its stored profile (UTC until one came).
async fn placing(
    tx: &Transaction<'_>,
    placings: &mut HashMap<String, Placing>,
    hall: &str,
) -> anyhow::Result<Placing> {
    if let Some(p) = placings.get(hall) {
        return Ok(p.clone());
    }
    let row = tx
        .query_opt(
            "SELECT profile::text FROM halls WHERE hall_id = $1 AND profile IS NOT NULL",
            &[&hall],
        )
        .await?;
    let p = match row.and_then(|r| serde_json::from_str::<HallProfile>(r.get(0)).ok()) {
        Some(profile) => Placing::of(&profile),
        None => Placing::utc(),
    };
    placings.insert(hall.to_string(), p.clone());
    Ok(p)
}

/// One (hall, day, service, hour)'s additions in a batch.
#[derive(Debug, Default, Clone, Copy)]
pub struct Delta {
    pub issued: i32,
    pub called: i32,
    pub within_target: i32,
    pub done: i32,
    pub waits: i32,
    pub wait_s: f64,
}

/// A batch's additions to the hourly and daily rollups, written once per
/// key at the end of the batch.
#[derive(Default)]
pub struct Rollups {
    by_hour: HashMap<(String, Date, String, i16), Delta>,
}

impl Rollups {
    fn add(&mut self, hall: &str, day: Date, service: &str, hour: i16, f: impl FnOnce(&mut Delta)) {
        f(self
            .by_hour
            .entry((hall.to_string(), day, service.to_string(), hour))
            .or_default());
    }

    /// Adds the batch to the hourly and daily rollups, one statement each.
    pub async fn write(self, tx: &Transaction<'_>) -> anyhow::Result<()> {
        let mut by_day: HashMap<(String, Date, String), Delta> = HashMap::new();
        let mut hourly = Columns::default();
        for ((hall, day, service, hour), d) in self.by_hour {
            hourly.push(&hall, day, &service, hour, &d);
            let sum = by_day.entry((hall, day, service)).or_default();
            sum.issued += d.issued;
            sum.called += d.called;
            sum.within_target += d.within_target;
            sum.done += d.done;
            sum.waits += d.waits;
            sum.wait_s += d.wait_s;
        }
        let mut daily = Columns::default();
        for ((hall, day, service), d) in by_day {
            daily.push(&hall, day, &service, 0, &d);
        }
        for (table, key, hour, cols) in [
            (
                "hourly",
                "hall_id, business_day, service, hour",
                true,
                &hourly,
            ),
            ("daily", "hall_id, business_day, service", false, &daily),
        ] {
            if cols.halls.is_empty() {
                continue;
            }
            let sum = |c: &str| format!("{c} = {table}.{c} + excluded.{c}");
            let sql = format!(
                "INSERT INTO {table} ({key}, issued, called, within_target, done, waits, wait_s) \
                 SELECT h, d, s, {hour_col} i, c, w, dn, n, ws FROM unnest($1::text[], $2::date[], $3::text[], \
                   $4::smallint[], $5::int[], $6::int[], $7::int[], $8::int[], $9::int[], $10::float8[]) \
                   AS u(h, d, s, hr, i, c, w, dn, n, ws) \
                 ON CONFLICT ({key}) DO UPDATE SET {}",
                [
                    "issued",
                    "called",
                    "within_target",
                    "done",
                    "waits",
                    "wait_s"
                ]
                .map(sum)
                .join(", "),
                hour_col = if hour { "hr," } else { "" },
            );
            tx.execute(
                &sql,
                &[
                    &cols.halls,
                    &cols.days,
                    &cols.services,
                    &cols.hours,
                    &cols.issued,
                    &cols.called,
                    &cols.within_target,
                    &cols.done,
                    &cols.waits,
                    &cols.wait_s,
                ],
            )
            .await?;
        }
        Ok(())
    }
}

/// Rollup rows as arrays, for one `unnest` insert.
#[derive(Default)]
struct Columns {
    halls: Vec<String>,
    days: Vec<Date>,
    services: Vec<String>,
    hours: Vec<i16>,
    issued: Vec<i32>,
    called: Vec<i32>,
    within_target: Vec<i32>,
    done: Vec<i32>,
    waits: Vec<i32>,
    wait_s: Vec<f64>,
}

impl Columns {
    fn push(&mut self, hall: &str, day: Date, service: &str, hour: i16, d: &Delta) {
        self.halls.push(hall.to_string());
        self.days.push(day);
        self.services.push(service.to_string());
        self.hours.push(hour);
        self.issued.push(d.issued);
        self.called.push(d.called);
        self.within_target.push(d.within_target);
        self.done.push(d.done);
        self.waits.push(d.waits);
        self.wait_s.push(d.wait_s);
    }
}
