//! One application error. Users get a precise 4xx message naming the field and the problem;
//! a 500 gets a generic body with an id, and the cause chain goes to the log only.

use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

pub use crate::domain::input::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Malformed request: a parameter that cannot be parsed (400).
    #[error("{}", .0.message)]
    BadRequest(FieldError),
    /// Not signed in, or the token is no longer valid (401).
    #[error("sign in required")]
    Unauthorized,
    /// The password was right but the account's second-factor code is missing or wrong (401).
    #[error("enter the code from your authenticator app, or a recovery code, as \"otp\"")]
    OtpRequired,
    /// The role must set up two-step verification before anything else (403).
    #[error("set up two-step verification first: POST /api/v1/me/mfa/totp, then POST /api/v1/me/mfa/totp/confirm with a code")]
    MfaEnrolmentRequired,
    /// Signed in but this role may never do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// Missing, or not visible to this user (404).
    #[error("not found")]
    NotFound,
    /// The request conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// Understood but refused: the fields and the reasons (422).
    #[error("{}", first_message(.0))]
    Invalid(Vec<FieldError>),
    /// Upload too large (413).
    #[error("{0}")]
    TooLarge(String),
    /// Upload of a type not accepted (415).
    #[error("{0}")]
    UnsupportedType(String),
    /// Throttled (429), with seconds to wait.
    #[error("too many attempts: try again in {0} seconds")]
    TooManyRequests(u64),
    /// A dependency is down (503), with seconds after which to try again.
    #[error("{0}")]
    Unavailable(String),
    /// The document store has no space left (507); nothing was saved.
    #[error("{STORAGE_FULL}")]
    StorageFull,
    /// Anything else (500): logged with an id, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What a full document store answers, on the page and in the API.
pub const STORAGE_FULL: &str = "the document store is full; nothing was saved";

/// Seconds a client is told to wait (`Retry-After`) while the database is unavailable.
pub const RETRY_AFTER_SECS: u64 = 5;

fn first_message(errors: &[FieldError]) -> String {
    errors
        .first()
        .map(|e| format!("{}: {}", e.field, e.message))
        .unwrap_or_else(|| "invalid input".into())
}

impl From<FieldError> for AppError {
    /// A 422 for the one field.
    fn from(e: FieldError) -> Self {
        AppError::Invalid(vec![e])
    }
}

impl AppError {
    /// A 422 for one field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }

    /// A 400 for one parameter.
    pub fn bad_request(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::BadRequest(FieldError::new(field, message))
    }

    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        AppError::Internal(e.into())
    }

    /// The field errors, for forms.
    pub fn field_errors(&self) -> Vec<FieldError> {
        match self {
            AppError::Invalid(v) => v.clone(),
            AppError::BadRequest(e) => vec![e.clone()],
            _ => vec![],
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::BadRequest(_) => "bad_request",
            AppError::Unauthorized => "unauthorized",
            AppError::OtpRequired => "otp_required",
            AppError::MfaEnrolmentRequired => "mfa_enrolment_required",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::Invalid(_) => "invalid",
            AppError::TooLarge(_) => "too_large",
            AppError::UnsupportedType(_) => "unsupported_type",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Unavailable(_) => "unavailable",
            AppError::StorageFull => "storage_full",
            AppError::Internal(_) => "internal",
        }
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(e: diesel::result::Error) -> Self {
        if crate::db::is_unavailable(&e) {
            tracing::warn!(error = %crate::telemetry::redact(&e.to_string()), "database unavailable; answered 503");
            return AppError::Unavailable(DB_UNAVAILABLE.into());
        }
        AppError::Internal(e.into())
    }
}

const DB_UNAVAILABLE: &str = "the database is not answering; try again shortly";

impl From<crate::store::StoreError> for AppError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            crate::store::StoreError::Full(cause) => {
                tracing::error!(cause = %crate::telemetry::redact(&cause), "the document store is full");
                AppError::StorageFull
            }
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<crate::db::DbError> for AppError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Pool(e) => {
                tracing::warn!(error = %crate::telemetry::redact(&e.to_string()), "no database connection; answered 503");
                AppError::Unavailable(DB_UNAVAILABLE.into())
            }
            crate::db::DbError::Down => AppError::Unavailable(DB_UNAVAILABLE.into()),
            crate::db::DbError::Query(q) => q.into(),
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<actix_web::error::BlockingError> for AppError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        AppError::Internal(anyhow::anyhow!("blocking task failed: {e}"))
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    fields: &'a [FieldError],
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<String>,
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Unauthorized | AppError::OtpRequired => StatusCode::UNAUTHORIZED,
            AppError::MfaEnrolmentRequired => StatusCode::FORBIDDEN,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::UnsupportedType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::StorageFull => StatusCode::INSUFFICIENT_STORAGE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let mut id = None;
        let message = match self {
            AppError::Internal(e) => {
                let error_id = crate::web::request_id::current()
                    .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
                tracing::error!(error_id = %error_id, error = %crate::telemetry::redact_debug(&e), "internal error");
                id = Some(error_id);
                "something went wrong on our side; the error has been logged".to_string()
            }
            other => other.to_string(),
        };
        let (field, fields): (Option<&str>, &[FieldError]) = match self {
            AppError::BadRequest(e) => (Some(e.field.as_str()), &[]),
            AppError::OtpRequired => (Some("otp"), &[]),
            AppError::Invalid(v) => (v.first().map(|e| e.field.as_str()), v.as_slice()),
            _ => (None, &[]),
        };
        let mut builder = HttpResponse::build(self.status_code());
        if let AppError::TooManyRequests(secs) = self {
            builder.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let AppError::Unavailable(_) = self {
            builder.insert_header((header::RETRY_AFTER, RETRY_AFTER_SECS.to_string()));
        }
        if let AppError::Unauthorized | AppError::OtpRequired = self {
            builder.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        builder.json(ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message,
                field,
                fields,
                id,
            },
        })
    }
}
