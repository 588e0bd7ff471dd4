//! The API's one error type. Handlers return it whatever their dialect; the
//! dialect's layer renders it in that dialect's shape (see `dialect`).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use store::StoreError;

/// The class of an error, which decides its status and code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// 400: the request is malformed or a value is wrong.
    InvalidArgument,
    /// 401: no valid credentials.
    Unauthenticated,
    /// 403: valid credentials, too little permission.
    PermissionDenied,
    /// 404: nothing there (or not visible to the caller).
    NotFound,
    /// 405: the path exists, the method does not.
    MethodNotAllowed,
    /// 409: a duplicate, or still in use.
    AlreadyExists,
    /// 413: the body is larger than allowed.
    PayloadTooLarge,
    /// 429: a rate limit or quota was reached.
    ResourceExhausted,
    /// 500: our fault; details are logged, never sent.
    Internal,
    /// 503: the server cannot take this now (too many calls, overloaded,
    /// stopping); try again later.
    Unavailable,
}

impl ErrorKind {
    /// The HTTP status.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::InvalidArgument => StatusCode::BAD_REQUEST,
            ErrorKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ErrorKind::PermissionDenied => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::AlreadyExists => StatusCode::CONFLICT,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The gRPC-style code name, as Fonoster spells it.
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::InvalidArgument => "INVALID_ARGUMENT",
            ErrorKind::Unauthenticated => "UNAUTHENTICATED",
            ErrorKind::PermissionDenied => "PERMISSION_DENIED",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::MethodNotAllowed => "UNIMPLEMENTED",
            ErrorKind::AlreadyExists => "ALREADY_EXISTS",
            ErrorKind::PayloadTooLarge | ErrorKind::ResourceExhausted => "RESOURCE_EXHAUSTED",
            ErrorKind::Internal => "INTERNAL",
            ErrorKind::Unavailable => "UNAVAILABLE",
        }
    }
}

/// What is wrong with one field of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, in snake_case; dialects re-case it.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// Its class.
    pub kind: ErrorKind,
    /// A sentence for people.
    pub message: String,
    /// Field-level problems, for `InvalidArgument`.
    pub details: Vec<FieldError>,
    /// Seconds until a retry may succeed, for `ResourceExhausted` and
    /// `Unavailable`.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> ApiError {
        ApiError { kind, message: message.into(), details: Vec::new(), retry_after: None }
    }
    /// 400 with a message.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::InvalidArgument, message)
    }
    /// 400 for the given field problems.
    pub fn fields(details: Vec<FieldError>) -> ApiError {
        let message =
            details.iter().map(|d| format!("{}: {}", d.field, d.message)).collect::<Vec<_>>().join("; ");
        ApiError { details, ..ApiError::invalid(message) }
    }
    /// 400 for one field.
    pub fn field(field: &str, message: impl Into<String>) -> ApiError {
        ApiError::fields(vec![FieldError { field: field.to_owned(), message: message.into() }])
    }
    /// 401.
    pub fn unauthenticated(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::Unauthenticated, message)
    }
    /// 403.
    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(ErrorKind::PermissionDenied, message)
    }
    /// 404 for a thing called `what`.
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(ErrorKind::NotFound, format!("{what} not found"))
    }
    /// 500; the cause is logged here and not sent.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(%cause, "internal error");
        ApiError::new(ErrorKind::Internal, "internal error")
    }
    /// 429 with a `Retry-After`.
    pub fn exhausted(message: impl Into<String>, retry_after: Option<u64>) -> ApiError {
        ApiError { retry_after, ..ApiError::new(ErrorKind::ResourceExhausted, message) }
    }

    /// 503 with a `Retry-After`.
    pub fn unavailable(message: impl Into<String>, retry_after: u64) -> ApiError {
        ApiError { retry_after: Some(retry_after), ..ApiError::new(ErrorKind::Unavailable, message) }
    }

    /// Why a call could not be placed, the same in every dialect: `field`
    /// names the destination's wire field, `missing` what was not found.
    pub fn placing(e: engine::calls::OriginateError, field: &str, missing: &str) -> ApiError {
        use engine::calls::OriginateError as E;
        match e {
            E::NotFound => ApiError::not_found(missing),
            E::NoRoute(_, reason) => ApiError::field(field, format!("cannot be reached: {reason}")),
            e @ (E::Unreachable | E::BadDestination(_)) => ApiError::invalid(e.to_string()),
            e @ E::Refused(engine::calls::Refusal::Quota) => ApiError::exhausted(e.to_string(), Some(5)),
            E::Refused(r) => {
                ApiError::unavailable(format!("no call can be placed now: {r}"), r.retry_after().into())
            }
            e @ E::NoMedia => ApiError::unavailable(e.to_string(), 5),
            e @ E::Store => ApiError::internal(e),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::Duplicate { resource, field } => ApiError {
                details: vec![FieldError { field: field.to_owned(), message: "already exists".into() }],
                ..ApiError::new(
                    ErrorKind::AlreadyExists,
                    format!("a {resource} with this {field} already exists"),
                )
            },
            StoreError::DanglingRef { field, target } => {
                ApiError::field(field, format!("refers to a {target} that does not exist"))
            }
            StoreError::TooLong { field, max } => {
                ApiError::field(field, format!("is too long (at most {max} characters)"))
            }
            e @ StoreError::InUse { .. } => ApiError::new(ErrorKind::AlreadyExists, e.to_string()),
            StoreError::Row { index, source } => {
                let inner = ApiError::from(*source);
                ApiError { message: format!("row {}: {}", index + 1, inner.message), ..inner }
            }
            e if e.is_unique_violation() => ApiError::new(ErrorKind::AlreadyExists, "already exists"),
            // Writers wait for each other and retry; if the store is still
            // too busy after that, the client is told to come back, never
            // that the server failed.
            e if e.is_busy() => {
                tracing::warn!(error = %e, "the store is too busy");
                ApiError::exhausted("the store is busy; try again", Some(1))
            }
            e => ApiError::internal(e),
        }
    }
}

