//! Ginkgo v2 JSON reports (`ginkgo --json-report`): one JSON array of suite reports,
//! each with its `SpecReports`.
//!
//! The document is one value, possibly hundreds of megabytes (captured output of every
//! spec), so it is walked with a streaming visitor: one spec at a time, the fields we
//! keep read under the token bound, everything else (captured output, progress reports,
//! timelines) skipped without being stored.
//!
//! Counting rules (on top of the shared ones in [`super`]):
//! - Specs (`LeafNodeType` `It`) count: `passed`; `failed` and `timedout` → failed
//!   (also when the failure was in a `BeforeEach`: the message says which node);
//!   `panicked`, `interrupted`, `aborted` → errored; `skipped` and `pending` → skipped
//!   (pending is noted). Any other state is errored and noted.
//! - Suite nodes (`BeforeSuite`, `AfterSuite`, `SynchronizedBeforeSuite`,
//!   `ReportAfterSuite`, `DeferCleanup`, …) are not specs: a failed one is a suite
//!   problem of its suite (so a failed `BeforeSuite` that skipped every spec still fails
//!   the report), a passed one is not counted.
//! - A suite marked unsuccessful with no failed spec or node (interrupted, programmatic
//!   focus, a suite that failed to compile) is a suite problem with Ginkgo's reasons.
//! - A spec that passed after more than one attempt (`--flake-attempts`,
//!   `FlakeAttempts`) is passed and flaky; `MustPassRepeatedly` repetitions are not
//!   failed attempts. Every spec report is a spec of its own: Ginkgo writes one per
//!   spec, with its retries in `NumAttempts`, so equal texts (specs made in a loop, two
//!   packages with the same suite name) are different specs.
//! - Duration: the sum of the suites' `RunTime`.

use std::fmt;
use std::io::BufRead;

use serde::Deserialize;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::input::{Allowance, Bounded, MAX_TOKEN_BYTES};
use super::{Collector, Outcome, ParsedReport, Rejected, ReportFormat, TestKey};

pub(crate) fn parse<R: BufRead>(reader: R) -> Result<ParsedReport, Rejected> {
    let allowance = Allowance::new();
    let mut deserializer = serde_json::Deserializer::from_reader(Bounded::new(reader, allowance.clone()));
    let mut report = Report {
        collector: Collector::new(ReportFormat::GinkgoJson),
        allowance: allowance.clone(),
        run_time_ns: None,
        specs_seen: 0,
    };
    let read = SuitesSeed(&mut report).deserialize(&mut deserializer).and_then(|()| {
        allowance.reset();
        deserializer.end()
    });
    if let Err(error) = read {
        let reason = if allowance.exhausted() {
            format!(
                "a single JSON value near line {} is longer than {} MiB; such a report is broken or hostile",
                error.line(),
                MAX_TOKEN_BYTES / (1024 * 1024)
            )
        } else if error.is_eof() {
            format!("the JSON document ends early (line {}): the file is truncated", error.line())
        } else {
            format!("not a valid Ginkgo JSON report: {error}")
        };
        return Err(Rejected::unparseable(ReportFormat::GinkgoJson, reason));
    }
    let duration = report.run_time_ns.map(|ns| ns as f64 / 1e9);
    Ok(report.collector.finish(duration))
}

struct Report {
    collector: Collector,
    allowance: Allowance,
    run_time_ns: Option<i64>,
    /// Spec reports read so far: each is a spec of its own.
    specs_seen: u64,
}

/// Walks a JSON object: each key and each kept value is read under a fresh token
/// bound; values `keep` does not take are skipped unstored, so they need no bound.
fn walk_map<'de, A: MapAccess<'de>>(
    map: &mut A,
    allowance: &Allowance,
    mut keep: impl FnMut(&str, &mut A) -> Result<bool, A::Error>,
) -> Result<(), A::Error> {
    loop {
        allowance.reset();
        let Some(key) = map.next_key::<String>()? else { return Ok(()) };
        allowance.reset();
        if !keep(&key, map)? {
            allowance.unlimited();
            map.next_value::<IgnoredAny>()?;
        }
    }
}

