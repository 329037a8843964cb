#!/usr/bin/env bash
# Collection benchmark (issue: test evidence): 50 artifacts of ~4 MB each (a JUnit
# report plus an incompressible attachment, like a screenshot) uploaded to the fake +
# Azurite with the official client, then collected by release-audit (download, digest
# check, safe extraction, parsing) and, in the same run, downloaded by the official
# client the way download-artifact does it (5 at a time).
#   benches/collect.sh [artifacts] [rounds]
set -euo pipefail
source "$(dirname "$0")/../scripts/services.sh"
cd "$RA_ROOT"
COUNT="${1:-50}"
ROUNDS="${2:-3}"
ensure_packages
start_services
cargo bench --no-run -p release-audit --bench collect 2>/dev/null
cargo build --quiet --release -p release-audit-test-support --bin fake-github
BIN="$(ls -t target/release/deps/collect-* | grep -v '\.d$' | head -1)"
WORK="$RA_STATE/bench"; mkdir -p "$WORK/src"

start_fake_github target/release/fake-github
export GITHUB_WORKSPACE="$WORK/src" GITHUB_SERVER_URL=https://github.com
NODE_MODULES="$RA_ROOT/tests/node/node_modules"

node - "$NODE_MODULES" "$WORK/src" "$COUNT" <<'JS'
const [mods, root, count] = process.argv.slice(2)
const {DefaultArtifactClient} = require(`${mods}/@actions/artifact`)
const fs = require('fs'), path = require('path'), crypto = require('crypto')
;(async () => {
  const client = new DefaultArtifactClient()
  for (let i = 0; i < Number(count); i++) {
    const dir = path.join(root, `a${i}`); fs.mkdirSync(dir, {recursive: true})
    let xml = '<?xml version="1.0"?><testsuites><testsuite name="pkg" tests="2000">'
    for (let t = 0; t < 2000; t++) xml += `<testcase classname="pkg${i}" name="Test${t}" time="0.01"><system-out>${'x'.repeat(400)}</system-out></testcase>`
    fs.writeFileSync(path.join(dir, 'junit.xml'), xml + '</testsuite></testsuites>')
    fs.writeFileSync(path.join(dir, 'screenshot.png'), crypto.randomBytes(3 * 1024 * 1024))
    await client.uploadArtifact(`bench-e2e-${i}-report`, [path.join(dir, 'junit.xml'), path.join(dir, 'screenshot.png')], dir, {compressionLevel: 6})
  }
})()
JS
echo "$COUNT artifacts uploaded; $(nproc) cores"

measure() { # label command...
  local out; out="$( { /usr/bin/time -f '%e %M' "${@:2}" >/dev/null; } 2>&1 | tail -1)"
  printf '%-36s wall %6.2f s   peak RSS %6.1f MB\n' "$1" "$(echo "$out" | cut -d' ' -f1)" "$(echo "$out" | awk '{print $2/1024}')"
}
for round in $(seq "$ROUNDS"); do
  rm -rf "$WORK/ra" "$WORK/official"
  measure "release-audit collect (round $round)" "$BIN" 'bench-e2e-*-report' "$WORK/ra"
  measure "@actions/artifact (round $round)" node -e '
    const {DefaultArtifactClient} = require(process.argv[1] + "/@actions/artifact")
    ;(async () => {
      const client = new DefaultArtifactClient()
      const {artifacts} = await client.listArtifacts({latest: true})
      for (let i = 0; i < artifacts.length; i += 5)
        await Promise.all(artifacts.slice(i, i + 5).map(a => client.downloadArtifact(a.id, {path: process.argv[2] + "/" + a.name})))
    })()' "$NODE_MODULES" "$WORK/official"
done
# What was measured: every artifact collected and its tests counted from the reports.
rm -rf "$WORK/ra" && echo "release-audit collected: $("$BIN" 'bench-e2e-*-report' "$WORK/ra")"
echo "official client downloaded: $(find "$WORK/official" -name junit.xml | wc -l) reports"
