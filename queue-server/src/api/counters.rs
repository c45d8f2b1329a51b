//! What counter staff (or the billing system) do at a counter.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hall_api::{CounterAction, CounterActionBody, CounterView, ErrorBody, Ticket};

use crate::api::auth::Caller;
use crate::api::{AppState, path_number};
use crate::error::{Error, Result};
use crate::store::writer::{Op, Outcome};

/// Act at a counter. `call-next` answers the called ticket, or 204 when
/// nobody waits; recall, start, complete, no-show and transfer answer the
/// ticket concerned (for transfer, its new waiting entry); open, close,
/// pause and resume answer the counter.
#[utoipa::path(post, path = "/api/v1/counters/{number}/{action}",
    params(("number" = u32, Path), ("action" = CounterAction, Path)),
    request_body(content = Option<CounterActionBody>, description = "optional; transaction_ref for complete, service for transfer"),
    responses((status = 200, description = "the ticket or the counter after the action", body = Ticket),
              (status = 204, description = "call-next with nobody waiting"),
              (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])), tag = "counters")]
pub async fn act(
    State(st): State<AppState>,
    caller: Caller,
    Path((number, action)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response> {
    let number: u32 = path_number("counter number", &number)?;
    let action = CounterAction::parse(&action).ok_or_else(|| {
        Error::NotFound(format!(
            "unknown counter action \"{action}\"; use one of: {}",
            CounterAction::ALL.map(|a| a.as_str()).join(", ")
        ))
    })?;
    caller.require_counter(number, "act on counters")?;
    let body: CounterActionBody = if body.iter().all(u8::is_ascii_whitespace) {
        CounterActionBody::default()
    } else {
        serde_json::from_slice(&body).map_err(|e| {
            Error::BadRequest(format!(
                "the body is not valid for {}: {e}",
                action.as_str()
            ))
        })?
    };
    Ok(
        match st
            .writer
            .submit(
                caller.actor(),
                Op::Counter {
                    number,
                    action,
                    body,
                },
            )
            .await?
        {
            Outcome::Ticket(t) => Json(*t).into_response(),
            Outcome::Counter(c) => Json::<CounterView>(c).into_response(),
            Outcome::NobodyWaiting => StatusCode::NO_CONTENT.into_response(),
            other @ (Outcome::Issued { .. } | Outcome::Recorded) => {
                return Err(Error::Internal(format!(
                    "a counter action answered {other:?}"
                )));
            }
        },
    )
}
