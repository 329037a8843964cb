#!/usr/bin/env bash
# End-to-end release benchmark (issue 10, item 8): one release shaped like the first
# users' (kyma-project/telemetry-manager), audited by `release-audit run` and, in the
# same run, by the pipeline a team would script today from the usual tools.
#
# The release (built once, outside the timings):
#   - REPORTS report artifacts of the current run (~1 MB gotestsum-shaped JUnit each,
#     named like the real ones: pr-e2e-*-report, pr-e2e-upgrade-report,
#     selfmonitor-healthy-report, gardener-gardener-integration-test-*-report),
#     uploaded to the fake + Azurite with the official @actions/artifact client;
#   - JOBS completed jobs of the current run with LOG_MIB MiB logs each (served by the
#     fake's jobs API through Azurite), plus the audit job itself, still in progress;
#   - two multi-arch (linux/amd64 + linux/arm64) image pairs in a local docker-registry,
#     built with umoci, promoted dev → prod by digest with `skopeo copy --all`:
#       telemetry-manager:    dev/telemetry-manager:PR-123 -> prod/telemetry-manager:1.2.3
#       experimental:         dev/telemetry-manager:PR-123-experimental -> prod/…:1.2.3-experimental
#
# Timed, ROUNDS times each, alternating (GNU time: wall and peak RSS; for the peer the
# peak RSS is that of its largest process, as GNU time reports for a process tree):
#   release-audit run   — the action in action mode: collect + parse the reports, the
#                         run, its jobs and their logs, both image pairs (index and
#                         platform digests), bundle (zip), upload as an artifact.
#   peer pipeline       — official client downloads of every report artifact (5 at a
#                         time, as download-artifact does), `skopeo inspect --raw` of
#                         every manifest (index + each platform, both pairs, tested and
#                         released) + sha256sum, curl of the run, its jobs and every job
#                         log, `sha256sum` of every file + `zip -r -6` + sha256sum of
#                         the zip, official client upload of the zip.
#
#   benches/release.sh [rounds]     (default 3; medians printed)
#   env: BENCH_REPORTS=30 BENCH_JOBS=30 BENCH_LOG_MIB=5 BENCH_REPORT_KB=1024
# Needs what scripts/services.sh installs (Azurite, @actions/artifact, docker-registry,
# skopeo, umoci, zip, curl, GNU time) and jq.
set -euo pipefail
OWN_STATE="${RA_STATE:-}" # a state directory we were given is kept; our own is removed
source "$(dirname "$0")/../scripts/services.sh"
cd "$RA_ROOT"
ROUNDS="${1:-3}"
REPORTS="${BENCH_REPORTS:-30}"
JOBS="${BENCH_JOBS:-30}"
LOG_MIB="${BENCH_LOG_MIB:-5}"
REPORT_KB="${BENCH_REPORT_KB:-1024}"
RUN_ID=17000000001 # tests/support: step::RUN_ID, the fake's current run
REPOSITORY=kyma-project/telemetry-manager
SHA=4f0c6d1e2b3a49587766554433221100ffeeddcc

command -v jq >/dev/null || { echo "error: jq is missing: apt-get install -y jq" >&2; exit 2; }
ensure_packages
start_services
trap 'stop_services; [ -n "$OWN_STATE" ] || rm -rf "$RA_STATE"' EXIT
cargo build --quiet --release -p release-audit --bin release-audit
cargo build --quiet --release -p release-audit-test-support --bin fake-github
BIN="$RA_ROOT/target/release/release-audit"
WORK="$RA_STATE/bench"; mkdir -p "$WORK"
NODE_MODULES="$RA_ROOT/tests/node/node_modules"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

