//! The object-storage inputs, read and checked once: `storage-url` (where, with the
//! non-secret options in its query and an optional key template) and
//! `storage-credentials` (secrets only, one `key=value` per line) → [`StorageSettings`].
//! The service clients and the key layout live in `publish::storage`.

use chrono::{DateTime, Utc};

use super::RawInputs;
use crate::error::{Error, Result};
use crate::publish::storage::{CREDENTIAL_KEYS_GCS, CREDENTIAL_KEYS_S3, Scheme, StorageLocation, StorageSettings};
use crate::secret::Secret;

/// Placeholders a key template may use.
pub const PLACEHOLDERS: [&str; 4] = ["{owner}", "{repo}", "{version}", "{bundle}"];

/// Locks further ahead than this are refused: a compliance lock cannot be lifted or
/// shortened by anyone, so a typo (36500 for 3650) would keep and bill the objects
/// for a century.
pub const MAX_RETENTION_DAYS: i64 = 7305;

/// Reads `storage-url`, `storage-credentials` and the retention inputs; `None` when no
/// storage is asked for.
pub fn settings(raw: &RawInputs) -> Result<Option<StorageSettings>> {
    settings_at(raw, chrono::Utc::now())
}

/// [`settings`] as of `now` (retention days count from it).
pub fn settings_at(raw: &RawInputs, now: DateTime<Utc>) -> Result<Option<StorageSettings>> {
    let Some(url) = raw.get("storage-url") else {
        for name in ["storage-retain-until", "storage-retention-days"] {
            if raw.get(name).is_some() {
                return Err(Error::input(
                    raw.label(name),
                    "is set, but `storage-url` is empty: retention is for the objects stored there",
                    "set `storage-url` to a bucket that can lock, or drop the retention input",
                ));
            }
        }
        if raw.get("storage-credentials").is_some() {
            return Err(Error::input(
                raw.label("storage-url"),
                "is empty, but `storage-credentials` is set",
                "set `storage-url: gs://bucket/prefix/` or `s3://bucket/prefix/`, or drop `storage-credentials`",
            ));
        }
        return Ok(None);
    };
    let location = storage_location(raw.label("storage-url"), url)?;
    let pairs = credential_pairs(
        raw.label("storage-credentials"),
        raw.get("storage-credentials").unwrap_or_default(),
        location.scheme,
    )?;
    let settings = StorageSettings::new(location, pairs)?;
    Ok(Some(match retain_until(raw, now)? {
        Some(until) => settings.locked_until(until),
        None => settings,
    }))
}

