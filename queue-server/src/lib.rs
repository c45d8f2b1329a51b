//! queue-server: the hall's single source of truth.
//!
//! - [`config`]: the hall's TOML configuration (or the embedded demo hall);
//! - [`hall`]: the hall's commands (issue, call next, …) and the rules they
//!   apply to the hall's state, run by the writer;
//! - [`rules`]: numbering, life cycles, call-next policy, wait estimate and
//!   statistics, all without I/O;
//! - [`store`]: SQLite with one group-committing writer, the tables the
//!   commands reach, and read connections;
//! - [`api`]: the HTTP API and the live event stream.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::{broadcast, watch};

pub mod admin;
pub mod api;
pub mod clock;
pub mod config;
pub mod error;
pub mod exports;
pub mod hall;
pub mod head_office;
pub mod http;
pub mod load_test;
pub mod metrics;
pub mod proxy_tunnel;
pub mod relay;
pub mod report_page;
pub mod rules;
pub mod signin;
pub mod store;
pub mod time_sources;
pub mod tls;
pub mod tokens;
pub mod webhooks;

use crate::config::{Config, LiveConfig};
use crate::hall::Actor;
use crate::store::reader::ReadPool;
use crate::store::writer::{WriteHealth, Writer, WriterHandle};

/// Gives memory freed by a large job (an Argon2 buffer, a year's report)
/// back to the system, so the appliance's RSS at rest stays small.
pub fn release_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only returns free memory to the system.
    unsafe {
        libc::malloc_trim(0);
    }
}

