//! Changes head office sets once and pushes to the halls it names (the
//! boards' notice, closures, staff, a year's holidays, a service's hours,
//! name, target wait and papers): kept in PostgreSQL with who set them and
//! when, sent to each hall as a NATS request until it answers, and each
//! hall's answer kept: applied, or refused and why. A hall that is off
//! gets its pushes when it is back; it applies each once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;
use futures_util::StreamExt;
use hall_api::head_office::{Push, PushAnswer, PushChange, push_subject, valid_hall_id};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::error::{Error, Result};

/// How long a hall has to answer one push.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// How often pushes still waiting for an answer are sent again.
const RETRY_EVERY: Duration = Duration::from_secs(15);
/// Halls asked at once.
const IN_FLIGHT: usize = 512;

/// `POST /api/v1/pushes`: the changes, and the halls to push them to.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NewPush {
    pub halls: Vec<String>,
    pub changes: Vec<NewChange>,
}

/// A change as a user gives it: a new member of staff's PIN in clear,
/// hashed before it is kept or sent ([`NewChange::into_push`]).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NewChange {
    Notice {
        notice: Option<hall_api::I18nText>,
    },
    Closure {
        closure: hall_api::NewClosure,
    },
    Staff {
        number: String,
        name: String,
        pin: String,
    },
    StaffDisable {
        number: String,
    },
    /// A year's holiday file, in the halls' own format.
    Holidays {
        year: i16,
        file: String,
    },
    /// A service's hours; none: the service's own hours again.
    ServiceHours {
        service: String,
        #[serde(default)]
        hours: Option<hall_api::head_office::ServiceHours>,
    },
    /// A service's name, target wait and papers; none: its own again.
    Service {
        service: String,
        #[serde(default)]
        settings: Option<hall_api::head_office::ServiceSettings>,
    },
}

impl NewChange {
    /// The change as halls get it; a PIN is checked as the hall checks
    /// one and hashed with the hall's Argon2id.
    pub async fn into_push(self, hasher: &queue_server::signin::PinHasher) -> Result<PushChange> {
        Ok(match self {
            NewChange::Notice { notice } => PushChange::Notice { notice },
            NewChange::Closure { closure } => PushChange::Closure { closure },
            NewChange::Staff { number, name, pin } => {
                queue_server::hall::staff::valid_staff_number(&number)?;
                queue_server::api::station::valid_pin(&pin)?;
                PushChange::Staff {
                    number,
                    name,
                    pin_hash: hasher.hash(pin).await?,
                }
            }
            NewChange::StaffDisable { number } => PushChange::StaffDisable { number },
            NewChange::Holidays { year, file } => {
                // Read as each hall will read it, so a mistake is told
                // now and not by every hall's refusal.
                queue_server::config::holiday_year(year, &file)
                    .map_err(|e| Error::BadRequest(e.to_string()))?;
                PushChange::Holidays { year, file }
            }
            NewChange::ServiceHours { service, hours } => {
                // Read as each hall will (which service it is, only the hall knows).
                if let Some(h) = &hours {
                    queue_server::config::sent_week(h, jiff::civil::Weekday::Monday)
                        .map_err(|e| Error::BadRequest(format!("the hours of {service}: {e}")))?;
                }
                PushChange::ServiceHours { service, hours }
            }
            NewChange::Service { service, settings } => {
                if let Some(s) = &settings {
                    queue_server::config::sent_service_settings(&service, s)
                        .map_err(Error::BadRequest)?;
                }
                PushChange::Service { service, settings }
            }
        })
    }
}

/// A push as kept, with each hall's answer.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PushView {
    pub id: i64,
    pub by: String,
    pub at: Timestamp,
    pub changes: Vec<PushChange>,
    pub halls: Vec<PushTarget>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct PushTarget {
    pub hall: String,
    /// `pending`, `applied` or `refused`.
    pub state: String,
    pub reason: Option<String>,
    pub tries: i32,
    pub answered_at: Option<Timestamp>,
}

