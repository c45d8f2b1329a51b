//! Delivering the webhook outbox: per webhook, the oldest undelivered event
//! is POSTed, signed, until the receiver answers 2xx; only then the next. A
//! failure waits (1 s, doubling up to `retry_max_s`) and tries the same event
//! again, so the receiver sees events in order, each id acknowledged once.
//! Nothing is dropped: what stays undelivered is shown to the manager.

use std::sync::Arc;
use std::time::Duration;

use hall_api::WebhookStatus;
use hall_api::signature::{EVENT_ID_HEADER, EVENT_KIND_HEADER, SIGNATURE_HEADER, sign};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::{broadcast, watch};

use crate::config::{Config, Role, WebhookConfig};
use crate::error::Result;
use crate::hall::{Actor, StoredEvent};
use crate::store::queries::ms;
use crate::store::reader::ReadPool;
use crate::store::writer::WriterHandle;

/// One attempt's time limit.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(5);
/// How often an idle worker looks again even without news.
const IDLE_RECHECK: Duration = Duration::from_secs(5);

struct Pending {
    id: i64,
    event_id: i64,
    kind: String,
    body: String,
}

fn oldest_pending(conn: &Connection, webhook: &str) -> Result<Option<Pending>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, event_id, kind, body FROM webhook_outbox WHERE webhook = ?1 AND delivered_at IS NULL ORDER BY id LIMIT 1",
    )?;
    Ok(stmt
        .query_row([webhook], |r| {
            Ok(Pending {
                id: r.get(0)?,
                event_id: r.get(1)?,
                kind: r.get(2)?,
                body: r.get(3)?,
            })
        })
        .optional()?)
}

/// Starts one delivery task per configured webhook.
pub fn spawn_all(
    hall: &Arc<Config>,
    reads: &Arc<ReadPool>,
    writer: &WriterHandle,
    events: &broadcast::Sender<StoredEvent>,
    shutdown: &watch::Receiver<bool>,
) {
    let http = hall.billing.client(ATTEMPT_TIMEOUT);
    for w in &hall.webhooks {
        let worker = Worker {
            webhook: w.clone(),
            http: http.clone(),
            reads: reads.clone(),
            writer: writer.clone(),
            news: events.subscribe(),
            shutdown: shutdown.clone(),
        };
        tokio::spawn(worker.run());
    }
}

struct Worker {
    webhook: WebhookConfig,
    http: reqwest::Client,
    reads: Arc<ReadPool>,
    writer: WriterHandle,
    news: broadcast::Receiver<StoredEvent>,
    shutdown: watch::Receiver<bool>,
}

impl Worker {
    async fn run(mut self) {
        let actor = Actor::device(format!("webhook:{}", self.webhook.name), Role::Manager);
        let retry_max = Duration::from_secs(u64::from(self.webhook.retry_max_s));
        let mut backoff = Duration::from_secs(1).min(retry_max);
        loop {
            if *self.shutdown.borrow() {
                return;
            }
            let name = self.webhook.name.clone();
            let next = match self
                .reads
                .run(move |conn| oldest_pending(conn, &name))
                .await
            {
                Ok(next) => next,
                Err(e) => {
                    tracing::warn!(webhook = %self.webhook.name, error = %e, "cannot read the outbox");
                    None
                }
            };
            let Some(p) = next else {
                self.wait(IDLE_RECHECK, true).await;
                continue;
            };
            let error = self.attempt(&p).await.err();
            if let Some(e) = &error {
                tracing::warn!(webhook = %self.webhook.name, event = p.event_id, error = %e, retry_in = ?backoff, "webhook delivery failed");
            }
            let failed = error.is_some();
            let outbox_id = p.id;
            if let Err(e) = self
                .writer
                .run(actor.clone(), move |hall| {
                    hall.record_delivery(outbox_id, error.as_deref())
                })
                .await
            {
                tracing::warn!(webhook = %self.webhook.name, error = %e, "cannot record the delivery; will retry");
            }
            if failed {
                self.wait(backoff, false).await;
                backoff = (backoff * 2).min(retry_max);
            } else {
                backoff = Duration::from_secs(1).min(retry_max);
            }
        }
    }

    async fn attempt(&self, p: &Pending) -> Result<(), String> {
        let resp = self
            .http
            .post(&self.webhook.url)
            .header("content-type", "application/json")
            .header(EVENT_ID_HEADER, p.event_id.to_string())
            .header(EVENT_KIND_HEADER, &p.kind)
            .header(
                SIGNATURE_HEADER,
                sign(self.webhook.secret.as_bytes(), p.body.as_bytes()),
            )
            .body(p.body.clone())
            .send()
            .await
            .map_err(|e| with_causes(&e))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(format!("the receiver answered {}", resp.status()))
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

/// The manager's view of every webhook's delivery.
pub fn status(
    conn: &Connection,
    hall: &Config,
    now: jiff::Timestamp,
) -> Result<Vec<WebhookStatus>> {
    let mut counts = conn.prepare_cached(
        "SELECT SUM(delivered_at IS NULL), SUM(delivered_at IS NOT NULL) FROM webhook_outbox WHERE webhook = ?1",
    )?;
    let mut oldest = conn.prepare_cached(
        "SELECT created_at, attempts, last_error FROM webhook_outbox WHERE webhook = ?1 AND delivered_at IS NULL ORDER BY id LIMIT 1",
    )?;
    hall.webhooks
        .iter()
        .map(|w| {
            let (pending, delivered): (Option<u32>, Option<u32>) =
                counts.query_row([&w.name], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let head: Option<(i64, u32, Option<String>)> = oldest
                .query_row(params![w.name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()?;
            let waited = head
                .as_ref()
                .map(|(at, _, _)| ((ms(now) - at).max(0) / 1000) as u32);
            Ok(WebhookStatus {
                name: w.name.clone(),
                url: w.url.clone(),
                events: w.events.iter().map(|k| k.as_str().to_string()).collect(),
                pending: pending.unwrap_or(0),
                delivered: delivered.unwrap_or(0),
                oldest_pending_s: waited,
                attempts: head.as_ref().map_or(0, |h| h.1),
                last_error: head.and_then(|h| h.2),
                overdue: waited.is_some_and(|s| s >= w.alert_after_min * 60),
            })
        })
        .collect()
}

/// An error with what caused it, as one line: reqwest's own message says
/// only that sending failed, the reason (a certificate the system does not
/// trust, a refused connection) is in its sources.
pub fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let more = cause.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = cause.source();
    }
    text
}
