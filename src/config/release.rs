//! The release-asset inputs, read and checked once: `release-asset`, `release-tag`,
//! and whether the bundle name survives as a release asset name → [`ReleaseAssetSettings`].
//! Checked here what would otherwise fail only after the bundle was written.

use super::RawInputs;
use crate::error::{Error, Result};
use crate::publish::release::ReleaseAssetSettings;

/// Reads `release-asset` and `release-tag`; `None` when no release asset is asked for.
/// Checks here what would otherwise fail only after the bundle was written: a token is
/// there, the tag is a tag, and GitHub will keep the asset names as given.
pub fn settings(raw: &RawInputs, release_version: &str, bundle_name: &str) -> Result<Option<ReleaseAssetSettings>> {
    if !raw.bool("release-asset", false)? {
        return Ok(None);
    }
    if raw.get("github-token").is_none() {
        return Err(Error::input(
            raw.label("github-token"),
            "is empty, but `release-asset: true` needs it to attach the bundle to the release",
            "pass `github-token: ${{ github.token }}` and give the job `permissions: contents: write`",
        ));
    }
    let tag = raw.get("release-tag").unwrap_or(release_version);
    check_release_tag(raw.label("release-tag"), tag)?;
    check_asset_name(raw.label("bundle-name"), bundle_name)?;
    Ok(Some(ReleaseAssetSettings { tag: tag.to_string() }))
}

/// A tag name as git accepts it (no space, control character, `~^:?*[\\` or `..`).
pub(crate) fn check_release_tag(label: &str, tag: &str) -> Result<()> {
    if tag.is_empty()
        || tag.chars().any(|c| c.is_whitespace() || c.is_control() || "~^:?*[\\".contains(c))
        || tag.contains("..")
    {
        return Err(Error::input(
            label,
            format!("`{}` is not a git tag name", tag.escape_debug()),
            "give the tag of the release, e.g. 1.2.3 or v1.2.3",
        ));
    }
    Ok(())
}

/// A bundle name GitHub keeps as given in a release asset name (`<name>.zip`).
pub(crate) fn check_asset_name(label: &str, bundle_name: &str) -> Result<()> {
    if bundle_name.starts_with('.') || bundle_name.ends_with('.') {
        return Err(Error::input(
            label,
            format!(
                "`{}` starts or ends with `.`, which GitHub renames in release asset names",
                bundle_name.escape_debug()
            ),
            "start and end the name with a letter or digit when `release-asset` is true",
        ));
    }
    if let Some(c) = bundle_name.chars().find(|c| !asset_name_char(*c)) {
        return Err(Error::input(
            label,
            format!("`{}` contains {c:?}, which GitHub replaces in release asset names", bundle_name.escape_debug()),
            "use letters, digits and . _ - + only when `release-asset` is true",
        ));
    }
    Ok(())
}

/// Characters GitHub keeps in an asset name (others become `.`).
fn asset_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._-+".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawInputs {
        let map: std::collections::HashMap<String, String> =
            pairs.iter().map(|(k, v)| (crate::config::inputs::input_variable(k), v.to_string())).collect();
        RawInputs::collect(&crate::config::RunArgs::default(), &move |k: &str| map.get(k).cloned())
    }

    /// Release settings for version 1.2.3, the bundle name as the seam computes it.
    fn check(pairs: &[(&str, &str)]) -> Result<Option<ReleaseAssetSettings>> {
        let raw = raw(pairs);
        let bundle = raw.get("bundle-name").map(str::to_string).unwrap_or_else(|| "audit-bundle-1.2.3".into());
        settings(&raw, "1.2.3", &bundle)
    }

    #[test]
    fn the_tag_defaults_to_the_release_version() {
        assert_eq!(check(&[]).unwrap(), None);
        assert_eq!(check(&[("release-asset", "false"), ("release-tag", "x")]).unwrap(), None);
        let s = check(&[("release-asset", "true"), ("github-token", "t")]).unwrap().unwrap();
        assert_eq!(s.tag, "1.2.3");
        let s = check(&[("release-asset", "true"), ("github-token", "t"), ("release-tag", "v1.2.3")]).unwrap().unwrap();
        assert_eq!(s.tag, "v1.2.3");
    }

    #[test]
    fn bad_release_inputs_name_themselves() {
        for (pairs, name) in [
            (&[("release-asset", "true")][..], "github-token"),
            (&[("release-asset", "yes"), ("github-token", "t")][..], "release-asset"),
            (&[("release-asset", "true"), ("github-token", "t"), ("release-tag", "v1 2")][..], "release-tag"),
            (&[("release-asset", "true"), ("github-token", "t"), ("release-tag", "a..b")][..], "release-tag"),
            (&[("release-asset", "true"), ("github-token", "t"), ("bundle-name", "audit bundle")][..], "bundle-name"),
            (&[("release-asset", "true"), ("github-token", "t"), ("bundle-name", ".audit")][..], "bundle-name"),
            (&[("release-asset", "true"), ("github-token", "t"), ("bundle-name", "audit.")][..], "bundle-name"),
        ] {
            let err = check(pairs).unwrap_err();
            assert!(err.to_string().starts_with(&format!("input `{name}`")), "{pairs:?}: {err}");
            assert!(!err.hint().is_empty());
        }
    }
}
