//! The halls' heartbeats: each hall's status (its devices) on plain NATS
//! every 30 s, kept as the hall's newest in `halls.status`. The page is
//! told when what needs attention in a hall changes, not on every beat.

use std::collections::HashMap;

use deadpool_postgres::Pool;
use futures_util::StreamExt;
use hall_api::head_office::{HallStatus, Shipped, parse_subject};
use tokio::sync::broadcast;

use crate::queries::{DeviceAttention, needing_attention};

/// Subscribes to every hall's status for good (the client resubscribes
/// after a reconnect by itself).
pub async fn run(client: async_nats::Client, pool: Pool, changed: broadcast::Sender<Vec<String>>) {
    let mut subscription = loop {
        match client.subscribe("halls.*.status").await {
            Ok(s) => break s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot subscribe to the halls' status yet; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    };
    // What needed attention in each hall at its last beat.
    let mut seen: HashMap<String, Vec<DeviceAttention>> = HashMap::new();
    while let Some(m) = subscription.next().await {
        let status = match read(&m.subject, &m.payload) {
            Ok(s) => s,
            Err(reason) => {
                if let Err(e) = crate::ingest::refuse(&pool, &m.subject, &reason, &m.payload).await
                {
                    tracing::warn!(error = %e, "cannot keep the refusal");
                }
                continue;
            }
        };
        if let Err(e) = keep(&pool, &status).await {
            // The next beat comes in 30 s; nothing to retry.
            tracing::warn!(error = %e, hall = %status.hall, "cannot keep a hall's status");
            continue;
        }
        let attention = needing_attention(&status);
        if seen.get(&status.hall) != Some(&attention) {
            seen.insert(status.hall.clone(), attention);
            let _ = changed.send(vec![status.hall]);
        }
    }
    tracing::warn!("the halls' status subscription ended");
}

/// A status, refused when it does not parse or names another hall than its subject.
fn read(subject: &str, payload: &[u8]) -> Result<HallStatus, String> {
    let Some(Shipped::Status(hall)) = parse_subject(subject) else {
        return Err(format!("{subject} is not a hall's status subject"));
    };
    let status: HallStatus =
        serde_json::from_slice(payload).map_err(|e| format!("not a hall's status: {e}"))?;
    if status.hall != hall {
        return Err(format!(
            "the subject is hall {hall}'s, the status is hall {}'s",
            status.hall
        ));
    }
    Ok(status)
}

async fn keep(pool: &Pool, status: &HallStatus) -> anyhow::Result<()> {
    pool.get()
        .await?
        .execute(
            "INSERT INTO halls (hall_id, status, status_at) VALUES ($1, $2, now())
             ON CONFLICT (hall_id) DO UPDATE SET status = EXCLUDED.status, status_at = EXCLUDED.status_at",
            &[&status.hall, &tokio_postgres::types::Json(status)],
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_must_name_its_subjects_hall() {
        let body = br#"{"hall":"west-2","interval_s":30,"devices":[]}"#;
        assert!(read("halls.west-2.status", body).is_ok());
        let e = read("halls.east-1.status", body).unwrap_err();
        assert!(e.contains("the status is hall west-2's"), "{e}");
        assert!(read("halls.east-1.events", body).is_err());
        assert!(read("halls.east-1.status", b"{}").is_err());
    }
}
