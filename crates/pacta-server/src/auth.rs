//! Role-scoped bearer tokens for the write endpoints (DESIGN.md §8), off unless
//! `tokens_file` is configured.
//!
//! Signatures already decide who may write what; tokens are defence in depth in front of
//! them: a request without a token the server knows is refused before its body is read or
//! any signature verified, so a flood of unauthenticated writes costs a hash, not an Ed25519
//! verification. The file holds only the SHA-256 of each secret, so reading it (or a backup
//! of it) does not give a secret away:
//!
//! ```toml
//! [[token]]
//! name = "gateway-north"
//! sha256 = "<64 hex digits: SHA-256 of the secret>"
//! roles = ["monitor"]
//! ```
//!
//! The server looks at the file again at most once a second while writes arrive, and reads
//! it anew when it changed ([`WatchedTokens`]): a token added or revoked takes effect without
//! a restart. A changed file that does not parse is reported in the log and the tokens read
//! before stay in force (so a half-saved edit does not lock every writer out); replace the
//! file atomically (write a copy, rename it over) to avoid that window.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use pacta_core::agreement::model::Role;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::problem::{Problem, ProblemKind};
use crate::state::AppState;

/// Each write endpoint and the role whose entries it takes.
pub const WRITE_ENDPOINTS: [(&str, Role); 5] = [
    ("/v1/reports", Role::Monitor),
    ("/v1/retractions", Role::Monitor),
    ("/v1/actions", Role::Guarantor),
    ("/v1/objections", Role::Party),
    ("/v1/rulings", Role::Panel),
];

/// The role a token must hold to write to `path`, if `path` is a write endpoint.
pub fn endpoint_role(path: &str) -> Option<Role> {
    WRITE_ENDPOINTS
        .iter()
        .find(|(endpoint, _)| *endpoint == path)
        .map(|(_, role)| *role)
}

/// Why a tokens file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum TokensError {
    /// The file could not be read.
    #[error("cannot read the tokens file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not a valid tokens file.
    #[error("the tokens file {path} is invalid: {reason}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// A tokens file as written.
#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct TokensFile {
    #[serde(default)]
    token: Vec<TokenStanza>,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct TokenStanza {
    name: String,
    sha256: String,
    roles: Vec<Role>,
}

/// One token: its name (for operators and problem details), the digest of its secret and
/// the roles it may write as.
#[derive(Debug)]
struct Token {
    name: String,
    digest: [u8; 32],
    roles: BTreeSet<Role>,
}

/// The tokens a server accepts.
#[derive(Debug)]
pub struct Tokens {
    tokens: Vec<Token>,
}

/// Why a write was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No `Authorization: Bearer` header.
    Missing,
    /// A bearer token that matches no configured token.
    Unknown,
    /// A known token that does not hold the endpoint's role.
    Forbidden {
        /// The token's name.
        token: String,
        /// The role the endpoint needs.
        role: Role,
    },
}

/// A role as the tokens file spells it.
pub fn role_label(role: Role) -> &'static str {
    match role {
        Role::Monitor => "monitor",
        Role::Guarantor => "guarantor",
        Role::Party => "party",
        Role::Panel => "panel",
    }
}