/// `storage-retain-until` (an RFC 3339 date, meaning its midnight UTC, or date-time)
/// or `storage-retention-days` (whole days from `now`), never both; in the future and
/// at most [`MAX_RETENTION_DAYS`] ahead.
fn retain_until(raw: &RawInputs, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>> {
    let (until_label, days_label) = (raw.label("storage-retain-until"), raw.label("storage-retention-days"));
    let until = match (raw.get("storage-retain-until"), raw.get("storage-retention-days")) {
        (None, None) => return Ok(None),
        (Some(_), Some(_)) => {
            return Err(Error::input(
                until_label,
                format!("and `{days_label}` are both set"),
                "give the date the lock ends, or the number of days it lasts, not both",
            ));
        }
        (Some(text), None) => parse_retain_until(until_label, text)?,
        (None, Some(text)) => {
            let days: i64 = text.parse().ok().filter(|d| (1..=MAX_RETENTION_DAYS).contains(d)).ok_or_else(|| {
                Error::input(
                    days_label,
                    format!("`{}` is not a number of days from 1 to {MAX_RETENTION_DAYS}", text.escape_debug()),
                    "give whole days, e.g. 400",
                )
            })?;
            now + chrono::Duration::days(days)
        }
    };
    if until <= now + chrono::Duration::minutes(1) {
        return Err(Error::input(
            until_label,
            format!("`{}` is not in the future", until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            "give the date the objects must be kept until, e.g. a year after the release",
        ));
    }
    if until > now + chrono::Duration::days(MAX_RETENTION_DAYS) {
        return Err(Error::input(
            until_label,
            format!(
                "`{}` is more than {MAX_RETENTION_DAYS} days ahead; a compliance lock cannot be shortened, so this is refused as a likely typo",
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            "give a date within 20 years",
        ));
    }
    // Whole seconds: what S3 and GCS keep and report back.
    Ok(chrono::DateTime::from_timestamp(until.timestamp(), 0))
}

fn parse_retain_until(label: &str, text: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .filter(|_| text.len() == 10)
        .ok_or_else(|| {
            Error::input(
                label,
                format!("`{}` is not an RFC 3339 date or date-time", text.escape_debug()),
                "write it like 2027-12-31 (midnight UTC) or 2027-12-31T18:00:00Z",
            )
        })
}

/// The storage `verify --online --storage-url` reads from: the URL as the action was
/// given it, credentials as `storage-credentials`, and the `--retained-until` date.
pub fn for_verify(
    url: &str,
    credentials: Option<&str>,
    retained_until: Option<&str>,
) -> Result<(StorageSettings, Option<DateTime<Utc>>)> {
    let location = storage_location("--storage-url", url)?;
    let pairs = credential_pairs("--storage-credentials", credentials.unwrap_or_default(), location.scheme)?;
    let required = retained_until.map(|t| parse_retain_until("--retained-until", t)).transpose()?;
    Ok((StorageSettings::new(location, pairs)?, required))
}

/// Splits `key=value` lines; values are secrets and never appear in an error.
fn credential_pairs(label: &str, text: &str, scheme: Scheme) -> Result<Vec<(String, Secret)>> {
    let known = match scheme {
        Scheme::Gcs => CREDENTIAL_KEYS_GCS,
        Scheme::S3 => CREDENTIAL_KEYS_S3,
    };
    let hint = format!("one key=value per line; keys for {}://: {}", scheme.as_str(), known.join(", "));
    let mut pairs: Vec<(String, Secret)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            return Err(Error::input(label, format!("line {} has no `=`", n + 1), hint));
        };
        let key = key.trim().to_ascii_lowercase();
        if matches!(key.as_str(), "region" | "endpoint") {
            return Err(Error::input(
                label,
                format!("`{key}` is not a secret and belongs in `storage-url`"),
                format!("write it as an option of the URL: {}://bucket/prefix/?{key}=…", scheme.as_str()),
            ));
        }
        if !known.contains(&key.as_str()) {
            return Err(Error::input(
                label,
                format!("line {}: unknown key `{}` for {}://", n + 1, key.escape_debug(), scheme.as_str()),
                hint,
            ));
        }
        if pairs.iter().any(|(k, _)| *k == key) {
            return Err(Error::input(label, format!("`{key}` is given twice"), hint));
        }
        pairs.push((key, Secret::new(value.trim())));
    }
    Ok(pairs)
}

/// A `storage-url` that cannot be used: the one error both parsers give.
fn bad_url(label: &str, reason: String) -> Error {
    Error::input(
        label,
        reason,
        "use gs://bucket/prefix/ or s3://bucket/prefix/ (options after `?`: region=, endpoint=)",
    )
}

/// Parses `storage-url`. Errors name the input and say what a good value looks like.
pub fn storage_location(label: &str, value: &str) -> Result<StorageLocation> {
    let bad = |reason: String| bad_url(label, reason);
    let (scheme, rest) = match value.split_once("://") {
        Some(("gs", rest)) => (Scheme::Gcs, rest),
        Some(("s3", rest)) => (Scheme::S3, rest),
        Some((other, _)) => {
            return Err(bad(format!("scheme `{}` is not supported; only gs:// and s3:// are", other.escape_debug())));
        }
        None => return Err(bad(format!("`{}` is not a gs:// or s3:// URL", value.escape_debug()))),
    };
    let (path, query) = match rest.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (rest, None),
    };
    let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
    if bucket.is_empty() {
        return Err(bad("names no bucket".into()));
    }
    if bucket.len() < 3
        || bucket.len() > 222
        || !bucket.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-._".contains(c))
    {
        return Err(bad(format!(
            "`{}` is not a valid bucket name (3–63 lower-case letters, digits, - . _)",
            bucket.escape_debug()
        )));
    }
    if prefix.contains('{') || prefix.contains('}') {
        return parse_query(label, scheme, bucket, query, String::new(), Some(key_template(label, prefix)?));
    }
    let segments: Vec<&str> = prefix.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    if prefix.trim_matches('/').contains("//") {
        return Err(bad(format!("prefix `{}` has an empty path segment (`//`)", prefix.escape_debug())));
    }
    if let Some(s) = segments.iter().find(|s| **s == ".." || **s == ".") {
        return Err(bad(format!(
            "prefix `{}` contains a `{s}` segment; object keys are taken literally, so it would not mean what it says",
            prefix.escape_debug()
        )));
    }
    if prefix.chars().any(|c| c.is_control() || c == '\\') {
        return Err(bad("prefix contains a control character or a backslash".into()));
    }
    let prefix = if segments.is_empty() { String::new() } else { format!("{}/", segments.join("/")) };
    parse_query(label, scheme, bucket, query, prefix, None)
}

