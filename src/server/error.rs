//! The server's one error type. Every failure a handler can meet becomes an [`AppError`],
//! answered as JSON `{"error": "<what was wrong and what to do>", "kind": "<kind>"}` with
//! a status that says whose fault it was. The kind is also put in the response extensions
//! ([`ErrorKind`]) so the request-counting middleware counts errors by kind in one place.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A failed request.
#[derive(Debug, thiserror::Error)]
pub(crate) enum AppError {
    /// 400: the request itself is wrong; the message quotes the input and says what is
    /// accepted.
    #[error("{0}")]
    BadRequest(String),
    /// 403: the request's `Host` or `Origin` does not name this server (see `guard.rs`).
    #[error("{0}")]
    Forbidden(String),
    /// 404: no endpoint at this path; the message quotes the path and lists the endpoints.
    #[error("{0}")]
    NotFound(String),
    /// 405: e.g. `GET /api/collect`; the message says which method to use.
    #[error("{0}")]
    MethodNotAllowed(String),
    /// 507: a leaking endpoint reached its cap; the message names the cap and how to reset.
    #[error("{message}")]
    CapReached { kind: &'static str, message: String },
    /// 502: the upstream of a client endpoint failed; `kind` is e.g. `address not
    /// available`, `connection refused`, `timeout`.
    #[error("{message}")]
    Upstream { kind: String, message: String },
    /// 503: the OS refused a resource (e.g. the inotify instance limit); `kind` names it.
    #[error("{message}")]
    Unavailable { kind: String, message: String },
    /// 500: a bug or an unexpected failure.
    #[error("{0}")]
    Internal(String),
}

/// The kind of a failed request, attached to its response for the error counters.
#[derive(Debug, Clone)]
pub(crate) struct ErrorKind(pub String);

impl AppError {
    /// The kind counted in `/api/diagnostics` `errors`.
    pub(crate) fn kind(&self) -> String {
        match self {
            AppError::BadRequest(_) => "bad request".to_string(),
            AppError::Forbidden(_) => "forbidden".to_string(),
            AppError::NotFound(_) => "not found".to_string(),
            AppError::MethodNotAllowed(_) => "method not allowed".to_string(),
            AppError::CapReached { kind, .. } => (*kind).to_string(),
            AppError::Upstream { kind, .. } | AppError::Unavailable { kind, .. } => kind.clone(),
            AppError::Internal(_) => "internal".to_string(),
        }
    }

    /// The HTTP status that says whose fault the failure was.
    pub(crate) fn status(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            AppError::CapReached { .. } => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Upstream { .. } => StatusCode::BAD_GATEWAY,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let kind = self.kind();
        let body = Json(json!({ "error": self.to_string(), "kind": kind }));
        let mut response = (self.status(), body).into_response();
        response.extensions_mut().insert(ErrorKind(kind));
        response
    }
}
