//! The link to the billing system: webhook delivery state for the manager,
//! and account lookups for the kiosk.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use hall_api::{AccountInfo, ErrorBody, WebhookStatus};

use crate::api::AppState;
use crate::api::auth::Caller;
use crate::config::Role;
use crate::error::{Error, Result};
use crate::webhooks;

/// Every webhook with what is still undelivered, so nothing is dropped silently.
#[utoipa::path(get, path = "/api/v1/webhooks",
    responses((status = 200, body = Vec<WebhookStatus>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "billing")]
pub async fn webhooks(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<WebhookStatus>>> {
    caller.require(&[Role::Manager], "see webhook deliveries")?;
    let now = st.clock.read().at;
    let hall = st.hall.now();
    Ok(Json(
        st.reads
            .run(move |conn| webhooks::status(conn, &hall, now))
            .await?,
    ))
}

/// Shipping to head office: connected, how far, the backlog and why it
/// fails while it does, and what head office set of the calendar; `null`
/// for a hall that stands alone.
#[utoipa::path(get, path = "/api/v1/head-office",
    responses((status = 200, body = Option<hall_api::head_office::ShippingStatus>), (status = 403, body = ErrorBody)),
    security(("bearer" = [])), tag = "billing")]
pub async fn head_office(
    State(st): State<AppState>,
    caller: Caller,
) -> Result<Json<Option<hall_api::head_office::ShippingStatus>>> {
    caller.require(&[Role::Manager], "see shipping to head office")?;
    Ok(Json(shipping_status(&st).await?))
}

/// The shipper's status against the newest event, if the hall ships.
pub async fn shipping_status(
    st: &AppState,
) -> Result<Option<hall_api::head_office::ShippingStatus>> {
    let (Some(shipping), Some(cfg)) = (&st.shipping, &st.hall.now().head_office) else {
        return Ok(None);
    };
    let (last, set) = st
        .reads
        .run(|conn| {
            Ok((
                crate::store::queries::last_event(conn)?.map_or(0, |(id, _)| id),
                crate::store::queries::set_by_office(conn)?,
            ))
        })
        .await?;
    Ok(Some(shipping.status(cfg, last, set)))
}

/// Ask the billing system about an account (masked name, amount due). When it
/// does not answer in time this is a 503 at once: issue the ticket without it.
#[utoipa::path(get, path = "/api/v1/accounts/{account_ref}", params(("account_ref" = String, Path, pattern = "^[A-Za-z0-9-]{1,32}$", description = "the customer's account number")),
    responses((status = 200, body = AccountInfo), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)),
    security(("bearer" = [])), tag = "billing")]
pub async fn account(
    State(st): State<AppState>,
    caller: Caller,
    Path(account_ref): Path<String>,
) -> Result<Json<AccountInfo>> {
    caller.require(
        &[Role::Kiosk, Role::Counter, Role::Manager, Role::Guide],
        "look up accounts",
    )?;
    let info = lookup(&st, &account_ref).await?;
    if caller.role != Role::Kiosk {
        let today = st
            .hall
            .now()
            .hall
            .business_day(st.clock.read().at)
            .to_string();
        let account = account_ref.clone();
        let ticket = st
            .reads
            .run(move |conn| crate::store::queries::ticket_with_account(conn, &today, &account))
            .await?;
        crate::api::access::record(&st, &caller, ticket, "amount_due").await;
    }
    Ok(Json(info))
}

/// The billing system's answer about an account, within its timeout.
pub async fn lookup(st: &AppState, account_ref: &str) -> Result<AccountInfo> {
    if account_ref.is_empty()
        || account_ref.len() > 32
        || !account_ref
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(Error::BadRequest(
            "an account number is 1 to 32 letters, digits or '-'".into(),
        ));
    }
    let hall = st.hall.now();
    let template =
        hall.billing.account_url.as_deref().ok_or_else(|| {
            Error::NotFound("account lookup is not configured in this hall".into())
        })?;
    let url = template.replace("{ref}", account_ref);
    let timeout = Duration::from_millis(u64::from(hall.billing.timeout_ms));
    let unavailable = |why: String| {
        tracing::warn!(%why, "account lookup failed");
        Error::Unavailable(format!(
            "the billing system did not answer ({why}); issue the ticket without the account details"
        ))
    };
    let resp = st
        .http
        .get(&url)
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| unavailable(crate::webhooks::with_causes(&e)))?;
    match resp.status().as_u16() {
        200 => resp
            .json()
            .await
            .map_err(|e| unavailable(format!("unreadable answer: {e}"))),
        404 => Err(Error::NotFound(format!(
            "the billing system knows no account {account_ref}"
        ))),
        other => Err(unavailable(format!("it answered {other}"))),
    }
}
