//! A token issuer for the registry's Bearer-token authentication (`auth.token` of
//! distribution): it checks the Basic login, and answers with a JWT granting the
//! requested scopes, RS256-signed (by the `openssl` command) with a key whose
//! self-signed certificate the registry trusts. The registry verifies every token
//! itself, so the challenge → realm → token → retry flow is tested against the real
//! registry; only the issuer is ours (distribution ships none).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;

use super::fixture::LOGIN;
use super::registry::require;
use super::stub::{read_request, respond};

pub const SERVICE: &str = "release-audit-test";
pub const ISSUER: &str = "release-audit-test-issuer";

/// One request the issuer answered.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub service: String,
    pub scopes: Vec<String>,
    pub logged_in: bool,
    pub user_agent: String,
}

pub struct TokenIssuer {
    /// `127.0.0.1:<port>`
    pub host: String,
    /// The certificate the registry's `rootcertbundle` points at.
    pub certificate: PathBuf,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
}

impl TokenIssuer {
    pub fn start(dir: &Path) -> TokenIssuer {
        require("openssl");
        let key = dir.join("issuer-key.pem");
        let certificate = dir.join("issuer-cert.pem");
        let status = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                &format!("/CN={ISSUER}"),
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&certificate)
            .stderr(Stdio::null())
            .status()
            .expect("openssl runs");
        assert!(status.success(), "openssl could not make the issuer's key");
        let der =
            Command::new("openssl").args(["x509", "-outform", "DER", "-in"]).arg(&certificate).output().unwrap().stdout;
        let x5c = base64::engine::general_purpose::STANDARD.encode(der);

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let requests: Arc<Mutex<Vec<TokenRequest>>> = Arc::default();
        let seen = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let Some(request) = read_request(&stream) else { continue };
                let query = request.target.split_once('?').map(|(_, q)| q).unwrap_or("");
                let params: Vec<(String, String)> =
                    query.split('&').filter_map(|p| p.split_once('=')).map(|(k, v)| (decode(k), decode(v))).collect();
                let service = params.iter().find(|(k, _)| k == "service").map(|(_, v)| v.clone()).unwrap_or_default();
                let scopes: Vec<String> = params.iter().filter(|(k, _)| k == "scope").map(|(_, v)| v.clone()).collect();
                let expected = format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", LOGIN.user, LOGIN.password))
                );
                let logged_in = request.headers.get("authorization") == Some(&expected);
                let user_agent = request.headers.get("user-agent").cloned().unwrap_or_default();
                seen.lock().unwrap().push(TokenRequest {
                    service: service.clone(),
                    scopes: scopes.clone(),
                    logged_in,
                    user_agent,
                });
                if !logged_in {
                    respond(stream, "401 Unauthorized", &[], br#"{"details":"incorrect username or password"}"#, true);
                    continue;
                }
                let token = sign(&key, &x5c, &service, &scopes);
                let body = serde_json::to_vec(&serde_json::json!({ "token": token, "expires_in": 300 })).unwrap();
                respond(stream, "200 OK", &[("Content-Type".into(), "application/json".into())], &body, true);
            }
        });
        TokenIssuer { host, certificate, requests }
    }

    pub fn realm(&self) -> String {
        format!("http://{}/token", self.host)
    }

    pub fn requests(&self) -> Vec<TokenRequest> {
        self.requests.lock().unwrap().clone()
    }
}

/// A JWT as distribution expects it: RS256, `x5c` holding the issuer's certificate,
/// `access` granting every requested scope.
fn sign(key: &Path, x5c: &str, service: &str, scopes: &[String]) -> String {
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
    let access: Vec<serde_json::Value> = scopes
        .iter()
        .filter_map(|s| {
            let mut parts = s.splitn(3, ':');
            let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
            Some(serde_json::json!({ "type": kind, "name": name, "actions": actions.split(',').collect::<Vec<_>>() }))
        })
        .collect();
    let header = serde_json::json!({ "typ": "JWT", "alg": "RS256", "x5c": [x5c] });
    let claims = serde_json::json!({
        "iss": ISSUER, "sub": LOGIN.user, "aud": service, "exp": now + 600, "nbf": now - 10, "iat": now,
        "jti": format!("{now}-{}", scopes.join(" ")), "access": access
    });
    let signing_input =
        format!("{}.{}", b64(&serde_json::to_vec(&header).unwrap()), b64(&serde_json::to_vec(&claims).unwrap()));
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("openssl runs");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(signing_input.as_bytes()).unwrap();
    let signature = child.wait_with_output().unwrap().stdout;
    format!("{signing_input}.{}", b64(&signature))
}

/// Percent-decoding of a query component (`+` is a space).
fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| std::str::from_utf8(&bytes[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()))
            .flatten();
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, b) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
