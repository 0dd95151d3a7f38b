//! The one error type of the HTTP API: RFC 9457 problem details.
//!
//! Every handler returns `Result<_, Problem>`; [`Problem`]'s `IntoResponse` renders
//! `application/problem+json` with `type`, `title`, `status`, `detail`, and `pointer` (RFC
//! 6901, into the submitted entry) and `line` (1-based, in an NDJSON batch) when known.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pacta_core::entry::{AuthError, EntryError, EntryErrorReason};
use serde::Serialize;

/// The media type of a problem document.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Prefix of every problem `type`: a URN names the kind of problem without promising a page.
const TYPE_PREFIX: &str = "urn:pacta:problem:";

/// What went wrong, as a stable machine-readable kind (the end of the `type` URI).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ProblemKind {
    /// The body is not JSON, or the entry does not match its schema.
    InvalidEntry,
    /// The signer is not listed, or is listed under another role.
    Unauthorised,
    /// The signature does not verify strictly under the signer's keys.
    BadSignature,
    /// The entry is for another agreement.
    WrongAgreement,
    /// An entry id reused for a different body.
    IdConflict,
    /// `submitted_at` too far in the future.
    ClockSkew,
    /// A body, batch or entry over its documented limit.
    TooLarge,
    /// The endpoint takes another schema, or another media type.
    WrongEndpoint,
    /// A path or query parameter that is malformed.
    BadRequest,
    /// Nothing at this path.
    NotFound,
    /// The server cannot take submissions now (queue full, log failure).
    Unavailable,
    /// A write without a bearer token the server knows (when tokens are configured).
    Unauthenticated,
    /// The bearer token does not hold the role this endpoint's entries are written by.
    TokenRole,
    /// The client sent writes faster than its rate limit.
    RateLimited,
    /// A bug or an I/O failure on the server.
    Internal,
}

