//! Collection benchmark driver: collects every artifact of the current run matching a
//! glob through the artifacts v4 service (ACTIONS_RUNTIME_TOKEN/ACTIONS_RESULTS_URL),
//! with the action's own code: list, download 4 at a time with digest checks, safe
//! extraction into a bundle directory, parsing. Run by `benches/collect.sh`.
//!
//! Usage: collect <glob> <out-dir>

use std::collections::HashMap;
use std::path::PathBuf;

use release_audit::bundle::BundleDir;
use release_audit::config::{RawInputs, RunArgs, input_variable};
use release_audit::evidence::test_reports::collect::{Services, collect};
use release_audit::github::artifacts::ResultsService;
use release_audit::github::artifacts::{ArtifactService, BackendIds};
use release_audit::github::runner::RunnerContext;
use release_audit::secret::Secret;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, glob, out, ..] = args.as_slice() else {
        eprintln!("usage: collect <glob> <out-dir>  (run by benches/collect.sh)");
        return;
    };
    let token = std::env::var("ACTIONS_RUNTIME_TOKEN").expect("ACTIONS_RUNTIME_TOKEN");
    let url = std::env::var("ACTIONS_RESULTS_URL").expect("ACTIONS_RESULTS_URL");
    let inputs: HashMap<String, String> =
        [("unit-reports", glob.as_str()), ("required-reports", "unit"), ("include-run-logs", "false")]
            .iter()
            .map(|(k, v)| (input_variable(k), v.to_string()))
            .collect();
    let raw = RawInputs::collect(&RunArgs::default(), &|k| inputs.get(k).cloned());
    let settings = release_audit::config::test_reports::settings(&raw, None, None).unwrap().unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let results = ResultsService {
            base_url: url.trim_end_matches('/').to_string(),
            ids: BackendIds::from_runtime_token(&token).unwrap(),
            token: Secret::new(token),
        };
        let net = release_audit::http::Net::default();
        let service = ArtifactService::new(&net, &results);
        let runner = RunnerContext::default();
        let services = Services { artifacts: Some(&service), rest: None, runner: &runner, retry: net.retry };
        let mut dir = BundleDir::create(&PathBuf::from(out), "bench").unwrap();
        let evidence = collect(&settings, &services, &mut dir).await.unwrap();
        let c = &evidence.categories[0];
        println!("{} artifacts, {} tests, {} files", c.artifacts.len(), c.totals.tests, dir.files().len());
    });
}
