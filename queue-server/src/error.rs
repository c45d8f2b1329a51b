//! The one error type of the server's operations; the API turns it into
//! `{"error": {"code", "message"}}` with the matching status.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// The request is valid but not in the current state (illegal transition).
    #[error("{0}")]
    Conflict(String),
    /// A 409 that will pass later (check-in before an appointment's window).
    #[error("{0}")]
    TooEarly(String),
    /// Too many attempts (wrong PINs); wait the given seconds.
    #[error("{0}")]
    TooMany(String, u64),
    /// The request's body is larger than this endpoint takes.
    #[error("{0}")]
    TooLarge(String),
    /// The client did not send its request in time.
    #[error("{0}")]
    Timeout(String),
    /// Storage failed or the server is shutting down; the client may retry.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Internal(String),
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::Unavailable(format!(
            "the hall database failed: {e}; retry, and if it persists check the disk and the server log"
        ))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
