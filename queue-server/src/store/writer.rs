//! The one writer: a thread that owns the write connection and commits the
//! requests that arrive together in one transaction (group commit), so a
//! slow fsync on an SD card is paid once per batch, not once per ticket.
//!
//! Each request is a command of the hall (`crate::hall`), run in its own
//! savepoint: a refused request rolls back alone, the others in the batch
//! still commit. Replies and events go out only after the commit, so
//! nothing is acknowledged that is not on disk.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use rusqlite::Connection;
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::clock::HallClock;
use crate::config::{Config, LiveConfig};
use crate::error::{Error, Result};
use crate::hall::{Actor, Hall, StoredEvent};
use crate::metrics::Metrics;
use crate::store::queries;
use crate::store::schema;
use crate::store::tables::Tables;

/// Whether the database takes writes. A failed commit sets it at once;
/// the probe (`crate::probe_writes`) sets and clears it every few seconds,
/// so a full or failing disk shows in `/healthz` even in a quiet hall.
#[derive(Debug, Default)]
pub struct WriteHealth {
    failure: std::sync::Mutex<Option<String>>,
}

impl WriteHealth {
    /// Why writes fail, or `None` while they work.
    pub fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn set(&self, failure: Option<String>) {
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = failure;
    }
}

/// Most requests committed in one transaction.
const MAX_BATCH: usize = 256;

/// A command's result, held until the batch is committed (or not).
trait Answer: Send {
    fn refused(&self) -> bool;
    /// Committed: the command's own result goes to its caller.
    fn send(self: Box<Self>);
    /// The batch could not be committed: the caller hears why, and that
    /// nothing was changed.
    fn fail(self: Box<Self>, error: Error);
}

struct Reply<T> {
    result: Result<T>,
    to: oneshot::Sender<Result<T>>,
}

impl<T: Send> Answer for Reply<T> {
    fn refused(&self) -> bool {
        self.result.is_err()
    }

    fn send(self: Box<Self>) {
        // A caller that gave up (its connection closed) is fine to miss.
        let _ = self.to.send(self.result);
    }

    fn fail(self: Box<Self>, error: Error) {
        let _ = self.to.send(Err(error));
    }
}

/// A command, run on the hall inside the batch, or handed the error that
/// kept the batch from running it.
type Command = Box<
    dyn for<'h, 'r> FnOnce(std::result::Result<&'r mut Hall<'h>, Error>) -> Box<dyn Answer> + Send,
>;

struct Job {
    actor: Actor,
    command: Command,
    /// The server's own write (the health probe, the retention period):
    /// not a client's request, counted apart.
    own: bool,
}

/// The handle requests use to reach the writer.
#[derive(Clone)]
pub struct WriterHandle {
    tx: mpsc::Sender<Job>,
}

impl WriterHandle {
    /// False once the writer thread has ended.
    pub fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    /// Runs one of the hall's commands as `actor` and answers its result
    /// once it is committed, e.g.
    /// `writer.run(actor, move |hall| hall.call_next(counter))`.
    pub async fn run<T, F>(&self, actor: Actor, command: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'h> FnOnce(&mut Hall<'h>) -> Result<T> + Send + 'static,
    {
        self.submit(actor, command, false).await
    }

    /// The health probe's write (`Hall::probe`), counted apart from requests.
    pub async fn probe(&self, actor: Actor) -> Result<()> {
        self.submit(actor, |hall| hall.probe(), true).await
    }

    /// One of the server's own commands (housekeeping such as the
    /// retention period), counted apart from clients' requests.
    pub async fn run_own<T, F>(&self, actor: Actor, command: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'h> FnOnce(&mut Hall<'h>) -> Result<T> + Send + 'static,
    {
        self.submit(actor, command, true).await
    }

    async fn submit<T, F>(&self, actor: Actor, command: F, own: bool) -> Result<T>
    where
        T: Send + 'static,
        F: for<'h> FnOnce(&mut Hall<'h>) -> Result<T> + Send + 'static,
    {
        let (to, answer) = oneshot::channel();
        let command: Command = Box::new(move |hall: std::result::Result<&mut Hall<'_>, Error>| {
            Box::new(Reply {
                result: hall.and_then(command),
                to,
            }) as Box<dyn Answer>
        });
        self.tx
            .send(Job {
                actor,
                command,
                own,
            })
            .await
            .map_err(|_| {
                Error::Unavailable("the server is shutting down; retry in a moment".into())
            })?;
        answer.await.map_err(|_| {
            Error::Unavailable(
                "the request was not completed; retry with the same idempotency key".into(),
            )
        })?
    }
}

pub struct Writer {
    conn: Connection,
    hall: Arc<LiveConfig>,
    clock: Arc<HallClock>,
    next_event_id: i64,
}

