//! What the company's page and API read: every hall now, halls ranked
//! over a period, and one hall's day computed as the hall computes it.

use std::collections::{BTreeMap, HashMap};

use deadpool_postgres::Pool;
use hall_api::head_office::{HallProfile, HallStatus, STATUS_INTERVAL_S};
use hall_api::{CounterState, DayStats, DeviceHealth, Event, EventKind, I18nText};
use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::ingest::Placing;

/// One hall as it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallNow {
    pub hall: String,
    pub name: Option<I18nText>,
    /// The hall's business day now.
    pub today: Option<Date>,
    /// Waiting per service, from the hall's newest event.
    pub waiting_by_service: BTreeMap<String, u32>,
    pub waiting: u32,
    /// The longest a customer waiting now has waited.
    pub longest_wait_s: Option<u32>,
    pub issued_today: i64,
    pub called_today: i64,
    pub done_today: i64,
    /// Called within their service's target ÷ (called + waiting past it), today.
    pub service_level: Option<f64>,
    /// Counters open now (a counter that never changed is in its first state).
    pub counters_open: i64,
    pub counters_paused: i64,
    pub last_event_id: i64,
    pub last_event_at: Option<Timestamp>,
    /// When head office took the hall's newest event.
    pub received_at: Option<Timestamp>,
    /// From the hall's newest event to its row here.
    pub shipping_lag_s: Option<f64>,
    /// Seconds since anything (an event, a heartbeat) came from the hall.
    pub silent_s: Option<f64>,
    /// Three heartbeats missed: the hall's box, or its link, is down.
    pub silent: bool,
    /// Devices that need staff now (faults, warnings, devices not
    /// reporting), from the hall's newest heartbeat.
    pub devices: Vec<DeviceAttention>,
    /// Events that came after a gap (a hall restored from a backup, say).
    pub out_of_order: i64,
}

/// A device that needs attention, as its hall reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceAttention {
    pub name: String,
    pub role: String,
    pub health: DeviceHealth,
    pub why: String,
}

/// The devices of a hall's status that need staff.
pub fn needing_attention(status: &HallStatus) -> Vec<DeviceAttention> {
    status
        .devices
        .iter()
        .filter_map(|d| {
            d.attention().map(|(health, why)| DeviceAttention {
                name: d.name.clone(),
                role: d.role.clone(),
                health,
                why,
            })
        })
        .collect()
}

