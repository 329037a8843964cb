//! The released commit and how it was found: a release tag's commit is named by that
//! tag's ref (`refs/tags/<tag>`), and the change trail's range ends at the released
//! commit. How GitHub resolved the tag is not in the bundle (`annotated` is
//! informational); that the bundle names one commit throughout is checked here.

use super::Problem;
use crate::bundle::manifest::Manifest;
use crate::config::CommitSource;

pub fn check(m: &Manifest, problems: &mut Vec<Problem>) {
    let mut say = |detail: String| problems.push(Problem::Manifest { detail: format!("source: {detail}") });
    if let Some(CommitSource::Tag { tag, .. }) = &m.source.commit_source {
        let expected = format!("refs/tags/{tag}");
        if m.source.git_ref.as_deref() != Some(expected.as_str()) {
            say(format!("the commit is recorded as the tag `{tag}`'s, but the ref is not `{expected}`"));
        }
        if m.source.commit.is_none() {
            say(format!("the commit is recorded as the tag `{tag}`'s, but no commit is named"));
        }
    }
    if let (Some(commit), Some(range)) = (&m.source.commit, m.evidence.changes.as_ref().and_then(|c| c.range.as_ref()))
        && !range.head_sha.eq_ignore_ascii_case(commit)
    {
        say(format!("the change trail ends at {}, not at the released commit {commit}", range.head_sha));
    }
}
