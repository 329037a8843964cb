//! `verify --online`: whether the released tags still point at the recorded digests, and
//! (with `--storage-url`) whether the stored objects are the bundle's and locked.

use super::{Problem, Verification};

/// `--online`: re-resolves every released image reference and says whether its tag
/// still points at the digest the audit recorded.
pub async fn check_released_tags(
    v: &mut Verification,
    net: &crate::http::Net,
    access: &crate::evidence::images::RegistryAccess,
) {
    use crate::registry::{FetchError, ImageRef, RegistryClient};
    let Some(images) = v.manifest.as_ref().and_then(|m| m.evidence.images.clone()) else { return };
    let client = RegistryClient::new(net, access);
    for pair in &images.pairs {
        let reference = pair.released.reference.clone();
        let Some(recorded) = pair.released.digest.as_ref().map(|d| d.to_string()) else { continue };
        let image = match ImageRef::parse(&reference) {
            Ok(i) => i,
            Err(reason) => {
                v.problems.push(Problem::Unreachable { image: pair.name.clone(), reference, reason });
                continue;
            }
        };
        // A reference with a tag and a digest is checked by its tag: that is what moves.
        let image = if image.tag.is_some() { ImageRef { digest: None, ..image } } else { image };
        match client.manifest(&image).await {
            Ok(now) if now.digest.to_string() == recorded => v.unmoved.push(format!("{reference} @ {recorded}")),
            Ok(now) => v.problems.push(Problem::Moved {
                image: pair.name.clone(),
                reference,
                recorded,
                now: now.digest.to_string(),
            }),
            Err(FetchError::NotFound(why)) => v.problems.push(Problem::Unreachable {
                image: pair.name.clone(),
                reference,
                reason: format!("not found: {why}"),
            }),
            Err(FetchError::Failed(e)) => {
                v.problems.push(Problem::Unreachable { image: pair.name.clone(), reference, reason: e.to_string() })
            }
        }
    }
}

/// What `--online --storage-url` checks the stored objects against.
pub struct StoredCheck<'a> {
    pub settings: &'a crate::publish::storage::StorageSettings,
    /// The bundle as given to `verify`: a zip, or its unzipped directory.
    pub bundle: &'a std::path::Path,
    /// (`--retained-until`) Every object must be locked write-once at least until then.
    pub retained_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// `--online --storage-url`: reads back the objects the audit stored for this bundle
/// (the keys come from the manifest's repository, version and bundle name, laid out as
/// `storage-url` says), and checks that the zip's bytes are this zip's, that the
/// `<bundle>.SHA256SUMS` is the one this bundle makes, and their locks.
pub async fn check_stored(v: &mut Verification, net: &crate::http::Net, check: &StoredCheck<'_>) {
    let Some(m) = v.manifest.clone() else { return };
    let base = check.settings.location.object_url("");
    let fail = |v: &mut Verification, url: &str, detail: String| {
        v.problems.push(Problem::Stored { url: url.to_string(), detail });
    };
    let repository = m.source.repository.as_deref().unwrap_or("local/local");
    let name = m.release.bundle_name.as_str();
    let (local_zip, inner_sums) = match local_sums(check.bundle) {
        Ok(pair) => pair,
        Err(e) => return fail(v, &base, format!("the bundle's own SHA256SUMS could not be read: {e}")),
    };
    let found = match crate::publish::storage::inspect(net, check.settings, repository, &m.release.version, name).await
    {
        Ok(found) => found,
        Err(e) => return fail(v, &base, e.to_string()),
    };
    let mut found = found.into_iter();
    let (Some((zip_url, _, zip)), Some((sums_url, _, sums))) = (found.next(), found.next()) else { return };
    let Some(zip) = zip else { return fail(v, &zip_url, "is not there".into()) };
    // A directory has no zip to hash: the zip must be the one the stored sums name,
    // and the stored sums must be the ones this bundle makes with it.
    if local_zip.is_none() {
        v.notes.push(format!(
            "{zip_url}: checked against the stored SHA256SUMS, which must be the one this bundle makes; give the zip to compare its bytes with it"
        ));
    }
    let zip_sha = local_zip.unwrap_or_else(|| zip.sha256.clone());
    let expected_sums = crate::publish::zip_sums(name, &zip_sha, &inner_sums);
    let sums_sha =
        crate::hashing::copy(expected_sums.as_bytes(), &mut std::io::sink()).map(|(_, h)| h).unwrap_or_default();
    let mut objects = vec![
        (zip_url, Some(zip), Some(zip_sha), "the bundle zip's"),
        (sums_url, sums, Some(sums_sha), "this bundle's SHA256SUMS's"),
    ];
    // Extra files (the Sigstore bundle) are checked when stored: against the copy
    // beside the given zip, when there is one.
    for (url, suffix, object) in found.filter(|(_, _, o)| o.is_some()) {
        let local = check.bundle.with_file_name(format!("{name}{suffix}"));
        let sha = std::fs::File::open(&local)
            .ok()
            .filter(|_| check.bundle.is_file())
            .and_then(|f| crate::hashing::copy(f, &mut std::io::sink()).ok())
            .map(|(_, h)| h);
        objects.push((url, object, sha, "the copy beside the zip's"));
    }
    for (url, object, expected, whose) in objects {
        let Some(object) = object else {
            fail(v, &url, "is not there".into());
            continue;
        };
        let bytes = match &expected {
            Some(e) if *e != object.sha256 => {
                fail(v, &url, format!("holds other bytes (sha256 {}) than {whose} ({e})", object.sha256));
                continue;
            }
            Some(_) => "sha256 matches",
            None => "present (no local copy to compare)",
        };
        let version = object.version.as_ref().map(|v| format!(", version {v}")).unwrap_or_default();
        let lock = lock_text(v, &url, object.lock.as_ref(), check.retained_until);
        v.stored.push(format!("{url} ({bytes}{version}; {lock})"));
    }
}

