//! The digest the build on the tag push reported, read from that build's job log.
//!
//! Kyma modules build their release image in a separate run: the tag push starts
//! `build-manager-image.yml`, which calls test-infra's `image-builder.yml`. Its job
//! `build-image / Build image` prints the last log of its Azure DevOps pipeline run (the
//! `print_image_build_report` task's, test-infra `pkg/azuredevops/pipelines`), which holds the
//! image build report between `---IMAGE BUILD REPORT---` and `---END OF IMAGE BUILD
//! REPORT---` (test-infra `pkg/imagebuilder/report.go`) — a JSON object with `digest`,
//! `images_list`, `tags`, `pushed` and `status`. The job's outputs carry the same
//! digest, but the REST API does not return job outputs: the log is the one record a
//! later run can read.
//!
//! Everything here is pure: [`parse_report`] takes the log bytes (untrusted: the log
//! holds the build's own output), [`BuildDigest::apply`] gives the digest to the pairs
//! whose released reference the build pushed, and [`BuildDigest::rederive`] is what
//! `verify` runs on the logs the bundle keeps.

use serde::{Deserialize, Serialize};

use super::reference::{Digest, ImageRef};
use super::settings::ImagePair;

/// Where the build's report starts in the log.
pub const START_MARKER: &str = "---IMAGE BUILD REPORT---";
/// Where it ends.
pub const END_MARKER: &str = "---END OF IMAGE BUILD REPORT---";
/// A build job's log is read up to this size; a longer one is refused.
pub const MAX_BUILD_LOG_BYTES: u64 = 32 * 1024 * 1024;
/// The report between the markers is small; more than this is refused.
pub const MAX_REPORT_BYTES: usize = 256 * 1024;
/// Successful build runs of one tag read at most (re-runs of the tag push).
pub const MAX_BUILD_RUNS: usize = 5;
/// Images one report may name.
const MAX_REPORT_IMAGES: usize = 100;

/// Which workflow builds the release image on the tag push, and which of its jobs logs
/// the build report (`build-workflow`, `build-job`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildSource {
    /// The workflow file name, e.g. `build-manager-image.yml`.
    pub workflow: String,
    /// The job's name as the jobs API shows it, e.g. `build-image / Build image`.
    pub job: String,
}

/// The default `build-job`: test-infra's `image-builder.yml` called as job `build-image`.
pub const DEFAULT_BUILD_JOB: &str = "build-image / Build image";

/// The image build report, as test-infra's `BuildReport` writes it (unknown fields ignored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildReport {
    pub status: String,
    pub pushed: bool,
    #[serde(default)]
    pub signed: bool,
    #[serde(default)]
    pub image_name: String,
    pub images_list: Vec<String>,
    pub digest: String,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub repository_path: String,
    #[serde(default)]
    pub architectures: Vec<String>,
}

/// One build run's job log, as kept in the bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildLog {
    pub run_id: u64,
    pub run_attempt: u32,
    pub job_id: u64,
    /// The bundle path of the log (`images/build/job-<id>.log`).
    pub path: String,
    pub size: u64,
    /// sha256 (lower-case hex) of the log as downloaded.
    pub sha256: String,
}

/// Where the expected digest came from: the build runs of the release tag, their
/// logs, the report read from them and the pairs it was given to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildDigest {
    pub workflow: String,
    pub job: String,
    /// The tag the build ran on (`head_branch` of the push run).
    pub tag: String,
    /// The commit the build ran on (the tag's commit).
    pub commit: String,
    /// Every successful push run of the tag at that commit: each must report one digest.
    pub logs: Vec<BuildLog>,
    /// The report, as read from the logs (one report when several runs agree).
    pub report: BuildReport,
    pub digest: Digest,
    /// The pairs whose released reference the build pushed: each expects `digest`.
    pub applied_to: Vec<String>,
}

