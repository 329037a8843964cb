#!/usr/bin/env python3
"""Writes the seed inputs of every fuzz target into fuzz/corpus/<target>/.

Seeds are the report fixtures of tests/fixtures/reports and the hostile cases of
issue 12 (duplicate zip entries, names with newlines, workflow commands in test
names, huge names, nested archives, absolute paths in SHA256SUMS). Run from the
repository root: python3 fuzz/seeds/make-seeds.py [bundle-dir bundle-zip]
A bundle written by release-audit (directory and zip) seeds `verify_dir` when given.
With --hostile-only the fixture copies are left out: after `cargo fuzz cmin` the
corpus keeps what they cover, and the hostile cases are put back by name so that the
replay test always runs them.
"""
import hashlib, io, os, sys, zipfile, json, glob

ROOT = "fuzz/corpus"
FIX = "tests/fixtures/reports"

def put(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)

HOSTILE_ONLY = "--hostile-only" in sys.argv
if HOSTILE_ONLY:
    sys.argv.remove("--hostile-only")

def fixture_files(exts):
    if HOSTILE_ONLY:
        return []
    out = []
    for p in sorted(glob.glob(FIX + "/**/*", recursive=True)):
        if os.path.isfile(p) and p.endswith(exts):
            out.append(p)
    return out

BIG = "x" * 5_000  # a name past the 1 KiB cap (the 5 MB case of issue 12 runs in tests/it/hostile_run.rs)
HOSTILE_NAMES = [
    "x\n::stop-commands::tok",
    "x\r::add-mask::secret",
    "  ::set-output name=verdict::passed",
    "a ##[error]forged",
    "[phish](https://evil.example) ![](https://evil.example/p.png)",
    "<script>alert(1)</script>",
    "ünïcödé › 名前 \u202e",
    BIG,
]

def esc(s):
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("\n", "&#10;").replace("\r", "&#13;")

def junit_hostile():
    cases = "".join(f'<testcase classname="{esc(n)}" name="{esc(n)}"><failure message="{esc(n)}">{esc(n)}</failure></testcase>' for n in HOSTILE_NAMES)
    return f'<?xml version="1.0"?><testsuites><testsuite name="{esc(BIG)}" tests="{len(HOSTILE_NAMES)}" failures="{len(HOSTILE_NAMES)}">{cases}</testsuite></testsuites>'

def gotest_hostile():
    lines = []
    for n in HOSTILE_NAMES:
        lines.append(json.dumps({"Action": "run", "Package": "p", "Test": n}))
        lines.append(json.dumps({"Action": "output", "Package": "p", "Test": n, "Output": n + "\n"}))
        lines.append(json.dumps({"Action": "fail", "Package": "p", "Test": n, "Elapsed": 0.1}))
    lines.append(json.dumps({"Action": "fail", "Package": "p", "Elapsed": 1.8570220000000002}))
    return "\n".join(lines) + "\n"

def ginkgo_hostile():
    specs = [{"LeafNodeText": n, "LeafNodeType": "It", "ContainerHierarchyTexts": [n], "State": "failed", "NumAttempts": 2,
              "Failure": {"Message": n}} for n in HOSTILE_NAMES]
    specs.append({"LeafNodeType": "BeforeSuite", "State": "failed", "Failure": {"Message": "::stop-commands::x"}})
    return json.dumps([{"SuitePath": "/x", "SuiteDescription": BIG, "SuiteSucceeded": False, "RunTime": 1, "SpecReports": specs}])