/// Every hall now, in hall id order. One statement: each hall's "today"
/// is its own (time zone and day start from its profile).
pub async fn halls_now(pool: &Pool) -> Result<Vec<HallNow>> {
    let client = pool.get().await?;
    let rows = client
        .query(
            "WITH h AS ( \
               SELECT hall_id, profile, last_event_id, last_event_at, received_at, waiting, out_of_order, status, status_at, \
                 ((now() AT TIME ZONE COALESCE(profile->>'timezone', 'UTC')) \
                   - COALESCE(profile->>'day_starts_at', '00:00')::interval)::date AS today \
               FROM halls), \
             d AS ( \
               SELECT daily.hall_id, sum(issued)::bigint AS issued, sum(called)::bigint AS called, \
                 sum(done)::bigint AS done, sum(within_target)::bigint AS within_target \
               FROM daily JOIN h ON h.hall_id = daily.hall_id AND h.today = daily.business_day \
               WHERE daily.business_day IN (SELECT DISTINCT today FROM h) \
               GROUP BY daily.hall_id), \
             w AS ( \
               SELECT o.hall_id, min(o.wait_from) AS oldest, \
                 count(*) FILTER (WHERE NOT o.continuation \
                   AND o.wait_from < now() - make_interval(mins => (s->>'target_wait_min')::int)) AS past_target \
               FROM open_tickets o JOIN h ON h.hall_id = o.hall_id \
               LEFT JOIN LATERAL jsonb_array_elements(h.profile->'services') s ON s->>'id' = o.service \
               WHERE o.status = 'waiting' AND o.wait_from IS NOT NULL \
               GROUP BY o.hall_id), \
             cs AS ( \
               SELECT h.hall_id, \
                 count(*) FILTER (WHERE COALESCE(c.state, pc->>'initial_state') = 'open') AS open, \
                 count(*) FILTER (WHERE COALESCE(c.state, pc->>'initial_state') = 'paused') AS paused \
               FROM h CROSS JOIN LATERAL jsonb_array_elements(COALESCE(h.profile->'counters', '[]'::jsonb)) pc \
               LEFT JOIN counters c ON c.hall_id = h.hall_id AND c.counter = (pc->>'number')::int \
               WHERE h.last_event_id > 0 \
               GROUP BY h.hall_id) \
             SELECT h.hall_id, h.profile->'name', h.today, h.waiting::text, h.last_event_id, h.last_event_at, \
               h.received_at, h.out_of_order, w.oldest, \
               COALESCE(d.issued, 0), COALESCE(d.called, 0), COALESCE(d.done, 0), COALESCE(d.within_target, 0), \
               COALESCE(w.past_target, 0), COALESCE(cs.open, 0), COALESCE(cs.paused, 0), now(), \
               h.status, h.status_at \
             FROM h LEFT JOIN d USING (hall_id) LEFT JOIN w USING (hall_id) LEFT JOIN cs USING (hall_id) \
             ORDER BY h.hall_id",
            &[],
        )
        .await?;
    Ok(rows
        .iter()
        .map(|r| {
            let waiting_by_service: BTreeMap<String, u32> =
                serde_json::from_str(r.get::<_, &str>(3)).unwrap_or_default();
            let now: Timestamp = r.get(16);
            let last_event_at: Option<Timestamp> = r.get(5);
            let received_at: Option<Timestamp> = r.get(6);
            let oldest: Option<Timestamp> = r.get(8);
            let called: i64 = r.get(10);
            let within: i64 = r.get(12);
            let past_target: i64 = r.get(13);
            let status: Option<HallStatus> = r
                .get::<_, Option<serde_json::Value>>(17)
                .and_then(|v| serde_json::from_value(v).ok());
            let status_at: Option<Timestamp> = r.get(18);
            let heard_at = received_at.max(status_at);
            let secs = |a: Timestamp, b: Timestamp| {
                (b.as_millisecond() - a.as_millisecond()) as f64 / 1000.0
            };
            HallNow {
                hall: r.get(0),
                name: r
                    .get::<_, Option<serde_json::Value>>(1)
                    .and_then(|v| serde_json::from_value(v).ok()),
                today: r.get(2),
                waiting: waiting_by_service.values().sum(),
                waiting_by_service,
                longest_wait_s: oldest.map(|o| secs(o, now).max(0.0).round() as u32),
                issued_today: r.get(9),
                called_today: called,
                done_today: r.get(11),
                service_level: (called + past_target > 0)
                    .then(|| within as f64 / (called + past_target) as f64),
                counters_open: r.get(14),
                counters_paused: r.get(15),
                last_event_id: r.get(4),
                last_event_at,
                received_at,
                shipping_lag_s: last_event_at.zip(received_at).map(|(a, b)| secs(a, b)),
                silent_s: heard_at.map(|at| secs(at, now)),
                silent: heard_at.is_none_or(|at| secs(at, now) > f64::from(3 * STATUS_INTERVAL_S)),
                devices: status.as_ref().map(needing_attention).unwrap_or_default(),
                out_of_order: r.get(7),
            }
        })
        .collect())
}

/// What halls can be ranked on over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Issued,
    Done,
    ServiceLevel,
    AverageWait,
}

/// One hall's figures over a period, from the daily rollups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallPeriod {
    pub rank: u32,
    pub hall: String,
    pub issued: i64,
    pub called: i64,
    pub done: i64,
    /// Called within target ÷ called (customers still waiting are not
    /// part of a closed period).
    pub service_level: Option<f64>,
    pub average_wait_s: Option<f64>,
}

/// Halls ranked on `metric` over business days `first..=last`, best first
/// (the shortest wait is best).
pub async fn ranking(
    pool: &Pool,
    metric: Metric,
    first: Date,
    last: Date,
) -> Result<Vec<HallPeriod>> {
    if last < first {
        return Err(Error::BadRequest(format!(
            "the period ends ({last}) before it starts ({first})"
        )));
    }
    let order = match metric {
        Metric::Issued => "issued DESC",
        Metric::Done => "done DESC",
        Metric::ServiceLevel => "service_level DESC NULLS LAST",
        Metric::AverageWait => "average_wait_s ASC NULLS LAST",
    };
    let client = pool.get().await?;
    let rows = client
        .query(
            &format!(
                "SELECT hall_id, issued, called, done, service_level, average_wait_s FROM ( \
                   SELECT hall_id, sum(issued)::bigint AS issued, sum(called)::bigint AS called, \
                     sum(done)::bigint AS done, \
                     sum(within_target)::float8 / NULLIF(sum(called), 0) AS service_level, \
                     sum(wait_s) / NULLIF(sum(waits), 0) AS average_wait_s \
                   FROM daily WHERE business_day BETWEEN $1 AND $2 GROUP BY hall_id) p \
                 ORDER BY {order}, hall_id"
            ),
            &[&first, &last],
        )
        .await?;
    Ok(rows
        .iter()
        .enumerate()
        .map(|(i, r)| HallPeriod {
            rank: i as u32 + 1,
            hall: r.get(0),
            issued: r.get(1),
            called: r.get(2),
            done: r.get(3),
            service_level: r.get(4),
            average_wait_s: r.get(5),
        })
        .collect())
}

