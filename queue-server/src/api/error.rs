//! Errors as HTTP answers: `{"error": {"code", "message"}}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hall_api::{ErrorBody, ErrorDetail};

use crate::error::Error;

impl Error {
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            Error::TooEarly(_) => (StatusCode::CONFLICT, "too_early"),
            Error::TooMany(..) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            Error::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Error::Timeout(_) => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(%status, error = %self, "request failed");
        }
        let mut resp = (
            status,
            Json(ErrorBody {
                error: ErrorDetail {
                    code: code.into(),
                    message: self.to_string(),
                },
            }),
        )
            .into_response();
        let headers = resp.headers_mut();
        match &self {
            Error::Unauthorized(_) => {
                headers.insert("www-authenticate", HeaderValue::from_static("Bearer"));
            }
            // When to try again: after the lockout, or in a moment.
            Error::TooMany(_, secs) => {
                headers.insert("retry-after", HeaderValue::from(*secs));
            }
            Error::Unavailable(_) => {
                headers.insert("retry-after", HeaderValue::from_static("1"));
            }
            Error::Timeout(_) => {
                headers.insert("connection", HeaderValue::from_static("close"));
            }
            _ => {}
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(e: Error, name: &str) -> Option<String> {
        let resp = e.into_response();
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_string())
    }

    #[test]
    fn answers_say_when_to_retry_and_how_to_authenticate() {
        assert_eq!(
            header(Error::TooMany("wait".into(), 42), "retry-after").as_deref(),
            Some("42")
        );
        assert_eq!(
            header(Error::Unavailable("disk".into()), "retry-after").as_deref(),
            Some("1")
        );
        assert_eq!(
            header(Error::Unauthorized("who".into()), "www-authenticate").as_deref(),
            Some("Bearer")
        );
        assert_eq!(
            header(Error::Timeout("slow".into()), "connection").as_deref(),
            Some("close")
        );
        assert_eq!(header(Error::Conflict("no".into()), "retry-after"), None);
        let (status, code) = Error::TooLarge(String::new()).status_and_code();
        assert_eq!((status.as_u16(), code), (413, "payload_too_large"));
    }
}
