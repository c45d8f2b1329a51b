//! The pages a browser opens: the counter station, the satisfaction rater
//! facing the customer, and the public ticket page
//! behind the ticket's QR code (plain HTML, CSS and JS built into the binary,
//! no build step), and the ticket page's data, which shows only that ticket.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse};
use hall_api::{ErrorBody, PublicTicket};

use crate::api::AppState;
use crate::error::{Error, Result};
use crate::hall::ratings::{RatedFrom, window_open};
use crate::store::queries;

const COUNTER_HTML: &str = include_str!("../../web/counter.html");
const COUNTER_JS: &str = include_str!("../../web/counter.js");
const RATER_HTML: &str = include_str!("../../web/rater.html");
const RATER_JS: &str = include_str!("../../web/rater.js");
const RATING_JS: &str = include_str!("../../web/rating.js");
const TICKET_HTML: &str = include_str!("../../web/ticket.html");
const TICKET_JS: &str = include_str!("../../web/ticket.js");
const TAKE_HTML: &str = include_str!("../../web/take.html");
const TAKE_JS: &str = include_str!("../../web/take.js");
const HERE_HTML: &str = include_str!("../../web/here.html");
const HERE_JS: &str = include_str!("../../web/here.js");
const BOOK_HTML: &str = include_str!("../../web/book.html");
const BOOK_JS: &str = include_str!("../../web/book.js");
const GUIDE_HTML: &str = include_str!("../../web/guide.html");
const GUIDE_JS: &str = include_str!("../../web/guide.js");
const STYLE_CSS: &str = include_str!("../../web/style.css");
const MANAGER_HTML: &str = include_str!("../../web/manager.html");
const MANAGER_JS: &str = include_str!("../../web/manager.js");
const MANAGER_CSS: &str = include_str!("../../web/manager.css");
const REPORT_CSS: &str = include_str!("../../web/report.css");
/// Chart.js, vendored from the npm registry with its licence (MIT) at the
/// top of the file: halls may have no internet.
const CHART_JS: &str = include_str!("../../web/vendor/chart.umd.min.js");

/// The pages load only their own scripts, styles and API, and no other
/// site may frame them (so no page can dress up the counter's buttons).
/// `base-uri 'self'`: the phone's pages name everything from a `<base>` of
/// this site, which head office moves under the hall's prefix.
pub const PAGE_POLICY: [(header::HeaderName, &str); 3] = [
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
];

pub async fn counter_page() -> impl IntoResponse {
    (PAGE_POLICY, Html(COUNTER_HTML))
}

pub async fn manager_page() -> impl IntoResponse {
    (PAGE_POLICY, Html(MANAGER_HTML))
}

pub async fn manager_js() -> impl IntoResponse {
    javascript(MANAGER_JS)
}

pub async fn chart_js() -> impl IntoResponse {
    javascript(CHART_JS)
}

pub async fn manager_css() -> impl IntoResponse {
    stylesheet(MANAGER_CSS)
}

pub async fn report_css() -> impl IntoResponse {
    stylesheet(REPORT_CSS)
}

pub async fn rater_page() -> impl IntoResponse {
    (PAGE_POLICY, Html(RATER_HTML))
}

pub async fn rater_js() -> impl IntoResponse {
    javascript(RATER_JS)
}

pub async fn rating_js() -> impl IntoResponse {
    javascript(RATING_JS)
}

pub async fn ticket_page() -> impl IntoResponse {
    (PAGE_POLICY, Html(TICKET_HTML))
}

fn javascript(source: &'static str) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        source,
    )
}

/// The phone page that takes a ticket before arriving (线上取号).
pub async fn take_page() -> impl IntoResponse {
    (PAGE_POLICY, Html(TAKE_HTML))
}

/// Where the QR posted in the hall leads: checks in the remote tickets
/// this phone took.
pub async fn here_page() -> impl IntoResponse {
    (PAGE_POLICY, Html(HERE_HTML))
}

