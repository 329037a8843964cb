//! A registry serving one multi-platform image from memory (no buildah, no registry
//! container): shared by `verify_edits` and `vsa`, which need an image pair but no
//! real registry.

use std::collections::HashMap;
use std::io::Write as _;
use std::net::TcpListener;
use std::sync::Arc;

use super::stub::sha256;

/// A registry serving one multi-platform image (two platforms and an attestation) as
/// `dev/app:1` and `prod/app:1.0.0`: the same build in two places.
pub fn registry() -> String {
    let child = |arch: &str| {
        serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": format!("sha256:{:064x}", arch.len()), "size": 100},
            "layers": []
        }))
        .unwrap()
    };
    let (amd, arm) = (child("amd64"), child("arm64v8"));
    let attestation = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.in-toto+json", "digest": format!("sha256:{:064x}", 7), "size": 1},
        "layers": []
    }))
    .unwrap();
    let index = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(&amd), "size": amd.len(), "platform": {"os": "linux", "architecture": "amd64"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(&arm), "size": arm.len(), "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha256(&attestation), "size": attestation.len(),
             "platform": {"os": "unknown", "architecture": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": sha256(&amd)}}
        ]
    }))
    .unwrap();
    let mut by_path: HashMap<String, (&'static str, Vec<u8>)> = HashMap::new();
    for repo in ["dev/app", "prod/app"] {
        for tag in ["1", "1.0.0"] {
            by_path.insert(
                format!("/v2/{repo}/manifests/{tag}"),
                ("application/vnd.oci.image.index.v1+json", index.clone()),
            );
        }
        by_path.insert(
            format!("/v2/{repo}/manifests/{}", sha256(&index)),
            ("application/vnd.oci.image.index.v1+json", index.clone()),
        );
        for m in [&amd, &arm, &attestation] {
            by_path.insert(
                format!("/v2/{repo}/manifests/{}", sha256(m)),
                ("application/vnd.oci.image.manifest.v1+json", m.clone()),
            );
        }
    }
    let by_path = Arc::new(by_path);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let by_path = by_path.clone();
            std::thread::spawn(move || {
                use std::io::BufRead;
                let mut reader = std::io::BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap_or(0);
                loop {
                    let mut h = String::new();
                    if reader.read_line(&mut h).unwrap_or(0) == 0 || h == "\r\n" {
                        break;
                    }
                }
                let target = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                let (status, kind, body) = match by_path.get(&target) {
                    Some((kind, body)) => ("200 OK", *kind, body.clone()),
                    None if target == "/v2/" => ("200 OK", "application/json", b"{}".to_vec()),
                    None => (
                        "404 Not Found",
                        "application/json",
                        br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}"#.to_vec(),
                    ),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nConnection: close\r\nContent-Type: {kind}\r\nDocker-Content-Digest: {}\r\nContent-Length: {}\r\n\r\n",
                    sha256(&body),
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            });
        }
    });
    host
}