impl From<engine::secrets::SealError> for ApiError {
    fn from(e: engine::secrets::SealError) -> ApiError {
        ApiError::internal(e)
    }
}

impl IntoResponse for ApiError {
    /// Renders in the Fonoster shape; a dialect's layer re-renders it in its
    /// own (it finds the error in the response's extensions).
    fn into_response(self) -> Response {
        let mut response = crate::dialect::Dialect::Fonoster.render(&self);
        response.extensions_mut().insert(self);
        response
    }
}

/// Adds the status and `Retry-After` of `err` to a rendered body.
pub(crate) fn finish(err: &ApiError, body: serde_json::Value) -> Response {
    let mut response = (err.kind.status(), axum::Json(body)).into_response();
    if let Some(secs) = err.retry_after {
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use engine::calls::{OriginateError, Refusal};

    #[test]
    fn calls_refused_by_the_server_are_503_and_a_quota_429() {
        for refusal in [Refusal::Full, Refusal::Overload, Refusal::Behind, Refusal::Draining] {
            let e = ApiError::placing(OriginateError::Refused(refusal), "to", "agent");
            assert_eq!((e.kind.status(), e.kind.code()), (StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE"));
            assert_eq!(e.retry_after, Some(refusal.retry_after().into()));
        }
        let e = ApiError::placing(OriginateError::NoMedia, "to", "agent");
        assert_eq!((e.kind, e.retry_after), (ErrorKind::Unavailable, Some(5)));
        let e = ApiError::placing(OriginateError::Refused(Refusal::Quota), "to", "agent");
        assert_eq!(e.kind.status(), StatusCode::TOO_MANY_REQUESTS);
    }

    #[test]
    fn every_dialect_renders_503_with_retry_after() {
        use crate::dialect::Dialect;
        let e = ApiError::unavailable("overloaded", 5);
        for d in [Dialect::Fonoster, Dialect::Pbx, Dialect::Vonage, Dialect::VoipStudio] {
            let r = d.render(&e);
            assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE, "{d:?}");
            assert_eq!(
                r.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()),
                Some("5"),
                "{d:?}"
            );
        }
    }
}
