//! The previous release: the one the change set starts from.
//!
//! Named by the `previous-release` input, it is taken as given. Otherwise it is found,
//! and a release is a **release**: published releases come first (GitHub's releases
//! list; a draft is not a release); version tags are candidates only when no published
//! release below this version exists (a repository that tags without publishing). A
//! pre-release — GitHub's `prerelease` flag or a semantic-version pre-release tag — is a
//! candidate only when this release is itself a pre-release.
//!
//! Every candidate, newest version first (at most [`MAX_CANDIDATES`]), must lie
//! **behind** the released commit: a strict ancestor (the compare API answers `ahead`:
//! the released commit has commits it lacks, and lacks none of its own), or — for a
//! *published release* only — a release on another release branch (`diverged` with
//! commits since their merge base: Kyma tags `X.Y.0` on `release-X.Y`, so the previous
//! minor release is never an ancestor of the next one; the range is then what
//! `compare/{previous}...{released}` lists, every commit since the merge base). A tag on
//! the released commit (`identical`), ahead of it (`behind`), a bare version tag on
//! another branch, or an unrelated one (404) is passed over, and said. When no candidate holds,
//! the previous release is *unknown* and the review control does not hold — never a
//! first release. A first release is only a complete tag list with no version below
//! this one (every published release has a tag).
//!
//! [`PreviousRelease`] (`changes/previous.json`) records what was read and each
//! candidate's comparison; [`judge_previous`] recomputes the choice from it alone, which
//! is what `verify` runs.

use serde::{Deserialize, Serialize};

use super::CommitRange;
use super::review::Version;

/// Candidates compared with the released commit, newest first, before giving up.
pub const MAX_CANDIDATES: usize = 5;

/// How the previous release was asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum PreviousMethod {
    /// Named by the `previous-release` input.
    Input { tag: String },
    /// Searched among published releases, then version tags.
    Search,
}

/// A list read from GitHub (releases or tags): the version-like names, and whether the
/// list was read whole.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// Names that read as versions (others can never be a candidate).
    pub names: Vec<String>,
    /// Of `names`, the releases GitHub flags as pre-releases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prereleases: Vec<String>,
    /// Every page was read.
    pub complete: bool,
    /// Why not, when it was not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Where a candidate came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Release,
    Tag,
}

/// A candidate's comparison with the released commit (`compare/{candidate}...{head}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Comparison {
    /// GitHub's `status` (`ahead`, `identical`, `behind`, `diverged`), or `unrelated`
    /// for a 404 (no common history, or the tag is gone).
    pub status: String,
    pub ahead_by: u64,
    pub behind_by: u64,
}

impl Comparison {
    /// The candidate is a strict ancestor of the released commit.
    pub fn is_strict_ancestor(&self) -> bool {
        self.status == "ahead" && self.ahead_by > 0 && self.behind_by == 0
    }

    /// The candidate may start the range: a strict ancestor, or a published release on
    /// another branch with commits of the released one since their merge base. A bare
    /// tag must be an ancestor: anyone who can push a tag could otherwise cut the range
    /// short on a branch of their own.
    pub fn qualifies(&self, source: Source) -> bool {
        self.is_strict_ancestor() || (source == Source::Release && self.status == "diverged" && self.ahead_by > 0)
    }

    fn why_not(&self) -> String {
        match self.status.as_str() {
            "identical" => "it is on the released commit itself".into(),
            "behind" => "it is ahead of the released commit".into(),
            "diverged" => "it is a version tag, not a published release, and not an ancestor of the released commit (another branch, or rewritten history)".into(),
            "unrelated" => "it cannot be compared with the released commit (deleted, or unrelated history)".into(),
            other => format!("GitHub compares it as `{other}`"),
        }
    }
}

/// One candidate as it was judged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub tag: String,
    pub source: Source,
    /// `None`: it could not be compared (see `note`).
    pub compared: Option<Comparison>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// `changes/previous.json`: how the previous release was chosen, and the range compared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousRelease {
    #[serde(flatten)]
    pub method: PreviousMethod,
    pub release_version: String,
    pub head_sha: String,
    /// Published releases read (`None`: not listed).
    pub releases: Option<Listing>,
    /// Version tags read (`None`: not needed — a published release was a candidate).
    pub tags: Option<Listing>,
    /// The candidates compared, in the order they were judged.
    pub candidates: Vec<Candidate>,
    /// The range from the chosen release to the released commit (`None`: none compared).
    pub range: Option<CommitRange>,
}

/// What [`judge_previous`] makes of the record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviousOutcome {
    /// The previous release's tag.
    pub release: Option<String>,
    /// None found, but none can be ruled out either.
    pub unknown: bool,
    /// How it was found, or why not, for a person.
    pub found_by: String,
}

impl PreviousOutcome {
    /// No earlier release exists (not: it could not be determined).
    pub fn is_first_release(&self) -> bool {
        self.release.is_none() && !self.unknown
    }
}

