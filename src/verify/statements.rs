//! `statements/*.intoto.json`: written again from the manifest (with the pairs' stored
//! digest records, whose tested digests are subjects) and compared with the bundle's by
//! size and sha256. The server's URL comes from the manifest's run URL (or the change
//! trail's repository URL). A statement the manifest does not call for is a problem.
//! The VSA (`statements/vsa.intoto.json`) is one of them: its verdict, levels, policy
//! and input statements' digests are all written again; its `timeVerified` is the
//! manifest's `run.audited_at`, which must be an RFC 3339 time.

use sha2::{Digest as _, Sha256};

use super::{Found, Problem};
use crate::bundle::manifest::Manifest;
use crate::bundle::statement_files::{server_url_of, statement_files};

/// `m` must carry the pairs' stored details (see `rendered::with_details`).
pub fn check(found: &Found, m: &Manifest, problems: &mut Vec<Problem>) {
    if let Some(at) = &m.run.audited_at
        && chrono::DateTime::parse_from_rfc3339(at).is_err()
    {
        problems.push(Problem::Manifest { detail: format!("run.audited_at `{at}` is not an RFC 3339 time") });
    }
    let expected = statement_files(m, &server_url_of(m));
    for file in &expected {
        let Some(on_disk) = found.get(&file.path) else {
            if !found.is_not_file(&file.path) {
                problems.push(Problem::Missing { path: file.path.clone() });
            }
            continue;
        };
        if on_disk.size != file.bytes.len() as u64 || on_disk.sha256 != hex::encode(Sha256::digest(&file.bytes)) {
            problems.push(Problem::Manifest {
                detail: format!("{}: the statement is not the one the manifest gives", file.path),
            });
        }
    }
    for path in found.paths().filter(|p| p.starts_with("statements/")) {
        if !expected.iter().any(|f| &f.path == path) {
            problems.push(Problem::Manifest { detail: format!("{path}: a statement the manifest does not call for") });
        }
    }
}
