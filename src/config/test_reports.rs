//! The test-report inputs, read and checked once → [`TestSettings`]: which artifacts
//! belong to which category, which categories are required, which runs to read.

use globset::Glob;

use super::RawInputs;
use crate::error::{Error, Result};
use crate::evidence::test_reports::{Category, Pattern, RunSelector, TestSettings};

/// The input that lists a category's artifacts.
pub fn category_input(category: Category) -> &'static str {
    match category {
        Category::Unit => "unit-reports",
        Category::E2e => "e2e-reports",
        Category::Gardener => "gardener-reports",
        Category::Upgrade => "upgrade-reports",
    }
}

/// Reads the test inputs. `None` when no category is configured and none is required
/// (`required-reports: none`).
pub fn settings(
    raw: &RawInputs,
    head_sha_default: Option<&str>,
    triggering_run: Option<u64>,
) -> Result<Option<TestSettings>> {
    let categories = categories(raw)?;
    let required = required(raw, &categories)?;
    if categories.is_empty() {
        return Ok(None);
    }
    Ok(Some(TestSettings {
        categories,
        required,
        runs: runs(raw, head_sha_default, triggering_run)?,
        fail_on_test_failures: raw.bool("fail-on-test-failures", true)?,
        fail_on_missing_reports: raw.bool("fail-on-missing-reports", true)?,
        fail_on_flaky: raw.bool("fail-on-flaky", false)?,
        include_run_logs: raw.bool("include-run-logs", true)?,
    }))
}

/// Each configured category with its artifact names or globs.
fn categories(raw: &RawInputs) -> Result<Vec<(Category, Vec<Pattern>)>> {
    let mut categories = Vec::new();
    for category in Category::ALL {
        let mut patterns = Vec::new();
        for text in raw.list(category_input(category)) {
            let glob = Glob::new(&text).map_err(|e| {
                Error::input(
                    raw.label(category_input(category)),
                    format!("`{text}` is not a valid name or glob: {e}"),
                    "use artifact names or globs like `pr-e2e-*-report`",
                )
            })?;
            let matcher = glob.compile_matcher();
            patterns.push(Pattern::new(text, matcher));
        }
        if !patterns.is_empty() {
            categories.push((category, patterns));
        }
    }
    Ok(categories)
}

/// The required categories; each must name its artifacts.
fn required(raw: &RawInputs, categories: &[(Category, Vec<Pattern>)]) -> Result<Vec<Category>> {
    let required_names: Vec<String> = match raw.get("required-reports") {
        None => vec!["unit".into(), "e2e".into()],
        Some(text) if text.trim().eq_ignore_ascii_case("none") => Vec::new(),
        Some(_) => raw.list("required-reports"),
    };
    let mut required = Vec::new();
    for name in required_names {
        let category = Category::parse(&name).ok_or_else(|| {
            Error::input(
                raw.label("required-reports"),
                format!("`{name}` is not a category"),
                "use unit, e2e, gardener, upgrade (comma-separated), or `none`",
            )
        })?;
        if !required.contains(&category) {
            required.push(category);
        }
    }
    for category in &required {
        if !categories.iter().any(|(c, _)| c == category) {
            return Err(Error::input(
                raw.label("required-reports"),
                format!("`{}` is required but `{}` names no artifact", category.as_str(), category_input(*category)),
                format!(
                    "set `{}` to the report artifact names (globs allowed), or drop `{}` from `required-reports` (`none` requires nothing)",
                    category_input(*category),
                    category.as_str()
                ),
            ));
        }
    }
    Ok(required)
}

