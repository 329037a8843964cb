//! Azurite, the real Azure Blob emulator the fake's signed URLs point at.
//!
//! The test command (`tests/run`) starts one Azurite for the whole suite and exports
//! `RA_AZURITE_BLOB_URL` (e.g. `http://127.0.0.1:10000/devstoreaccount1`). A test
//! that needs it and does not find it fails with a message saying so — it never skips.
//! SAS tokens are signed like Azure signs them (Azurite validates them).

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const ACCOUNT: &str = "devstoreaccount1";
pub const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
const SAS_VERSION: &str = "2020-12-06";

#[derive(Debug, Clone)]
pub struct Azurite {
    /// `http://127.0.0.1:<port>/devstoreaccount1`
    pub account_url: String,
}

impl Azurite {
    /// The suite's Azurite. Panics with instructions when the suite was not started by
    /// `tests/run` (a test that needs a service must fail loudly without it).
    pub fn from_env() -> Self {
        let url = std::env::var("RA_AZURITE_BLOB_URL").unwrap_or_else(|_| {
            panic!("RA_AZURITE_BLOB_URL is not set: Azurite is not running. Run the suite with `tests/run`, which installs and starts it.")
        });
        Azurite { account_url: url.trim_end_matches('/').to_string() }
    }

    fn sign(string_to_sign: &str) -> String {
        let key = base64::engine::general_purpose::STANDARD.decode(ACCOUNT_KEY).expect("the dev key is base64");
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length works");
        mac.update(string_to_sign.as_bytes());
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    }

    /// A service SAS URL for one blob with the given permissions (`r`, `cw`, …).
    pub fn blob_sas_url(
        &self,
        container: &str,
        blob: &str,
        permissions: &str,
        expiry: chrono::DateTime<chrono::Utc>,
    ) -> String {
        let se = expiry.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let resource = format!("/blob/{ACCOUNT}/{container}/{blob}");
        // sp st se resource si sip spr sv sr snapshot ses rscc rscd rsce rscl rsct
        let to_sign =
            [permissions, "", &se, &resource, "", "", "", SAS_VERSION, "b", "", "", "", "", "", "", ""].join("\n");
        let sig = Self::sign(&to_sign);
        let q = [("sv", SAS_VERSION), ("sr", "b"), ("sp", permissions), ("se", &se), ("sig", &sig)];
        format!("{}/{container}/{}?{}", self.account_url, encode_path(blob), encode_query(&q))
    }

    /// An account SAS query for container administration (create, list, delete).
    fn account_sas(&self) -> String {
        let se = (chrono::Utc::now() + chrono::Duration::hours(2)).format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let to_sign = format!("{ACCOUNT}\nrwdlac\nb\nsco\n\n{se}\n\n\n{SAS_VERSION}\n\n");
        let sig = Self::sign(&to_sign);
        encode_query(&[("sv", SAS_VERSION), ("ss", "b"), ("srt", "sco"), ("sp", "rwdlac"), ("se", &se), ("sig", &sig)])
    }

    /// Creates a container (ignoring "already exists").
    pub async fn create_container(&self, container: &str) {
        let url = format!("{}/{container}?restype=container&{}", self.account_url, self.account_sas());
        let response = crate::http()
            .put(&url)
            .header("x-ms-version", SAS_VERSION)
            .header("content-length", "0")
            .send()
            .await
            .unwrap_or_else(|e| {
                panic!("Azurite at {} does not answer: {e}. Start the suite with `tests/run`.", self.account_url)
            });
        let status = response.status().as_u16();
        if status != 201 && status != 409 {
            let body = response.text().await.unwrap_or_default();
            panic!("Azurite refused to create container {container}: HTTP {status}: {body}");
        }
    }

    /// Reads a blob with an account SAS (for the fake's own checks).
    pub async fn read_blob(&self, container: &str, blob: &str) -> Option<Vec<u8>> {
        let url = format!("{}/{container}/{}?{}", self.account_url, encode_path(blob), self.account_sas());
        let response = crate::http().get(&url).header("x-ms-version", SAS_VERSION).send().await.ok()?;
        if !response.status().is_success() {
            return None;
        }
        response.bytes().await.ok().map(|b| b.to_vec())
    }
}

pub fn encode_query(pairs: &[(&str, &str)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", percent(v, false))).collect::<Vec<_>>().join("&")
}

fn encode_path(path: &str) -> String {
    percent(path, true)
}

fn percent(s: &str, keep_slash: bool) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b'/' if keep_slash => out.push('/'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