struct SuitesSeed<'r>(&'r mut Report);

impl<'de> DeserializeSeed<'de> for SuitesSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for SuitesSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of Ginkgo suite reports")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(SuiteSeed(&mut *self.0))?.is_some() {}
        Ok(())
    }
}

/// Per-suite counts, for the checks made when the suite's object ends.
#[derive(Default)]
struct SuiteSummary {
    description: String,
    succeeded: Option<bool>,
    failure_reasons: Vec<String>,
    total_specs: Option<u64>,
    specs: u64,
    failures: u64,
    /// Failed suite nodes (`BeforeSuite`, `AfterSuite`, …): they fail the suite already.
    node_failures: u64,
}

struct SuiteSeed<'r>(&'r mut Report);

impl<'de> DeserializeSeed<'de> for SuiteSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SuiteSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Ginkgo suite report object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let report = self.0;
        let allowance = report.allowance.clone();
        let mut suite = SuiteSummary::default();
        walk_map(&mut map, &allowance, |key, map| {
            match key {
                "SuiteDescription" => suite.description = map.next_value::<Option<String>>()?.unwrap_or_default(),
                "SuiteSucceeded" => suite.succeeded = map.next_value()?,
                "SpecialSuiteFailureReasons" => {
                    suite.failure_reasons = map.next_value::<Option<Vec<String>>>()?.unwrap_or_default()
                }
                "PreRunStats" => suite.total_specs = map.next_value::<PreRunStats>()?.total_specs,
                "RunTime" => {
                    if let Some(ns) = map.next_value::<Option<i64>>()? {
                        *report.run_time_ns.get_or_insert(0) += ns;
                    }
                }
                "SpecReports" => map.next_value_seed(SpecsSeed { report: &mut *report, suite: &mut suite })?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        report.close_suite(suite);
        Ok(())
    }
}

#[derive(Deserialize, Default)]
struct PreRunStats {
    #[serde(rename = "TotalSpecs", default)]
    total_specs: Option<u64>,
}

struct SpecsSeed<'r> {
    report: &'r mut Report,
    suite: &'r mut SuiteSummary,
}

impl<'de> DeserializeSeed<'de> for SpecsSeed<'_> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for SpecsSeed<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of spec reports")
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        loop {
            self.report.allowance.reset();
            let Some(spec) = seq.next_element_seed(SpecSeed(&self.report.allowance))? else { return Ok(()) };
            self.report.spec(self.suite, spec);
        }
    }
}

#[derive(Default)]
struct Spec {
    containers: Vec<String>,
    leaf_type: String,
    leaf_text: String,
    state: String,
    attempts: u64,
    must_pass_repeatedly: u64,
    failure: Failure,
}

#[derive(Deserialize, Default)]
struct Failure {
    #[serde(rename = "Message", default)]
    message: Option<String>,
    #[serde(rename = "FailureNodeType", default)]
    node_type: Option<String>,
    #[serde(rename = "ForwardedPanic", default)]
    forwarded_panic: Option<String>,
    #[serde(rename = "Location", default)]
    location: Option<Location>,
}

#[derive(Deserialize, Default)]
struct Location {
    #[serde(rename = "FileName", default)]
    file: String,
    #[serde(rename = "LineNumber", default)]
    line: u64,
}

struct SpecSeed<'a>(&'a Allowance);