/// The runs to read: by id; when none is given, the run that triggered this one (a
/// `workflow_run` event), else the current one; and each workflow's newest completed run
/// for the commit.
fn runs(raw: &RawInputs, head_sha_default: Option<&str>, triggering_run: Option<u64>) -> Result<Vec<RunSelector>> {
    let mut runs = Vec::new();
    for id in raw.list("run-ids") {
        let n = id.parse::<u64>().map_err(|_| {
            Error::input(
                raw.label("run-ids"),
                format!("`{id}` is not a run id"),
                "give numeric run ids, e.g. 12345678901",
            )
        })?;
        if !runs.contains(&RunSelector::Id(n)) {
            runs.push(RunSelector::Id(n));
        }
    }
    if runs.is_empty() {
        runs.push(triggering_run.map_or(RunSelector::Current, RunSelector::Id));
    }
    let workflows = raw.list("workflows");
    if workflows.is_empty() {
        return Ok(runs);
    }
    let head_sha = raw.get("head-sha").or(head_sha_default).ok_or_else(|| {
        Error::input(
            raw.label("head-sha"),
            "is needed to find runs of `workflows` and GITHUB_SHA is not set",
            "set `head-sha` to the release commit",
        )
    })?;
    if head_sha.len() < 7 || !head_sha.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Error::input(
            raw.label("head-sha"),
            format!("`{head_sha}` is not a commit sha"),
            "give the full 40-character commit sha",
        ));
    }
    for file in workflows {
        if file.contains('/')
            || !(file.ends_with(".yml") || file.ends_with(".yaml") || file.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(Error::input(
                raw.label("workflows"),
                format!("`{file}` is not a workflow file name"),
                "give file names like `e2e.yml` (without .github/workflows/) or workflow ids",
            ));
        }
        runs.push(RunSelector::Workflow { file, head_sha: head_sha.to_string() });
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn raw(pairs: &[(&str, &str)]) -> RawInputs {
        let map: HashMap<String, String> =
            pairs.iter().map(|(k, v)| (crate::config::inputs::input_variable(k), v.to_string())).collect();
        RawInputs::collect(&crate::config::RunArgs::default(), &move |k: &str| map.get(k).cloned())
    }

    #[test]
    fn categories_take_names_and_globs_and_required_defaults_to_unit_and_e2e() {
        let s = settings(
            &raw(&[("unit-reports", "pr-unit-report"), ("e2e-reports", "pr-e2e-*-report\ngardener-e2e-1.34-report")]),
            Some("abc1234"),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.required, vec![Category::Unit, Category::E2e]);
        let (_, e2e) = &s.categories[1];
        assert!(e2e[0].matches("pr-e2e-metrics-c-report"));
        assert!(!e2e[0].matches("pr-unit-report"));
        assert_eq!(s.runs, vec![RunSelector::Current]);
    }

    #[test]
    fn a_required_category_without_artifacts_is_an_input_error() {
        let err = settings(&raw(&[("unit-reports", "u")]), None, None).unwrap_err().to_string();
        assert!(err.contains("required-reports") && err.contains("e2e"), "{err}");
        assert!(settings(&raw(&[("required-reports", "none")]), None, None).unwrap().is_none());
        let err = settings(&raw(&[("required-reports", "smoke")]), None, None).unwrap_err().to_string();
        assert!(err.contains("`smoke` is not a category"), "{err}");
    }

    #[test]
    fn run_ids_and_workflows_select_runs() {
        let s = settings(
            &raw(&[
                ("unit-reports", "u"),
                ("required-reports", "unit"),
                ("run-ids", "12, 34"),
                ("workflows", "e2e.yml"),
            ]),
            Some("4f0c6d1e2b3a49587766554433221100ffeeddcc"),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!(s.runs[0], RunSelector::Id(12));
        assert_eq!(s.runs[1], RunSelector::Id(34));
        assert!(matches!(&s.runs[2], RunSelector::Workflow { file, .. } if file == "e2e.yml"));
        for (input, value) in [("run-ids", "abc"), ("workflows", ".github/workflows/e2e.yml")] {
            let err = settings(
                &raw(&[("unit-reports", "u"), ("required-reports", "unit"), (input, value)]),
                Some("abcdef1"),
                None,
            )
            .unwrap_err();
            assert!(err.to_string().contains(input), "{err}");
        }
    }
}
