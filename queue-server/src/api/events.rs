//! The live event stream (Server-Sent Events). A client that reconnects with
//! `Last-Event-ID` first gets what it missed from the stored log, then live
//! events; a slow client that falls behind the live channel is caught up
//! from the log too, so nobody misses a call.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::Stream;
use hall_api::ErrorBody;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;

use crate::api::auth::Caller;
use crate::api::{ApiQuery, AppState};
use crate::error::{Error, Result};
use crate::store::queries;

/// Events read from the log per query while catching up: small, because
/// every lagging subscriber holds one page in memory.
const CATCH_UP_PAGE: u32 = 64;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct EventsQuery {
    /// Resume after this id (as the `Last-Event-ID` header does; the header wins).
    #[param(minimum = 0)]
    pub last_event_id: Option<i64>,
}

fn requested_resume(headers: &HeaderMap, q: &EventsQuery) -> Result<Option<i64>> {
    match headers.get("last-event-id") {
        Some(v) => {
            let s = v.to_str().unwrap_or("").trim();
            s.parse()
                .map(Some)
                .map_err(|_| Error::BadRequest(format!("Last-Event-ID \"{s}\" is not an event id")))
        }
        None => Ok(q.last_event_id),
    }
}

struct Feed {
    st: AppState,
    rx: tokio::sync::broadcast::Receiver<crate::hall::StoredEvent>,
    last: i64,
    backlog: VecDeque<(i64, String, String)>,
    catch_up: bool,
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.st
            .metrics
            .event_streams
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl Feed {
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some((id, kind, body)) = self.backlog.pop_front() {
                self.last = id;
                return Some(
                    SseEvent::default()
                        .id(id.to_string())
                        .event(kind)
                        .data(body),
                );
            }
            if self.catch_up {
                let after = self.last;
                let page = self
                    .st
                    .reads
                    .run(move |conn| queries::events_after(conn, after, CATCH_UP_PAGE))
                    .await;
                match page {
                    Ok(rows) => {
                        self.catch_up = rows.len() == CATCH_UP_PAGE as usize;
                        self.backlog.extend(rows);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "event stream could not read the log; ending it so the client reconnects");
                        return None;
                    }
                }
                continue;
            }
            let mut shutdown = self.st.shutdown.clone();
            tokio::select! {
                received = self.rx.recv() => match received {
                    Ok(ev) if ev.id <= self.last => continue,
                    Ok(ev) if ev.id == self.last + 1 => {
                        self.last = ev.id;
                        return Some(SseEvent::default().id(ev.id.to_string()).event(ev.kind.as_str()).data(&*ev.body));
                    }
                    // A gap: this subscriber missed some; they are in the log.
                    Ok(_) | Err(RecvError::Lagged(_)) => self.catch_up = true,
                    Err(RecvError::Closed) => return None,
                },
                _ = shutdown.wait_for(|&stop| stop) => return None,
            }
        }
    }
}

/// Server-Sent Events: every change in the hall, each with its `id`.
#[utoipa::path(get, path = "/api/v1/events", params(EventsQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "resume after this event id")),
    responses((status = 200, content_type = "text/event-stream", description = "one SSE message per Event, data is the Event as JSON"),
              (status = 401, body = ErrorBody)),
    security(("bearer" = [])), tag = "hall")]
pub async fn stream(
    State(st): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<EventsQuery>,
) -> Result<Sse<impl Stream<Item = std::result::Result<SseEvent, Infallible>>>> {
    let resume = requested_resume(&headers, &q)?;
    // Subscribe before reading where the log ends, so nothing falls between.
    let rx = st.events.subscribe();
    let newest = st
        .reads
        .run(|conn| Ok(queries::last_event(conn)?.map_or(0, |(id, _)| id)))
        .await?;
    let (last, catch_up) = match resume {
        // A resume point beyond the log means the database was restored
        // from a backup: skipping ids up to it would hide new calls, so the
        // client gets everything from now on instead.
        Some(id) if id > newest => {
            tracing::warn!(
                asked = id,
                newest,
                "a client resumed after an event this log does not have; sending from now"
            );
            (newest, false)
        }
        Some(id) => (id.max(0), true),
        None => (newest, false),
    };
    st.metrics
        .event_streams
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let feed = Feed {
        st,
        rx,
        last,
        backlog: VecDeque::new(),
        catch_up,
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        feed.next().await.map(|ev| (Ok(ev), feed))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