/// The SHA-256 of `secret`, as the tokens file holds it (lowercase hex).
pub fn secret_sha256(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The `[[token]]` stanza that lets `secret` write as `roles` under `name`.
pub fn stanza(name: &str, roles: &[Role], secret: &str) -> Result<String, String> {
    let file = TokensFile {
        token: vec![TokenStanza {
            name: name.to_owned(),
            sha256: secret_sha256(secret),
            roles: roles.to_vec(),
        }],
    };
    toml::to_string(&file).map_err(|e| e.to_string())
}

impl Tokens {
    /// Reads and validates a tokens file.
    pub fn load(path: &Path) -> Result<Tokens, TokensError> {
        let text = std::fs::read_to_string(path).map_err(|source| TokensError::Read {
            path: path.to_owned(),
            source,
        })?;
        Tokens::from_toml(&text).map_err(|reason| TokensError::Invalid {
            path: path.to_owned(),
            reason,
        })
    }

    /// Parses a tokens file's text. Every token needs a name, a 64-hex-digit `sha256` and at
    /// least one role; names and digests are unique.
    pub fn from_toml(text: &str) -> Result<Tokens, String> {
        let file: TokensFile = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut tokens: Vec<Token> = Vec::with_capacity(file.token.len());
        for stanza in file.token {
            let name = stanza.name.trim().to_owned();
            if name.is_empty() {
                return Err("a token has an empty `name`".into());
            }
            let mut digest = [0u8; 32];
            hex::decode_to_slice(stanza.sha256.trim(), &mut digest).map_err(|_| {
                format!("token `{name}`: `sha256` must be 64 hex digits (the SHA-256 of the secret, not the secret)")
            })?;
            if stanza.roles.is_empty() {
                return Err(format!("token `{name}` has no `roles`"));
            }
            if let Some(other) = tokens.iter().find(|t| t.name == name || t.digest == digest) {
                return Err(if other.name == name {
                    format!("two tokens are named `{name}`")
                } else {
                    format!("tokens `{}` and `{name}` have the same secret", other.name)
                });
            }
            tokens.push(Token {
                name,
                digest,
                roles: stanza.roles.into_iter().collect(),
            });
        }
        Ok(Tokens { tokens })
    }

    /// How many tokens there are.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether there are none (then every write is refused).
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// The name of the token in `headers` if it may write as `role`.
    pub fn check(&self, headers: &HeaderMap, role: Role) -> Result<&str, Refusal> {
        let secret = bearer(headers).ok_or(Refusal::Missing)?;
        let presented: [u8; 32] = Sha256::digest(secret.as_bytes()).into();
        // Every digest is compared, in constant time, so neither the time taken nor which
        // comparison stopped it tells how close a guess was.
        let mut found = None;
        for token in &self.tokens {
            if bool::from(token.digest.ct_eq(&presented)) && found.is_none() {
                found = Some(token);
            }
        }
        let token = found.ok_or(Refusal::Unknown)?;
        if token.roles.contains(&role) {
            Ok(&token.name)
        } else {
            Err(Refusal::Forbidden {
                token: token.name.clone(),
                role,
            })
        }
    }
}

/// How often, at most, a server looks whether its tokens file changed.
pub const TOKENS_LOOK_EVERY: Duration = Duration::from_secs(1);

/// What tells that a file changed without reading it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileStamp {
    modified: Option<SystemTime>,
    len: u64,
}

fn stamp(path: &Path) -> Option<FileStamp> {
    let metadata = std::fs::metadata(path).ok()?;
    Some(FileStamp {
        modified: metadata.modified().ok(),
        len: metadata.len(),
    })
}

/// A tokens file and the tokens last read from it, read again when the file changes.
#[derive(Debug)]
pub struct WatchedTokens {
    path: PathBuf,
    look_every: Duration,
    loaded: RwLock<(Arc<Tokens>, Option<FileStamp>)>,
    last_look: Mutex<Instant>,
}

impl WatchedTokens {
    /// Reads the tokens file (an unreadable or invalid file is an error here: a server does
    /// not start on one), to be looked at again at most every `look_every`.
    pub fn load(path: &Path, look_every: Duration) -> Result<WatchedTokens, TokensError> {
        let seen = stamp(path);
        let tokens = Tokens::load(path)?;
        Ok(WatchedTokens {
            path: path.to_owned(),
            look_every,
            loaded: RwLock::new((Arc::new(tokens), seen)),
            last_look: Mutex::new(Instant::now()),
        })
    }

    /// The tokens in force: those of the file as it is now, if it changed and parses.
    pub fn current(&self) -> Arc<Tokens> {
        if self.due_for_a_look() {
            self.reload_if_changed();
        }
        // A poisoned lock means a panic while swapping in new tokens; the pair it holds is
        // still whole (it is replaced in one assignment).
        let loaded = self.loaded.read().unwrap_or_else(|p| p.into_inner());
        loaded.0.clone()
    }

    fn due_for_a_look(&self) -> bool {
        let mut last = self.last_look.lock().unwrap_or_else(|p| p.into_inner());
        let due = last.elapsed() >= self.look_every;
        if due {
            *last = Instant::now();
        }
        due
    }

