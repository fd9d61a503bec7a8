//! The one place where failures become HTTP answers: every error the server sends has the
//! JSON body `{"error":{"code","message"}}`, and 5xx causes are logged, never shown.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use crate::db::DbError;
use crate::domain::InvalidField;

/// Every failure a handler can report, named by the status it becomes.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// `400 bad_request`: malformed input; the message names the field.
    #[error("{0}")]
    BadRequest(String),
    /// `401 unauthorized` with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),
    /// `403 forbidden`: a member, but not allowed to do this.
    #[error("{0}")]
    Forbidden(String),
    /// `404 not_found`: no such route, or not the caller's to see.
    #[error("{0}")]
    NotFound(String),
    /// `405 method_not_allowed`, with the methods the path does allow.
    #[error("method not allowed")]
    MethodNotAllowed {
        /// The `Allow` header's value.
        allow: String,
    },
    /// `409 conflict`.
    #[error("{0}")]
    Conflict(String),
    /// `413 payload_too_large`.
    #[error("{0}")]
    PayloadTooLarge(String),
    /// `415 unsupported_media_type`.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// `426 upgrade_required`, with `Sec-WebSocket-Version: 13`.
    #[error("{0}")]
    UpgradeRequired(String),
    /// `429 rate_limited`, with `Retry-After`.
    #[error("too many requests, retry in {retry_after_secs} s")]
    RateLimited {
        /// The `Retry-After` header's value.
        retry_after_secs: u64,
    },
    /// `503 unavailable`: the database cannot be reached.
    #[error("service unavailable")]
    Unavailable,
    /// `500 internal`: logged with its cause, answered without it.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// The `code` string of the JSON body for a status.
    pub fn code_for(status: StatusCode) -> &'static str {
        match status.as_u16() {
            400 => "bad_request",
            401 => "unauthorized",
            403 => "forbidden",
            404 => "not_found",
            405 => "method_not_allowed",
            409 => "conflict",
            413 => "payload_too_large",
            415 => "unsupported_media_type",
            426 => "upgrade_required",
            429 => "rate_limited",
            503 => "unavailable",
            s if s >= 500 => "internal",
            _ => "bad_request",
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        AppError::from_db(e, "querying the database")
    }
}

impl From<InvalidField> for AppError {
    fn from(e: InvalidField) -> Self {
        AppError::BadRequest(e.to_string())
    }
}

impl AppError {
    /// A storage failure while `doing` something: unreachable is `503` (logged once here
    /// as a warning), anything else a `500` whose cause keeps what was being done.
    fn from_db(e: DbError, doing: &'static str) -> AppError {
        match e {
            DbError::Unavailable(cause) => {
                log::warn!("database unavailable while {doing}: {cause}");
                AppError::Unavailable
            }
            DbError::Query(cause) => {
                AppError::Internal(anyhow::Error::new(cause).context(format!("{doing} failed")))
            }
        }
    }
}

/// `.context("what was being done")` on a storage result, as `anyhow` has it for any
/// error: the cause of a 500 then says which step failed.
pub trait DbContext<T> {
    /// Turns a [`DbError`] into an [`AppError`] that names the step.
    fn context(self, doing: &'static str) -> Result<T, AppError>;
}

impl<T> DbContext<T> for Result<T, DbError> {
    fn context(self, doing: &'static str) -> Result<T, AppError> {
        self.map_err(|e| AppError::from_db(e, doing))
    }
}

/// The JSON error body.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// What went wrong.
    pub error: ErrorDetail,
}

/// What went wrong, for machines (`code`) and people (`message`).
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, for machines: `not_found`, `rate_limited`…
    pub code: &'static str,
    /// For people; names the field on a 400.
    pub message: String,
}

/// Builds the JSON error response for `status`; used by handlers and by the error
/// normaliser for actix's own errors alike.
pub fn error_response(status: StatusCode, message: impl Into<String>) -> HttpResponse {
    let mut builder = HttpResponse::build(status);
    if status == StatusCode::UNAUTHORIZED {
        builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
    }
    builder.json(ErrorBody {
        error: ErrorDetail {
            code: AppError::code_for(status),
            message: message.into(),
        },
    })
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::UpgradeRequired(_) => StatusCode::UPGRADE_REQUIRED,
            AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = match self {
            AppError::Internal(cause) => {
                log::error!("internal error: {cause:#}");
                "internal server error".to_string()
            }
            other => other.to_string(),
        };
        let mut response = error_response(status, message);
        let headers = response.headers_mut();
        match self {
            AppError::MethodNotAllowed { allow } => {
                if let Ok(value) = header::HeaderValue::from_str(allow) {
                    headers.insert(header::ALLOW, value);
                }
            }
            AppError::RateLimited { retry_after_secs } => {
                headers.insert(
                    header::RETRY_AFTER,
                    header::HeaderValue::from(*retry_after_secs),
                );
            }
            AppError::UpgradeRequired(_) => {
                headers.insert(
                    header::SEC_WEBSOCKET_VERSION,
                    header::HeaderValue::from_static("13"),
                );
            }
            _ => {}
        }
        response
    }
}