fn is_lower(current: Option<&Version>, current_text: &str, tag: &str, flagged_pre: bool) -> Option<Version> {
    if tag == current_text || tag.strip_prefix('v') == Some(current_text) || current_text.strip_prefix('v') == Some(tag)
    {
        return None;
    }
    let v = Version::parse(tag)?;
    let pre = v.is_prerelease() || flagged_pre;
    let keep = match current {
        Some(now) => v < *now && (!pre || now.is_prerelease()),
        None => !pre,
    };
    keep.then_some(v)
}

fn lower_versions(current: &str, listing: &Listing, source: Source) -> Vec<(Version, String, Source)> {
    let now = Version::parse(current);
    let mut out: Vec<(Version, String, Source)> = listing
        .names
        .iter()
        .filter_map(|t| {
            is_lower(now.as_ref(), current, t, listing.prereleases.contains(t)).map(|v| (v, t.clone(), source))
        })
        .collect();
    // Newest first; among equal versions the shorter name (`1.2.0` before `v1.2.0`).
    out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.len().cmp(&b.1.len())).then_with(|| a.1.cmp(&b.1)));
    out.dedup_by(|a, b| a.1 == b.1);
    out
}

/// The candidates in the order they are judged: published releases below `current`,
/// newest first; version tags only when there is no such release.
pub fn candidate_order(current: &str, releases: Option<&Listing>, tags: Option<&Listing>) -> Vec<(String, Source)> {
    let from_releases = releases.map(|r| lower_versions(current, r, Source::Release)).unwrap_or_default();
    let chosen = if from_releases.is_empty() {
        tags.map(|t| lower_versions(current, t, Source::Tag)).unwrap_or_default()
    } else {
        from_releases
    };
    chosen.into_iter().map(|(_, t, s)| (t, s)).collect()
}

/// The previous release, recomputed from the record alone.
pub fn judge_previous(p: &PreviousRelease) -> PreviousOutcome {
    if let PreviousMethod::Input { tag } = &p.method {
        return PreviousOutcome {
            release: Some(tag.clone()),
            unknown: false,
            found_by: "the `previous-release` input".into(),
        };
    }
    let order = candidate_order(&p.release_version, p.releases.as_ref(), p.tags.as_ref());
    let unknown = |why: String| PreviousOutcome {
        release: None,
        unknown: true,
        found_by: format!("could not be determined: {why}"),
    };
    let mut passed_over = 0usize;
    for (tag, source) in order.iter().take(MAX_CANDIDATES) {
        let Some(candidate) = p.candidates.iter().find(|c| &c.tag == tag && c.source == *source) else {
            return unknown(format!("`{tag}` was not compared with the released commit"));
        };
        match &candidate.compared {
            Some(c) if c.qualifies(*source) => {
                let what = match (source, c.is_strict_ancestor()) {
                    (Source::Release, true) => "published release",
                    (Source::Release, false) => {
                        "published release (on another release branch: the range starts at their merge base)"
                    }
                    (Source::Tag, _) => "version tag (no published release below it exists)",
                };
                let over =
                    if passed_over > 0 { format!(", after {passed_over} newer that are not") } else { String::new() };
                return PreviousOutcome {
                    release: Some(tag.clone()),
                    unknown: false,
                    found_by: format!(
                        "the newest {what} below `{}` by semantic version that lies behind the released commit{over}",
                        p.release_version
                    ),
                };
            }
            Some(_) => passed_over += 1,
            None => {
                let why = candidate.note.clone().unwrap_or_else(|| "no reason recorded".into());
                return unknown(format!("`{tag}` could not be compared with the released commit ({why})"));
            }
        }
    }
    if order.is_empty() {
        return match p.tags.as_ref() {
            Some(t) if t.complete => PreviousOutcome { release: None, unknown: false, found_by: "none found".into() },
            Some(t) => unknown(t.note.clone().unwrap_or_else(|| "the tags were not all read".into())),
            None => unknown("the tags were not listed".into()),
        };
    }
    let cut = if order.len() > MAX_CANDIDATES {
        format!(" (the newest {MAX_CANDIDATES} were compared)")
    } else {
        String::new()
    };
    unknown(format!("no release below `{}` lies behind the released commit{cut}", p.release_version))
}