/// The URL's options (`?region=…&endpoint=…`) into a location.
fn parse_query(
    label: &str,
    scheme: Scheme,
    bucket: &str,
    query: Option<&str>,
    prefix: String,
    template: Option<String>,
) -> Result<StorageLocation> {
    let bad = |reason: String| bad_url(label, reason);
    let mut location =
        StorageLocation { scheme, bucket: bucket.to_string(), prefix, endpoint: None, region: None, template };
    for pair in query.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
        let (key, val) = pair.split_once('=').unwrap_or((pair, ""));
        match (scheme, key) {
            (_, "endpoint") => location.endpoint = Some(parse_endpoint(label, val)?),
            (Scheme::S3, "region") => {
                if val.is_empty() || !val.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-') {
                    return Err(bad(format!("region `{}` is not a region name like eu-central-1", val.escape_debug())));
                }
                location.region = Some(val.to_string());
            }
            _ => {
                let known = if scheme == Scheme::S3 { "region, endpoint" } else { "endpoint" };
                return Err(bad(format!(
                    "unknown option `{}` for {}:// (known: {known})",
                    key.escape_debug(),
                    scheme.as_str()
                )));
            }
        }
    }
    Ok(location)
}

/// Checks a key template: only known placeholders, no `.`/`..`/empty segments, no
/// control characters or backslashes.
fn key_template(label: &str, template: &str) -> Result<String> {
    let hint = format!(
        "use the placeholders {} in the path, e.g. gs://bucket/{{repo}}_{{version}}.zip",
        PLACEHOLDERS.join(" ")
    );
    let mut rest = template.to_string();
    for p in PLACEHOLDERS {
        rest = rest.replace(p, "x");
    }
    if rest.contains('{') || rest.contains('}') {
        return Err(Error::input(
            label,
            format!("`{}` has an unknown placeholder or a stray brace", template.escape_debug()),
            hint,
        ));
    }
    let body = template.strip_suffix('/').unwrap_or(template);
    if body.is_empty() || body.split('/').any(|s| s.is_empty() || s == "." || s == "..") {
        return Err(Error::input(
            label,
            format!("key template `{}` has an empty, `.` or `..` segment", template.escape_debug()),
            hint,
        ));
    }
    if template.chars().any(|c| c.is_control() || c == '\\') {
        return Err(Error::input(label, "key template contains a control character or a backslash", hint));
    }
    // Without the release in the key, every release would write the same object.
    if !template.contains("{version}") && !template.contains("{bundle}") {
        return Err(Error::input(
            label,
            format!(
                "key template `{}` names no `{{version}}` or `{{bundle}}`: every release would write the same object",
                template.escape_debug()
            ),
            hint,
        ));
    }
    Ok(template.to_string())
}

