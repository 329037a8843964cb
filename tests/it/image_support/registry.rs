//! A real OCI registry (Debian's `docker-registry`, distribution 2.8) on a free
//! loopback port with its storage in a temp dir, started by the tests themselves.
//!
//! The registry runs under a tiny shell watchdog that stops it as soon as the test
//! process is gone, so a registry kept in a `static` fixture never outlives the test
//! binary, however the binary ends.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const INSTALL_HINT: &str = "the image tests need Debian's docker-registry, apache2-utils, skopeo and umoci: run `sudo tests/images/setup.sh` \
     (apt-get install -y docker-registry apache2-utils skopeo umoci)";

/// A registry that runs until the test binary exits.
pub struct Registry {
    /// `127.0.0.1:<port>`
    pub host: String,
    /// The registry's log, which holds one access-log line per request.
    pub log: PathBuf,
    /// Ends by itself, with the registry, once the test process is gone.
    _watchdog: std::process::Child,
    _dir: tempfile::TempDir,
}

/// Basic-auth login of the registry that requires one.
pub struct Login {
    pub user: &'static str,
    pub password: &'static str,
}

/// How a registry authenticates its clients.
pub enum Auth<'a> {
    Anonymous,
    /// `auth.htpasswd`: Basic with this login.
    Basic(&'a Login),
    /// `auth.token`: Bearer tokens from this issuer.
    Token(&'a super::token::TokenIssuer),
}

impl Registry {
    /// Starts a registry: anonymous, with Basic auth (htpasswd, bcrypt), or with
    /// Bearer tokens from an issuer.
    pub fn start(auth: Auth) -> Registry {
        require("docker-registry");
        let dir = tempfile::tempdir().expect("a temp dir");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: false\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\ncompatibility:\n  schema1:\n    enabled: true\n",
            dir.path().join("storage").display()
        );
        if let Auth::Token(issuer) = auth {
            config.push_str(&format!(
                "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
                issuer.realm(),
                super::token::SERVICE,
                super::token::ISSUER,
                issuer.certificate.display()
            ));
        }
        if let Auth::Basic(login) = auth {
            require("htpasswd");
            let out =
                Command::new("htpasswd").args(["-Bbn", login.user, login.password]).output().expect("htpasswd runs");
            assert!(out.status.success(), "htpasswd failed: {}", String::from_utf8_lossy(&out.stderr));
            let file = dir.path().join("htpasswd");
            std::fs::write(&file, out.stdout).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: release-audit-test\n    path: {}\n",
                file.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let log = dir.path().join("registry.log");
        // The watchdog: start the registry, wait while both it and the test process live,
        // then stop it.
        let script = r#"docker-registry serve "$1" >"$2" 2>&1 & r=$!
while kill -0 "$3" 2>/dev/null && kill -0 "$r" 2>/dev/null; do sleep 0.2; done
kill "$r" 2>/dev/null"#;
        let watchdog = Command::new("sh")
            .args(["-c", script, "registry-watchdog"])
            .arg(&config_path)
            .arg(&log)
            .arg(std::process::id().to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("sh starts");
        wait_ready(&host, &log);
        Registry { host, log, _watchdog: watchdog, _dir: dir }
    }

    /// Access-log lines (`"GET /v2/… HTTP/1.1" 200 …`) whose request line contains `needle`.
    pub fn requests_matching(&self, needle: &str) -> Vec<String> {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        text.lines()
            .filter(|l| l.contains("\" ") && l.contains(" HTTP/1.1\"") && l.contains(needle))
            .map(str::to_string)
            .collect()
    }
}

/// Panics with the install hint when a tool is missing: these tests never skip.
pub fn require(tool: &str) {
    let found =
        std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(tool).is_file()));
    assert!(found, "`{tool}` is not installed. {INSTALL_HINT}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("bind a free port").local_addr().unwrap().port()
}

fn wait_ready(host: &str, log: &Path) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(mut s) = TcpStream::connect(host) {
            let _ = s.write_all(format!("GET /v2/ HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").as_bytes());
            let mut answer = String::new();
            let _ = s.read_to_string(&mut answer);
            if answer.starts_with("HTTP/1.1 200") || answer.starts_with("HTTP/1.1 401") {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("the registry on {host} did not start; its log:\n{}", std::fs::read_to_string(log).unwrap_or_default());
}
