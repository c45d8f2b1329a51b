//! Who saw what: each time a customer's account number or amount due is
//! shown (a counter opening its ticket, an account lookup), who, for which
//! ticket and when is kept, and the manager reads it back. A page that
//! reads the same ticket again and again is recorded once in ten minutes.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use hall_api::{AccessRecord, ErrorBody};
use serde::Deserialize;

use crate::api::auth::Caller;
use crate::api::{ApiQuery, AppState};
use crate::config::Role;
use crate::error::Result;
use crate::store::queries;

/// The same reader, ticket and field within this long is one record.
const SAME_READ: Duration = Duration::from_secs(600);

/// Who read which ticket's what.
type Read = (String, Option<i64>, &'static str);

#[derive(Debug, Default)]
pub struct RecentReads(Mutex<HashMap<Read, Instant>>);

impl RecentReads {
    /// True the first time in [`SAME_READ`].
    fn first(&self, key: Read) -> bool {
        let mut seen = self.0.lock().unwrap_or_else(|p| p.into_inner());
        seen.retain(|_, at| at.elapsed() < SAME_READ);
        seen.insert(key, Instant::now()).is_none()
    }
}

/// Records that `caller` was shown `what` of the customer of `ticket`.
/// A failure to record is logged, not shown to the reader.
pub async fn record(st: &AppState, caller: &Caller, ticket: Option<i64>, what: &'static str) {
    if !st.recent_reads.first((caller.name.clone(), ticket, what)) {
        return;
    }
    let outcome = st
        .writer
        .run_own(caller.actor(), move |hall| hall.record_access(ticket, what))
        .await;
    if let Err(e) = outcome {
        tracing::error!(target: "security", error = %e, who = %caller.name, what, "could not record an access to personal data");
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct AccessQuery {
    /// The business day, `YYYY-MM-DD`; today when absent.
    #[param(pattern = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$")]
    pub date: Option<String>,
}

/// Who was shown which customer's account number or amount due on a
/// business day, oldest first (manager).
#[utoipa::path(get, path = "/api/v1/access", params(AccessQuery),
    responses((status = 200, body = Vec<AccessRecord>), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "hall")]
pub async fn access_records(
    State(st): State<AppState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<AccessQuery>,
) -> Result<Json<Vec<AccessRecord>>> {
    caller.require(&[Role::Manager], "read who saw personal data")?;
    let date = crate::api::hall::day_or_today(&st, q.date.as_deref())?;
    let (from, to) = st
        .hall
        .now()
        .hall
        .day_window(date)
        .map_err(crate::error::Error::BadRequest)?;
    let list = st
        .reads
        .run(move |conn| queries::access_between(conn, queries::ms(from), queries::ms(to)))
        .await?;
    Ok(Json(list))
}