/// Strips the timestamps GitHub (and, in the ADO log it prints, Azure DevOps) put in
/// front of each line: at most two `YYYY-MM-DDTHH:MM:SS.fffffffZ ` prefixes.
fn strip_timestamps(line: &str) -> &str {
    let mut rest = line;
    for _ in 0..2 {
        match timestamp_len(rest) {
            Some(n) => rest = &rest[n..],
            None => break,
        }
    }
    rest
}

/// The length of a leading `\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z` and one space.
fn timestamp_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let digits = |range: std::ops::Range<usize>| range.clone().all(|i| b.get(i).is_some_and(u8::is_ascii_digit));
    let at = |i: usize, c: u8| b.get(i) == Some(&c);
    if !(digits(0..4) && at(4, b'-') && digits(5..7) && at(7, b'-') && digits(8..10) && at(10, b'T'))
        || !(digits(11..13) && at(13, b':') && digits(14..16) && at(16, b':') && digits(17..19) && at(19, b'.'))
    {
        return None;
    }
    let fraction = b[20..].iter().take_while(|c| c.is_ascii_digit()).count();
    let z = 20 + fraction;
    (fraction > 0 && at(z, b'Z') && b.get(z + 1).is_some_and(|c| *c == b' ' || *c == b'\t')).then_some(z + 2)
}

/// The build report in a job log. The log is untrusted (it carries other programs'
/// output): exactly one start and one end marker must stand alone on their lines (two
/// reports would have failed image-builder's own greedy parse), the JSON between them
/// is bounded, and the digest must be a digest.
pub fn parse_report(log: &[u8]) -> Result<BuildReport, String> {
    let text = String::from_utf8_lossy(log);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let lines: Vec<&str> = text.lines().map(|l| strip_timestamps(l.trim_end_matches('\r'))).collect();
    let starts: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].contains(START_MARKER)).collect();
    let ends: Vec<usize> = (0..lines.len()).filter(|&i| lines[i].contains(END_MARKER)).collect();
    let (start, end) = match (starts.as_slice(), ends.as_slice()) {
        ([], _) | (_, []) => return Err(format!("holds no image build report (`{START_MARKER}` … `{END_MARKER}`)")),
        ([s], [e]) if s < e => (*s, *e),
        ([_], [_]) => return Err("holds the report's end marker before its start".to_string()),
        _ => {
            return Err(format!(
                "holds {} report start and {} end markers: which report the build used cannot be told",
                starts.len(),
                ends.len()
            ));
        }
    };
    if lines[start].trim() != START_MARKER || lines[end].trim() != END_MARKER {
        return Err("has a report marker inside other text, not on a line of its own".to_string());
    }
    let json = lines[start + 1..end].join("\n");
    if json.len() > MAX_REPORT_BYTES {
        return Err(format!("holds a build report of {} bytes, more than {MAX_REPORT_BYTES}", json.len()));
    }
    let report: BuildReport =
        serde_json::from_str(&json).map_err(|e| format!("holds a build report that is not the expected JSON: {e}"))?;
    Digest::parse(&report.digest).map_err(|e| format!("holds a build report whose digest {e}"))?;
    if report.images_list.len() > MAX_REPORT_IMAGES {
        return Err(format!("holds a build report naming more than {MAX_REPORT_IMAGES} images"));
    }
    Ok(report)
}

impl BuildReport {
    /// Why this report cannot give the expected digest: the build did not succeed or
    /// did not push.
    pub fn refusal(&self) -> Option<String> {
        if self.status != "Succeeded" {
            return Some(format!("reports the build status `{}`, not `Succeeded`", self.status.escape_debug()));
        }
        if !self.pushed {
            return Some("reports the image was not pushed".to_string());
        }
        None
    }

    /// Whether the build pushed `image` (compared as parsed references, so
    /// `docker.io/library/x` and `x` are one).
    pub fn pushed_image(&self, image: &ImageRef) -> bool {
        image.digest.is_none()
            && self
                .images_list
                .iter()
                .filter_map(|i| ImageRef::parse(i).ok())
                .any(|i| i.registry == image.registry && i.repository == image.repository && i.tag == image.tag)
    }
}

