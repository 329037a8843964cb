//! Upload benchmark driver: uploads one file as an artifact through the artifacts v4
//! service named by ACTIONS_RESULTS_URL/ACTIONS_RUNTIME_TOKEN, with the same code path
//! the action uses (`publish::artifact::upload_bundle`). Run by `benches/upload.sh`,
//! which measures wall time and peak RSS beside the official client.
//!
//! Usage: upload <file> <artifact-name>

use std::path::PathBuf;

use release_audit::bundle::ZippedBundle;
use release_audit::github::artifacts::{ArtifactName, ResultsService};
use release_audit::github::artifacts::{ArtifactService, BackendIds};
use release_audit::github::commands::Commands;
use release_audit::secret::Secret;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (file, name) = match args.as_slice() {
        [_, file, name, ..] if !file.starts_with("--") => (PathBuf::from(file), name.clone()),
        _ => {
            eprintln!("usage: upload <file> <artifact-name>  (run by benches/upload.sh)");
            return;
        }
    };
    let token = std::env::var("ACTIONS_RUNTIME_TOKEN").expect("ACTIONS_RUNTIME_TOKEN");
    let url = std::env::var("ACTIONS_RESULTS_URL").expect("ACTIONS_RESULTS_URL");
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let results = ResultsService {
            base_url: url.trim_end_matches('/').to_string(),
            ids: BackendIds::from_runtime_token(&token).unwrap(),
            token: Secret::new(token),
        };
        let service = ArtifactService::new(&release_audit::http::Net::default(), &results);
        let (size, sha256) = release_audit::bundle::hash_file(&file).unwrap();
        let bundle = ZippedBundle { path: file.clone(), size, sha256 };
        let name = ArtifactName::parse("name", &name).unwrap();
        let id = release_audit::publish::artifact::upload_bundle(
            &service,
            &name,
            &bundle,
            None,
            false,
            &Commands::new(false),
        )
        .await
        .unwrap();
        println!("{{\"id\":{id},\"size\":{size}}}");
    });
}