/// Completes on Ctrl-C or systemd's SIGTERM: the servers' orderly stop.
pub async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .expect("installing the SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

/// Read-only connections beside the writer.
pub const READ_CONNECTIONS: usize = 4;
/// Live events buffered per subscriber before it is caught up from the log.
const EVENT_BUFFER: usize = 1024;

/// Where the database lives when `--db` is not given: systemd's
/// `STATE_DIRECTORY`, else the user's data directory.
pub fn default_db_path() -> PathBuf {
    if let Some(dir) = std::env::var_os("STATE_DIRECTORY") {
        return PathBuf::from(dir).join("hall.db");
    }
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("queue-server").join("hall.db")
}

/// Plain HTTP on the LAN would carry tokens, PINs and account numbers in
/// the clear: with TLS on, it stays on loopback. Checked before binding, so
/// a refused address is never taken, and again by [`serve`].
pub fn refuse_plain_http_on_the_network(
    hall: &Config,
    plain: std::net::SocketAddr,
) -> anyhow::Result<()> {
    if hall.tls.is_some() && !plain.ip().is_loopback() {
        anyhow::bail!(
            "plain HTTP would listen on {plain}, on the network, while [tls] is on; \
             give --listen 127.0.0.1:PORT and let the LAN use tls.listen"
        );
    }
    Ok(())
}

/// Runs the server on `listener` until `shutdown` completes, then lets the
/// writer finish what it has and closes the database.
pub async fn serve(
    hall: Arc<Config>,
    db: &Path,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    refuse_plain_http_on_the_network(&hall, listener.local_addr()?)?;
    let tls = match &hall.tls {
        Some(cfg) => {
            let dir = cfg.dir.clone().unwrap_or_else(|| {
                db.parent()
                    .map_or_else(|| PathBuf::from("tls"), |d| d.join("tls"))
            });
            let prepared = tls::HallTls::prepare(cfg, &dir, jiff::Timestamp::now())?;
            let status = prepared.status();
            let tcp = tokio::net::TcpListener::bind(cfg.listen)
                .await
                .map_err(|e| {
                    anyhow::anyhow!(
                        "cannot listen on {} for HTTPS: {e}; is another server running there?",
                        cfg.listen
                    )
                })?;
            tracing::info!(
                listen = %cfg.listen,
                ca_fingerprint = status.ca_fingerprint.as_deref().unwrap_or("(the hall's own certificate)"),
                not_after = %status.not_after,
                "HTTPS on the hall network"
            );
            Some((Arc::new(prepared), tcp))
        }
        None => None,
    };
    let redirect = match hall
        .tls
        .as_ref()
        .and_then(|t| t.redirect_from.map(|r| (r, t.listen.port())))
    {
        Some((from, https_port)) => {
            let tcp = tokio::net::TcpListener::bind(from).await.map_err(|e| {
                anyhow::anyhow!("cannot listen on {from} for the redirect to HTTPS: {e}")
            })?;
            tracing::info!(%from, "plain HTTP there only redirects to HTTPS");
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let task = tokio::spawn(http::serve(
                vec![http::Listener { tcp, tls: None }],
                tls::redirect_router(https_port),
                async move {
                    let _ = stopped.await;
                },
            ));
            Some((stop, task))
        }
        None => None,
    };
    let (writer, last) = Writer::open(db, hall)?;
    let clock = writer.clock();
    let hall = writer.config();
    let (events, _) = broadcast::channel(EVENT_BUFFER);
    let metrics = Arc::new(metrics::Metrics::default());
    let write_health = Arc::new(WriteHealth::default());
    let (handle, writer_thread) =
        writer.spawn(events.clone(), metrics.clone(), write_health.clone());
    let reads = ReadPool::open(db, READ_CONNECTIONS)?;
    let (stop_tx, stop_rx) = watch::channel(false);
    // Each lookup sets its own (shorter) timeout.
    let billing_http = hall
        .now()
        .billing
        .client(std::time::Duration::from_secs(10));
    let devices = Arc::new(api::devices::DeviceBoard::default());
    let shipping = head_office::spawn(&hall, &reads, &handle, &events, &devices, &stop_rx)?;
    let state = api::AppState {
        shipping,
        hall,
        writer: handle,
        reads,
        events,
        clock: clock.clone(),
        metrics,
        write_health: write_health.clone(),
        shutdown: stop_rx,
        http: billing_http,
        pin_guard: Default::default(),
        pin_hasher: signin::PinHasher::start(),
        devices,
        tls: tls.as_ref().map(|(t, _)| t.clone()),
        recent_reads: Default::default(),
    };
    webhooks::spawn_all(
        &state.hall.now(),
        &state.reads,
        &state.writer,
        &state.events,
        &state.shutdown,
    );
    let reading = clock.read();
    tracing::info!(
        listen = %listener.local_addr()?,
        db = %db.display(),
        last_event_id = last.map_or(0, |(id, _)| id),
        clock_trusted = reading.trusted,
        "queue-server ready"
    );
    let watchdog = tokio::spawn(systemd_watchdog(state.reads.clone(), state.writer.clone()));
    let probe = tokio::spawn(probe_writes(state.writer.clone(), write_health));
    let retention = tokio::spawn(keep_retention(
        state.writer.clone(),
        state.hall.clone(),
        clock.clone(),
        db.to_path_buf(),
    ));
    let end_of_day = tokio::spawn(keep_end_of_day(
        state.writer.clone(),
        state.reads.clone(),
        state.hall.clone(),
        clock.clone(),
    ));
    let started = state.hall.now();
    let expiry = started.remote.is_some().then(|| {
        tokio::spawn(keep_remote_expiry(
            state.writer.clone(),
            state.reads.clone(),
            clock.clone(),
            started.appointments.window.late_min,
        ))
    });
    // Tell systemd (Type=notify) we are serving; a no-op elsewhere.
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    let renewal = tls
        .as_ref()
        .map(|(t, _)| tokio::spawn(keep_certificate(t.clone())));
    let mut listeners = vec![http::Listener {
        tcp: listener,
        tls: None,
    }];
    if let Some((t, tcp)) = tls {
        listeners.push(http::Listener {
            tcp,
            tls: Some(t.acceptor()),
        });
    }
    let app = api::router(state.clone());
    if let Some(shipping) = &state.shipping {
        // Phones' requests relayed by head office take the same routes.
        shipping.public.set(Some(app.clone()));
    }
    http::serve(listeners, app, async move {
        shutdown.await;
        tracing::info!("shutting down");
        // Ends the live event streams, so their connections can close.
        let _ = stop_tx.send(true);
    })
    .await;
    if let Some(shipping) = &state.shipping {
        // The router holds the writer's handle: the writer ends only once
        // every handle is gone.
        shipping.public.set(None);
    }
    drop(state);
    watchdog.abort();
    probe.abort();
    retention.abort();
    end_of_day.abort();
    if let Some(e) = expiry {
        e.abort();
    }
    if let Some(r) = renewal {
        r.abort();
    }
    if let Some((stop, task)) = redirect {
        let _ = stop.send(());
        let _ = task.await;
    }
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    writer_thread
        .join()
        .map_err(|_| anyhow::anyhow!("the writer thread panicked"))?;
    Ok(())
}

/// How often remote tickets past their check-in time are looked for.
const EXPIRY_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Expires remote tickets nobody checked in in time and marks missed
/// bookings no-show, from the first tick on (a server that was off
/// meanwhile catches up at its start). Each reads first, so a quiet hall
/// writes nothing.
async fn keep_remote_expiry(
    writer: WriterHandle,
    reads: Arc<ReadPool>,
    clock: Arc<clock::HallClock>,
    appointments_late_min: u32,
) {
    let actor = Actor::device("queue-server (check-in time)", config::Role::Manager);
    let mut tick = tokio::time::interval(EXPIRY_EVERY);
    loop {
        tick.tick().await;
        let now = store::queries::ms(clock.read().at);
        let due = reads
            .run(move |conn| store::queries::remote_overdue_exists(conn, now))
            .await;
        if matches!(due, Ok(true)) {
            match writer
                .run_own(actor.clone(), |h| h.expire_overdue_remote())
                .await
            {
                Ok(n) => {
                    tracing::info!(expired = n, "remote tickets not checked in in time expired")
                }
                Err(e) => tracing::warn!(error = %e, "could not expire remote tickets; will retry"),
            }
        }
        // Read first here too: a hall with no missed booking writes nothing.
        let late = i64::from(appointments_late_min) * 60_000;
        let missed = reads
            .run(move |conn| store::bookings::any_booked_before(conn, now - late))
            .await;
        if !matches!(missed, Ok(true)) {
            continue;
        }
        match writer
            .run_own(actor.clone(), |h| h.mark_booking_no_shows())
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(no_shows = n, "bookings nobody checked in marked no-show"),
            Err(e) => tracing::warn!(error = %e, "could not mark booking no-shows; will retry"),
        }
    }
}

