//! What counter staff (or the billing system) do at a counter.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hall_api::{CounterAction, CounterActionBody, CounterAnswer, CounterView, ErrorBody, Ticket};

use crate::api::auth::Caller;
use crate::api::{AppState, path_number};
use crate::error::{Error, Result};
use crate::rules::lifecycle::CounterStep;

/// Act at a counter. `call-next` answers the called ticket, or 204 when
/// nobody waits; recall, start, complete, no-show, transfer, hold and
/// resume-held answer the ticket concerned (for transfer, its new waiting
/// entry); open, close, pause and resume answer the counter.
#[utoipa::path(post, path = "/api/v1/counters/{number}/{action}",
    params(("number" = u32, Path), ("action" = CounterAction, Path)),
    request_body(content = Option<CounterActionBody>, description = "optional; transaction_ref for complete, service for transfer, reason for pause, number for resume-held"),
    responses((status = 200, description = "the ticket concerned, or the counter for open, close, pause and resume", body = CounterAnswer),
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
    let body: CounterActionBody =
        if body.iter().all(u8::is_ascii_whitespace) || body.trim_ascii() == b"null" {
            CounterActionBody::default()
        } else {
            serde_json::from_slice(&body).map_err(|e| {
                Error::BadRequest(format!(
                    "the body is not valid for {}: {e}",
                    action.as_str()
                ))
            })?
        };
    if body.service.is_some() && action != CounterAction::Transfer {
        return Err(Error::BadRequest(format!(
            "{} takes no service; only transfer does",
            action.as_str()
        )));
    }
    if body.transaction_ref.is_some() && action != CounterAction::Complete {
        return Err(Error::BadRequest(format!(
            "{} takes no transaction_ref; only complete does",
            action.as_str()
        )));
    }
    if body.reason.is_some() && action != CounterAction::Pause {
        return Err(Error::BadRequest(format!(
            "{} takes no reason; only pause does",
            action.as_str()
        )));
    }
    if body.number.is_some() && action != CounterAction::ResumeHeld {
        return Err(Error::BadRequest(format!(
            "{} takes no number; only resume-held does",
            action.as_str()
        )));
    }
    let w = &st.writer;
    let actor = caller.actor();
    let ticket = |t: Ticket| Json(CounterAnswer::Ticket(Box::new(t))).into_response();
    let counter = |c: CounterView| Json(CounterAnswer::Counter(Box::new(c))).into_response();
    Ok(match action {
        CounterAction::CallNext => match w.run(actor, move |h| h.call_next(number)).await? {
            Some(t) => ticket(t),
            None => StatusCode::NO_CONTENT.into_response(),
        },
        CounterAction::Recall => ticket(w.run(actor, move |h| h.recall(number)).await?),
        CounterAction::Start => ticket(w.run(actor, move |h| h.start(number)).await?),
        CounterAction::Complete => {
            let reference = body.transaction_ref;
            ticket(w.run(actor, move |h| h.complete(number, reference)).await?)
        }
        CounterAction::NoShow => ticket(w.run(actor, move |h| h.no_show(number)).await?),
        CounterAction::Transfer => {
            let service = body.service.ok_or_else(|| {
                Error::BadRequest(
                    "transfer needs {\"service\": \"…\"}: the service the customer goes to".into(),
                )
            })?;
            ticket(w.run(actor, move |h| h.transfer(number, &service)).await?)
        }
        CounterAction::Hold => ticket(w.run(actor, move |h| h.hold(number)).await?),
        CounterAction::ResumeHeld => {
            let held = body.number.ok_or_else(|| {
                Error::BadRequest(
                    "resume-held needs {\"number\": \"…\"}: the number of the held ticket".into(),
                )
            })?;
            ticket(w.run(actor, move |h| h.resume_held(number, &held)).await?)
        }
        CounterAction::Open
        | CounterAction::Close
        | CounterAction::Pause
        | CounterAction::Resume => {
            let step = match action {
                CounterAction::Open => CounterStep::Open,
                CounterAction::Close => CounterStep::Close,
                CounterAction::Pause => CounterStep::Pause,
                _ => CounterStep::Resume,
            };
            let reason = body.reason;
            counter(
                w.run(actor, move |h| {
                    h.change_counter(number, step, reason.as_deref())
                })
                .await?,
            )
        }
    })
}