/// A hall's profile, or 404.
async fn profile(client: &deadpool_postgres::Client, hall: &str) -> Result<HallProfile> {
    let row = client
        .query_opt(
            "SELECT profile::text FROM halls WHERE hall_id = $1 AND profile IS NOT NULL",
            &[&hall],
        )
        .await?
        .ok_or_else(|| {
            Error::NotFound(format!("no hall \"{hall}\" has reported to head office"))
        })?;
    serde_json::from_str(row.get(0))
        .map_err(|e| Error::Internal(format!("hall {hall}'s stored profile: {e}")))
}

/// One hall's business day `date` as of now, computed from its events
/// with the hall's own rules (`queue_server::rules::stats`).
pub async fn hall_day(pool: &Pool, hall: &str, date: Option<Date>) -> Result<DayStats> {
    let client = pool.get().await?;
    let profile = profile(&client, hall).await?;
    let placing = Placing::of(&profile);
    let now = Timestamp::now();
    let date = date.unwrap_or_else(|| placing.business_day(now));
    let (from, next) =
        queue_server::rules::numbering::day_window(date, &placing.tz, placing.day_starts_at)
            .map_err(Error::BadRequest)?;
    let to = next.min(now).max(from);
    let tx_rows = client
        .query(
            "SELECT body::text FROM events WHERE hall_id = $1 AND business_day = $2 AND at < $3 ORDER BY event_id",
            &[&hall, &date, &to],
        )
        .await?;
    let events = tx_rows
        .iter()
        .map(|r| serde_json::from_str::<Event>(r.get(0)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| {
            Error::Internal(format!(
                "a stored event of hall {hall} does not read back: {e}"
            ))
        })?;
    let before = client
        .query(
            "SELECT DISTINCT ON (counter) counter, kind FROM events \
             WHERE hall_id = $1 AND kind LIKE 'counter.%' AND at < $2 AND counter IS NOT NULL \
             ORDER BY counter, event_id DESC",
            &[&hall, &from],
        )
        .await?;
    let counter_before: HashMap<u32, EventKind> = before
        .iter()
        .filter_map(|r| Some((r.get::<_, i32>(0) as u32, EventKind::parse(r.get(1))?)))
        .collect();
    let first_event_at: Option<Timestamp> = client
        .query_opt(
            "SELECT at FROM events WHERE hall_id = $1 ORDER BY event_id LIMIT 1",
            &[&hall],
        )
        .await?
        .map(|r| r.get(0));
    let counters: Vec<(u32, CounterState)> = profile
        .counters
        .iter()
        .map(|c| (c.number, c.initial_state))
        .collect();
    use queue_server::rules::replay::{DayLog, ReplayHall, replay_day};
    let day = replay_day(
        &ReplayHall {
            tz: &placing.tz,
            day_starts_at: placing.day_starts_at,
            counters: &counters,
        },
        &DayLog {
            date,
            from,
            to,
            first_event_at,
            counter_before: &counter_before,
            events: &events,
        },
    );
    let input = queue_server::rules::stats::DayInput {
        date,
        tz: &placing.tz,
        services: profile
            .services
            .iter()
            .map(|s| (s.id.clone(), s.target_wait_min))
            .collect(),
        tickets: &day.tickets,
        counters: &day.counters,
        from,
        to,
        attendance: &day.attendance,
        pauses: &day.pauses,
        staff_names: &day.staff_names,
        ratings: &day.ratings,
        bookings: &[],
        slot_places: 0,
    };
    let mut stats = queue_server::rules::stats::day_stats(&input);
    stats.unresumed_holds = day.held;
    Ok(stats)
}