impl<'de> DeserializeSeed<'de> for SpecSeed<'_> {
    type Value = Spec;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Spec, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for SpecSeed<'_> {
    type Value = Spec;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Ginkgo spec report object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Spec, A::Error> {
        let mut spec = Spec::default();
        walk_map(&mut map, self.0, |key, map| {
            match key {
                "ContainerHierarchyTexts" => {
                    spec.containers = map.next_value::<Option<Vec<String>>>()?.unwrap_or_default()
                }
                "LeafNodeType" => spec.leaf_type = map.next_value::<Option<String>>()?.unwrap_or_default(),
                "LeafNodeText" => spec.leaf_text = map.next_value::<Option<String>>()?.unwrap_or_default(),
                "State" => spec.state = map.next_value::<Option<String>>()?.unwrap_or_default(),
                "NumAttempts" => spec.attempts = map.next_value::<Option<u64>>()?.unwrap_or_default(),
                "MaxMustPassRepeatedly" => {
                    spec.must_pass_repeatedly = map.next_value::<Option<u64>>()?.unwrap_or_default()
                }
                "Failure" => spec.failure = map.next_value_seed(FailureSeed(self.0))?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(spec)
    }
}

/// A spec's failure: progress reports and additional failures inside it may be large
/// and are skipped unstored.
struct FailureSeed<'a>(&'a Allowance);

impl<'de> DeserializeSeed<'de> for FailureSeed<'_> {
    type Value = Failure;
    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Failure, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for FailureSeed<'_> {
    type Value = Failure;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Ginkgo failure object")
    }
    fn visit_unit<E>(self) -> Result<Failure, E> {
        Ok(Failure::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Failure, A::Error> {
        let mut failure = Failure::default();
        walk_map(&mut map, self.0, |key, map| {
            match key {
                "Message" => failure.message = map.next_value()?,
                "FailureNodeType" => failure.node_type = map.next_value()?,
                "ForwardedPanic" => failure.forwarded_panic = map.next_value()?,
                "Location" => failure.location = map.next_value()?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(failure)
    }
}

impl Report {
    fn spec(&mut self, suite: &mut SuiteSummary, spec: Spec) {
        let outcome = match spec.state.as_str() {
            "passed" => Outcome::Passed,
            "skipped" | "pending" => Outcome::Skipped,
            "failed" | "timedout" => Outcome::Failed,
            "panicked" | "interrupted" | "aborted" => Outcome::Errored,
            other => {
                let name = spec_name(&spec);
                self.collector.note(|| format!("{name}: unknown state `{other}`; counted as errored"));
                Outcome::Errored
            }
        };
        let is_spec = spec.leaf_type == "It" || spec.leaf_type.is_empty();
        if !is_spec {
            if matches!(outcome, Outcome::Failed | Outcome::Errored) {
                suite.failures += 1;
                suite.node_failures += 1;
                let state = &spec.state;
                let node = &spec.leaf_type;
                self.collector.suite_problem(&suite.description, || {
                    let message = failure_message(&spec);
                    let message = message.strip_prefix(&format!("[{node}] ")).unwrap_or(&message).to_string();
                    format!("[{node}] {state}: {message}")
                });
            }
            return;
        }
        suite.specs += 1;
        if matches!(outcome, Outcome::Failed | Outcome::Errored) {
            suite.failures += 1;
        }
        let name = spec_name(&spec);
        if spec.state == "pending" {
            self.collector.note(|| format!("{name}: pending; counted as skipped"));
        }
        let earlier_failures = if outcome == Outcome::Passed && spec.attempts > 1 && spec.must_pass_repeatedly <= 1 {
            u32::try_from(spec.attempts - 1).unwrap_or(u32::MAX)
        } else {
            0
        };
        // Ginkgo writes one report per spec, its retries in `NumAttempts`; equal texts
        // (specs made in a loop, two packages with the same suite name) are two specs.
        self.specs_seen += 1;
        let key = TestKey::of(&[&suite.description, &name, &self.specs_seen.to_string()]);
        self.collector.attempt(key, outcome, earlier_failures, &suite.description, &name, || failure_message(&spec));
    }

    fn close_suite(&mut self, suite: SuiteSummary) {
        // The declared total is Ginkgo's, not the specs': a suite that declares specs its
        // reports do not hold (a failed spec's report dropped) is a suite problem, as a
        // JUnit suite's `tests=` is. Only a suite that failed already (a failed suite
        // node, or Ginkgo's own `SuiteSucceeded: false`) explains it: noted.
        if let Some(total) = suite.total_specs
            && total != suite.specs
        {
            let (name, specs) = (&suite.description, suite.specs);
            let said =
                || format!("suite {name} declares {total} specs (PreRunStats.TotalSpecs), its reports hold {specs}");
            if suite.node_failures > 0 || suite.succeeded == Some(false) {
                self.collector.note(|| format!("{}; the suite failed already", said()));
            } else {
                self.collector.suite_problem(name, said);
            }
        }
        if suite.succeeded == Some(false) && suite.failures == 0 {
            let reasons = if suite.failure_reasons.is_empty() {
                "no reason given".to_string()
            } else {
                suite.failure_reasons.join("; ")
            };
            let name = &suite.description;
            self.collector
                .suite_problem(name, || format!("the suite did not succeed although no spec failed: {reasons}"));
        }
    }
}

/// Ginkgo's full spec text: the container texts and the spec's own, space-separated.
fn spec_name(spec: &Spec) -> String {
    let mut parts: Vec<&str> = spec.containers.iter().map(String::as_str).filter(|s| !s.is_empty()).collect();
    if !spec.leaf_text.is_empty() {
        parts.push(&spec.leaf_text);
    }
    parts.join(" ")
}

fn failure_message(spec: &Spec) -> String {
    let failure = &spec.failure;
    let mut text = String::new();
    if let Some(node) = failure.node_type.as_deref().filter(|n| !n.is_empty() && *n != "It") {
        text.push_str(&format!("[{node}] "));
    }
    text.push_str(failure.message.as_deref().unwrap_or(""));
    if let Some(panic) = failure.forwarded_panic.as_deref().filter(|p| !p.is_empty()) {
        text.push_str(&format!("\npanic: {panic}"));
    }
    if let Some(location) = failure.location.as_ref().filter(|l| !l.file.is_empty()) {
        text.push_str(&format!("\nat {}:{}", location.file, location.line));
    }
    super::first_lines(&text)
}

#[cfg(test)]
mod tests {
    use super::super::{FailureKind, Totals};
    use super::*;

    fn spec(leaf_type: &str, text: &str, state: &str, failure: serde_json::Value) -> serde_json::Value {
        serde_json::json!({
            "ContainerHierarchyTexts": ["Pods"], "LeafNodeType": leaf_type, "LeafNodeText": text,
            "State": state, "NumAttempts": 1, "CapturedGinkgoWriterOutput": "lots of output\n",
            "Failure": failure,
        })
    }

    /// A suite report with its keys in Ginkgo's order (the description before the specs;
    /// `json!` would sort them).
    fn suite(description: &str, succeeded: bool, extra: &str, specs: Vec<serde_json::Value>) -> String {
        let specs = serde_json::Value::Array(specs);
        format!(
            r#"[{{"SuitePath": "/src", "SuiteDescription": {description:?}, "SuiteSucceeded": {succeeded}, {extra}"SpecReports": {specs}}}]"#
        )
    }

    #[test]
    fn specs_are_counted_by_state_and_suite_nodes_only_when_they_fail() {
        let before_each = serde_json::json!({
            "Message": "Expected <int>: 1 to equal <int>: 2", "FailureNodeType": "BeforeEach",
            "Location": {"FileName": "/src/pods_test.go", "LineNumber": 12, "FullStackTrace": "goroutine 1"},
            "ProgressReport": {"Message": "huge"},
        });
        let document = suite(
            "E2E",
            false,
            r#""PreRunStats": {"TotalSpecs": 5, "SpecsThatWillRun": 4}, "RunTime": 2500000000, "#,
            vec![
                spec("BeforeSuite", "", "passed", serde_json::json!({})),
                spec("It", "start", "passed", serde_json::json!({})),
                spec("It", "restart", "failed", before_each),
                spec("It", "crash", "panicked", serde_json::json!({"Message": "boom", "ForwardedPanic": "nil map"})),
                spec("It", "skip me", "skipped", serde_json::json!({})),
                spec("It", "later", "pending", serde_json::json!({})),
                spec("AfterSuite", "", "failed", serde_json::json!({"Message": "cleanup failed"})),
            ],
        );
        let report = parse(document.as_bytes()).unwrap();
        assert_eq!(
            report.totals,
            Totals { tests: 5, passed: 1, failed: 1, errored: 1, skipped: 2, flaky: 0, suite_problems: 1 }
        );
        assert_eq!(report.duration_seconds, Some(2.5));
        let failures: Vec<_> = report.failures.iter().map(|f| (f.name.as_str(), f.kind)).collect();
        assert_eq!(failures, [("Pods restart", FailureKind::Failure), ("Pods crash", FailureKind::Error)]);
        assert_eq!(report.suite_problems.len(), 1);
        assert_eq!(report.suite_problems[0].suite, "E2E");
        assert_eq!(report.suite_problems[0].message, "[AfterSuite] failed: cleanup failed");
        assert_eq!(
            report.failures[0].message,
            "[BeforeEach] Expected <int>: 1 to equal <int>: 2\nat /src/pods_test.go:12"
        );
        assert_eq!(report.failures[1].message, "boom\npanic: nil map");
        assert!(report.notes.iter().any(|n| n.contains("later: pending")), "{:?}", report.notes);
    }

    #[test]
    fn a_failed_before_suite_fails_the_report_even_when_every_spec_is_skipped() {
        let document = suite(
            "E2E",
            false,
            "",
            vec![
                spec("BeforeSuite", "", "failed", serde_json::json!({"Message": "cluster unreachable"})),
                spec("It", "a", "skipped", serde_json::json!({})),
            ],
        );
        let report = parse(document.as_bytes()).unwrap();
        assert_eq!(report.totals, Totals { tests: 1, skipped: 1, suite_problems: 1, ..Default::default() });
        assert!(report.failures.is_empty());
        assert_eq!(report.suite_problems[0].message, "[BeforeSuite] failed: cluster unreachable");
        assert!(report.totals.has_failures());
    }

    #[test]
    fn flake_attempts_make_a_passed_spec_flaky_but_must_pass_repeatedly_does_not() {
        let mut flaky = spec("It", "retries", "passed", serde_json::json!({}));
        flaky["NumAttempts"] = 3.into();
        let mut repeated = spec("It", "repeats", "passed", serde_json::json!({}));
        repeated["NumAttempts"] = 3.into();
        repeated["MaxMustPassRepeatedly"] = 3.into();
        let mut failed = spec("It", "gives up", "failed", serde_json::json!({"Message": "503"}));
        failed["NumAttempts"] = 2.into();
        let report = parse(suite("E2E", false, "", vec![flaky, repeated, failed]).as_bytes()).unwrap();
        assert_eq!(report.totals, Totals { tests: 3, passed: 2, failed: 1, flaky: 1, ..Default::default() });
        assert_eq!(report.flaky.len(), 1);
        assert_eq!(
            (report.flaky[0].suite.as_str(), report.flaky[0].name.as_str(), report.flaky[0].attempts),
            ("E2E", "Pods retries", 3)
        );
    }

    #[test]
    fn a_truncated_document_is_unparseable() {
        let Err(Rejected::Unparseable { reason, .. }) =
            parse(&b"[{\"SuiteDescription\": \"E2E\", \"SpecReports\": [{\"State\""[..])
        else {
            panic!("must be unparseable")
        };
        assert!(reason.contains("truncated"), "{reason}");
    }
}
