//! The binary: parse the command line, run, map the result to an exit code.

use clap::Parser;

use release_audit::cli::{Cli, Command};
use release_audit::config::{Config, RawInputs, RunArgs};
use release_audit::error::{EXIT_VERDICT_FAILED, Error};
use release_audit::github::commands::{AnnotationKind, AnnotationProps, Commands, eprint_line, inert};
use release_audit::github::runner::process_env;
use release_audit::http::Net;

fn main() {
    let cli = Cli::parse();
    let in_actions = process_env("GITHUB_ACTIONS").as_deref() == Some("true");
    init_logging(process_env("RUNNER_DEBUG").as_deref() == Some("1"));
    let commands = Commands::new(in_actions);

    let command = match cli.command {
        Some(c) => c,
        None if in_actions => Command::Run(RunArgs::default()),
        None => {
            eprintln!(
                "error: no command given\nhint: run `release-audit --help`; inside GitHub Actions `run` is the default"
            );
            std::process::exit(release_audit::error::EXIT_USAGE);
        }
    };
    // The network settings, once per command, handed to every client it builds.
    let net = || Net::from_env(&process_env);
    // Started on first use, by the commands that talk to services: `reports` reads local
    // files and runs without one (no worker threads, less memory). It lives until the
    // process exits, as before, so no blocking task is waited for on the way out.
    let runtime = std::cell::LazyCell::new(|| {
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("the async runtime starts")
    });
    let code = match command {
        Command::Run(args) => runtime.block_on(run(args, &net(), &commands)),
        Command::Verify(args) => {
            runtime.block_on(release_audit::cli::verify(&args, &net())).unwrap_or_else(|e| fail(&e, &commands))
        }
        Command::Digest(args) => {
            runtime.block_on(release_audit::cli::images::digest(args, &net())).unwrap_or_else(|e| fail(&e, &commands))
        }
        Command::Compare(args) => {
            runtime.block_on(release_audit::cli::images::compare(args, &net())).unwrap_or_else(|e| fail(&e, &commands))
        }
        Command::Reports(args) => release_audit::cli::reports::run(&args),
        Command::Attach(args) => runtime
            .block_on(release_audit::cli::attach::attach(args, &process_env, &net()))
            .unwrap_or_else(|e| fail(&e, &commands)),
        Command::Archive(args) => {
            runtime.block_on(release_audit::cli::archive::archive(args, &net())).unwrap_or_else(|e| fail(&e, &commands))
        }
        Command::RecordImage(args) => runtime
            .block_on(release_audit::cli::record_image::record_image(args, &process_env, &net()))
            .unwrap_or_else(|e| fail(&e, &commands)),
    };
    std::process::exit(code);
}

async fn run(args: RunArgs, net: &Net, commands: &Commands) -> i32 {
    let env = process_env;
    let config = match Config::from_raw(&RawInputs::collect(&args, &env), &env) {
        Ok(c) => c,
        Err(e) => return fail(&e, commands),
    };
    match release_audit::cli::run::run(&config, net, commands).await {
        Ok(outcome) => {
            println!("verdict: {}", outcome.verdict.as_str());
            println!(
                "{}",
                inert(&format!("bundle: {} (sha256 {})", outcome.bundle.path.display(), outcome.bundle.sha256))
            );
            if let Some(a) = &outcome.published.artifact {
                println!(
                    "{}",
                    inert(&format!(
                        "artifact: {} (id {}){}",
                        a.name,
                        a.id,
                        a.url.as_deref().map(|u| format!(" {u}")).unwrap_or_default()
                    ))
                );
            }
            match outcome.verdict {
                release_audit::bundle::manifest::VerdictResult::Passed => 0,
                release_audit::bundle::manifest::VerdictResult::Failed => EXIT_VERDICT_FAILED,
            }
        }
        Err(e) => fail(&e, commands),
    }
}

/// The one top-level handler: `error: …` + `hint: …` on stderr, one annotation.
fn fail(error: &Error, commands: &Commands) -> i32 {
    // Error texts carry outside text (registry answers, artifact and entry names).
    eprint_line(&format!("error: {error}"));
    eprint_line(&format!("hint: {}", error.hint()));
    if commands.in_actions() {
        commands.annotate(
            AnnotationKind::Error,
            &AnnotationProps { title: Some("release-audit".into()), ..Default::default() },
            &format!("{error} — {}", error.hint()),
        );
    }
    error.exit_code()
}

fn init_logging(debug: bool) {
    // Debug is ours only: dependencies log request details (URLs with signatures) at debug.
    let default = if debug { "warn,release_audit=debug" } else { "warn,release_audit=info" };
    // Log lines carry outside text (names, hosts, registry answers): each goes out inert.
    env_logger::Builder::from_env(env_logger::Env::default().filter_or("RELEASE_AUDIT_LOG", default))
        .format(|buf, record| {
            use std::io::Write;
            writeln!(buf, "[{:<5}] {}", record.level(), inert(&record.args().to_string()))
        })
        .init();
}
