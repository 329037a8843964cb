//! A value that must never be printed: tokens, passwords, signed URL signatures.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The raw value, for the one place that sends it (an auth header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// Replaces the values of signature-like query parameters (`sig`, `token`, …) with `***`,
/// so a signed URL can be logged or put into an error.
pub fn redact_url(url: &str) -> String {
    let Some((base, query)) = url.split_once('?') else { return url.to_string() };
    let redacted: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, _)) if is_sensitive(k) => format!("{k}=***"),
            _ => pair.to_string(),
        })
        .collect();
    format!("{base}?{}", redacted.join("&"))
}

fn is_sensitive(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    matches!(
        k.as_str(),
        "sig" | "signature" | "token" | "x-amz-signature" | "x-goog-signature" | "access_token" | "code"
    )
}

/// Returns the value of a URL's `sig` query parameter, for `::add-mask::`.
pub fn url_signature(url: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|p| p.strip_prefix("sig=").map(str::to_string))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_urls_lose_their_signature() {
        let url = "https://acc.blob.core.windows.net/c/b?sv=2020&sig=abc%2Bdef&se=x";
        assert_eq!(redact_url(url), "https://acc.blob.core.windows.net/c/b?sv=2020&sig=***&se=x");
        assert_eq!(url_signature(url).as_deref(), Some("abc%2Bdef"));
        assert_eq!(format!("{:?}", Secret::new("ghs_123")), "Secret(***)");
    }
}
