//! Shipping the hall's events to head office's NATS JetStream.
//!
//! The events table is the outbox: a cursor (`head_office_shipped`)
//! says which event head office acknowledged last, and shipping goes on
//! after it, in order, in batches. Each event goes to
//! `halls.<hall_id>.events` with the message id `<hall_id>:<event_id>`, so
//! a resend after a cut (acknowledgement lost, hall restarted) is dropped
//! by JetStream. The hall never waits for any of this: it serves the same
//! with head office unreachable, and the backlog shows in `/metrics` and
//! `/api/v1/head-office`.
//!
//! The connection is TLS only (`require_tls`), signs in with the hall's
//! nkey, and takes replies under the hall's own inbox prefix: its NATS
//! account may publish under `halls.<hall_id>.` and read only its inbox.
//! Beside the events, the hall's status (its devices) goes every 30 s to
//! `halls.<hall_id>.status`, so head office sees kiosks in fault and halls
//! gone silent. Head office's pushes (`Pushes`) and the phones' requests
//! it relays (`crate::relay`) come back over the same connection.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use hall_api::head_office::{
    HallProfile, HallStatus, ProfileCounter, ProfileService, Push, PushAnswer, STATUS_INTERVAL_S,
    ShippingStatus, event_message_id, events_subject, inbox_prefix, profile_subject, push_subject,
    status_subject,
};
use rusqlite::{Connection, OptionalExtension};
use tokio::sync::{broadcast, watch};

use crate::api::devices::DeviceBoard;
use crate::config::{Config, HeadOfficeConfig, LiveConfig, Role};
use crate::hall::{Actor, StoredEvent};
use crate::store::reader::ReadPool;
use crate::store::writer::WriterHandle;

/// Events published before their acknowledgements are awaited.
const BATCH: u32 = 256;
/// An acknowledgement not back by then counts as lost (sent again).
const ACK_TIMEOUT: Duration = Duration::from_secs(5);
/// How often an idle shipper looks again even without news.
const IDLE_RECHECK: Duration = Duration::from_secs(5);
/// The longest wait between attempts while head office is unreachable.
const RETRY_MAX: Duration = Duration::from_secs(30);

/// Reads a secret the hall sends (its seed, the proxy's password),
/// refusing a file others may read.
pub fn read_private(path: &Path) -> Result<String, String> {
    let meta =
        std::fs::metadata(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "{} may be read by others (mode {:o}); chmod 600 it, owned by the service user",
                path.display(),
                mode & 0o777
            ));
        }
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Reads the hall's nkey seed, refusing a file others may read.
pub fn read_seed(path: &Path) -> Result<String, String> {
    let seed = read_private(path)?.trim().to_string();
    let pair = nkeys::KeyPair::from_seed(&seed)
        .map_err(|e| format!("{} holds no nkey seed: {e}", path.display()))?;
    if !pair.public_key().starts_with('U') {
        return Err(format!(
            "{} holds an nkey that is not a user's (it starts {}, a user's seed starts SU)",
            path.display(),
            &seed[..2.min(seed.len())]
        ));
    }
    Ok(seed)
}

/// What the hall tells head office about itself (see [`HallProfile`]).
pub fn profile(hall: &Config, hall_id: &str) -> HallProfile {
    let t = hall.hall.day_starts_at;
    HallProfile {
        hall: hall_id.to_string(),
        name: hall.hall.name.clone(),
        timezone: hall.hall.timezone_name.clone(),
        day_starts_at: format!("{:02}:{:02}", t.hour(), t.minute()),
        services: hall
            .services
            .iter()
            .map(|s| ProfileService {
                id: s.id.clone(),
                target_wait_min: s.target_wait_min,
            })
            .collect(),
        counters: hall
            .counters
            .iter()
            .map(|c| ProfileCounter {
                number: c.number,
                initial_state: c.initial_state,
            })
            .collect(),
    }
}