/// How often the health probe writes.
const PROBE_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Writes the probe row every [`PROBE_EVERY`] and keeps `health` to its
/// outcome: a disk that fills up or fails shows in `/healthz` within
/// seconds, and clears when writes work again.
async fn probe_writes(writer: WriterHandle, health: Arc<WriteHealth>) {
    let actor = Actor::device("health-probe", config::Role::Manager);
    let mut tick = tokio::time::interval(PROBE_EVERY);
    loop {
        tick.tick().await;
        let outcome = writer.probe(actor.clone()).await;
        if let Err(e) = &outcome {
            tracing::error!(error = %e, "the hall database does not take writes");
        }
        health.set(outcome.err().map(|e| e.to_string()));
    }
}

/// How often the server certificate's expiry is looked at.
const CERTIFICATE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Renews the hall's server certificate ahead of its expiry, and says so
/// in the log (and in `/api/v1/tls` for the manager).
async fn keep_certificate(tls: Arc<tls::HallTls>) {
    let mut tick = tokio::time::interval(CERTIFICATE_EVERY);
    tick.tick().await; // prepared at start already
    loop {
        tick.tick().await;
        match tls.renew_if_due(jiff::Timestamp::now()) {
            Ok(Some(until)) => tracing::warn!(
                %until,
                "renewed the hall's server certificate; devices that pin the hall CA keep working"
            ),
            Ok(None) => {}
            Err(e) => tracing::error!(
                error = %e,
                not_after = %tls.status().not_after,
                "could not renew the hall's server certificate; devices will refuse it once it expires"
            ),
        }
    }
}

/// How often the retention period is applied (it moves on once a day).
const RETENTION_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// At start and then hourly: removes the personal fields of business days
/// older than the hall's retention period, then checkpoints the WAL so no
/// old copy of them stays in it (secure_delete has zeroed them in the file).
async fn keep_retention(
    writer: WriterHandle,
    live: Arc<LiveConfig>,
    clock: Arc<clock::HallClock>,
    db: PathBuf,
) {
    let actor = Actor::device("retention", config::Role::Manager);
    let mut tick = tokio::time::interval(RETENTION_EVERY);
    loop {
        tick.tick().await;
        let reading = clock.read();
        if !reading.trusted {
            // A clock far ahead must not make recent days look old.
            continue;
        }
        let hall = live.now();
        let today = hall.hall.business_day(reading.at);
        let Ok(before) = today.checked_sub(jiff::Span::new().days(i64::from(hall.retention_days)))
        else {
            continue;
        };
        let cutoff = before.to_string();
        match writer
            .run_own(actor.clone(), move |h| h.forget_personal_data(&cutoff))
            .await
        {
            Ok(0) => {}
            Ok(n) => {
                tracing::info!(
                    tickets = n,
                    before = %before,
                    days = hall.retention_days,
                    "removed the personal data of tickets past the retention period"
                );
                let db = db.clone();
                let done =
                    tokio::task::spawn_blocking(move || store::schema::checkpoint(&db)).await;
                if let Ok(Err(e)) | Err(e) = done.map_err(|e| anyhow::anyhow!("{e}")) {
                    tracing::warn!(error = %e, "could not checkpoint after removing personal data; the next run tries again");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "could not apply the retention period; will retry")
            }
        }
    }
}

