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
use hall_api::{Event, EventKind, TicketStatus};
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
            let mut backoff = Duration::from_millis(200);
            let halls = loop {
                match take_batch(&pool, &mut placings, &batch).await {
                    Ok(halls) => break halls,
                    Err(e) => {
                        tracing::warn!(error = format!("{e:#}"), retry_in = ?backoff, "PostgreSQL did not take a batch; nothing acknowledged");
                        tokio::time::sleep(backoff).await;
                        backoff = (backoff * 2).min(Duration::from_secs(10));
                    }
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

/// What one message did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Taken,
    /// Stored already (a resend or a redelivery).
    Duplicate,
    Refused(String),
}

/// One batch in one transaction; answers the halls it changed.
async fn take_batch(
    pool: &Pool,
    placings: &mut HashMap<String, Placing>,
    batch: &[jetstream::Message],
) -> anyhow::Result<Vec<String>> {
    let mut client = pool.get().await?;
    let tx = client.transaction().await?;
    let mut rollups = Rollups::default();
    let mut halls = Vec::new();
    for m in batch {
        let outcome = take(&tx, placings, &mut rollups, &m.subject, &m.payload).await?;
        match outcome {
            Outcome::Taken => {
                if let Some(Shipped::Events(h) | Shipped::Profile(h)) = parse_subject(&m.subject)
                    && !halls.iter().any(|x| x == h)
                {
                    halls.push(h.to_string());
                }
            }
            Outcome::Duplicate => {}
            Outcome::Refused(reason) => {
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
    rollups.write(&tx).await?;
    tx.commit().await?;
    Ok(halls)
}

/// Takes one message: a hall's profile or one of its events.
pub async fn take(
    tx: &Transaction<'_>,
    placings: &mut HashMap<String, Placing>,
    rollups: &mut Rollups,
    subject: &str,
    payload: &[u8],
) -> anyhow::Result<Outcome> {
    let Some(shipped) = parse_subject(subject) else {
        return Ok(Outcome::Refused(format!(
            "{subject} is not a hall's subject"
        )));
    };
    match shipped {
        Shipped::Profile(hall) => {
            let profile: HallProfile = match serde_json::from_slice(payload) {
                Ok(p) => p,
                Err(e) => return Ok(Outcome::Refused(format!("not a hall profile: {e}"))),
            };
            if profile.hall != hall {
                return Ok(Outcome::Refused(format!(
                    "the subject is hall {hall}'s, the profile is hall {}'s",
                    profile.hall
                )));
            }
            if TimeZone::get(&profile.timezone).is_err() {
                return Ok(Outcome::Refused(format!(
                    "unknown time zone {}",
                    profile.timezone
                )));
            }
            let json = serde_json::to_string(&profile)?;
            tx.execute(
                "INSERT INTO halls (hall_id, profile) VALUES ($1, $2::text::jsonb) \
                 ON CONFLICT (hall_id) DO UPDATE SET profile = excluded.profile",
                &[&hall, &json],
            )
            .await?;
            placings.insert(hall.to_string(), Placing::of(&profile));
            Ok(Outcome::Taken)
        }
        Shipped::Events(hall) => {
            let shipped: ShippedEvent = match serde_json::from_slice(payload) {
                Ok(e) => e,
                Err(e) => return Ok(Outcome::Refused(format!("not a hall's event: {e}"))),
            };
            if shipped.hall != hall {
                return Ok(Outcome::Refused(format!(
                    "the subject is hall {hall}'s, the event says hall {}",
                    shipped.hall
                )));
            }
            let placing = placing(tx, placings, hall).await?;
            take_event(tx, &placing, rollups, hall, &shipped.event).await
        }
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
        None => Placing {
            tz: TimeZone::UTC,
            day_starts_at: Time::midnight(),
            targets: HashMap::new(),
        },
    };
    placings.insert(hall.to_string(), p.clone());
    Ok(p)
}

async fn take_event(
    tx: &Transaction<'_>,
    p: &Placing,
    rollups: &mut Rollups,
    hall: &str,
    e: &Event,
) -> anyhow::Result<Outcome> {
    let day = p.business_day(e.at);
    let body = serde_json::to_string(e)?;
    let counter = e.counter.map(|c| c as i32);
    let inserted = tx
        .execute(
            "INSERT INTO events (hall_id, event_id, kind, at, business_day, counter, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb) ON CONFLICT DO NOTHING",
            &[&hall, &e.id, &e.kind.as_str(), &e.at, &day, &counter, &body],
        )
        .await?;
    if inserted == 0 {
        return Ok(Outcome::Duplicate);
    }
    let waiting: serde_json::Map<String, serde_json::Value> = e
        .waiting
        .iter()
        .map(|w| (w.service.clone(), w.waiting.into()))
        .collect();
    let waiting = serde_json::Value::Object(waiting).to_string();
    tx.execute(
        "INSERT INTO halls (hall_id, last_event_id, last_event_at, received_at, waiting, out_of_order) \
         VALUES ($1, $2::bigint, $3, clock_timestamp(), $4::text::jsonb, CASE WHEN $2::bigint = 1 THEN 0 ELSE 1 END) \
         ON CONFLICT (hall_id) DO UPDATE SET \
           out_of_order = halls.out_of_order + CASE WHEN excluded.last_event_id = halls.last_event_id + 1 THEN 0 ELSE 1 END, \
           waiting = CASE WHEN excluded.last_event_id > halls.last_event_id THEN halls.waiting || excluded.waiting ELSE halls.waiting END, \
           last_event_at = CASE WHEN excluded.last_event_id > halls.last_event_id THEN excluded.last_event_at ELSE halls.last_event_at END, \
           last_event_id = GREATEST(halls.last_event_id, excluded.last_event_id), \
           received_at = excluded.received_at",
        &[&hall, &e.id, &e.at, &waiting],
    )
    .await?;

    if let Some(c) = counter
        && let Some(state) = queue_server::rules::replay::counter_state_after(e.kind)
    {
        tx.execute(
            "INSERT INTO counters (hall_id, counter, state, since) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (hall_id, counter) DO UPDATE SET state = excluded.state, since = excluded.since",
            &[&hall, &c, &state.as_str(), &e.at],
        )
        .await?;
    }
    let Some(t) = &e.ticket else {
        return Ok(Outcome::Taken);
    };
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
            let wait_from = (!t.remote).then_some(t.issued_at);
            tx.execute(
                "INSERT INTO open_tickets (hall_id, ticket_id, service, status, continuation, wait_from) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                &[&hall, &t.id, &t.service, &t.status.as_str(), &t.transferred, &wait_from],
            )
            .await?;
        }
        EventKind::TicketCheckedIn => {
            tx.execute(
                "UPDATE open_tickets SET wait_from = $3, status = $4 WHERE hall_id = $1 AND ticket_id = $2",
                &[&hall, &t.id, &e.at, &t.status.as_str()],
            )
            .await?;
        }
        EventKind::TicketCalled => {
            let row = tx
                .query_opt(
                    "UPDATE open_tickets SET status = $3 WHERE hall_id = $1 AND ticket_id = $2 RETURNING wait_from",
                    &[&hall, &t.id, &t.status.as_str()],
                )
                .await?;
            let wait_from: Timestamp = row
                .and_then(|r| r.get::<_, Option<Timestamp>>(0))
                .unwrap_or(t.issued_at);
            let wait = (e.at.as_millisecond() - wait_from.as_millisecond()) as f64 / 1000.0;
            let target = p.targets.get(&t.service).copied();
            rollups.add(hall, day, &t.service, p.hour(e.at), |d| {
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
        _ => {
            if t.status.is_final() {
                tx.execute(
                    "DELETE FROM open_tickets WHERE hall_id = $1 AND ticket_id = $2",
                    &[&hall, &t.id],
                )
                .await?;
                if t.status == TicketStatus::Done {
                    rollups.add(hall, day, &t.service, p.hour(e.at), |d| d.done += 1);
                }
            } else {
                tx.execute(
                    "UPDATE open_tickets SET status = $3 WHERE hall_id = $1 AND ticket_id = $2",
                    &[&hall, &t.id, &t.status.as_str()],
                )
                .await?;
            }
        }
    }
    if let Some(n) = &e.transferred_to {
        tx.execute(
            "INSERT INTO open_tickets (hall_id, ticket_id, service, status, continuation, wait_from) \
             VALUES ($1, $2, $3, $4, true, $5) ON CONFLICT DO NOTHING",
            &[&hall, &n.id, &n.service, &n.status.as_str(), &n.issued_at],
        )
        .await?;
    }
    Ok(Outcome::Taken)
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

    pub async fn write(self, tx: &Transaction<'_>) -> anyhow::Result<()> {
        let hourly = tx
            .prepare_cached(
                "INSERT INTO hourly (hall_id, business_day, service, hour, issued, called, within_target, done, waits, wait_s) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (hall_id, business_day, service, hour) DO UPDATE SET \
                 issued = hourly.issued + excluded.issued, called = hourly.called + excluded.called, \
                 within_target = hourly.within_target + excluded.within_target, done = hourly.done + excluded.done, \
                 waits = hourly.waits + excluded.waits, wait_s = hourly.wait_s + excluded.wait_s",
            )
            .await?;
        let daily = tx
            .prepare_cached(
                "INSERT INTO daily (hall_id, business_day, service, issued, called, within_target, done, waits, wait_s) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
                 ON CONFLICT (hall_id, business_day, service) DO UPDATE SET \
                 issued = daily.issued + excluded.issued, called = daily.called + excluded.called, \
                 within_target = daily.within_target + excluded.within_target, done = daily.done + excluded.done, \
                 waits = daily.waits + excluded.waits, wait_s = daily.wait_s + excluded.wait_s",
            )
            .await?;
        let mut by_day: HashMap<(String, Date, String), Delta> = HashMap::new();
        for ((hall, day, service, hour), d) in self.by_hour {
            tx.execute(
                &hourly,
                &[
                    &hall,
                    &day,
                    &service,
                    &hour,
                    &d.issued,
                    &d.called,
                    &d.within_target,
                    &d.done,
                    &d.waits,
                    &d.wait_s,
                ],
            )
            .await?;
            let sum = by_day.entry((hall, day, service)).or_default();
            sum.issued += d.issued;
            sum.called += d.called;
            sum.within_target += d.within_target;
            sum.done += d.done;
            sum.waits += d.waits;
            sum.wait_s += d.wait_s;
        }
        for ((hall, day, service), d) in by_day {
            tx.execute(
                &daily,
                &[
                    &hall,
                    &day,
                    &service,
                    &d.issued,
                    &d.called,
                    &d.within_target,
                    &d.done,
                    &d.waits,
                    &d.wait_s,
                ],
            )
            .await?;
        }
        Ok(())
    }
}