    fn reload_if_changed(&self) {
        let now = stamp(&self.path);
        if now == self.loaded.read().unwrap_or_else(|p| p.into_inner()).1 {
            return;
        }
        let mut loaded = self.loaded.write().unwrap_or_else(|p| p.into_inner());
        match Tokens::load(&self.path) {
            Ok(tokens) => {
                tracing::info!(
                    "the tokens file {} changed: {} tokens now in force",
                    self.path.display(),
                    tokens.len()
                );
                *loaded = (Arc::new(tokens), now);
            }
            Err(e) => {
                // Remember this version so it is reported once; the next change is read.
                tracing::error!("{e}; the tokens read before stay in force until it is fixed");
                loaded.1 = now;
            }
        }
    }
}

/// The secret of an `Authorization: Bearer <secret>` header (scheme case-insensitive).
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, secret) = value.split_once(' ')?;
    let secret = secret.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then_some(secret)
}

impl Refusal {
    /// The problem answered, with the RFC 6750 challenge.
    pub fn respond(self, metrics: &crate::metrics::Metrics) -> Response {
        let (problem, challenge) = match self {
            Refusal::Missing => (
                Problem::new(
                    ProblemKind::Unauthenticated,
                    "writes need `Authorization: Bearer <token>`",
                ),
                r#"Bearer realm="pacta""#,
            ),
            Refusal::Unknown => (
                Problem::new(
                    ProblemKind::Unauthenticated,
                    "the bearer token is not one this server accepts",
                ),
                r#"Bearer realm="pacta", error="invalid_token""#,
            ),
            Refusal::Forbidden { token, role } => (
                Problem::new(
                    ProblemKind::TokenRole,
                    format!(
                        "token `{token}` may not write as {}, which this endpoint needs",
                        role_label(role)
                    ),
                ),
                r#"Bearer realm="pacta", error="insufficient_scope""#,
            ),
        };
        metrics.count_refusal(problem.kind().slug());
        let mut response = problem.into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(challenge),
        );
        response
    }
}

