//! GitHub's GraphQL API (`POST /graphql`), through the REST client's transport: the same
//! token, retry policy and whole-request bounds ([`Rest::send`]). A job's `GITHUB_TOKEN`
//! has a GraphQL budget of its own (points, not requests), which is why the change
//! trail reads in bulk here.
//!
//! A query is sent with its variables; the answer's `data` is read into the caller's
//! type, and `rateLimit { cost remaining }` (every query of the project asks for it) is
//! returned beside it. GitHub answers a query it rejects, or a field the token may not
//! read, with HTTP 200 and `errors`: that is a [`Outcome::Refused`] like an HTTP
//! refusal, with GitHub's words, for the caller to fall back on REST.

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::{Refusal, Result};
use crate::github::rest::{Answer, Page, Rest};

/// What one query came back with.
#[derive(Debug)]
pub enum Outcome<T> {
    Done {
        data: T,
        rate: Option<RateLimit>,
    },
    /// GitHub refused the query or part of it (HTTP status, or `errors`): why, in its
    /// words, and the refusal as data (HTTP 200 and the first error's `type` for
    /// `errors`; `RATE_LIMITED` when any error is of that type).
    Refused {
        why: String,
        refusal: Refusal,
    },
    /// The answer was longer than the limit; nothing of it kept.
    TooLarge,
}

/// `rateLimit { cost remaining }`: what the query cost and what is left of the budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct RateLimit {
    pub cost: u64,
    pub remaining: u64,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    data: Option<Value>,
    #[serde(default)]
    errors: Option<Vec<GqlError>>,
}

#[derive(Deserialize)]
struct GqlError {
    #[serde(default)]
    message: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
}

/// Sends `query` with `variables` and reads at most `limit` bytes of the answer.
pub async fn query<T: DeserializeOwned>(
    rest: &Rest,
    query: &str,
    variables: Value,
    limit: usize,
    what: &str,
) -> Result<Outcome<T>> {
    let url = rest.graphql_url();
    let body = serde_json::json!({"query": query, "variables": variables});
    let answer =
        rest.send(what, |_| std::future::ready(Ok(rest.request(reqwest::Method::POST, &url).json(&body)))).await?;
    let response = match answer {
        Answer::Done(r) => r,
        Answer::Refused(r) => return Ok(Outcome::Refused { why: r.said(), refusal: r }),
    };
    let envelope: Envelope = match rest.read_page(response, limit, what).await? {
        Page::Read(e) => e,
        Page::TooLarge { .. } => return Ok(Outcome::TooLarge),
    };
    Ok(decode(envelope))
}

/// The wire decoder of a GraphQL answer that came with HTTP 200: its `data`, or its
/// `errors` as a refusal whose code is GraphQL's own error `type` (`RATE_LIMITED`,
/// `FORBIDDEN`, `NOT_FOUND`…). An answer without the expected data is a refusal
/// without a code.
fn decode<T: DeserializeOwned>(envelope: Envelope) -> Outcome<T> {
    let rate = envelope
        .data
        .as_ref()
        .and_then(|d| d.get("rateLimit"))
        .and_then(|r| serde_json::from_value::<RateLimit>(r.clone()).ok());
    if let Some(errors) = envelope.errors.filter(|e| !e.is_empty()) {
        let rate_limited = errors.iter().any(|e| e.kind.as_deref() == Some("RATE_LIMITED"));
        let kind = if rate_limited { Some("RATE_LIMITED") } else { errors.iter().find_map(|e| e.kind.as_deref()) };
        let said: Vec<String> = errors
            .iter()
            .take(3)
            .map(|e| {
                let text: String =
                    e.message.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(200).collect();
                match &e.kind {
                    Some(k) => format!("{}: {text}", k.chars().take(40).collect::<String>()),
                    None => text,
                }
            })
            .collect();
        let why = format!("GraphQL: {}", said.join("; "));
        let refusal = Refusal::new(200, kind.unwrap_or_default()).with_message(&said.join("; "));
        return Outcome::Refused { why, refusal };
    }
    match envelope.data.map(serde_json::from_value::<T>) {
        Some(Ok(data)) => Outcome::Done { data, rate },
        Some(Err(e)) => Outcome::Refused {
            why: format!("GraphQL: the answer is not the expected shape ({e})"),
            refusal: Refusal::new(200, ""),
        },
        None => Outcome::Refused { why: "GraphQL: the answer has no data".into(), refusal: Refusal::new(200, "") },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    struct Data {
        x: u32,
    }

    fn judged(v: Value) -> Outcome<Data> {
        decode(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn errors_are_a_refusal_in_githubs_words_and_the_rate_is_read_beside_the_data() {
        match judged(serde_json::json!({"data": {"x": 1, "rateLimit": {"cost": 2, "remaining": 98}}})) {
            Outcome::Done { data, rate } => {
                assert_eq!(data.x, 1);
                assert_eq!(rate, Some(RateLimit { cost: 2, remaining: 98 }));
            }
            other => panic!("{other:?}"),
        }
        let refused = judged(serde_json::json!({"data": null, "errors": [
            {"type": "FORBIDDEN", "message": "Resource not accessible\nby integration"}]}));
        match refused {
            Outcome::Refused { why, refusal } => {
                assert_eq!(why, "GraphQL: FORBIDDEN: Resource not accessible by integration");
                assert!(refusal.is("FORBIDDEN") && !refusal.is_rate_limit(), "{refusal:?}");
            }
            other => panic!("{other:?}"),
        }
        let limited = judged(serde_json::json!({"errors": [
            {"type": "NOT_FOUND", "message": "x"}, {"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}));
        assert!(
            matches!(&limited, Outcome::Refused { refusal, .. } if refusal.is("RATE_LIMITED") && refusal.is_rate_limit()),
            "{limited:?}"
        );
        assert!(matches!(judged(serde_json::json!({"data": {"y": 1}})), Outcome::Refused { .. }));
    }
}