impl Writer {
    /// Opens and migrates the database, makes sure every configured counter
    /// has a row, and returns the writer with the newest stored event.
    pub fn open(path: &Path, hall: Arc<Config>) -> anyhow::Result<(Writer, Option<(i64, i64)>)> {
        let conn = schema::open_writer(path)?;
        let tables = Tables::new(&conn);
        for k in &hall.counters {
            tables.ensure_counter(k.number, k.initial_state)?;
        }
        let last = queries::last_event(&conn).map_err(|e| anyhow::anyhow!("{e}"))?;
        let held = queries::held_service_settings(&conn).map_err(|e| anyhow::anyhow!("{e}"))?;
        let writer = Writer {
            conn,
            hall: Arc::new(LiveConfig::new(hall, &held)),
            clock: Arc::new(HallClock::new(last.map(|(_, at)| queries::ts(at)))),
            next_event_id: last.map_or(1, |(id, _)| id + 1),
        };
        Ok((writer, last))
    }

    pub fn clock(&self) -> Arc<HallClock> {
        self.clock.clone()
    }

    /// The configuration with what head office set laid over it; the
    /// writer keeps it current.
    pub fn config(&self) -> Arc<LiveConfig> {
        self.hall.clone()
    }

    /// Starts the writer thread. It ends when every handle is dropped.
    pub fn spawn(
        self,
        events: broadcast::Sender<StoredEvent>,
        metrics: Arc<Metrics>,
        health: Arc<WriteHealth>,
    ) -> (WriterHandle, std::thread::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(4 * MAX_BATCH);
        let thread = std::thread::Builder::new()
            .name("hall-writer".into())
            .spawn(move || self.run(rx, events, &metrics, &health))
            .expect("spawning the writer thread");
        (WriterHandle { tx }, thread)
    }

    fn run(
        mut self,
        mut rx: mpsc::Receiver<Job>,
        events: broadcast::Sender<StoredEvent>,
        metrics: &Metrics,
        health: &WriteHealth,
    ) {
        let mut batch = Vec::with_capacity(MAX_BATCH);
        while let Some(first) = rx.blocking_recv() {
            batch.push(first);
            while batch.len() < MAX_BATCH {
                match rx.try_recv() {
                    Ok(cmd) => batch.push(cmd),
                    Err(_) => break,
                }
            }
            let own = batch.iter().filter(|j| j.own).count() as u64;
            metrics.commits.fetch_add(1, Ordering::Relaxed);
            metrics.own_writes.fetch_add(own, Ordering::Relaxed);
            metrics
                .requests
                .fetch_add(batch.len() as u64 - own, Ordering::Relaxed);
            if let Err(failure) = self.commit_batch(&mut batch, &events, metrics) {
                health.set(Some(failure));
            }
        }
        tracing::info!("writer stopped");
    }

    fn commit_batch(
        &mut self,
        batch: &mut Vec<Job>,
        events: &broadcast::Sender<StoredEvent>,
        metrics: &Metrics,
    ) -> std::result::Result<(), String> {
        let first_event_id = self.next_event_id;
        let mut answers: Vec<Box<dyn Answer>> = Vec::with_capacity(batch.len());
        let mut made = Vec::new();
        let mut jobs = std::mem::take(batch).into_iter();
        // The configuration for this batch; a command that changes head
        // office's settings changes it for those after it, and for every
        // reader once committed.
        let mut config = self.hall.now();
        let mut config_changed = false;
        let committed = (|| -> rusqlite::Result<()> {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            for job in jobs.by_ref() {
                self.conn.execute_batch("SAVEPOINT request")?;
                let before = self.next_event_id;
                let mut hall = Hall::new(
                    Tables::new(&self.conn),
                    &config,
                    self.clock.read(),
                    &job.actor,
                    &mut self.next_event_id,
                );
                let answer = (job.command)(Ok(&mut hall));
                let (recorded, changed) = hall.into_events();
                if answer.refused() {
                    self.conn
                        .execute_batch("ROLLBACK TO request; RELEASE request")?;
                    self.next_event_id = before;
                } else {
                    self.conn.execute_batch("RELEASE request")?;
                    made.extend(recorded);
                    if changed {
                        let held = queries::held_service_settings(&self.conn)?;
                        config = self.hall.with(&held);
                        config_changed = true;
                    }
                }
                answers.push(answer);
            }
            self.conn.execute_batch("COMMIT")
        })();
        if let Err(e) = committed {
            tracing::error!(error = %e, "commit failed; the batch was rolled back");
            metrics.failed_commits.fetch_add(1, Ordering::Relaxed);
            let _ = self.conn.execute_batch("ROLLBACK");
            self.next_event_id = first_event_id;
            let message =
                format!("the hall database could not save this ({e}); nothing was changed, retry");
            // Those the failure came before are told the same.
            let unrun = jobs.map(|job| (job.command)(Err(Error::Unavailable(message.clone()))));
            for answer in answers.into_iter().chain(unrun) {
                answer.fail(Error::Unavailable(message.clone()));
            }
            return Err(e.to_string());
        }
        if config_changed {
            self.hall.set(config);
        }
        for ev in made {
            // No subscriber is fine: the event is in the log.
            let _ = events.send(ev);
        }
        let refused = answers.iter().filter(|a| a.refused()).count();
        metrics.refused.fetch_add(refused as u64, Ordering::Relaxed);
        for answer in answers {
            answer.send();
        }
        Ok(())
    }
}
