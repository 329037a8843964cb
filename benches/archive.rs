//! Archive benchmark driver (issue 22): `bundles` bundles in moto (S3), indexed by
//! `release-audit archive` — cold, then again unchanged (incremental) — side by side with
//! the obvious script: list the prefix, download each zip and its SHA256SUMS, check the
//! sum, run `release-audit verify` on each. Prints wall time, requests and peak memory.
//! Run by `benches/archive.sh` (which starts Azurite for the fake GitHub).
//!
//! The bundles are ten real ones the action writes (against the fake GitHub), each
//! stored under `bundles / 10` keys `bench/<n>/<bundle>.zip` (+ `.SHA256SUMS`): every
//! object is downloaded and verified in full, as distinct bundles would be.
//!
//! Usage: archive <release-audit-binary> <bundles>

use std::path::{Path, PathBuf};
use std::process::Command;

use release_audit_test_support::step::e2e_audit_step;
use release_audit_test_support::{FakeGitHub, zip_bytes};

const REPORT: &str =
    r#"<testsuites><testsuite name="e2e" tests="2"><testcase name="a"/><testcase name="b"/></testsuite></testsuites>"#;
const DISTINCT: usize = 10;

/// The obvious script an auditor would write: list, download each zip and its sums,
/// check the sum, run `release-audit verify` on it.
const SCRIPT: &str = r#"
import boto3, hashlib, os, subprocess, sys, tempfile
{client}
n = bad = requests = 0
for page in s3.get_paginator('list_objects_v2').paginate(Bucket='bench', Prefix='bench/'):
    requests += 1
    for o in page.get('Contents', []):
        k = o['Key']
        if not k.endswith('.zip'):
            continue
        d = tempfile.mkdtemp()
        z = os.path.join(d, os.path.basename(k))
        s3.download_file('bench', k, z)
        sums = s3.get_object(Bucket='bench', Key=k[:-4] + '.SHA256SUMS')['Body'].read().decode()
        requests += 2
        h = hashlib.sha256(open(z, 'rb').read()).hexdigest()
        ok = (h + '  ' + os.path.basename(k)) in sums
        ok = subprocess.run(['{binary}', 'verify', z], stdout=subprocess.DEVNULL).returncode == 0 and ok
        n += 1
        bad += not ok
        subprocess.run(['rm', '-rf', d])
print(f"script: {n} bundles, {bad} do not verify, {requests} requests", file=sys.stderr)
"#;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, binary, bundles, ..] = args.as_slice() else {
        eprintln!("usage: archive <release-audit-binary> <bundles>  (run by benches/archive.sh)");
        return;
    };
    let binary = PathBuf::from(binary);
    let bundles: usize = bundles.parse().expect("a number of bundles");
    // Kept (its path is printed): the index, to look at in a browser.
    let work = tempfile::Builder::new().prefix("ra-archive-bench-").tempdir().unwrap().keep();
    let mut made = Vec::new();
    for i in 0..DISTINCT {
        made.push(write_bundle(&binary, &format!("1.{i}.0")).await);
    }
    let (endpoint, mut moto) = start_moto(&work);
    let uploads: Vec<(String, String)> = (0..bundles)
        .flat_map(|n| {
            let (zip, sums) = &made[n % DISTINCT];
            let name = |p: &Path| p.file_name().unwrap().to_string_lossy().into_owned();
            [
                (zip.display().to_string(), format!("bench/{n}/{}", name(zip))),
                (sums.display().to_string(), format!("bench/{n}/{}", name(sums))),
            ]
        })
        .collect();
    let list = work.join("uploads.json");
    std::fs::write(&list, serde_json::to_vec(&uploads).unwrap()).unwrap();
    python(&format!(
        "import boto3, json\n{}\nfor path, key in json.load(open('{}')):\n    s3.upload_file(path, 'bench', key)",
        client(&endpoint),
        list.display()
    ));
    let url = format!("s3://bench/bench/?endpoint={endpoint}&region=us-east-1");
    let out = work.join("index");
    println!("{bundles} bundles ({DISTINCT} distinct, each under {} keys) in moto", bundles / DISTINCT);
    for run in ["cold", "unchanged"] {
        let (wall, rss, code) = measure(
            Command::new(&binary)
                .args(["archive", &url, "--out"])
                .arg(&out)
                .env("RELEASE_AUDIT_STORAGE_CREDENTIALS", "access-key-id=k\nsecret-access-key=s"),
        );
        let index: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("index.json")).unwrap()).unwrap();
        println!(
            "release-audit archive ({run}): {wall:.1} s, {} requests, peak RSS {:.1} MiB, exit {code}, {} checked, {} reused",
            index["requests"],
            rss as f64 / 1024.0,
            index["checked"],
            index["reused"]
        );
    }
    let script = SCRIPT.replace("{client}", &client(&endpoint)).replace("{binary}", &binary.display().to_string());
    let (wall, rss, code) = measure(Command::new("python3").arg("-c").arg(&script));
    println!("script (list, download, verify each): {wall:.1} s, peak RSS {:.1} MiB, exit {code}", rss as f64 / 1024.0);
    println!("index: {}", out.join("index.html").display());
    let _ = moto.kill();
}