/// One line per candidate passed over, for the notes.
pub fn passed_over(p: &PreviousRelease) -> Vec<String> {
    p.candidates
        .iter()
        .filter_map(|c| {
            let compared = c.compared.as_ref().filter(|x| !x.qualifies(c.source))?;
            Some(format!("`{}` was not taken as the previous release: {}", c.tag, compared.why_not()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(names: &[&str], complete: bool) -> Listing {
        Listing { names: names.iter().map(|n| n.to_string()).collect(), prereleases: vec![], complete, note: None }
    }

    fn compared(tag: &str, source: Source, status: &str, ahead: u64, behind: u64) -> Candidate {
        Candidate {
            tag: tag.into(),
            source,
            compared: Some(Comparison { status: status.into(), ahead_by: ahead, behind_by: behind }),
            note: None,
        }
    }

    fn search(releases: Option<Listing>, tags: Option<Listing>, candidates: Vec<Candidate>) -> PreviousRelease {
        PreviousRelease {
            method: PreviousMethod::Search,
            release_version: "1.2.3".into(),
            head_sha: "h".into(),
            releases,
            tags,
            candidates,
            range: None,
        }
    }

    #[test]
    fn published_releases_come_first_and_tags_only_without_one() {
        let r = listing(&["1.2.0", "1.3.0", "1.1.0"], true);
        let t = listing(&["1.2.2", "1.2.0"], true);
        let order = candidate_order("1.2.3", Some(&r), Some(&t));
        assert_eq!(order, [("1.2.0".to_string(), Source::Release), ("1.1.0".to_string(), Source::Release)]);
        let order = candidate_order("1.2.3", Some(&listing(&[], true)), Some(&t));
        assert_eq!(order[0], ("1.2.2".to_string(), Source::Tag));
        let mut pre = listing(&["1.2.2", "1.2.1"], true);
        pre.prereleases = vec!["1.2.2".into()];
        assert_eq!(candidate_order("1.2.3", Some(&pre), None)[0].0, "1.2.1", "a flagged pre-release is passed over");
        assert_eq!(candidate_order("1.2.3-rc.1", Some(&pre), None)[0].0, "1.2.2");
    }

    #[test]
    fn only_a_strict_ancestor_is_the_previous_release() {
        for (status, ahead, behind) in [("identical", 0, 0), ("behind", 0, 3), ("diverged", 2, 1), ("unrelated", 0, 0)]
        {
            let p = search(
                None,
                Some(listing(&["1.2.2"], true)),
                vec![compared("1.2.2", Source::Tag, status, ahead, behind)],
            );
            let o = judge_previous(&p);
            assert!(o.release.is_none() && o.unknown && !o.is_first_release(), "{status}: {o:?}");
        }
        let p = search(
            Some(listing(&["1.2.2", "1.2.1"], true)),
            None,
            vec![
                compared("1.2.2", Source::Release, "identical", 0, 0),
                compared("1.2.1", Source::Release, "ahead", 4, 0),
            ],
        );
        let o = judge_previous(&p);
        assert_eq!(o.release.as_deref(), Some("1.2.1"));
        assert!(o.found_by.contains("published release") && o.found_by.contains("after 1 newer"), "{o:?}");
        assert_eq!(passed_over(&p).len(), 1);
    }

    /// Kyma's release branches: `1.2.1` was released on `release-1.2`, `1.3.0` is tagged
    /// on `release-1.3`, branched from `main` later. The published `1.2.1` is no ancestor
    /// of `1.3.0` but lies behind it (diverged, with commits since the merge base); a bare
    /// tag in the same position is passed over, and a published release with nothing
    /// since the merge base (`behind_by` only) never starts a range.
    #[test]
    fn a_published_release_on_another_release_branch_starts_the_range_a_bare_tag_does_not() {
        let release =
            search(Some(listing(&["1.2.1"], true)), None, vec![compared("1.2.1", Source::Release, "diverged", 57, 3)]);
        let o = judge_previous(&release);
        assert_eq!(o.release.as_deref(), Some("1.2.1"), "{o:?}");
        assert!(o.found_by.contains("another release branch"), "{o:?}");
        let tag = search(
            Some(listing(&[], true)),
            Some(listing(&["1.2.1"], true)),
            vec![compared("1.2.1", Source::Tag, "diverged", 57, 3)],
        );
        assert!(judge_previous(&tag).unknown);
        let empty =
            search(Some(listing(&["1.2.1"], true)), None, vec![compared("1.2.1", Source::Release, "diverged", 0, 3)]);
        assert!(judge_previous(&empty).unknown);
    }

    #[test]
    fn a_first_release_needs_a_complete_tag_list_and_a_missing_comparison_is_unknown() {
        let first = search(Some(listing(&[], true)), Some(listing(&["2.0.0"], true)), vec![]);
        assert!(judge_previous(&first).is_first_release());
        let cut = search(Some(listing(&[], true)), Some(listing(&[], false)), vec![]);
        assert!(judge_previous(&cut).unknown);
        let unchecked = search(Some(listing(&["1.2.2"], true)), None, vec![]);
        assert!(judge_previous(&unchecked).unknown, "a candidate never compared cannot be passed over");
        let forged = search(Some(listing(&["1.2.2"], true)), None, vec![compared("1.2.2", Source::Tag, "ahead", 1, 0)]);
        assert!(judge_previous(&forged).unknown, "the candidate must be the release it is recorded as");
    }
}
