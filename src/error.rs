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
    Service { service: String, reason: String, hint: String, refusal: Option<Refusal> },

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
        Error::Service { service: service.into(), reason: reason.into(), hint: hint.into(), refusal: Some(refusal) }
    }

    /// What the service said, when this is a service's refusal.
    pub fn refusal(&self) -> Option<&Refusal> {
        match self {
            Error::Service { refusal, .. } => refusal.as_ref(),
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

/// A service's refusal as data: the HTTP status and the service's own error code (S3's
/// `<Code>`, GCS's `error.errors[].reason`), when it gave one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub code: Option<String>,
}

impl Refusal {
    pub fn new(status: u16, code: &str) -> Self {
        let code = code.trim();
        Refusal { status, code: (!code.is_empty()).then(|| code.chars().take(100).collect()) }
    }

    /// Whether the service gave this error code.
    pub fn is(&self, code: &str) -> bool {
        self.code.as_deref() == Some(code)
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
