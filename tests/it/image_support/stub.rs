//! A tiny HTTP stub for the answers a real registry cannot be made to give: 403, 429,
//! a 503 that recovers, a `Docker-Content-Digest` that does not match the body, a
//! platform manifest asked for by digest and answered with other bytes, and a
//! manifest over 4 MiB (with and without `Content-Length`). Everything else is tested
//! against the real registry. Its request reading and answering serve the token issuer too.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest as _, Sha256};

pub struct Stub {
    /// `127.0.0.1:<port>`
    pub host: String,
    hits: Arc<Mutex<HashMap<String, usize>>>,
}

/// A valid single-platform OCI manifest and its config, served by the routes that succeed.
pub struct Image {
    pub manifest: Vec<u8>,
    pub config: Vec<u8>,
}

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

impl Image {
    pub fn new() -> Image {
        let config =
            br#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#.to_vec();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&config), "size": config.len()},
            "layers": []
        }))
        .unwrap();
        Image { manifest, config }
    }
}

impl Stub {
    pub fn start() -> Stub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let host = listener.local_addr().unwrap().to_string();
        let hits: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let counter = hits.clone();
        std::thread::spawn(move || {
            let image = Arc::new(Image::new());
            for stream in listener.incoming().flatten() {
                let (image, counter) = (image.clone(), counter.clone());
                std::thread::spawn(move || serve(stream, &image, &counter));
            }
        });
        Stub { host, hits }
    }

    /// How many requests reached `path`.
    pub fn hits(&self, path: &str) -> usize {
        self.hits.lock().unwrap().get(path).copied().unwrap_or(0)
    }
}

static FLAKY: AtomicUsize = AtomicUsize::new(0);

/// A request's target and headers (names lower-cased); the stubs read no bodies.
pub struct Request {
    pub target: String,
    pub headers: HashMap<String, String>,
}

pub fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    Some(Request { target: request_line.split_whitespace().nth(1).unwrap_or("/").to_string(), headers })
}

/// Writes a whole answer and closes the connection; `length` false omits Content-Length.
pub fn respond(mut out: TcpStream, status: &str, headers: &[(String, String)], body: &[u8], length: bool) {
    let mut head =
        format!("HTTP/1.1 {status}\r\nConnection: close\r\nDocker-Distribution-Api-Version: registry/2.0\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if length {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let _ = out.write_all(head.as_bytes());
    let _ = out.write_all(body);
    let _ = out.flush();
}

fn serve(stream: TcpStream, image: &Image, hits: &Mutex<HashMap<String, usize>>) {
    let Some(request) = read_request(&stream) else { return };
    let path = request.target;
    *hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    let manifest_type = "application/vnd.oci.image.manifest.v1+json";
    let error =
        |code: &str, message: &str| format!(r#"{{"errors":[{{"code":"{code}","message":"{message}"}}]}}"#).into_bytes();
    let config_path = format!("/v2/flaky/app/blobs/{}", sha256(&image.config));
    // `swapped/app:1`: an index whose one platform manifest, asked for by its digest, is
    // answered with other bytes (and an honest Docker-Content-Digest for those bytes).
    let swapped_child = format!("/v2/swapped/app/manifests/{}", sha256(&image.manifest));
    let index_type = "application/vnd.oci.image.index.v1+json";
    let (status, headers, body, length): (&str, Vec<(String, String)>, Vec<u8>, bool) = match path.as_str() {
        "/v2/forbidden/app/manifests/1" => {
            ("403 Forbidden", vec![], error("DENIED", "requested access to the resource is denied"), true)
        }
        "/v2/throttled/app/manifests/1" => {
            ("429 Too Many Requests", vec![], error("TOOMANYREQUESTS", "slow down"), true)
        }
        "/v2/flaky/app/manifests/1" if FLAKY.fetch_add(1, Ordering::SeqCst) == 0 => {
            ("503 Service Unavailable", vec![], vec![], true)
        }
        "/v2/flaky/app/manifests/1" => (
            "200 OK",
            vec![
                ("Content-Type".into(), manifest_type.into()),
                ("Docker-Content-Digest".into(), sha256(&image.manifest)),
            ],
            image.manifest.clone(),
            true,
        ),
        p if p == config_path => ("200 OK", vec![], image.config.clone(), true),
        "/v2/mismatch/app/manifests/1" => (
            "200 OK",
            vec![
                ("Content-Type".into(), manifest_type.into()),
                ("Docker-Content-Digest".into(), format!("sha256:{}", "0".repeat(64))),
            ],
            image.manifest.clone(),
            true,
        ),
        "/v2/swapped/app/manifests/1" => {
            let index = swapped_index(image);
            (
                "200 OK",
                vec![("Content-Type".into(), index_type.into()), ("Docker-Content-Digest".into(), sha256(&index))],
                index,
                true,
            )
        }
        p if p == swapped_child => {
            let other = other_manifest(image);
            (
                "200 OK",
                vec![("Content-Type".into(), manifest_type.into()), ("Docker-Content-Digest".into(), sha256(&other))],
                other,
                true,
            )
        }
        "/v2/huge/app/manifests/1" => ("200 OK", vec![("Content-Type".into(), manifest_type.into())], huge(), true),
        "/v2/huge-unannounced/app/manifests/1" => {
            ("200 OK", vec![("Content-Type".into(), manifest_type.into())], huge(), false)
        }
        _ => ("404 Not Found", vec![], error("NAME_UNKNOWN", "repository name not known to registry"), true),
    };
    respond(stream, status, &headers, &body, length);
}

/// An index listing [`Image`]'s manifest as its `linux/amd64` platform.
pub fn swapped_index(image: &Image) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(&image.manifest),
                       "size": image.manifest.len(), "platform": {"os": "linux", "architecture": "amd64"}}]
    }))
    .unwrap()
}

/// Another valid manifest over the same config: what the swapped route serves instead.
pub fn other_manifest(image: &Image) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": sha256(&image.config), "size": image.config.len()},
        "layers": [], "annotations": {"swapped": "yes"}
    }))
    .unwrap()
}

/// A 5 MiB JSON document (valid, so only its size is wrong).
fn huge() -> Vec<u8> {
    let mut body =
        br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"padding":""#
            .to_vec();
    body.extend(std::iter::repeat_n(b'x', 5 * 1024 * 1024));
    body.extend_from_slice(br#""}}"#);
    body
}