/// A custom endpoint must be https, except on loopback (emulators): credentials must
/// never travel in clear text to another machine.
fn parse_endpoint(label: &str, value: &str) -> Result<String> {
    let hint = "give the service's base URL, e.g. endpoint=https://minio.example.com:9000 (plain http only for 127.0.0.1/localhost)";
    let url = reqwest::Url::parse(value)
        .map_err(|e| Error::input(label, format!("endpoint `{}` is not a URL: {e}", value.escape_debug()), hint))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(Error::input(
                label,
                format!("endpoint `{value}` is plain http to another machine; credentials would travel unencrypted"),
                hint,
            ));
        }
        other => return Err(Error::input(label, format!("endpoint scheme `{other}` is not http(s)"), hint)),
    }
    if url.host_str().is_none() || url.query().is_some() {
        return Err(Error::input(
            label,
            format!("endpoint `{value}` must be a base URL with a host and no query"),
            hint,
        ));
    }
    Ok(value.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawInputs {
        let map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| (crate::config::inputs::input_variable(k), v.to_string())).collect();
        RawInputs::collect(&crate::config::RunArgs::default(), &move |k: &str| map.get(k).cloned())
    }

    fn parse(url: &str) -> Result<StorageLocation> {
        storage_location("storage-url", url)
    }

    #[test]
    fn urls_give_bucket_prefix_and_options() {
        let l = parse("gs://audit-bucket/releases/kyma/").unwrap();
        assert_eq!((l.scheme, l.bucket.as_str(), l.prefix.as_str()), (Scheme::Gcs, "audit-bucket", "releases/kyma/"));
        let l = parse("s3://audit.bucket?region=eu-central-1&endpoint=http://127.0.0.1:9000/").unwrap();
        assert_eq!(
            (l.prefix.as_str(), l.region.as_deref(), l.endpoint.as_deref()),
            ("", Some("eu-central-1"), Some("http://127.0.0.1:9000"))
        );
        assert_eq!(parse("s3://b-1/a/b").unwrap().prefix, "a/b/");
        assert_eq!(l.object_url("o/r/1.0/x.zip"), "s3://audit.bucket/o/r/1.0/x.zip");
        assert_eq!(l.console_url("k"), None, "no console for a custom endpoint");
        let gs = parse("gs://b-1/p/").unwrap();
        assert_eq!(
            gs.console_url("p/o/r/1.0/a b.zip").unwrap(),
            "https://console.cloud.google.com/storage/browser/_details/b-1/p/o/r/1.0/a%20b.zip"
        );
        let s3 = parse("s3://b-1/?region=eu-central-1").unwrap();
        assert_eq!(
            s3.console_url("o/x.zip").unwrap(),
            "https://eu-central-1.console.aws.amazon.com/s3/object/b-1?region=eu-central-1&prefix=o%2Fx.zip"
        );
    }

    #[test]
    fn bad_urls_are_input_errors_that_say_why() {
        for (url, says) in [
            ("https://bucket/prefix/", "scheme `https`"),
            ("az://bucket/", "scheme `az`"),
            ("bucket/prefix", "not a gs:// or s3:// URL"),
            ("gs:///prefix/", "names no bucket"),
            ("s3://", "names no bucket"),
            ("gs://Bucket/", "not a valid bucket name"),
            ("gs://bucket/a/../b/", "`..` segment"),
            ("s3://bucket/./a", "`.` segment"),
            ("s3://bucket/a//b/", "empty path segment"),
            ("gs://bucket/?region=eu", "unknown option `region`"),
            ("s3://bucket/?regoin=eu", "unknown option `regoin`"),
            ("s3://bucket/?endpoint=http://minio.example.com", "plain http"),
            ("s3://bucket/?endpoint=ftp://x", "not http(s)"),
        ] {
            let err = parse(url).unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with("input `storage-url`") && text.contains(says), "{url}: {text}");
            assert!(!text.contains('\n') && !err.hint().is_empty());
        }
    }

    #[test]
    fn credentials_are_checked_and_never_echoed() {
        let ok = settings(&raw(&[
            ("storage-url", "s3://bucket/p/"),
            ("storage-credentials", "access-key-id=AKIA1\nsecret-access-key=s3cr3t=x\n\n# comment\nsession-token=tok"),
        ]))
        .unwrap()
        .unwrap();
        let exposed: Vec<&str> = ok.secrets().iter().map(|s| s.expose()).collect();
        assert_eq!(exposed, ["AKIA1", "s3cr3t=x", "tok"]);
        assert!(!format!("{ok:?}").contains("s3cr3t"));

        for (url, creds, says) in [
            ("s3://bucket/", "access-key-id=AKIA1", "secret-access-key"),
            ("s3://bucket/", "", "access-key-id"),
            (
                "s3://bucket/",
                "access-key-id=A\nsecret-access-key=hunter2\nregion=eu-west-1",
                "belongs in `storage-url`",
            ),
            ("s3://bucket/", "access-key-id=A\nhunter2", "line 2 has no `=`"),
            ("s3://bucket/", "access-token=hunter2", "unknown key `access-token`"),
            ("gs://bucket/", "access-token=a\naccess-token=b", "given twice"),
            ("gs://bucket/", "", "access-token"),
            ("gs://bucket/", "access-token=hunter2\nservice-account-json=e30=", "only one"),
            ("gs://bucket/", "service-account-json=hunter2", "service-account-json"),
        ] {
            let err = settings(&raw(&[("storage-url", url), ("storage-credentials", creds)])).unwrap_err();
            let text = err.to_string();
            assert!(text.starts_with("input `storage-credentials`") && text.contains(says), "{creds:?}: {text}");
            assert!(!text.contains("hunter2") && !err.hint().contains("hunter2"), "{text}");
        }
        let err = settings(&raw(&[("storage-credentials", "access-token=x")])).unwrap_err();
        assert!(err.to_string().starts_with("input `storage-url`"), "{err}");
        assert!(settings(&raw(&[])).unwrap().is_none());
    }

    #[test]
    fn retention_is_a_future_date_or_days_never_both() {
        let now = DateTime::parse_from_rfc3339("2026-12-07T18:30:15.5Z").unwrap().with_timezone(&Utc);
        let at = |extra: &[(&str, &str)]| {
            let mut pairs = vec![
                ("storage-url", "s3://bucket/p/"),
                ("storage-credentials", "access-key-id=A\nsecret-access-key=B"),
            ];
            pairs.extend_from_slice(extra);
            settings_at(&raw(&pairs), now)
        };
        let until = |extra: &[(&str, &str)]| at(extra).unwrap().unwrap().retain_until.map(|t| t.to_rfc3339());
        assert_eq!(until(&[]), None);
        assert_eq!(until(&[("storage-retain-until", "2027-12-31")]).as_deref(), Some("2027-12-31T00:00:00+00:00"));
        assert_eq!(
            until(&[("storage-retain-until", "2027-06-01T12:00:00+02:00")]).as_deref(),
            Some("2027-06-01T10:00:00+00:00")
        );
        assert_eq!(until(&[("storage-retention-days", "365")]).as_deref(), Some("2027-12-07T18:30:15+00:00"));
        for (extra, label, says) in [
            (
                vec![("storage-retain-until", "2027-12-31"), ("storage-retention-days", "3")],
                "storage-retain-until",
                "both set",
            ),
            (vec![("storage-retain-until", "2026-12-01")], "storage-retain-until", "not in the future"),
            (vec![("storage-retain-until", "31.12.2027")], "storage-retain-until", "not an RFC 3339 date"),
            (vec![("storage-retain-until", "2027-1-3")], "storage-retain-until", "not an RFC 3339 date"),
            (vec![("storage-retain-until", "2126-12-31")], "storage-retain-until", "likely typo"),
            (vec![("storage-retention-days", "0")], "storage-retention-days", "from 1 to 7305"),
            (vec![("storage-retention-days", "36500")], "storage-retention-days", "from 1 to 7305"),
            (vec![("storage-retention-days", "1y")], "storage-retention-days", "from 1 to 7305"),
        ] {
            let err = at(&extra).unwrap_err().to_string();
            assert!(err.starts_with(&format!("input `{label}`")) && err.contains(says), "{extra:?}: {err}");
        }
        let err = settings_at(&raw(&[("storage-retention-days", "30")]), now).unwrap_err().to_string();
        assert!(err.starts_with("input `storage-retention-days`") && err.contains("`storage-url` is empty"), "{err}");
    }

    #[test]
    fn key_templates_are_checked() {
        let l = parse("gs://bucket/{repo}_{version}.zip").unwrap();
        assert_eq!((l.prefix.as_str(), l.template.as_deref()), ("", Some("{repo}_{version}.zip")));
        for (url, says) in [
            ("gs://bucket/{repository}.zip", "unknown placeholder"),
            ("gs://bucket/{repo}/../{version}.zip", "`..` segment"),
            ("gs://bucket/{repo}//x", "empty"),
            ("gs://bucket/{repo}.zip", "names no `{version}` or `{bundle}`"),
        ] {
            let err = parse(url).unwrap_err().to_string();
            assert!(err.starts_with("input `storage-url`") && err.contains(says), "{url}: {err}");
        }
    }
}
