//! Issuing, reading and cancelling tickets.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use hall_api::{ErrorBody, IssueTicket, Ticket};

use crate::api::auth::Caller;
use crate::api::{ApiJson, AppState, path_number};
use crate::config::Role;
use crate::error::{Error, Result};
use crate::store::queries;

/// Issue a ticket. The same idempotency key from the same device returns
/// the ticket it already issued (200) instead of a second one.
#[utoipa::path(post, path = "/api/v1/tickets", request_body = IssueTicket,
    responses((status = 201, body = Ticket, description = "issued"),
              (status = 200, body = Ticket, description = "already issued under this idempotency key"),
              (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])), tag = "tickets")]
pub async fn issue(
    State(st): State<AppState>,
    caller: Caller,
    ApiJson(req): ApiJson<IssueTicket>,
) -> Result<(StatusCode, Json<Ticket>)> {
    caller.require(&[Role::Kiosk, Role::Manager, Role::Guide], "issue tickets")?;
    // A key account is served first: the billing system says which are,
    // within its timeout; when it does not answer the ticket is issued as
    // any other (nobody waits at the kiosk for the billing system).
    let billing = st.hall.now().billing.clone();
    let key_account = match (&req.customer_ref, billing.key_account_priority) {
        (Some(account), p) if p > 0 && billing.account_url.is_some() => {
            match crate::api::billing::lookup(&st, account).await {
                Ok(info) => info.key_account,
                Err(e) => {
                    tracing::debug!(error = %e, "no key-account answer; issuing without it");
                    false
                }
            }
        }
        _ => false,
    };
    let issued = st
        .writer
        .run(caller.actor(), move |hall| hall.issue(&req, key_account))
        .await?;
    let status = if issued.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(issued.ticket)))
}

/// A ticket with its current status, and its position while waiting.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = Ticket), (status = 404, body = ErrorBody)),
    security(("bearer" = [])), tag = "tickets")]
pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Ticket>> {
    caller.require(
        &[Role::Kiosk, Role::Counter, Role::Billing, Role::Manager],
        "read tickets",
    )?;
    let id: i64 = path_number("ticket id", &id)?;
    let hall = st.hall.now();
    // A kiosk sees only the tickets it issued: the others' account numbers
    // and tracking codes are not its business (and ids are sequential).
    let only_from = (caller.role == Role::Kiosk).then(|| caller.name.clone());
    let now = st.clock.read().at;
    let ticket = st
        .reads
        .run(move |conn| {
            let row = queries::ticket_by_id(conn, id)?
                .filter(|t| only_from.as_ref().is_none_or(|kiosk| t.channel == *kiosk))
                .ok_or_else(|| Error::NotFound(format!("no ticket with id {id}")))?;
            queries::ticket_view(conn, &hall, &row, now)
        })
        .await?;
    // A kiosk reads back what it was just given; anyone else is shown a
    // customer's account number, and that is kept.
    if ticket.customer_ref.is_some() && caller.role != Role::Kiosk {
        crate::api::access::record(&st, &caller, Some(ticket.id), "account_number").await;
    }
    Ok(Json(ticket))
}

/// Cancel a waiting or called ticket, e.g. one the kiosk could not print.
#[utoipa::path(post, path = "/api/v1/tickets/{id}/cancel", params(("id" = i64, Path)),
    responses((status = 200, body = Ticket), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])), tag = "tickets")]
pub async fn cancel(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Ticket>> {
    caller.require(&[Role::Kiosk, Role::Manager], "cancel tickets")?;
    let id: i64 = path_number("ticket id", &id)?;
    let ticket = st
        .writer
        .run(caller.actor(), move |hall| hall.cancel(id))
        .await?;
    Ok(Json(ticket))
}