/// The shipper's state, shared with `/metrics` and the manager.
#[derive(Debug, Default)]
pub struct Shipping {
    pub connected: AtomicBool,
    pub shipped_through: AtomicI64,
    last_error: Mutex<Option<String>>,
    /// Why the proxy last failed to open the way, until it next does: the
    /// cause a person can act on, behind the client's own error.
    proxy_error: Mutex<Option<String>>,
    /// The router phones' requests relayed by head office run through.
    pub public: crate::relay::PublicRouter,
}

impl Shipping {
    fn set_error(&self, error: Option<String>) {
        *self.last_error.lock().unwrap_or_else(|p| p.into_inner()) = error;
    }

    pub(crate) fn set_proxy_error(&self, error: Option<String>) {
        *self.proxy_error.lock().unwrap_or_else(|p| p.into_inner()) = error;
    }

    pub fn status(
        &self,
        cfg: &HeadOfficeConfig,
        last_event_id: i64,
        set_by_office: Vec<hall_api::head_office::OfficeSetting>,
    ) -> ShippingStatus {
        let through = self.shipped_through.load(Ordering::Relaxed);
        ShippingStatus {
            hall_id: cfg.hall_id.clone(),
            url: cfg.url.clone(),
            connected: self.connected.load(Ordering::Relaxed),
            shipped_through: through,
            backlog: (last_event_id - through).max(0),
            last_error: self
                .proxy_error
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone()
                .or_else(|| {
                    self.last_error
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .clone()
                }),
            set_by_office,
        }
    }
}