/// The lock in words; a problem when `--retained-until` is not met, a note when
/// there is no lock or it has ended.
fn lock_text(
    v: &mut Verification,
    url: &str,
    lock: Option<&crate::publish::storage::Lock>,
    required: Option<chrono::DateTime<chrono::Utc>>,
) -> String {
    let at = |t: &chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let text = match lock {
        Some(l) => format!("locked {} until {}", l.mode, at(&l.retain_until)),
        None => "not locked".to_string(),
    };
    match (lock, required) {
        (Some(l), Some(r)) if !l.is_write_once() || l.retain_until < r => v.problems.push(Problem::Stored {
            url: url.to_string(),
            detail: format!("is {text}, not write-once until {} as --retained-until requires", at(&r)),
        }),
        (None, Some(r)) => v.problems.push(Problem::Stored {
            url: url.to_string(),
            detail: format!("is not locked, not write-once until {} as --retained-until requires", at(&r)),
        }),
        (None, None) => v.notes.push(format!("{url} is not locked: it can be deleted or replaced")),
        (Some(l), None) if l.retain_until < chrono::Utc::now() => {
            v.notes.push(format!("{url}: its lock ended on {}; it can be deleted or replaced now", at(&l.retain_until)))
        }
        _ => {}
    }
    text
}

/// The sha256 of the zip (`None` for a directory) and the bundle's own SHA256SUMS.
fn local_sums(bundle: &std::path::Path) -> Result<(Option<String>, String), String> {
    const LIMIT: u64 = 16 * 1024 * 1024;
    if bundle.is_dir() {
        let text = std::fs::read_to_string(bundle.join("SHA256SUMS")).map_err(|e| e.to_string())?;
        return Ok((None, text));
    }
    let file = std::fs::File::open(bundle).map_err(|e| e.to_string())?;
    let (_, sha) = crate::hashing::copy(&file, &mut std::io::sink()).map_err(|e| e.to_string())?;
    let mut archive =
        zip::ZipArchive::new(std::fs::File::open(bundle).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let name = archive
        .file_names()
        .filter_map(|n| n.ok().map(|n| n.into_owned()))
        .find(|n| n.split('/').count() == 2 && n.ends_with("/SHA256SUMS"))
        .ok_or("the zip has no <bundle>/SHA256SUMS")?;
    let entry = archive.by_name(&name).map_err(|e| e.to_string())?;
    let mut text = String::new();
    use std::io::Read;
    entry.take(LIMIT).read_to_string(&mut text).map_err(|e| e.to_string())?;
    Ok((Some(sha), text))
}