/// The pairs whose released reference the build pushed (names, in the pairs' order).
pub fn pushed_pairs<'a>(report: &BuildReport, pairs: impl Iterator<Item = (&'a str, &'a ImageRef)>) -> Vec<String> {
    pairs.filter(|(_, released)| report.pushed_image(released)).map(|(name, _)| name.to_string()).collect()
}

impl BuildDigest {
    /// Gives the build's digest to the pairs it pushed the released image of; none
    /// of them may carry another expected digest.
    pub fn apply(&self, pairs: &mut [ImagePair]) {
        for pair in pairs.iter_mut().filter(|p| self.applied_to.contains(&p.name)) {
            pair.expected = Some(self.digest.clone());
        }
    }

    /// Re-derives this record from the logs the bundle keeps (`read` gives a bundle
    /// file's bytes) and the pairs as `manifest.json` names them (name, released
    /// reference, expected digest): each log hashes to its recorded sha256 and holds
    /// the recorded report, the digest is the report's, and exactly the pairs the
    /// build pushed expect it (every other pair expects nothing). Each discrepancy is
    /// one line.
    pub fn rederive<'a>(
        &self,
        read: impl Fn(&str) -> Option<Vec<u8>>,
        pairs: &[(&'a str, &'a str, Option<&'a Digest>)],
    ) -> Vec<String> {
        let mut found = Vec::new();
        if self.logs.is_empty() {
            found.push("the build digest names no build log".to_string());
        }
        let jobs: std::collections::BTreeSet<u64> = self.logs.iter().map(|l| l.job_id).collect();
        if jobs.len() != self.logs.len() {
            found.push("the build digest names one build log twice".to_string());
        }
        for log in &self.logs {
            let expected_path = format!("images/build/job-{}.log", log.job_id);
            if log.path != expected_path {
                found.push(format!("the build log of job {} is at `{}`, not {expected_path}", log.job_id, log.path));
                continue;
            }
            let Some(bytes) = read(&log.path) else {
                found.push(format!("{} is missing or too large", log.path));
                continue;
            };
            let mut tally = crate::hashing::Tally::new();
            tally.update(&bytes);
            if tally.finish() != (log.size, log.sha256.clone()) {
                found.push(format!("{} does not hash to the recorded {}", log.path, log.sha256));
            }
            match parse_report(&bytes) {
                Ok(report) if report == self.report => {}
                Ok(_) => found.push(format!("{} holds another build report than the one recorded", log.path)),
                Err(e) => found.push(format!("{} {e}", log.path)),
            }
        }
        if self.report.digest != self.digest.to_string() {
            found.push(format!("the build digest {} is not the report's {}", self.digest, self.report.digest));
        }
        if let Some(refusal) = self.report.refusal() {
            found.push(format!("the build report {refusal}, yet its digest was used"));
        }
        let parsed: Vec<(&str, Option<ImageRef>, Option<&Digest>)> =
            pairs.iter().map(|(n, r, e)| (*n, ImageRef::parse(r).ok(), *e)).collect();
        let pushed: Vec<String> = parsed
            .iter()
            .filter(|(_, r, _)| r.as_ref().is_some_and(|r| self.report.pushed_image(r)))
            .map(|(n, _, _)| n.to_string())
            .collect();
        if pushed != self.applied_to {
            found.push(format!(
                "the build pushed the released images of {pushed:?}, but the digest was given to {:?}",
                self.applied_to
            ));
        }
        if pushed.is_empty() {
            found.push("the build pushed none of the released images".to_string());
        }
        for (name, _, expected) in &parsed {
            let should = pushed.iter().any(|p| p == name).then_some(&self.digest);
            if *expected != should {
                let show = |d: Option<&Digest>| d.map_or_else(|| "nothing".to_string(), Digest::to_string);
                found.push(format!(
                    "pair `{name}` expects {}, but the build gives it {}",
                    show(*expected),
                    show(should)
                ));
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:3197820c25f93113f22a6d90d6dbcf70e1d71ae528c3c0b1542e9604bdfa9d83";

    /// test-infra's `report_test.go` sample as the ADO log prints it, inside the
    /// GitHub job log (a second timestamp in front of every line).
    fn job_log(block: &str) -> String {
        let ado = format!(
            "2025-04-27T10:41:56.2511247Z ##[section]Starting: print_image_build_report\n\
             2025-04-27T10:41:56.4259451Z [#debug] Build Report: {{status: Succeeded, pushed: true, digest: {DIGEST}}}\n\
             {block}\
             2025-04-27T10:41:56.4431442Z ##[section]Finishing: print_image_build_report\n"
        );
        let mut log = String::from("\u{feff}2025-04-27T10:40:01.1000000Z ADO pipeline image build logs:\n");
        for line in ado.lines() {
            log.push_str(&format!("2025-04-27T10:42:00.0000000Z {line}\n"));
        }
        log
    }

    fn block(digest: &str) -> String {
        format!(
            "2025-04-27T10:41:56.4260338Z ---IMAGE BUILD REPORT---\n\
             2025-04-27T10:41:56.4342736Z {{\n\
             2025-04-27T10:41:56.4346228Z   \"status\": \"Succeeded\",\n\
             2025-04-27T10:41:56.4346484Z   \"pushed\": true,\n\
             2025-04-27T10:41:56.4346725Z   \"signed\": true,\n\
             2025-04-27T10:41:56.4347489Z   \"image_name\": \"telemetry-manager\",\n\
             2025-04-27T10:41:56.4347733Z   \"tags\": [\"1.3.0\", \"1.3.0-experimental\"],\n\
             2025-04-27T10:41:56.4348636Z   \"repository_path\": \"europe-docker.pkg.dev/kyma-project/prod\",\n\
             2025-04-27T10:41:56.4348920Z   \"images_list\": [\n\
             2025-04-27T10:41:56.4349601Z     \"europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.3.0\",\n\
             2025-04-27T10:41:56.4349602Z     \"europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.3.0-experimental\"\n\
             2025-04-27T10:41:56.4349903Z   ],\n\
             2025-04-27T10:41:56.4357584Z   \"digest\": \"{digest}\",\n\
             2025-04-27T10:41:56.4358658Z   \"architectures\": [\"linux/amd64\", \"linux/arm64\"]\n\
             2025-04-27T10:41:56.4359560Z }}\n\
             2025-04-27T10:41:56.4359897Z ---END OF IMAGE BUILD REPORT---\n"
        )
    }

    #[test]
    fn the_report_is_read_from_a_job_log_with_two_timestamps_per_line() {
        let report = parse_report(job_log(&block(DIGEST)).as_bytes()).unwrap();
        assert_eq!(report.digest, DIGEST);
        assert_eq!(report.tags, ["1.3.0", "1.3.0-experimental"]);
        assert!(report.pushed && report.signed && report.refusal().is_none());
        let released = ImageRef::parse("europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.3.0-experimental");
        assert!(report.pushed_image(&released.unwrap()));
        let other = ImageRef::parse("europe-docker.pkg.dev/kyma-project/dev/telemetry-manager:1.3.0").unwrap();
        assert!(!report.pushed_image(&other), "another repository is another image");
    }

    #[test]
    fn a_log_without_one_clean_report_is_refused() {
        let cases = [
            (job_log(""), "holds no image build report"),
            (job_log(&(block(DIGEST) + &block(DIGEST))), "2 report start and 2 end markers"),
            (
                job_log(&block(DIGEST).replace("Z ---IMAGE BUILD REPORT---", "Z echo ---IMAGE BUILD REPORT---")),
                "not on a line of its own",
            ),
            (job_log(&block("sha256:abc")), "whose digest"),
            (job_log(&block(DIGEST).replace("\"pushed\": true,", "\"pushed\": \"yes\",")), "not the expected JSON"),
        ];
        for (log, says) in cases {
            let err = parse_report(log.as_bytes()).unwrap_err();
            assert!(err.contains(says), "{says}: {err}");
        }
        let failed = parse_report(job_log(&block(DIGEST).replace("Succeeded", "Failed")).as_bytes()).unwrap();
        assert!(failed.refusal().unwrap().contains("`Failed`"));
    }

    /// A record as the audit writes it, over one kept log.
    fn recorded(log: &[u8]) -> BuildDigest {
        let mut tally = crate::hashing::Tally::new();
        tally.update(log);
        let (size, sha256) = tally.finish();
        let report = parse_report(log).unwrap();
        BuildDigest {
            workflow: "build-manager-image.yml".into(),
            job: DEFAULT_BUILD_JOB.into(),
            tag: "1.3.0".into(),
            commit: "a".repeat(40),
            logs: vec![BuildLog {
                run_id: 9,
                run_attempt: 1,
                job_id: 91,
                path: "images/build/job-91.log".into(),
                size,
                sha256,
            }],
            digest: Digest::parse(&report.digest).unwrap(),
            report,
            applied_to: vec!["manager".into(), "experimental".into()],
        }
    }

    #[test]
    fn verify_re_derives_the_digest_from_the_kept_log() {
        let log = job_log(&block(DIGEST)).into_bytes();
        let build = recorded(&log);
        let digest = Digest::parse(DIGEST).unwrap();
        let prod = "europe-docker.pkg.dev/kyma-project/prod/telemetry-manager";
        let (manager, experimental) = (format!("{prod}:1.3.0"), format!("{prod}:1.3.0-experimental"));
        let pairs =
            [("manager", manager.as_str(), Some(&digest)), ("experimental", experimental.as_str(), Some(&digest))];
        let read_from = |bytes: Vec<u8>| move |path: &str| (path == "images/build/job-91.log").then(|| bytes.clone());
        assert_eq!(build.rederive(read_from(log.clone()), &pairs), Vec::<String>::new());

        // The log edited (another digest in the report): its hash and its report disagree.
        let other = format!("sha256:{}", "b".repeat(64));
        let edited = job_log(&block(&other)).into_bytes();
        let found = build.rederive(read_from(edited), &pairs);
        assert!(found.iter().any(|f| f.contains("does not hash")), "{found:?}");
        assert!(found.iter().any(|f| f.contains("another build report")), "{found:?}");

        // A pair given another expected digest, or one the build did not push claiming it.
        let wrong = Digest::parse(&other).unwrap();
        let found =
            build.rederive(read_from(log.clone()), &[pairs[0], ("experimental", experimental.as_str(), Some(&wrong))]);
        assert!(found.iter().any(|f| f.contains("pair `experimental` expects")), "{found:?}");
        let dev = format!("{prod}-dev:1.3.0");
        let found = build.rederive(read_from(log.clone()), &[pairs[0], ("experimental", dev.as_str(), Some(&digest))]);
        assert!(found.iter().any(|f| f.contains("but the digest was given to")), "{found:?}");

        // The record's digest edited: not the report's.
        let mut forged = build.clone();
        forged.digest = wrong;
        assert!(forged.rederive(read_from(log), &pairs).iter().any(|f| f.contains("is not the report's")));
    }

    #[test]
    fn timestamps_are_stripped_only_in_front() {
        assert_eq!(
            strip_timestamps("2026-01-01T00:00:00.1Z 2026-01-01T00:00:00.2Z x 2026-01-01T00:00:00.3Z y"),
            "x 2026-01-01T00:00:00.3Z y"
        );
        assert_eq!(
            strip_timestamps("2026-01-01T00:00:00Z x"),
            "2026-01-01T00:00:00Z x",
            "no fraction: not GitHub's form"
        );
        assert_eq!(strip_timestamps("2026-01-01"), "2026-01-01");
    }
}
