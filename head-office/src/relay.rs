//! The halls' phone pages, served from head office: `/h/<hall>/t/<code>`
//! is relayed to that hall as a NATS request over its own outbound
//! connection and answered with what the hall answers. A phone on mobile
//! data reaches head office, never the hall's network; the hall opens no
//! port. When the hall does not answer, the phone is told so plainly.

use std::time::Duration;

use async_nats::HeaderMap;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use hall_api::head_office::{
    RELAY_BODY_MAX, is_relayed_path, relay_header, relay_prefix, relay_subject, valid_hall_id,
};

use crate::client_addr::ClientAddr;
use crate::web::AppState;

/// How long a phone waits for its hall before it is told the hall cannot
/// be reached (a hall answers its pages in milliseconds).
const WAIT_FOR_HALL: Duration = Duration::from_secs(8);

pub async fn relay(
    State(st): State<AppState>,
    Path((hall, rest)): Path<(String, String)>,
    ClientAddr(client): ClientAddr,
    method: Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/{rest}");
    let api = path.starts_with("/api/");
    let refuse = |status, words: &Words| told(status, words, api);
    if !valid_hall_id(&hall) || !is_relayed_path(&path) {
        return refuse(StatusCode::NOT_FOUND, &NOT_HERE);
    }
    if !matches!(method, Method::GET | Method::POST | Method::PUT) {
        return refuse(StatusCode::METHOD_NOT_ALLOWED, &NOT_HERE);
    }
    match known_hall(&st, &hall).await {
        Ok(true) => {}
        Ok(false) => return refuse(StatusCode::NOT_FOUND, &NO_SUCH_HALL),
        Err(e) => {
            tracing::warn!(error = %e, "cannot look the hall up for a phone's page");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, &UNREACHABLE);
        }
    }
    let mut out = HeaderMap::new();
    out.insert(relay_header::METHOD, method.as_str());
    let with_query = match uri.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.clone(),
    };
    out.insert(relay_header::PATH, with_query.as_str());
    out.insert(relay_header::CLIENT, client.to_string().as_str());
    for name in relay_header::CARRIED {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            out.insert(name, v);
        }
    }
    let asked = st
        .nats
        .request_with_headers(relay_subject(&hall), out, body);
    let answer = match tokio::time::timeout(WAIT_FOR_HALL, asked).await {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => {
            tracing::info!(%hall, error = %e, "a phone's page: the hall does not answer");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, &UNREACHABLE);
        }
        Err(_) => {
            tracing::info!(%hall, "a phone's page: the hall did not answer in time");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, &UNREACHABLE);
        }
    };
    let Some(got) = answer.headers.as_ref() else {
        return refuse(StatusCode::BAD_GATEWAY, &UNREACHABLE);
    };
    let status = got
        .get(relay_header::STATUS)
        .and_then(|s| s.as_str().parse::<u16>().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = Response::builder().status(status);
    let mut html = false;
    for name in relay_header::CARRIED {
        let Some(v) = got.get(name) else { continue };
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name),
            HeaderValue::from_str(v.as_str()),
        ) {
            html |= n == header::CONTENT_TYPE && v.as_bytes().starts_with(b"text/html");
            response = response.header(n, v);
        }
    }
    let body = if html {
        Bytes::from(with_base(&answer.payload, &hall))
    } else {
        answer.payload
    };
    response
        .body(axum::body::Body::from(body))
        .unwrap_or_else(|_| refuse(StatusCode::BAD_GATEWAY, &UNREACHABLE))
}

/// The hall's pages name their files and API from `<base href="/">`; here
/// they live under the hall's prefix.
fn with_base(page: &[u8], hall: &str) -> Vec<u8> {
    let page = String::from_utf8_lossy(page);
    page.replacen(
        r#"<base href="/">"#,
        &format!(r#"<base href="{}/">"#, relay_prefix(hall)),
        1,
    )
    .into_bytes()
}

/// Whether head office ever heard from `hall`. A hall once known stays
/// known, so each is looked up in PostgreSQL once, not for every file of
/// every phone's page; an unknown one is asked again (it may be new).
async fn known_hall(st: &AppState, hall: &str) -> Result<bool, crate::error::Error> {
    let lock = || st.known_halls.lock().unwrap_or_else(|p| p.into_inner());
    if lock().contains(hall) {
        return Ok(true);
    }
    let db = st.pool.get().await?;
    let known = db
        .query_opt("SELECT 1 FROM halls WHERE hall_id = $1", &[&hall])
        .await?
        .is_some();
    if known {
        lock().insert(hall.to_string());
    }
    Ok(known)
}

/// A page a person reads on a phone, in both languages.
struct Words {
    zh: &'static str,
    en: &'static str,
}

const UNREACHABLE: Words = Words {
    zh: "营业厅暂时无法连接。您的号码仍然有效，请稍后再试，或到厅内询问工作人员。",
    en: "The hall cannot be reached right now. Your ticket is still valid: try again in a minute, or ask the staff at the hall.",
};
const NO_SUCH_HALL: Words = Words {
    zh: "没有这个营业厅。请检查链接或重新扫码。",
    en: "There is no such hall. Check the link or scan the code again.",
};
const NOT_HERE: Words = Words {
    zh: "此页面不在这里。请在营业厅内打开。",
    en: "This page is not served here. Open it in the hall.",
};

/// Why a phone gets no page of its hall's: a page in both languages, or for
/// the pages' own API calls the hall's error shape (their scripts show it).
fn told(status: StatusCode, words: &Words, api: bool) -> Response {
    let mut response = if api {
        let code = match status {
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::BAD_GATEWAY => "unavailable",
            _ => "not_found",
        };
        let body = hall_api::ErrorBody {
            error: hall_api::ErrorDetail {
                code: code.into(),
                message: format!("{} {}", words.zh, words.en),
            },
        };
        (status, axum::Json(body)).into_response()
    } else {
        page(status, words)
    };
    if status == StatusCode::SERVICE_UNAVAILABLE {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
    }
    response
}

fn page(status: StatusCode, words: &Words) -> Response {
    let html = format!(
        "<!doctype html><html lang=\"zh-CN\"><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><body style=\"font-family:sans-serif;padding:1.5em;line-height:1.5\">\
         <p id=\"zh\" style=\"font-size:1.3em\">{}</p><p id=\"en\" lang=\"en\">{}</p></body></html>",
        status.canonical_reason().unwrap_or(""),
        words.zh,
        words.en
    );
    (
        status,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

/// The largest request body a phone may send through (a booking or a
/// rating is a few hundred bytes).
pub const REQUEST_BODY_MAX: usize = 16 * 1024;

const _: () = assert!(REQUEST_BODY_MAX <= RELAY_BODY_MAX);