/// Wall time (s), peak RSS of the command or any of its children (KiB), exit code.
fn measure(cmd: &mut Command) -> (f64, u64, i32) {
    let out = Command::new("/usr/bin/time")
        .args(["-f", "@@ %e %M"])
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .output()
        .expect("/usr/bin/time runs (apt install time)");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr.lines().rev().find(|l| l.starts_with("@@ ")).unwrap_or_else(|| panic!("{stderr}"));
    let mut parts = line[3..].split_whitespace();
    let wall = parts.next().unwrap().parse().unwrap();
    let rss = parts.next().unwrap().parse().unwrap();
    if out.status.success() {
        if let Some(tail) = stderr.lines().rev().nth(1) {
            eprintln!("  {tail}");
        }
    } else {
        eprintln!("{stderr}");
    }
    (wall, rss, out.status.code().unwrap_or(-1))
}

async fn write_bundle(binary: &Path, version: &str) -> (PathBuf, PathBuf) {
    let fake = FakeGitHub::start().await;
    let report = zip_bytes(&[("junit.xml", REPORT.as_bytes())]);
    let step = e2e_audit_step(&fake, version, &report).await;
    let result = step.run(binary, &[]).await;
    assert_eq!(result.code, 0, "{}", result.stderr);
    let zip = step.resolve(&result.outputs["bundle-path"]);
    let keep = std::env::temp_dir().join(format!("ra-archive-bench-{}-{version}", std::process::id()));
    std::fs::create_dir_all(&keep).unwrap();
    // The sums the action stores beside the zip (it writes them only when it publishes
    // beyond the run): the zip's own hash, then every file of the bundle.
    let name = zip.file_stem().unwrap().to_string_lossy().into_owned();
    let inner = std::fs::read_to_string(zip.with_extension("").join("SHA256SUMS")).unwrap();
    let (_, sha256) = release_audit::bundle::dir::hash_file(&zip).unwrap();
    let (kept_zip, kept_sums) = (keep.join(format!("{name}.zip")), keep.join(format!("{name}.SHA256SUMS")));
    std::fs::copy(&zip, &kept_zip).unwrap();
    std::fs::write(&kept_sums, release_audit::publish::zip_sums(&name, &sha256, &inner)).unwrap();
    (kept_zip, kept_sums)
}

fn start_moto(dir: &Path) -> (String, std::process::Child) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let log = std::fs::File::create(dir.join("moto.log")).unwrap();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("moto_server starts (pip install 'moto[server]')");
    for _ in 0..300 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let endpoint = format!("http://127.0.0.1:{port}");
    python(&format!("import boto3\n{}\ns3.create_bucket(Bucket='bench')", client(&endpoint)));
    (endpoint, child)
}

fn client(endpoint: &str) -> String {
    format!(
        "s3 = boto3.client('s3', endpoint_url='{endpoint}', aws_access_key_id='k', aws_secret_access_key='s', region_name='us-east-1')"
    )
}

fn python(script: &str) {
    let status = Command::new("python3").arg("-c").arg(script).status().expect("python3 runs");
    assert!(status.success(), "python failed");
}
