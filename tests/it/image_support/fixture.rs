//! The shared fixture of the image tests, built once per test binary: three real
//! registries (plain HTTP, Basic auth, Bearer tokens) and every image the tests
//! compare, built with umoci and pushed with skopeo. The auth registries hold
//! dev/app:PR-1 and prod/app:1.0.0 (the same image).
//!
//! | reference (plain registry)  | what it is                                                  |
//! |-----------------------------|-------------------------------------------------------------|
//! | dev/app:PR-1, prod/app:1.0.0 | the same single-platform OCI image                         |
//! | prod/app:created            | v1 with only `config.created` changed                       |
//! | prod/app:mtime              | v1 rebuilt with one file's mtime changed                    |
//! | prod/app:git                | v1 plus a layer holding `.git`                              |
//! | prod/app:docker             | v1 pushed as Docker schema2                                 |
//! | prod/app:schema1            | v1 pushed as Docker schema1 (an unsupported media type)    |
//! | dev/multi:PR-1, prod/multi:1.0.0 | the same linux/amd64 + linux/arm64 index              |
//! | prod/multi:changed          | the index with linux/arm64 rebuilt from changed content    |
//! | prod/multi:attested         | the index plus an `unknown/unknown` attestation manifest   |
//! | bench/tested:1, bench/released:1 | multi and multi:changed again, for request counting   |

use std::sync::OnceLock;

use super::build::{AMD64_2024, Config, EPOCH, File, Layout, file};
use super::registry::{Auth, Login, Registry};
use super::token::TokenIssuer;

pub const LOGIN: Login = Login { user: "alice", password: "pw-Sup3r-S3cret-91" };

pub struct Fixture {
    pub plain: Registry,
    /// Basic auth with [`LOGIN`].
    pub auth: Registry,
    /// Bearer tokens from [`Fixture::issuer`], which wants [`LOGIN`].
    pub token: Registry,
    pub issuer: TokenIssuer,
    _dir: tempfile::TempDir,
}

impl Fixture {
    /// `<plain registry>/<path>`
    pub fn plain(&self, path: &str) -> String {
        format!("{}/{path}", self.plain.host)
    }

    /// `<Basic-auth registry>/<path>`
    pub fn auth(&self, path: &str) -> String {
        format!("{}/{path}", self.auth.host)
    }

    /// `<token-auth registry>/<path>`
    pub fn token(&self, path: &str) -> String {
        format!("{}/{path}", self.token.host)
    }
}

pub fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(build)
}

fn build() -> Fixture {
    let started = std::time::Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let plain = Registry::start(Auth::Anonymous);
    let auth = Registry::start(Auth::Basic(&LOGIN));
    let issuer = TokenIssuer::start(dir.path());
    let token = Registry::start(Auth::Token(&issuer));
    let layout = Layout::new(dir.path());

    let hello = file("app/hello.txt", b"hello\n");
    let arm64 = Config { created: "2024-01-01T00:00:00Z", architecture: "arm64" };
    layout.build("base", "v1", &[file("app/hello.txt", b"hello\n"), file("app/version", b"1.0.0\n")], &AMD64_2024);
    layout.configure("v1", "v1-created", &Config { created: "2025-02-02T10:00:00Z", architecture: "amd64" });
    layout.build(
        "base",
        "v1-mtime",
        &[file("app/hello.txt", b"hello\n"), File { path: "app/version", content: b"1.0.0\n", mtime: EPOCH + 3600 }],
        &AMD64_2024,
    );
    layout.build(
        "v1",
        "v1-git",
        &[file(".git/HEAD", b"ref: refs/heads/main\n"), file(".git/config", b"[core]\n\tbare = false\n")],
        &AMD64_2024,
    );
    layout.build("base", "arm64", &[hello, file("app/version", b"1.0.0\n")], &arm64);
    layout.build(
        "base",
        "arm64-changed",
        &[file("app/hello.txt", b"hello\n"), file("app/version", b"1.0.1\n")],
        &arm64,
    );
    layout.index("multi", &[("v1", "linux/amd64"), ("arm64", "linux/arm64")], &[], "");
    layout.index("multi-changed", &[("v1", "linux/amd64"), ("arm64-changed", "linux/arm64")], &[], "");
    layout.index("multi-attested", &[("v1", "linux/amd64"), ("arm64", "linux/arm64")], &["v1"], "build-2");

    let p = |path: &str| format!("{}/{path}", plain.host);
    for (tag, dest, format) in [
        ("v1", "dev/app:PR-1", None),
        ("v1", "prod/app:1.0.0", None),
        ("v1-created", "prod/app:created", None),
        ("v1-mtime", "prod/app:mtime", None),
        ("v1-git", "prod/app:git", None),
        ("v1", "prod/app:docker", Some("v2s2")),
        ("v1", "prod/app:schema1", Some("v2s1")),
        ("multi", "dev/multi:PR-1", None),
        ("multi", "prod/multi:1.0.0", None),
        ("multi-changed", "prod/multi:changed", None),
        ("multi-attested", "prod/multi:attested", None),
        ("multi", "bench/tested:1", None),
        ("multi-changed", "bench/released:1", None),
    ] {
        layout.push(tag, &p(dest), format, None);
    }
    for registry in [&auth, &token] {
        for dest in ["dev/app:PR-1", "prod/app:1.0.0"] {
            layout.push("v1", &format!("{}/{dest}", registry.host), None, Some((LOGIN.user, LOGIN.password)));
        }
    }
    eprintln!("image fixture: 3 registries and 17 images ready in {:.1} s", started.elapsed().as_secs_f64());
    Fixture { plain, auth, token, issuer, _dir: dir }
}