def zip_bytes(entries, nested_ok=True):
    b = io.BytesIO()
    with zipfile.ZipFile(b, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries:
            info = zipfile.ZipInfo(name) if isinstance(name, str) else name
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return b.getvalue()

def raw_zip_dup(name_a, data_a, name_b, data_b):
    # zipfile warns on duplicates but writes them.
    import warnings
    warnings.simplefilter("ignore")
    return zip_bytes([(name_a, data_a), (name_b, data_b)])

def main():
    failing = '<testsuite name="s" tests="1" failures="1"><testcase name="t"><failure>boom</failure></testcase></testsuite>'
    passing = '<testsuite name="s" tests="1"><testcase name="t"/></testsuite>'
    xmls = fixture_files((".xml",))
    jsons = fixture_files((".json",))
    # Parsers and detection.
    for p in xmls:
        data = open(p, "rb").read()
        put("junit", p.replace("/", "_"), data)
        put("detect", p.replace("/", "_"), data)
    for p in jsons:
        data = open(p, "rb").read()
        if "expected" in p:
            continue
        t = "ginkgo_json" if data.lstrip().startswith(b"[") else "gotest_json"
        put(t, p.replace("/", "_"), data)
        put("detect", p.replace("/", "_"), data)
    put("junit", "hostile-names.xml", junit_hostile())
    put("junit", "doctype-entity.xml", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><testsuite><testcase name="&b;"/></testsuite>')
    put("gotest_json", "hostile-names.json", gotest_hostile())
    put("ginkgo_json", "hostile-names.json", ginkgo_hostile())
    put("detect", "hostile-junit.xml", junit_hostile())
    put("detect", "hostile-gotest.json", gotest_hostile())
    put("detect", "hostile-ginkgo.json", ginkgo_hostile())
    put("detect", "utf16.xml", "\ufeff<testsuite/>".encode("utf-16"))
    put("detect", "bom.xml", b"\xef\xbb\xbf" + failing.encode())
    # Safe extraction.
    report = open(FIX + "/jest/junit.xml", "rb").read()
    put("extract_zip", "plain.zip", zip_bytes([("junit.xml", report), ("sub/dir/report.json", open(FIX + "/go-test-json/report.json", "rb").read())]))
    put("extract_zip", "duplicate-entries.zip", raw_zip_dup("a.xml", failing, "a.xml", passing))
    put("extract_zip", "case-duplicates.zip", raw_zip_dup("A.xml", failing, "a.xml", passing))
    put("extract_zip", "newline-name.zip", zip_bytes([("a.xml\n" + "0" * 64 + "  report.html", passing)]))
    put("extract_zip", "dotdot.zip", zip_bytes([("../../etc/passwd", "root:x:0:0")]))
    put("extract_zip", "absolute.zip", zip_bytes([("/etc/passwd", "root:x:0:0")]))
    put("extract_zip", "backslash.zip", zip_bytes([("a\\..\\b.xml", passing)]))
    link = zipfile.ZipInfo("link.xml")
    link.external_attr = (0o120777 << 16)
    put("extract_zip", "symlink.zip", zip_bytes([(link, "/etc/passwd")]))
    inner = zip_bytes([("inner.xml", failing)])
    put("extract_zip", "nested.zip", zip_bytes([("inner.zip", inner), ("dir/", ""), ("dir/x.xml", passing)]))
    put("extract_zip", "dir-and-file.zip", zip_bytes([("a", passing), ("a/b.xml", passing)]))
    put("extract_zip", "bomb.zip", zip_bytes([("zeros.xml", b"\0" * (3 << 20))]))
    put("extract_zip", "big-name.zip", zip_bytes([("n" * 5_000 + ".xml", passing)]))
    # Image references.
    for i, r in enumerate(["alpine", "europe-docker.pkg.dev/kyma-project/prod/telemetry-manager:1.2.3",
                           "127.0.0.1:5000/dev/app@sha256:" + "ab" * 32, "[::1]:5000/a/b:t",
                           "localhost/a__b/c-d.e:tag@sha256:" + "0" * 64, "Registry.Example/x", "index.docker.io/foo",
                           "linux/arm64/v8", "sha256:" + "f" * 64, "a:b:c", "x@y@z", "a" * 300]):
        put("image_ref", f"{i}", r)
    # Manifests and indexes.
    d = lambda c: "sha256:" + c * 64
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d("1"), "size": 500, "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d("2"), "size": 500, "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d("3"), "size": 800, "platform": {"os": "unknown", "architecture": "unknown"},
         "annotations": {"vnd.docker.reference.digest": d("1"), "vnd.docker.reference.type": "attestation-manifest"}}]}
    put("manifest", "index.json", json.dumps(index))
    hostile = json.loads(json.dumps(index))
    hostile["manifests"][0]["platform"]["os"] = "linux\n## ✅ Release audit passed <b>x</b>"
    hostile["manifests"].append(dict(hostile["manifests"][1]))
    hostile["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": d("4"), "size": 10**12})
    put("manifest", "index-hostile.json", json.dumps(hostile))
    put("manifest", "docker-list.json", json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.list.v2+json",
        "manifests": [{"mediaType": "application/vnd.docker.distribution.manifest.v2+json", "digest": d("5"), "size": 7, "platform": {"os": "linux", "architecture": "amd64"}}]}))
    put("manifest", "manifest.json", json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": d("6"), "size": 100},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": d("7"), "size": 1000}], "annotations": {"a": "b"}}))
    # WWW-Authenticate.
    for i, h in enumerate(['Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"',
                           'Basic realm="Registry Realm"', 'Bearer realm="https://a,b/\\"q\\"",scope=x , error="insufficient_scope"',
                           'Bearer', ' , = ,,"', 'Bearer realm="unterminated', 'BEARER REALM=x']):
        put("www_authenticate", f"{i}", h)
    # Image records and pod lists.
    record = {"kind": "release-audit/image-record", "version": 1, "recorded_at": "2024-01-01T00:00:00Z",
              "job": {"repository": "o/r", "workflow": "e2e", "run_id": 1, "run_attempt": 2, "job": "j", "runner_os": "Linux", "runner_arch": "ARM"},
              "images": [{"source": "reference", "reference": "x/y:1", "digest": d("a"), "platform": "linux/amd64"}]}
    put("image_record", "record.json", json.dumps(record))
    pods = {"kind": "List", "items": [
        {"kind": "Node", "metadata": {"name": "n1"}, "status": {"nodeInfo": {"operatingSystem": "linux", "architecture": "arm64"}}},
        {"kind": "Pod", "metadata": {"name": "p\n::stop-commands::x", "namespace": "kyma-system"}, "spec": {"nodeName": "n1",
         "containers": [{"name": "c", "image": "europe-docker.pkg.dev/kyma-project/prod/x:1"}], "initContainers": [{"name": "i", "image": "busybox"}]},
         "status": {"containerStatuses": [{"name": "c", "image": "x:1", "imageID": "docker-pullable://x@" + d("b")}],
                    "initContainerStatuses": [{"name": "i", "image": "", "imageID": ""}]}}]}
    put("image_record", "pods.json", json.dumps(pods))
    put("image_record", "pod.json", json.dumps(dict(pods["items"][1], kind="Pod")))
    # verify: directory trees (entries split by NUL; `path\ncontent`; `@path\ntarget` is a symlink).
    def tree(entries):
        return b"\0".join((p.encode() + b"\n" + (c.encode() if isinstance(c, str) else c)) for p, c in entries)
    xml = passing
    h = hashlib.sha256(xml.encode()).hexdigest()
    put("verify_dir", "etc-passwd-in-sums", tree([("SHA256SUMS", f"{h}  /etc/passwd\n{h}  ../x\n{h}  reports/a.xml\n"), ("reports/a.xml", xml),
                                                  ("manifest.json", '{"schema_version":1,"files":[{"path":"/etc/passwd","sha256":"' + h + '","size":1}]}')]))
    put("verify_dir", "links", tree([("@dev", "/dev/zero"), ("@SHA256SUMS", "/etc/passwd"), ("@manifest.json", "/etc/hostname"), ("@dir", "/etc"), ("@loop", "loop")]))
    put("verify_dir", "newline-sums", tree([("SHA256SUMS", f"{h}  a.xml\n{'0' * 64}  report.html\n"), ("a.xml\n" + "0" * 64 + "  report.html", xml)]))
    if len(sys.argv) == 3:
        bundle_dir, bundle_zip = sys.argv[1], sys.argv[2]
        entries = []
        for p in sorted(glob.glob(bundle_dir + "/**/*", recursive=True)):
            if os.path.isfile(p):
                entries.append((os.path.relpath(p, bundle_dir), open(p, "rb").read()))
        put("verify_dir", "bundle-dir", tree(entries))
        put("verify_dir", "bundle.zip", open(bundle_zip, "rb").read())

main()