/// The booking page (预约): a service's slots, then the booking itself.
pub async fn book_page() -> impl IntoResponse {
    (PAGE_POLICY, Html(BOOK_HTML))
}

/// A booking's own page: the same page, showing the booking in its URL.
pub async fn booking_page() -> impl IntoResponse {
    (PAGE_POLICY, Html(BOOK_HTML))
}

pub async fn book_js() -> impl IntoResponse {
    javascript(BOOK_JS)
}

/// The floor guide's handheld page.
pub async fn guide_page() -> impl IntoResponse {
    (PAGE_POLICY, Html(GUIDE_HTML))
}

pub async fn guide_js() -> impl IntoResponse {
    javascript(GUIDE_JS)
}

pub async fn take_js() -> impl IntoResponse {
    javascript(TAKE_JS)
}

pub async fn here_js() -> impl IntoResponse {
    javascript(HERE_JS)
}

pub async fn counter_js() -> impl IntoResponse {
    javascript(COUNTER_JS)
}

pub async fn ticket_js() -> impl IntoResponse {
    javascript(TICKET_JS)
}

pub async fn style_css() -> impl IntoResponse {
    stylesheet(STYLE_CSS)
}

fn stylesheet(source: &'static str) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], source)
}

/// A tracking code is 32 hex digits; anything else names no ticket.
pub fn valid_tracking_code(code: &str) -> Result<()> {
    if code.len() != 32 || !code.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::NotFound(
            "no ticket has this code; check the QR code on the ticket".into(),
        ));
    }
    Ok(())
}

/// A ticket as its holder sees it on a phone; no token, the tracking code is
/// the key, and nothing about other customers is in it.
#[utoipa::path(get, path = "/api/v1/public/tickets/{tracking_code}", params(("tracking_code" = String, Path)),
    responses((status = 200, body = PublicTicket), (status = 404, body = ErrorBody)), tag = "public")]
pub async fn ticket(
    State(st): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<PublicTicket>> {
    valid_tracking_code(&code)?;
    let not_found =
        || Error::NotFound("no ticket has this code; check the QR code on the ticket".into());
    let hall = st.hall.now();
    let now = queries::ms(st.clock.read().at);
    let found = st
        .reads
        .run(move |conn| {
            let Some(row) = queries::ticket_by_tracking_code(conn, &code)? else {
                return Ok(None);
            };
            let rated = queries::rating_of_ticket(conn, row.id)?.map(|r| r.level);
            let can_rate = rated.is_none()
                && row.status == hall_api::TicketStatus::Done
                && window_open(&hall, RatedFrom::Phone, &row, now);
            let t = queries::ticket_view(conn, &hall, &row, queries::ts(now))?;
            // Said while the ticket still waits for its service.
            let shut = match hall.service(&t.service) {
                Some(s) if !t.status.is_final() => {
                    let held = queries::held_calendar(conn, &hall)?;
                    queries::calendar_closed(conn, &hall, &held, s, queries::ts(now))?
                }
                _ => None,
            };
            let service = hall
                .service(&t.service)
                .map(|s| s.name.clone())
                .unwrap_or_else(|| hall_api::I18nText {
                    zh: t.service.clone(),
                    en: t.service.clone(),
                });
            Ok(Some(PublicTicket {
                hall_name: hall.hall.name.clone(),
                timezone: hall.hall.timezone_name.clone(),
                number: t.number,
                service,
                status: t.status,
                issued_at: t.issued_at,
                ahead: t.ahead,
                estimated_wait_s: t.estimated_wait_s,
                counter: t.counter,
                counter_name: t
                    .counter
                    .and_then(|n| hall.counter(n))
                    .map(|c| c.name.clone()),
                can_rate,
                rated,
                bring: hall.service(&t.service).and_then(|s| s.bring.clone()),
                remote: t.remote,
                unavailable: shut.as_ref().map(|c| c.why),
                opens_at: shut.as_ref().and_then(|c| c.opens_at),
                closed_reason: shut.and_then(|c| c.reason),
            }))
        })
        .await?;
    found.map(Json).ok_or_else(not_found)
}