/// Keeps a new push for `halls` (each must be a hall head office knows),
/// with who set it, and answers its id.
pub async fn create(
    pool: &Pool,
    by: &str,
    halls: &[String],
    changes: &[PushChange],
) -> Result<i64> {
    if changes.is_empty() {
        return Err(Error::BadRequest(
            "changes is empty: give at least one change to push".into(),
        ));
    }
    let mut halls = halls.to_vec();
    halls.sort();
    halls.dedup();
    if halls.is_empty() {
        return Err(Error::BadRequest(
            "halls is empty: name the halls to push to".into(),
        ));
    }
    if let Some(bad) = halls.iter().find(|h| !valid_hall_id(h)) {
        return Err(Error::BadRequest(format!("\"{bad}\" is not a hall id")));
    }
    let mut db = pool.get().await?;
    let tx = db.transaction().await?;
    let known: Vec<String> = tx
        .query(
            "SELECT hall_id FROM halls WHERE hall_id = ANY($1)",
            &[&halls],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    if let Some(unknown) = halls.iter().find(|h| !known.contains(h)) {
        return Err(Error::BadRequest(format!(
            "head office has never heard from hall {unknown}; check the id, or wait until the hall has shipped once"
        )));
    }
    let changes = serde_json::to_value(changes).map_err(|e| Error::Internal(e.to_string()))?;
    let id: i64 = tx
        .query_one(
            "INSERT INTO pushes (by, changes) VALUES ($1, $2) RETURNING id",
            &[&by, &tokio_postgres::types::Json(&changes)],
        )
        .await?
        .get(0);
    tx.execute(
        "INSERT INTO push_targets (push_id, hall_id) SELECT $1, unnest($2::text[])",
        &[&id, &halls],
    )
    .await?;
    crate::users::audit(
        &tx,
        by,
        "push",
        serde_json::json!({ "push": id, "halls": halls, "changes": changes }),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The newest pushes, each with every hall's answer.
pub async fn recent(pool: &Pool, limit: i64) -> Result<Vec<PushView>> {
    views(pool, limit, None).await
}

/// One push, with every hall's answer.
pub async fn one(pool: &Pool, id: i64) -> Result<Option<PushView>> {
    Ok(views(pool, 1, Some(id)).await?.pop())
}

/// The newest `limit` pushes (or only push `only`), newest first.
async fn views(pool: &Pool, limit: i64, only: Option<i64>) -> Result<Vec<PushView>> {
    let rows = pool
        .get()
        .await?
        .query(
            "SELECT p.id, p.by, p.at, p.changes, \
               COALESCE(jsonb_agg(jsonb_build_object('hall', t.hall_id, 'state', t.state, 'reason', t.reason, \
                 'tries', t.tries, 'answered_at', t.answered_at) ORDER BY t.hall_id), '[]') \
             FROM (SELECT * FROM pushes WHERE $2::bigint IS NULL OR id = $2 ORDER BY id DESC LIMIT $1) p \
             JOIN push_targets t ON t.push_id = p.id \
             GROUP BY p.id, p.by, p.at, p.changes ORDER BY p.id DESC",
            &[&limit, &only],
        )
        .await?;
    fn parse<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> Result<T> {
        serde_json::from_value(v).map_err(|e| Error::Internal(format!("a kept push: {e}")))
    }
    rows.iter()
        .map(|r| {
            Ok(PushView {
                id: r.get(0),
                by: r.get(1),
                at: r.get(2),
                changes: parse(r.get(3))?,
                halls: parse(r.get(4))?,
            })
        })
        .collect()
}

/// Sends pushes waiting for an answer, at once when one is made (`wake`)
/// and every [`RETRY_EVERY`] for halls that did not answer.
pub async fn run(client: async_nats::Client, pool: Pool, wake: Arc<Notify>) {
    loop {
        match send_pending(&client, &pool).await {
            Ok((applied, refused, waiting)) if applied + refused + waiting > 0 => {
                tracing::info!(applied, refused, waiting, "pushed to halls");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = format!("{e:#}"), "cannot push to halls now"),
        }
        tokio::select! {
            () = tokio::time::sleep(RETRY_EVERY) => {}
            () = wake.notified() => {}
        }
    }
}

/// One round: every pending (push, hall), oldest push first; answers
/// how many were applied, refused, and are still waiting.
async fn send_pending(
    client: &async_nats::Client,
    pool: &Pool,
) -> anyhow::Result<(usize, usize, usize)> {
    let rows = pool
        .get()
        .await?
        .query(
            "SELECT t.push_id, t.hall_id, p.by, p.changes FROM push_targets t JOIN pushes p ON p.id = t.push_id \
             WHERE t.state = 'pending' ORDER BY t.push_id, t.hall_id",
            &[],
        )
        .await?;
    // A push's body is the same for every hall it names: encode it once.
    let mut bodies: HashMap<i64, Option<bytes::Bytes>> = HashMap::new();
    let mut targets = Vec::with_capacity(rows.len());
    for r in rows {
        let id: i64 = r.get(0);
        let body = bodies
            .entry(id)
            .or_insert_with(|| {
                let changes: Vec<PushChange> = serde_json::from_value(r.get(3)).ok()?;
                let push = Push {
                    id,
                    by: r.get(2),
                    changes,
                };
                serde_json::to_vec(&push).ok().map(Into::into)
            })
            .clone();
        match body {
            Some(body) => targets.push((id, r.get::<_, String>(1), body)),
            None => tracing::warn!(push = id, "a kept push cannot be encoded; not sent"),
        }
    }
    let sends = targets.into_iter().map(|(id, hall, body)| async move {
        let answer = ask(client, id, &hall, body).await;
        (id, hall, answer)
    });
    let mut answers = futures_util::stream::iter(sends).buffer_unordered(IN_FLIGHT);
    let (mut applied, mut refused, mut waiting) = (0, 0, 0);
    let db = pool.get().await?;
    while let Some((id, hall, answer)) = answers.next().await {
        match answer {
            Some(a) => {
                let state = if a.applied { "applied" } else { "refused" };
                if a.applied {
                    applied += 1;
                } else {
                    refused += 1;
                    tracing::warn!(push = id, %hall, reason = a.refused.as_deref().unwrap_or(""), "a hall refused a push");
                }
                db.execute(
                    "UPDATE push_targets SET state = $3, reason = $4, tries = tries + 1, answered_at = now() \
                     WHERE push_id = $1 AND hall_id = $2",
                    &[&id, &hall, &state, &a.refused],
                )
                .await?;
            }
            None => {
                waiting += 1;
                db.execute(
                    "UPDATE push_targets SET tries = tries + 1 WHERE push_id = $1 AND hall_id = $2",
                    &[&id, &hall],
                )
                .await?;
            }
        }
    }
    Ok((applied, refused, waiting))
}

/// Asks one hall; `None` when it did not answer (off, unreachable, slow).
async fn ask(
    client: &async_nats::Client,
    id: i64,
    hall: &str,
    body: bytes::Bytes,
) -> Option<PushAnswer> {
    let reply =
        tokio::time::timeout(ANSWER_TIMEOUT, client.request(push_subject(hall), body)).await;
    match reply {
        Ok(Ok(m)) => match serde_json::from_slice::<PushAnswer>(&m.payload) {
            Ok(a) if a.id == id || !a.applied => Some(PushAnswer { id, ..a }),
            Ok(a) => {
                tracing::warn!(push = id, %hall, answered = a.id, "a hall answered another push");
                None
            }
            Err(e) => Some(PushAnswer {
                id,
                applied: false,
                refused: Some(format!("the hall's answer does not parse: {e}")),
            }),
        },
        Ok(Err(e)) => {
            tracing::debug!(push = id, %hall, error = %e, "no answer from the hall");
            None
        }
        Err(_) => None,
    }
}