impl ProblemKind {
    /// The slug used in the `type` URI and in metrics labels.
    pub fn slug(self) -> &'static str {
        match self {
            ProblemKind::InvalidEntry => "invalid-entry",
            ProblemKind::Unauthorised => "unauthorised-signer",
            ProblemKind::BadSignature => "bad-signature",
            ProblemKind::WrongAgreement => "wrong-agreement",
            ProblemKind::IdConflict => "id-conflict",
            ProblemKind::ClockSkew => "clock-skew",
            ProblemKind::TooLarge => "too-large",
            ProblemKind::WrongEndpoint => "wrong-endpoint",
            ProblemKind::BadRequest => "bad-request",
            ProblemKind::NotFound => "not-found",
            ProblemKind::Unavailable => "unavailable",
            ProblemKind::Unauthenticated => "unauthenticated",
            ProblemKind::TokenRole => "token-role",
            ProblemKind::RateLimited => "rate-limited",
            ProblemKind::Internal => "internal",
        }
    }

    fn title(self) -> &'static str {
        match self {
            ProblemKind::InvalidEntry => "The entry is not valid",
            ProblemKind::Unauthorised => "The signer is not authorised for this entry",
            ProblemKind::BadSignature => "The signature does not verify",
            ProblemKind::WrongAgreement => "The entry is for another agreement",
            ProblemKind::IdConflict => "The entry id is already used by a different entry",
            ProblemKind::ClockSkew => "The submission time is too far in the future",
            ProblemKind::TooLarge => "The request is over a limit",
            ProblemKind::WrongEndpoint => "The entry does not belong at this endpoint",
            ProblemKind::BadRequest => "The request is malformed",
            ProblemKind::NotFound => "Not found",
            ProblemKind::Unavailable => "The server cannot take this request now",
            ProblemKind::Unauthenticated => "A valid bearer token is required",
            ProblemKind::TokenRole => "The token may not write this kind of entry",
            ProblemKind::RateLimited => "Too many write requests",
            ProblemKind::Internal => "Internal server error",
        }
    }

    /// The HTTP status this kind of problem is answered with.
    pub fn status(self) -> StatusCode {
        match self {
            ProblemKind::InvalidEntry | ProblemKind::BadRequest => StatusCode::BAD_REQUEST,
            ProblemKind::Unauthorised | ProblemKind::BadSignature | ProblemKind::TokenRole => {
                StatusCode::FORBIDDEN
            }
            ProblemKind::Unauthenticated => StatusCode::UNAUTHORIZED,
            ProblemKind::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ProblemKind::WrongAgreement | ProblemKind::ClockSkew | ProblemKind::WrongEndpoint => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ProblemKind::IdConflict => StatusCode::CONFLICT,
            ProblemKind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ProblemKind::NotFound => StatusCode::NOT_FOUND,
            ProblemKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ProblemKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An RFC 9457 problem: the error every handler returns.
#[derive(Clone, Debug, PartialEq, Serialize, thiserror::Error)]
#[error("{title}: {detail}")]
pub struct Problem {
    #[serde(rename = "type")]
    type_uri: String,
    title: &'static str,
    status: u16,
    detail: String,
    /// RFC 6901 pointer into the submitted entry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pointer: Option<String>,
    /// 1-based line of an NDJSON batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip)]
    kind: ProblemKind,
}

impl Problem {
    /// A problem of `kind` explained by `detail`.
    pub fn new(kind: ProblemKind, detail: impl Into<String>) -> Problem {
        Problem {
            type_uri: format!("{TYPE_PREFIX}{}", kind.slug()),
            title: kind.title(),
            status: kind.status().as_u16(),
            detail: detail.into(),
            pointer: None,
            line: None,
            kind,
        }
    }

    /// The same problem, located at `pointer` in the entry.
    pub fn at_pointer(mut self, pointer: impl Into<String>) -> Problem {
        self.pointer = Some(pointer.into());
        self
    }

    /// The same problem, located on `line` of a batch.
    pub fn at_line(mut self, line: usize) -> Problem {
        self.line = Some(line);
        self
    }

    /// What kind of problem this is.
    pub fn kind(&self) -> ProblemKind {
        self.kind
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    /// The explanation.
    pub fn detail(&self) -> &str {
        &self.detail
    }

    /// A failure of the server itself; the detail is for the operator and names what failed.
    pub fn internal(detail: impl std::fmt::Display) -> Problem {
        Problem::new(ProblemKind::Internal, detail.to_string())
    }

    /// Nothing at this path.
    pub fn not_found(detail: impl Into<String>) -> Problem {
        Problem::new(ProblemKind::NotFound, detail)
    }

    /// A malformed path or query parameter.
    pub fn bad_request(detail: impl Into<String>) -> Problem {
        Problem::new(ProblemKind::BadRequest, detail)
    }
}

impl From<EntryError> for Problem {
    fn from(error: EntryError) -> Problem {
        let kind = match error.reason {
            EntryErrorReason::TooLarge { .. } => ProblemKind::TooLarge,
            _ => ProblemKind::InvalidEntry,
        };
        let pointer = error.pointer.clone();
        Problem::new(kind, error.to_string()).at_pointer(pointer)
    }
}

impl From<AuthError> for Problem {
    fn from(error: AuthError) -> Problem {
        let (kind, pointer) = match &error {
            AuthError::WrongAgreement { .. } => (ProblemKind::WrongAgreement, "/agreement"),
            AuthError::UnknownSigner { .. }
            | AuthError::NoKeys { .. }
            | AuthError::SignedByOther { .. } => (ProblemKind::Unauthorised, ""),
            AuthError::Unsigned
            | AuthError::BadSignatureEncoding(_)
            | AuthError::BadSignature { .. } => (ProblemKind::BadSignature, "/signature"),
            AuthError::Canonical(_) => (ProblemKind::InvalidEntry, ""),
            AuthError::ModeNotRegistered { .. } => (ProblemKind::Unauthorised, "/mode"),
            AuthError::UnknownParty { .. } => (ProblemKind::InvalidEntry, "/attribution/party"),
        };
        let problem = Problem::new(kind, error.to_string());
        if pointer.is_empty() {
            problem
        } else {
            problem.at_pointer(pointer)
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::to_vec(&self).unwrap_or_else(|_| {
            // Serializing strings and integers cannot fail; keep a valid document anyway.
            br#"{"type":"urn:pacta:problem:internal","title":"Internal server error","status":500}"#
                .to_vec()
        });
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_serializes_rfc9457_members() {
        let problem = Problem::new(ProblemKind::ClockSkew, "too late")
            .at_pointer("/submitted_at")
            .at_line(3);
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["type"], "urn:pacta:problem:clock-skew");
        assert_eq!(json["status"], 422);
        assert_eq!(json["detail"], "too late");
        assert_eq!(json["pointer"], "/submitted_at");
        assert_eq!(json["line"], 3);
    }

    #[test]
    fn problem_response_has_problem_json_content_type() {
        let response = Problem::not_found("no such tile").into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
    }
}