/// How often the end of the day is looked for.
const END_OF_DAY_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// At the hall's closing time ([`Config::day_ends`]) ends the day: closes
/// the counters still open, makes and keeps the day's report and announces
/// it. A counter still serving then is closed once its ticket is finished.
/// A day that ended while the server was off (a power cut at closing
/// time) is ended when it starts again, if anything happened that day.
async fn keep_end_of_day(
    writer: WriterHandle,
    reads: Arc<ReadPool>,
    live: Arc<LiveConfig>,
    clock: Arc<clock::HallClock>,
) {
    let actor = Actor::device("queue-server (end of day)", config::Role::Manager);
    let mut still_serving: Vec<u32> = Vec::new();
    // Days already ended (or with nothing to end): not asked about again.
    let mut settled = std::collections::BTreeSet::new();
    let mut tick = tokio::time::interval(END_OF_DAY_EVERY);
    loop {
        tick.tick().await;
        let reading = clock.read();
        if !reading.trusted {
            continue; // a clock far ahead must not end today early
        }
        let hall = live.now();
        let today = hall.hall.business_day(reading.at);
        let yesterday = today.yesterday().ok();
        settled.retain(|d| Some(*d) >= yesterday);
        let of = hall.clone();
        let Ok(held) = reads
            .run(move |conn| store::queries::held_calendar(conn, &of))
            .await
        else {
            continue;
        };
        for day in [yesterday, Some(today)].into_iter().flatten() {
            let Ok(ends) = hall.day_ends(&held, day) else {
                continue;
            };
            if reading.at < ends || settled.contains(&day) {
                continue;
            }
            let name = day.to_string();
            let missed = day != today;
            let due = reads
                .run(move |conn| {
                    if store::managers::report_kept(conn, &name)? {
                        return Ok(false);
                    }
                    // Yesterday's is made late only if the hall worked that day.
                    Ok(!missed || store::queries::tickets_on(conn, &name)? > 0)
                })
                .await;
            match due {
                Ok(true) => {}
                Ok(false) => {
                    settled.insert(day);
                    continue;
                }
                Err(_) => continue,
            }
            match writer.run_own(actor.clone(), move |h| h.end_day(day)).await {
                Ok((summary, serving)) => {
                    tracing::info!(
                        date = %day,
                        issued = summary.issued,
                        done = summary.done,
                        closed = ?summary.counters_closed,
                        still_serving = ?serving,
                        "the day ended: counters closed, the day's report kept"
                    );
                    settled.insert(day);
                    still_serving = serving;
                }
                Err(e) => {
                    tracing::error!(date = %day, error = %e, "could not end the day; will retry")
                }
            }
        }
        if !still_serving.is_empty() {
            let waiting = still_serving.clone();
            match writer
                .run_own(actor.clone(), move |h| {
                    h.close_idle_counters(Some(&waiting))
                })
                .await
            {
                Ok((closed, serving)) => {
                    if !closed.is_empty() {
                        tracing::info!(
                            ?closed,
                            "closed counters that finished serving after closing time"
                        );
                    }
                    still_serving = serving;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "could not close the counters still serving; will retry")
                }
            }
        }
    }
}

/// Pings systemd's watchdog while the database answers and the writer runs,
/// so a wedged server is restarted instead of leaving the hall without
/// tickets.
async fn systemd_watchdog(reads: Arc<ReadPool>, writer: WriterHandle) {
    let Some(period) = sd_notify::watchdog_enabled() else {
        return;
    };
    let mut tick = tokio::time::interval(period / 2);
    loop {
        tick.tick().await;
        let db_ok = reads.run(store::queries::last_event).await.is_ok();
        if db_ok && writer.is_running() {
            let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
        } else {
            tracing::error!(db_ok, "health check failed; not pinging the watchdog");
        }
    }
}
