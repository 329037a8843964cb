//! The fake GitHub services as a standalone process, for the demo (`demo/run`) and the
//! benchmarks. Prints one JSON line with the variables a step needs, then serves until
//! killed.
//!
//! Optional flags shape the current run (`step::RUN_ID`) before that line is printed,
//! so a script that has read it can rely on them (used by `benches/release.sh`):
//!   --jobs N             the current run has N jobs (ids RUN_ID*1000 + 0..N)
//!   --job-logs DIR       every `DIR/<job id>.log` is that job's log (jobs API)
//!   --in-progress ID     the job ID is still running (e.g. the audit job itself)

use std::path::PathBuf;

use release_audit_test_support::step::RUN_ID;

#[tokio::main]
async fn main() {
    let options = match Options::parse(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(message) => {
            eprintln!(
                "error: fake-github: {message}\nusage: fake-github [--jobs N] [--job-logs DIR] [--in-progress JOB-ID]..."
            );
            std::process::exit(2);
        }
    };
    let fake = release_audit_test_support::FakeGitHub::start().await;
    if let Some(jobs) = options.jobs {
        fake.set_jobs(RUN_ID, jobs);
    }
    if let Some(dir) = &options.job_logs
        && let Err(message) = seed_job_logs(&fake, dir).await
    {
        eprintln!("error: fake-github: --job-logs {}: {message}", dir.display());
        std::process::exit(2);
    }
    for job in &options.in_progress {
        fake.set_job_status(*job, "in_progress");
    }
    let mut env = serde_json::Map::new();
    for (k, v) in fake.runtime_env() {
        env.insert(k, v.into());
    }
    env.insert("INPUT_GITHUB-TOKEN".into(), fake.rest_token.clone().into());
    println!("{}", serde_json::Value::Object(env));
    tokio::signal::ctrl_c().await.ok();
}

#[derive(Default)]
struct Options {
    jobs: Option<usize>,
    job_logs: Option<PathBuf>,
    in_progress: Vec<u64>,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, String> {
        let mut options = Options::default();
        while let Some(flag) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{flag} needs a value"));
            match flag.as_str() {
                "--jobs" => {
                    options.jobs = Some(value()?.parse().map_err(|_| "--jobs takes a number of jobs".to_string())?)
                }
                "--job-logs" => options.job_logs = Some(PathBuf::from(value()?)),
                "--in-progress" => {
                    options.in_progress.push(value()?.parse().map_err(|_| "--in-progress takes a job id".to_string())?)
                }
                other => return Err(format!("unknown flag `{other}`")),
            }
        }
        Ok(options)
    }
}

/// Seeds `<job id>.log` files of `dir` as job logs, one at a time.
async fn seed_job_logs(fake: &release_audit_test_support::FakeGitHub, dir: &std::path::Path) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot read the directory: {e}"))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        let Some(job) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|id| id.parse::<u64>().ok())
        else {
            continue;
        };
        let bytes = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        fake.seed_job_log(job, &bytes).await;
    }
    Ok(())
}
