//! The one error type of head office's API, answered as
//! `{"error": {"code", "message"}}` with the matching status.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use hall_api::{ErrorBody, ErrorDetail};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    NotFound(String),
    /// Not signed in, or the session ended.
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// Too many tries; wait this many seconds.
    #[error("{0}")]
    TooMany(String, u64),
    /// PostgreSQL is away or failed; the client may retry.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<tokio_postgres::Error> for Error {
    fn from(e: tokio_postgres::Error) -> Self {
        Error::Unavailable(format!(
            "the company database failed: {e}; retry, and if it persists check PostgreSQL"
        ))
    }
}

/// The hall's errors (its hasher, its sign-in guard, its rules) as head
/// office answers them.
impl From<queue_server::error::Error> for Error {
    fn from(e: queue_server::error::Error) -> Self {
        use queue_server::error::Error as Hall;
        match e {
            Hall::BadRequest(m) => Error::BadRequest(m),
            Hall::TooMany(m, wait_s) => Error::TooMany(m, wait_s),
            Hall::Unavailable(m) => Error::Unavailable(m),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl From<deadpool_postgres::PoolError> for Error {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        Error::Unavailable(format!(
            "cannot reach the company database: {e}; is PostgreSQL running?"
        ))
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            Error::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            Error::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            Error::TooMany(..) => (StatusCode::TOO_MANY_REQUESTS, "too_many"),
            Error::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Error::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        if status.is_server_error() {
            tracing::warn!(error = %self, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message: self.to_string(),
            },
        };
        let mut resp = (status, Json(body)).into_response();
        if let Error::TooMany(_, wait_s) = self {
            resp.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, wait_s.into());
        }
        resp
    }
}