/// Middleware on the write routes: refuses a request whose bearer token is missing, unknown
/// or without the endpoint's role, before its body is read.
pub async fn require_token(
    State((state, tokens)): State<(AppState, Arc<WatchedTokens>)>,
    request: Request,
    next: Next,
) -> Response {
    // Only write routes carry this layer; a path missing from the table needs no role a
    // token could hold, so it is refused rather than let through.
    let Some(role) = endpoint_role(request.uri().path()) else {
        return Problem::new(
            ProblemKind::TokenRole,
            format!("no token may write to {}", request.uri().path()),
        )
        .into_response();
    };
    match tokens.current().check(request.headers(), role) {
        Ok(_) => next.run(request).await,
        Err(refusal) => refusal.respond(state.metrics()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "pacta_test-secret";

    fn headers(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(authorization).unwrap(),
        );
        headers
    }

    fn tokens() -> Tokens {
        let text = stanza("gw", &[Role::Monitor, Role::Panel], SECRET).unwrap();
        Tokens::from_toml(&text).unwrap()
    }

    /// Writes `text` to `path` and dates it `age` seconds from now, so that the change is
    /// seen even on a file system with coarse modification times.
    fn write_dated(path: &Path, text: &str, age: u64) {
        std::fs::write(path, text).unwrap();
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() + Duration::from_secs(age))
            .unwrap();
    }

    #[test]
    fn a_changed_tokens_file_is_read_again_and_a_broken_one_keeps_the_tokens_before() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        let other = "pacta_other-secret";
        write_dated(&path, &stanza("gw", &[Role::Monitor], SECRET).unwrap(), 0);
        let watched = WatchedTokens::load(&path, Duration::ZERO).unwrap();
        let with = |secret: &str| headers(&format!("Bearer {secret}"));
        assert_eq!(
            watched.current().check(&with(SECRET), Role::Monitor),
            Ok("gw")
        );
        // Revoked: the file now lists another token only.
        write_dated(&path, &stanza("gw2", &[Role::Monitor], other).unwrap(), 10);
        assert_eq!(
            watched.current().check(&with(SECRET), Role::Monitor),
            Err(Refusal::Unknown)
        );
        assert_eq!(
            watched.current().check(&with(other), Role::Monitor),
            Ok("gw2")
        );
        // A half-saved file: the tokens before stay.
        write_dated(&path, "[[token]]\nname = \"gw3\"\n", 20);
        assert_eq!(
            watched.current().check(&with(other), Role::Monitor),
            Ok("gw2")
        );
        // Fixed: read again.
        write_dated(&path, &stanza("gw3", &[Role::Panel], other).unwrap(), 30);
        assert_eq!(
            watched.current().check(&with(other), Role::Panel),
            Ok("gw3")
        );
    }

    #[test]
    fn the_file_is_looked_at_no_more_often_than_asked() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.toml");
        write_dated(&path, &stanza("gw", &[Role::Monitor], SECRET).unwrap(), 0);
        let watched = WatchedTokens::load(&path, Duration::from_secs(3_600)).unwrap();
        let other = "pacta_other-secret";
        write_dated(&path, &stanza("gw2", &[Role::Monitor], other).unwrap(), 10);
        // Changed, but not looked at again within the hour: the token read at start holds.
        let with = |secret: &str| headers(&format!("Bearer {secret}"));
        assert_eq!(
            watched.current().check(&with(SECRET), Role::Monitor),
            Ok("gw")
        );
        assert_eq!(
            watched.current().check(&with(other), Role::Monitor),
            Err(Refusal::Unknown)
        );
    }

    #[test]
    fn a_stanza_round_trips_and_holds_no_secret() {
        let text = stanza("gw", &[Role::Monitor], SECRET).unwrap();
        assert!(!text.contains(SECRET), "{text}");
        assert!(text.contains(&secret_sha256(SECRET)));
        assert_eq!(Tokens::from_toml(&text).unwrap().len(), 1);
    }

    #[test]
    fn the_right_token_writes_as_its_roles_only() {
        let tokens = tokens();
        let auth = headers(&format!("Bearer {SECRET}"));
        assert_eq!(tokens.check(&auth, Role::Monitor), Ok("gw"));
        assert_eq!(tokens.check(&auth, Role::Panel), Ok("gw"));
        assert_eq!(
            tokens.check(&auth, Role::Guarantor),
            Err(Refusal::Forbidden {
                token: "gw".into(),
                role: Role::Guarantor
            })
        );
        let lowercase = headers(&format!("bearer  {SECRET} "));
        assert_eq!(tokens.check(&lowercase, Role::Monitor), Ok("gw"));
    }

    #[test]
    fn missing_malformed_and_unknown_tokens_are_refused() {
        let tokens = tokens();
        assert_eq!(
            tokens.check(&HeaderMap::new(), Role::Monitor),
            Err(Refusal::Missing)
        );
        assert_eq!(
            tokens.check(&headers(&format!("Basic {SECRET}")), Role::Monitor),
            Err(Refusal::Missing)
        );
        assert_eq!(
            tokens.check(&headers("Bearer "), Role::Monitor),
            Err(Refusal::Missing)
        );
        assert_eq!(
            tokens.check(&headers("Bearer pacta_other"), Role::Monitor),
            Err(Refusal::Unknown)
        );
    }

    #[test]
    fn invalid_files_are_refused() {
        let digest = secret_sha256(SECRET);
        let cases = [
            format!("[[token]]\nname = \"a\"\nsha256 = \"{SECRET}\"\nroles = [\"monitor\"]\n"),
            format!("[[token]]\nname = \"a\"\nsha256 = \"{digest}\"\nroles = []\n"),
            format!("[[token]]\nname = \" \"\nsha256 = \"{digest}\"\nroles = [\"monitor\"]\n"),
            format!("[[token]]\nname = \"a\"\nsha256 = \"{digest}\"\nroles = [\"admin\"]\n"),
            format!("[[token]]\nname = \"a\"\nsha256 = \"{digest}\"\nroles = [\"panel\"]\nsecret = \"x\"\n"),
            format!(
                "[[token]]\nname = \"a\"\nsha256 = \"{digest}\"\nroles = [\"panel\"]\n\
                 [[token]]\nname = \"b\"\nsha256 = \"{digest}\"\nroles = [\"monitor\"]\n"
            ),
        ];
        for case in cases {
            assert!(Tokens::from_toml(&case).is_err(), "accepted:\n{case}");
        }
    }

    #[test]
    fn every_write_endpoint_has_a_role() {
        for route in [
            "/v1/reports",
            "/v1/actions",
            "/v1/objections",
            "/v1/rulings",
        ] {
            assert!(endpoint_role(route).is_some(), "{route}");
        }
        assert_eq!(endpoint_role("/v1/retractions"), Some(Role::Monitor));
        assert_eq!(endpoint_role("/v1/findings"), None);
    }
}