# --- the jobs' logs: GitHub's line format, timestamps, groups, go test output ---------
mkdir -p "$WORK/job-logs"
python3 - "$WORK/job-logs" "$RUN_ID" "$JOBS" "$LOG_MIB" <<'PY'
import random, sys
out, run_id, jobs, mib = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
for i in range(jobs):
    rng = random.Random(i)
    lines, size, n = [], 0, 0
    while size < mib << 20:
        ts = "2026-12-01T10:%02d:%02d.%07dZ" % (n // 60000 % 60, n // 1000 % 60, rng.randrange(10**7))
        kind = rng.random()
        if kind < 0.02:
            line = f"{ts} ##[group]Run make e2e-test-{i}"
        elif kind < 0.5:
            line = f"{ts} === RUN   TestE2E/logs_pipeline_{rng.randrange(10**6)}/otel_collector_{rng.randrange(100)}"
        elif kind < 0.8:
            line = f'{ts} {{"level":"INFO","timestamp":"2026-12-01T10:00:{n % 60:02d}Z","logger":"telemetry-manager","msg":"reconciled","pipeline":"p-{rng.randrange(10**5)}","generation":{rng.randrange(100)}}}'
        else:
            line = f"{ts} --- PASS: TestE2E/metrics_agent_{rng.randrange(10**6)} ({rng.random() * 30:.2f}s)"
        lines.append(line)
        size += len(line) + 1
        n += 1
    with open(f"{out}/{run_id * 1000 + i}.log", "w") as f:
        f.write("\n".join(lines) + "\n")
PY

# --- the fake GitHub: the current run has JOBS completed jobs + the audit job ----------
start_fake_github target/release/fake-github --jobs "$((JOBS + 1))" --job-logs "$WORK/job-logs" --in-progress "$((RUN_ID * 1000 + JOBS))"
rm -rf "$WORK/job-logs"
export GITHUB_SERVER_URL=https://github.com

# --- the report artifacts, uploaded with the official client --------------------------
mkdir -p "$WORK/reports"
{ GITHUB_WORKSPACE="$WORK/reports" node - "$NODE_MODULES" "$WORK/reports" "$REPORTS" "$REPORT_KB" <<'JS'
const [mods, root, count, kb] = process.argv.slice(2)
const {DefaultArtifactClient} = require(`${mods}/@actions/artifact`)
const fs = require('fs'), path = require('path')
const areas = ['logs-otel', 'logs-fluentbit', 'metrics-agent', 'metrics-gateway', 'traces', 'misc', 'telemetry', 'selfmonitor-logs', 'selfmonitor-metrics', 'selfmonitor-traces']
const names = ['pr-e2e-upgrade-report', 'selfmonitor-healthy-report']
for (const k of ['1.32', '1.33', '1.34']) names.push(`gardener-gardener-integration-test-${k}-report`)
for (let i = 0; names.length < Number(count); i++) names.push(`pr-e2e-${areas[i % areas.length]}-${String.fromCharCode(97 + Math.floor(i / areas.length))}-report`)
let seed = 7; const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648
;(async () => {
  const client = new DefaultArtifactClient()
  for (const name of names.slice(0, Number(count))) {
    const dir = path.join(root, name); fs.mkdirSync(dir, {recursive: true})
    const pkg = `github.com/kyma-project/telemetry-manager/test/e2e/${name.replace(/-report$/, '')}`
    const cases = []; let size = 0, n = 0
    while (size < Number(kb) * 1024) {
      const out = Array.from({length: 12}, (_, l) => `    reconciler.go:${100 + l}: pipeline &quot;p-${n}&quot; &lt;ready&gt; gen=${Math.floor(rnd() * 100)} took ${(rnd() * 3).toFixed(3)}s`).join('\n')
      const c = `    <testcase classname="${pkg}" name="TestE2E/case_${n}_${Math.floor(rnd() * 1e6)}" time="${(rnd() * 40).toFixed(2)}">\n      <system-out>${out}</system-out>\n    </testcase>\n`
      cases.push(c); size += c.length; n++
    }
    const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="${n}" failures="0" errors="0" time="1234.5">\n  <testsuite tests="${n}" failures="0" time="1234.5" name="${pkg}" timestamp="2026-12-01T10:00:00Z">\n    <properties><property name="go.version" value="go1.25.4 linux/amd64"></property></properties>\n${cases.join('')}  </testsuite>\n</testsuites>\n`
    fs.writeFileSync(path.join(dir, 'junit-report.xml'), xml)
    await client.uploadArtifact(name, [path.join(dir, 'junit-report.xml')], dir, {compressionLevel: 6})
  }
})()
JS
} >"$RA_STATE/upload-reports.log" 2>&1 || { echo "error: uploading the reports failed; its log:" >&2; tail -20 "$RA_STATE/upload-reports.log" >&2; exit 1; }
rm -rf "$WORK/reports"
echo "$REPORTS report artifacts uploaded, $JOBS job logs of $LOG_MIB MiB seeded; $(nproc) cores"

# --- a registry with two multi-arch image pairs ---------------------------------------
REGISTRY_PORT="$(free_port)"; HOST="127.0.0.1:$REGISTRY_PORT"
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log: {level: warn}
storage: {filesystem: {rootdirectory: $WORK/registry}}
http: {addr: $HOST}
EOF
docker-registry serve "$WORK/registry.yml" >"$RA_STATE/registry.log" 2>&1 &
RA_PIDS+=($!)
wait_for_port "$REGISTRY_PORT" registry 30
L="$WORK/layout"
umoci init --layout "$L"
for flavour in main experimental; do
  for arch in amd64 arm64; do
    tag="$flavour-$arch"
    umoci new --image "$L:$tag"
    umoci config --image "$L:$tag" --architecture "$arch" --os linux --created 2026-12-01T00:00:00Z \
      --config.entrypoint /manager --config.user 65532:65532
    mkdir -p "$WORK/rootfs"
    head -c $((8 << 20)) </dev/urandom >"$WORK/rootfs/manager"
    umoci insert --image "$L:$tag" --history.created 2026-12-01T00:00:00Z --history.created_by 'COPY manager /manager' \
      "$WORK/rootfs/manager" /manager
  done
  # The index, as the image builder writes it: one manifest per platform.
  python3 - "$L" "$flavour" <<'PY'
import hashlib, json, sys
layout, flavour = sys.argv[1], sys.argv[2]
index = json.load(open(f"{layout}/index.json"))
by_tag = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]}
children = []
for arch in ("amd64", "arm64"):
    d = dict(by_tag[f"{flavour}-{arch}"]); d.pop("annotations", None)
    d["platform"] = {"architecture": arch, "os": "linux"}
    children.append(d)
body = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": children}).encode()
digest = hashlib.sha256(body).hexdigest()
open(f"{layout}/blobs/sha256/{digest}", "wb").write(body)
index["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": f"sha256:{digest}", "size": len(body),
                           "annotations": {"org.opencontainers.image.ref.name": flavour}})
json.dump(index, open(f"{layout}/index.json", "w"))
PY
done
rm -rf "$WORK/rootfs"
push() { skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$L:$1" "docker://$HOST/$2"; }
push main kyma-project/dev/telemetry-manager:PR-123
push experimental kyma-project/dev/telemetry-manager:PR-123-experimental
# Promotion by digest: the released tags are the tested manifests, byte for byte.
for suffix in "" -experimental; do
  skopeo copy -q --all --preserve-digests --src-tls-verify=false --dest-tls-verify=false \
    "docker://$HOST/kyma-project/dev/telemetry-manager:PR-123$suffix" "docker://$HOST/kyma-project/prod/telemetry-manager:1.2.3$suffix"
done
rm -rf "$L"
TESTED=("$HOST/kyma-project/dev/telemetry-manager:PR-123" "$HOST/kyma-project/dev/telemetry-manager:PR-123-experimental")
RELEASED=("$HOST/kyma-project/prod/telemetry-manager:1.2.3" "$HOST/kyma-project/prod/telemetry-manager:1.2.3-experimental")
echo "2 image pairs (linux/amd64 + linux/arm64) in $HOST"

# --- release-audit: the action, in action mode, as the runner starts it ---------------
ours() { # round
  local step="$WORK/ours"
  rm -rf "$step"; mkdir -p "$step/workspace" "$step/temp"
  env -i PATH="$PATH" \
    GITHUB_ACTIONS=true CI=true GITHUB_REPOSITORY="$REPOSITORY" GITHUB_REPOSITORY_OWNER=kyma-project \
    GITHUB_RUN_ID="$RUN_ID" GITHUB_RUN_ATTEMPT=1 GITHUB_RUN_NUMBER=57 GITHUB_SHA="$SHA" GITHUB_REF=refs/heads/main \
    GITHUB_WORKFLOW="Create release" GITHUB_WORKFLOW_REF="$REPOSITORY/.github/workflows/create-release.yml@refs/heads/main" \
    GITHUB_ACTOR=release-bot GITHUB_TRIGGERING_ACTOR=release-bot GITHUB_EVENT_NAME=workflow_dispatch \
    GITHUB_SERVER_URL=https://github.com GITHUB_API_URL="$FAKE_API_URL" GITHUB_RETENTION_DAYS=90 \
    GITHUB_WORKSPACE="$step/workspace" RUNNER_TEMP="$step/temp" GITHUB_OUTPUT="$step/output" GITHUB_STEP_SUMMARY="$step/summary.md" \
    SOURCE_DATE_EPOCH=1700000000 \
    ACTIONS_RUNTIME_TOKEN="$ACTIONS_RUNTIME_TOKEN" ACTIONS_RESULTS_URL="$ACTIONS_RESULTS_URL" ACTIONS_RUNTIME_URL="$ACTIONS_RUNTIME_URL" \
    INPUT_GITHUB-TOKEN="$FAKE_REST_TOKEN" \
    INPUT_RELEASE-VERSION=1.2.3 \
    INPUT_BUNDLE-NAME="audit-bundle-1.2.3-round-$1" \
    INPUT_E2E-REPORTS="pr-e2e-*-report
selfmonitor-healthy-report" \
    INPUT_UPGRADE-REPORTS=pr-e2e-upgrade-report \
    INPUT_GARDENER-REPORTS="gardener-gardener-integration-test-*-report" \
    INPUT_REQUIRED-REPORTS=e2e,upgrade,gardener \
    INPUT_IMAGES="telemetry-manager: ${TESTED[0]} -> ${RELEASED[0]}
experimental: ${TESTED[1]} -> ${RELEASED[1]}" \
    INPUT_INSECURE-REGISTRIES="$HOST" \
    "$BIN"
}

# --- the peer: the same evidence with the usual tools ---------------------------------
peer() { # round
  local out="$WORK/peer/audit-bundle-1.2.3" api="$FAKE_API_URL/repos/$REPOSITORY" auth="Authorization: Bearer $FAKE_REST_TOKEN"
  rm -rf "$WORK/peer"; mkdir -p "$out/reports" "$out/images/manifests" "$out/run/jobs"
  mark() { echo "$1 $(date +%s%N)" >>"$WORK/peer/steps"; }
  mark start
  # 1. every report artifact, 5 at a time (download-artifact's concurrency)
  GITHUB_WORKSPACE="$WORK/peer" node -e '
    const {DefaultArtifactClient} = require(process.argv[1] + "/@actions/artifact")
    ;(async () => {
      const client = new DefaultArtifactClient()
      const {artifacts} = await client.listArtifacts({latest: true})
      const reports = artifacts.filter(a => a.name.endsWith("-report"))
      for (let i = 0; i < reports.length; i += 5)
        await Promise.all(reports.slice(i, i + 5).map(a => client.downloadArtifact(a.id, {path: process.argv[2] + "/" + a.name})))
    })()' "$NODE_MODULES" "$out/reports"
  mark "reports (official client)"
  # 2. every manifest: the index by tag, each platform by digest; hashed with sha256sum
  local ref repo digest
  for ref in "${TESTED[@]}" "${RELEASED[@]}"; do
    repo="${ref%:*}"
    skopeo inspect --raw --tls-verify=false "docker://$ref" >"$out/images/index.json.tmp"
    digest="sha256:$(sha256sum "$out/images/index.json.tmp" | cut -d' ' -f1)"
    echo "$ref $digest" >>"$out/images/digests.txt"
    mv "$out/images/index.json.tmp" "$out/images/manifests/${digest/:/-}.json"
    for digest in $(jq -r '.manifests[].digest' "$out/images/manifests/${digest/:/-}.json"); do
      skopeo inspect --raw --tls-verify=false "docker://$repo@$digest" >"$out/images/manifests/${digest/:/-}.json"
      echo "$repo@$digest sha256:$(sha256sum "$out/images/manifests/${digest/:/-}.json" | cut -d' ' -f1)" >>"$out/images/digests.txt"
    done
  done
  mark "manifests (skopeo + sha256sum)"
  # 3. the run, its jobs, and the log of every completed job
  curl -fsS -H "$auth" "$api/actions/runs/$RUN_ID" -o "$out/run/run.json"
  curl -fsS -H "$auth" "$api/actions/runs/$RUN_ID/jobs?per_page=100" -o "$out/run/jobs.json" # one page: ≤ 100 jobs here
  local job
  for job in $(jq -r '.jobs[] | select(.status == "completed") | .id' "$out/run/jobs.json"); do
    curl -fsSL -H "$auth" "$api/actions/jobs/$job/logs" -o "$out/run/jobs/$job.log"
  done
  mark "run, jobs, job logs (curl)"
  # 4. checksums, zip, the zip's sha256
  (cd "$out" && find . -type f ! -name SHA256SUMS -print0 | sort -z | xargs -0 sha256sum >SHA256SUMS)
  (cd "$WORK/peer" && zip -q -r -6 audit-bundle-1.2.3.zip audit-bundle-1.2.3 && sha256sum audit-bundle-1.2.3.zip >audit-bundle-1.2.3.zip.sha256)
  mark "SHA256SUMS + zip -r -6 + sha256sum"
  # 5. upload with the official client (level 0: the zip is already compressed)
  GITHUB_WORKSPACE="$WORK/peer" node -e '
    const {DefaultArtifactClient} = require(process.argv[1] + "/@actions/artifact")
    new DefaultArtifactClient().uploadArtifact(process.argv[2], [process.argv[3]], process.argv[4], {compressionLevel: 0})
      .then(r => console.log(JSON.stringify(r)))' \
    "$NODE_MODULES" "peer-bundle-1.2.3-round-$1" "$WORK/peer/audit-bundle-1.2.3.zip" "$WORK/peer"
  mark "upload (official client)"
}
export -f peer
export WORK NODE_MODULES FAKE_API_URL FAKE_REST_TOKEN REPOSITORY RUN_ID

measure() { # label file-of-wall-times file-of-rss command...
  local label="$1" walls="$2" rsses="$3"; shift 3
  if ! /usr/bin/time -o "$WORK/time" -f '%e %M' "$@" >"$WORK/$label.out" 2>"$WORK/$label.err"; then
    echo "error: $label failed; its output:" >&2; tail -20 "$WORK/$label.out" "$WORK/$label.err" >&2; exit 1
  fi
  local wall rss; read -r wall rss <"$WORK/time"
  echo "$wall" >>"$walls"; echo "$((rss / 1024))" >>"$rsses"
  printf '  %-16s wall %7.2f s   peak RSS %5d MB\n' "$label" "$wall" "$((rss / 1024))"
}

: >"$WORK/ours.wall"; : >"$WORK/ours.rss"; : >"$WORK/peer.wall"; : >"$WORK/peer.rss"
for round in $(seq "$ROUNDS"); do
  echo "round $round (load average before: $(load))"
  measure release-audit "$WORK/ours.wall" "$WORK/ours.rss" bash -c "$(declare -f ours); $(declare -p BIN WORK REPOSITORY RUN_ID SHA FAKE_API_URL FAKE_REST_TOKEN HOST TESTED RELEASED); ours $round"
  measure peer "$WORK/peer.wall" "$WORK/peer.rss" bash -c "$(declare -p TESTED RELEASED); peer $round"
done
echo "load average after: $(load)"

# --- what each produced (the last round) ---------------------------------------------
output() { # name → the step output's value (`name=value` or `name<<DELIMITER` form)
  awk -v n="$1" 'index($0, n "=") == 1 {print substr($0, length(n) + 2); exit}
                 index($0, n "<<") == 1 {getline; print; exit}' "$WORK/ours/output"
}
verdict="$(output verdict)"
bundle="$WORK/ours/workspace/$(output bundle-path)"
manifest="$WORK/ours/workspace/$(output manifest-path)"
echo
echo "release-audit: verdict $verdict; $(jq '[.evidence.tests.categories[].artifacts | length] | add' "$manifest") report artifacts," \
  "$(jq '[.evidence.tests.categories[].totals.tests] | add' "$manifest") tests," \
  "$(jq '[.evidence.tests.sources[].job_logs[]? | select(.path)] | length' "$manifest") job logs," \
  "image pairs $(jq -r '[.evidence.images.pairs[] | "\(.name) \(.verdict)"] | join(", ")' "$manifest"); bundle $(stat -c %s "$bundle") bytes;" \
  "artifact id $(output artifact-id)"
echo "peer: $(find "$WORK/peer/audit-bundle-1.2.3/reports" -name '*.xml' | wc -l) reports," \
  "$(find "$WORK/peer/audit-bundle-1.2.3/run/jobs" -name '*.log' | wc -l) job logs," \
  "$(find "$WORK/peer/audit-bundle-1.2.3/images/manifests" -name '*.json' | wc -l) distinct manifests ($(wc -l <"$WORK/peer/audit-bundle-1.2.3/images/digests.txt") hashed);" \
  "zip $(stat -c %s "$WORK/peer/audit-bundle-1.2.3.zip") bytes; upload $(cat "$WORK/peer.out" | tail -1)"

echo "peer, last round, by step: $(awk 'NR > 1 {printf "%s%s %.2f s", sep, substr($0, 1, length($0) - length($NF) - 1), ($NF - t) / 1e9; sep = "; "} {t = $NF}' "$WORK/peer/steps")"

ow="$(median <"$WORK/ours.wall")"; pw="$(median <"$WORK/peer.wall")"
echo
echo "| $REPORTS reports × ${REPORT_KB} KiB, $JOBS job logs × $LOG_MIB MiB, 2 image pairs | median wall | walls | peak RSS |"
echo "|---|---|---|---|"
echo "| release-audit run | $ow s | $(paste -sd/ "$WORK/ours.wall") s | $(sort -n "$WORK/ours.rss" | paste -sd/) MB |"
echo "| peer pipeline | $pw s | $(paste -sd/ "$WORK/peer.wall") s | $(sort -n "$WORK/peer.rss" | paste -sd/) MB |"
echo "ratio (medians): $(awk -v a="$ow" -v b="$pw" 'BEGIN {printf "%.2f", a / b}')×; goal ≤ 0.5× and ≤ 64 MB"