/// The newest event head office acknowledged (0: none yet).
pub fn shipped_through(conn: &Connection) -> crate::error::Result<i64> {
    Ok(conn
        .prepare_cached("SELECT through FROM head_office_shipped WHERE id = 1")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Starts the shipper when the hall has a `[head_office]` section.
pub fn spawn(
    live: &Arc<LiveConfig>,
    reads: &Arc<ReadPool>,
    writer: &WriterHandle,
    events: &broadcast::Sender<StoredEvent>,
    devices: &Arc<DeviceBoard>,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<Option<Arc<Shipping>>> {
    let hall = live.now();
    let Some(cfg) = hall.head_office.clone() else {
        return Ok(None);
    };
    let seed = read_seed(&cfg.nkey_seed_file).map_err(|e| anyhow::anyhow!(e))?;
    let shipping = Arc::new(Shipping::default());
    let shipper = Shipper {
        hall: live.clone(),
        profile_sent: None,
        status: Status {
            // Its devices are the file's alone.
            hall,
            hall_id: cfg.hall_id.clone(),
            devices: devices.clone(),
            shutdown: shutdown.clone(),
        },
        cfg,
        seed,
        reads: reads.clone(),
        writer: writer.clone(),
        news: events.subscribe(),
        shutdown: shutdown.clone(),
        state: shipping.clone(),
    };
    tokio::spawn(shipper.run());
    Ok(Some(shipping))
}

struct Shipper {
    cfg: HeadOfficeConfig,
    status: Status,
    seed: String,
    /// Its profile comes from the configuration now (head office may
    /// have set a service's target since the last one went).
    hall: Arc<LiveConfig>,
    profile_sent: Option<HallProfile>,
    reads: Arc<ReadPool>,
    writer: WriterHandle,
    news: broadcast::Receiver<StoredEvent>,
    shutdown: watch::Receiver<bool>,
    state: Arc<Shipping>,
}

/// The hall's heartbeat to head office: its devices, every
/// [`STATUS_INTERVAL_S`] and at once when one's health changes. Plain NATS
/// publishes: while the link is down they are dropped, and the next one
/// after it says how things are then.
#[derive(Clone)]
struct Status {
    hall: Arc<Config>,
    hall_id: String,
    devices: Arc<DeviceBoard>,
    shutdown: watch::Receiver<bool>,
}

impl Status {
    async fn run(mut self, client: async_nats::Client) {
        let subject = status_subject(&self.hall_id);
        loop {
            let status = HallStatus {
                hall: self.hall_id.clone(),
                interval_s: STATUS_INTERVAL_S,
                devices: self.devices.all(&self.hall.devices),
            };
            match serde_json::to_vec(&status) {
                Ok(body) => {
                    if let Err(e) = client.publish(subject.clone(), body.into()).await {
                        tracing::debug!(error = %e, "hall status not sent");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot encode the hall's status"),
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(STATUS_INTERVAL_S.into())) => {}
                () = self.devices.changed.notified() => {}
                _ = self.shutdown.wait_for(|&stop| stop) => return,
            }
        }
    }
}

/// Head office's requests on one subject, each with where to answer it,
/// until shutdown.
pub(crate) struct Requests {
    subscription: async_nats::Subscriber,
    shutdown: watch::Receiver<bool>,
}

impl Requests {
    /// Subscribes to `subject`, trying again while the link is not up yet.
    pub(crate) async fn take(
        client: &async_nats::Client,
        subject: String,
        what: &str,
        shutdown: watch::Receiver<bool>,
    ) -> Requests {
        loop {
            match client.subscribe(subject.clone()).await {
                Ok(subscription) => {
                    return Requests {
                        subscription,
                        shutdown,
                    };
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot take {what} yet; retrying");
                    tokio::time::sleep(Duration::from_secs(5)).await;
                }
            }
        }
    }

    /// The next request and its reply subject; `None` at shutdown.
    pub(crate) async fn next(&mut self) -> Option<(async_nats::Message, async_nats::Subject)> {
        use futures_util::StreamExt;
        loop {
            let m = tokio::select! {
                m = self.subscription.next() => m?,
                _ = self.shutdown.wait_for(|&stop| stop) => return None,
            };
            if let Some(reply) = m.reply.clone() {
                return Some((m, reply));
            }
        }
    }
}

/// Takes head office's pushes (`office.<hall_id>.push`, request/reply)
/// and answers each: applied, or refused and why.
struct Pushes {
    hall_id: String,
    accept: Vec<String>,
    /// Dropped at shutdown, so the writer can finish.
    writer: WriterHandle,
    shutdown: watch::Receiver<bool>,
}

impl Pushes {
    async fn run(self, client: async_nats::Client) {
        let mut requests = Requests::take(
            &client,
            push_subject(&self.hall_id),
            "head office's pushes",
            self.shutdown.clone(),
        )
        .await;
        while let Some((m, reply)) = requests.next().await {
            let answer = match serde_json::from_slice::<Push>(&m.payload) {
                Err(e) => PushAnswer {
                    id: 0,
                    applied: false,
                    refused: Some(format!("not a push this hall understands: {e}")),
                },
                Ok(push) => self.apply(push).await,
            };
            match serde_json::to_vec(&answer) {
                Ok(body) => {
                    if let Err(e) = client.publish(reply, body.into()).await {
                        tracing::warn!(error = %e, "the answer to head office's push was not sent; it will ask again");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot encode a push answer"),
            }
        }
    }

    async fn apply(&self, push: Push) -> PushAnswer {
        let (id, accept) = (push.id, self.accept.clone());
        let actor = Actor::device(format!("head office ({})", push.by), Role::Manager);
        let kinds: Vec<&str> = push.changes.iter().map(|c| c.kind()).collect();
        let kinds = kinds.join(", ");
        match self
            .writer
            .run(actor, move |hall| hall.apply_push(&push, &accept))
            .await
        {
            Ok(answer) => {
                tracing::info!(push = id, changes = %kinds, "applied head office's push");
                answer
            }
            Err(e) => {
                tracing::warn!(push = id, changes = %kinds, error = %e, "refused head office's push; the hall keeps what it had");
                PushAnswer {
                    id,
                    applied: false,
                    refused: Some(e.to_string()),
                }
            }
        }
    }
}

/// Why a round of shipping stopped.
enum Stop {
    /// Nothing left to ship.
    CaughtUp,
    /// A full batch went: there may be more at once.
    More,
    Failed(String),
}

impl Shipper {
    async fn run(mut self) {
        match self.reads.run(shipped_through).await {
            Ok(n) => self.state.shipped_through.store(n, Ordering::Relaxed),
            Err(e) => {
                tracing::warn!(error = %e, "cannot read how far shipping got; starting from the hall's first event")
            }
        }
        let client = match self.connect().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "head office shipping is off");
                self.state.set_error(Some(e));
                return;
            }
        };
        tokio::spawn(self.status.clone().run(client.clone()));
        tokio::spawn(
            Pushes {
                hall_id: self.cfg.hall_id.clone(),
                accept: self.cfg.accept.clone(),
                writer: self.writer.clone(),
                shutdown: self.shutdown.clone(),
            }
            .run(client.clone()),
        );
        tokio::spawn(
            crate::relay::Relay {
                hall_id: self.cfg.hall_id.clone(),
                router: self.state.public.clone(),
                shutdown: self.shutdown.clone(),
            }
            .run(client.clone()),
        );
        let mut js = jetstream::new(client.clone());
        js.set_timeout(ACK_TIMEOUT);
        let actor = Actor::device("head-office shipping", Role::Manager);
        let mut backoff = Duration::from_secs(1);
        loop {
            if *self.shutdown.borrow() {
                return;
            }
            let connected = client.connection_state() == async_nats::connection::State::Connected;
            self.state.connected.store(connected, Ordering::Relaxed);
            let mut outcome = Ok(());
            let now = profile(&self.hall.now(), &self.cfg.hall_id);
            if self.profile_sent.as_ref() != Some(&now) {
                outcome = self.ship_profile(&js, &now).await;
                if outcome.is_ok() {
                    self.profile_sent = Some(now);
                }
            }
            let stop = match outcome {
                Ok(()) => self.ship_batch(&js, &actor).await,
                Err(e) => Stop::Failed(e),
            };
            match stop {
                Stop::More => {}
                Stop::CaughtUp => {
                    if backoff > Duration::from_secs(1) {
                        tracing::info!("head office reachable again; shipping caught up");
                    }
                    self.state.set_error(None);
                    backoff = Duration::from_secs(1);
                    self.wait(IDLE_RECHECK, true).await;
                }
                Stop::Failed(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "shipping to head office failed; the hall goes on, events wait");
                    self.state.set_error(Some(e));
                    self.wait(backoff, false).await;
                    backoff = (backoff * 2).min(RETRY_MAX);
                }
            }
        }
    }

    /// A client that keeps reconnecting by itself; TLS only, the hall's
    /// nkey, its own inbox.
    async fn connect(&self) -> Result<async_nats::Client, String> {
        let mut options = async_nats::ConnectOptions::with_nkey(self.seed.clone())
            .require_tls(true)
            .custom_inbox_prefix(inbox_prefix(&self.cfg.hall_id))
            .name(format!("queue-server {}", self.cfg.hall_id))
            .connection_timeout(Duration::from_secs(10))
            .retry_on_initial_connect()
            .max_reconnects(None)
            .reconnect_delay_callback(|attempts| {
                Duration::from_millis(
                    (250 * 2u64.saturating_pow(attempts.min(7) as u32)).min(30_000),
                )
            });
        let mut url = self.cfg.url.clone();
        match &self.cfg.proxy {
            None => {
                if let Some(ca) = &self.cfg.ca {
                    options = options.add_root_certificates(ca.clone());
                }
            }
            Some(proxy) => {
                // The client dials the tunnel's loopback port, and the
                // tunnel goes through the proxy to head office.
                let target = url.trim_start_matches("tls://").to_string();
                let host = target.rsplit_once(':').map_or(&*target, |(h, _)| h);
                let tls = crate::proxy_tunnel::tls_for(host, self.cfg.ca.as_deref())?;
                let local = crate::proxy_tunnel::open(
                    proxy.clone(),
                    target.clone(),
                    self.state.clone(),
                    self.shutdown.clone(),
                )
                .await?;
                tracing::info!(proxy = %proxy.addr, "the link to head office goes through the proxy");
                options = options.tls_client_config(tls).ignore_discovered_servers();
                url = format!("tls://{local}");
            }
        }
        options
            .connect(url.as_str())
            .await
            .map_err(|e| format!("cannot set up the connection to {}: {e}", self.cfg.url))
    }

    async fn ship_profile(
        &self,
        js: &jetstream::Context,
        profile: &HallProfile,
    ) -> Result<(), String> {
        let body = serde_json::to_string(profile).map_err(|e| e.to_string())?;
        // Its content and when: a target set and set back within the
        // stream's duplicate window must not be dropped as the first one
        // again. A second copy after a lost acknowledgement is harmless:
        // head office keeps the newest.
        let id = format!(
            "{}:profile:{}:{}",
            self.cfg.hall_id,
            crate::tokens::to_hex(&crate::tokens::sha256(&body)[..8]),
            jiff::Timestamp::now().as_millisecond()
        );
        let ack = js
            .send_publish(
                profile_subject(&self.cfg.hall_id),
                jetstream::message::PublishMessage::build()
                    .payload(body.into_bytes().into())
                    .message_id(id),
            )
            .await
            .map_err(|e| format!("cannot send the hall's profile: {e}"))?;
        ack.await
            .map_err(|e| format!("head office did not take the hall's profile: {e}"))?;
        Ok(())
    }

    /// Publishes the next batch after the cursor, awaits each
    /// acknowledgement in order, and moves the cursor to the last one.
    async fn ship_batch(&mut self, js: &jetstream::Context, actor: &Actor) -> Stop {
        let after = self.state.shipped_through.load(Ordering::Relaxed);
        let batch = match self
            .reads
            .run(move |conn| crate::store::queries::events_after(conn, after, BATCH))
            .await
        {
            Ok(b) => b,
            Err(e) => return Stop::Failed(format!("cannot read the events to ship: {e}")),
        };
        if batch.is_empty() {
            return Stop::CaughtUp;
        }
        let hall = &self.cfg.hall_id;
        let hall_json = serde_json::to_string(hall).unwrap_or_default();
        let subject = events_subject(hall);
        let mut acks = Vec::with_capacity(batch.len());
        for (id, _, body) in &batch {
            // The stored body is the event's JSON already: wrapped, not re-encoded.
            let payload = format!("{{\"hall\":{hall_json},\"event\":{body}}}");
            match js
                .send_publish(
                    subject.clone(),
                    jetstream::message::PublishMessage::build()
                        .payload(payload.into_bytes().into())
                        .message_id(event_message_id(hall, *id)),
                )
                .await
            {
                Ok(ack) => acks.push((*id, ack)),
                Err(e) => {
                    // What was sent so far may still be acknowledged.
                    if acks.is_empty() {
                        return Stop::Failed(format!("cannot send event {id}: {e}"));
                    }
                    break;
                }
            }
        }
        let mut through = None;
        let mut failure = None;
        for (id, ack) in acks {
            match ack.await {
                Ok(_) => through = Some(id),
                Err(e) => {
                    failure = Some(format!("event {id} was not acknowledged: {e}"));
                    break;
                }
            }
        }
        if let Some(through) = through {
            self.state.shipped_through.store(through, Ordering::Relaxed);
            if let Err(e) = self
                .writer
                .run_own(actor.clone(), move |h| h.record_shipped(through))
                .await
            {
                // Shipped again after a restart at worst: dropped as duplicates.
                tracing::warn!(error = %e, "cannot record how far shipping got; will retry");
            }
        }
        match failure {
            Some(e) => Stop::Failed(e),
            // A full batch: there may be more at once.
            None if batch.len() == BATCH as usize => Stop::More,
            None => Stop::CaughtUp,
        }
    }

    /// Sleeps `for_`, waking early on shutdown, and on a new event when `on_news`.
    async fn wait(&mut self, for_: Duration, on_news: bool) {
        let mut shutdown = self.shutdown.clone();
        tokio::select! {
            () = tokio::time::sleep(for_) => {}
            _ = shutdown.wait_for(|&stop| stop) => {}
            _ = self.news.recv(), if on_news => {}
        }
    }
}
