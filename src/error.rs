//! The library's error type.
//!
//! Every error names *what* failed (an input, a file, a service call) and *why*, and
//! carries a hint that tells the user what to do next. The binary prints them as
//! `error: <what>: <why>` + `hint: <hint>`, writes one `::error::` annotation and maps
//! the kind to an exit code (see [`Error::exit_code`]). Secrets never reach an error:
//! URLs are redacted before they are stored here.

use std::path::PathBuf;

/// Exit code for a usage or configuration error: nothing was attempted.
pub const EXIT_USAGE: i32 = 2;
/// Exit code for a failure while doing the work (network, disk, service).
pub const EXIT_RUNTIME: i32 = 3;
/// Exit code when the audit ran and its verdict is "failed".
pub const EXIT_VERDICT_FAILED: i32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An input (or flag, argument or runner variable) has a value we cannot use.
    /// `name` is what the user typed: `--policy` is called a flag, `TESTED` (a
    /// positional argument's upper-case placeholder) an argument, anything else an input.
    #[error("{} `{name}`: {reason}", input_kind(name))]
    Input { name: String, reason: String, hint: String },

    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
        hint: String,
    },

    /// A remote service answered with something we cannot accept. `refusal` is what
    /// the service itself said, as data (status and its own error code): code that must
    /// tell refusals apart branches on it, never on the text of `reason`.
    #[error("{service}: {reason}")]
    Service { service: String, reason: String, hint: String, refusal: Option<Box<Refusal>> },

    /// Evidence from outside (a report, an archive, a manifest) is unacceptable.
    #[error("{what}: {reason}")]
    Evidence { what: String, reason: String, hint: String },

    /// The bundle was written but could not be published; it is still on disk.
    #[error("{what} failed: {reason} (the bundle is kept at {})", bundle.display())]
    Publish { what: String, reason: String, bundle: PathBuf, hint: String },
}

impl Error {
    pub fn input(name: impl Into<String>, reason: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Input { name: name.into(), reason: reason.into(), hint: hint.into() }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error, hint: impl Into<String>) -> Self {
        Error::Io { path: path.into(), source, hint: hint.into() }
    }

    pub fn service(service: impl Into<String>, reason: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Service { service: service.into(), reason: reason.into(), hint: hint.into(), refusal: None }
    }

    /// A service's refusal of a request, with what it said as data.
    pub fn refused(
        service: impl Into<String>,
        refusal: Refusal,
        reason: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Error::Service {
            service: service.into(),
            reason: reason.into(),
            hint: hint.into(),
            refusal: Some(Box::new(refusal)),
        }
    }

    /// This error with the service's refusal attached (a [`Error::Service`]; any other
    /// kind is returned as it is).
    pub fn with_refusal(self, refusal: Refusal) -> Self {
        match self {
            Error::Service { service, reason, hint, .. } => {
                Error::Service { service, reason, hint, refusal: Some(Box::new(refusal)) }
            }
            other => other,
        }
    }

    /// What the service said, when this is a service's refusal.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Error::Service { refusal, .. } => refusal.as_deref(),
            _ => None,
        }
    }

    pub fn evidence(what: impl Into<String>, reason: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Evidence { what: what.into(), reason: reason.into(), hint: hint.into() }
    }

    /// What the user should do next.
    pub fn hint(&self) -> &str {
        match self {
            Error::Input { hint, .. }
            | Error::Io { hint, .. }
            | Error::Service { hint, .. }
            | Error::Evidence { hint, .. }
            | Error::Publish { hint, .. } => hint,
        }
    }

    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. } => EXIT_USAGE,
            _ => EXIT_RUNTIME,
        }
    }

    /// Turns a failure after the bundle was written into a [`Error::Publish`] that says
    /// where the bundle is, so nothing is lost.
    pub fn while_publishing(self, what: &str, bundle: &std::path::Path) -> Self {
        let hint = self.hint().to_string();
        let reason = match &self {
            Error::Publish { reason, .. } => reason.clone(),
            other => other.to_string(),
        };
        Error::Publish { what: what.to_string(), reason, bundle: bundle.to_path_buf(), hint }
    }
}

/// A service's refusal as data: the HTTP status, the service's own error code (S3's
/// `<Code>`, GCS's `error.errors[].reason`, Azure's `x-ms-error-code`, the artifact
/// service's Twirp `code`, an OCI registry's `errors[].code`, a GitHub 422's
/// `errors[].code`, GraphQL's `errors[].type`) when it gave one, and what it said.
///
/// Where a service states a fact without a code field, its wire decoder (the one place
/// that reads the answer's text, documented there) gives one of the derived codes below;
/// code branches on [`Refusal::status`] and [`Refusal::is`], never on [`Refusal::message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: Option<String>,
    /// What the service said, as its decoder shaped it, at most
    /// [`Refusal::MAX_MESSAGE`] characters: for messages only (escaped where shown).
    pub message: String,
}

impl Refusal {
    /// The answer is not the service's: a 403 whose body is not in the service's format,
    /// written by something in between (GitHub's front end: `Error from intermediary`).
    pub const INTERMEDIARY: &'static str = "intermediary";
    /// GitHub's primary rate limit is exhausted (`x-ratelimit-remaining: 0`).
    pub const RATE_LIMITED: &'static str = "rate_limited";
    /// GitHub's secondary rate limit (the `documentation_url` of its JSON error).
    pub const SECONDARY_RATE_LIMIT: &'static str = "secondary_rate_limit";
    /// A storage quota is used up (the artifact service's `insufficient usage`).
    pub const QUOTA_EXHAUSTED: &'static str = "quota_exhausted";
    /// GitHub's comparison of two commits whose histories share none.
    pub const NO_COMMON_ANCESTOR: &'static str = "no_common_ancestor";

    pub fn new(status: u16, code: &str) -> Self {
        let code = code.trim();
        Refusal { status, code: (!code.is_empty()).then(|| code.chars().take(100).collect()), message: String::new() }
    }

    /// The longest message a refusal keeps, in characters.
    pub const MAX_MESSAGE: usize = 1000;

    /// The same refusal with what the service said (cut at [`Refusal::MAX_MESSAGE`]).
    pub fn with_message(mut self, message: &str) -> Self {
        self.message = message.chars().take(Self::MAX_MESSAGE).collect();
        self
    }

    /// Whether the service gave this error code.
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
    }

    /// A rate limit: 429, GitHub's primary or secondary limit, or GraphQL's `RATE_LIMITED`.
    pub fn is_rate_limit(&self) -> bool {
        self.status == 429
            || self.is(Self::RATE_LIMITED)
            || self.is(Self::SECONDARY_RATE_LIMIT)
            || self.is("RATE_LIMITED")
    }

    /// `HTTP <status>: <message>` (the status alone when the service said nothing).
    pub fn said(&self) -> String {
        if self.message.is_empty() {
            format!("HTTP {}", self.status)
        } else {
            format!("HTTP {}: {}", self.status, self.message)
        }
    }
}

/// How an error calls the thing it names (see [`Error::Input`]).
fn input_kind(name: &str) -> &'static str {
    if name.starts_with("--") {
        "flag"
    } else if !name.is_empty() && name.len() <= 12 && name.bytes().all(|b| b.is_ascii_uppercase()) {
        "argument"
    } else {
        "input"
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
