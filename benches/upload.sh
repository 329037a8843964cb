#!/usr/bin/env bash
# Upload benchmark (issue: foundation): a 200 MB bundle uploaded through the fake
# artifact service + Azurite by release-audit and, in the same run, by the official
# @actions/artifact client. Prints wall time and peak RSS of each.
#   benches/upload.sh [size-MiB] [rounds]
set -euo pipefail
source "$(dirname "$0")/../scripts/services.sh"
cd "$RA_ROOT"
SIZE_MIB="${1:-200}"
ROUNDS="${2:-3}"

ensure_packages
start_services
cargo build --quiet --release --bench upload -p release-audit 2>/dev/null || cargo bench --no-run -p release-audit --bench upload >/dev/null
cargo build --quiet --release -p release-audit-test-support --bin fake-github
BENCH_BIN="$(ls -t target/release/deps/upload-* | grep -v '\.d$' | head -1)"

WORK="$RA_STATE/bench"; mkdir -p "$WORK/files"
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom >"$WORK/files/bundle.zip"

start_fake_github target/release/fake-github
export GITHUB_WORKSPACE="$WORK/files" GITHUB_SERVER_URL=https://github.com

measure() { # label command...
  local out; out="$(/usr/bin/time -f '%e %M' "${@:2}" 2>&1 >/dev/null | tail -1)"
  printf '%-28s wall %6.2f s   peak RSS %6.1f MB\n' "$1" "$(echo "$out" | cut -d' ' -f1)" "$(echo "$out" | awk '{print $2/1024}')"
}

echo "upload of a ${SIZE_MIB} MiB file (incompressible), $ROUNDS rounds, $(nproc) cores"
for round in $(seq "$ROUNDS"); do
  measure "release-audit (round $round)" "$BENCH_BIN" "$WORK/files/bundle.zip" "ra-$round"
  # The official client zips before it uploads; level 0 makes that a plain copy.
  measure "@actions/artifact (round $round)" node -e '
    const {DefaultArtifactClient} = require(process.argv[1]);
    new DefaultArtifactClient().uploadArtifact(process.argv[2], [process.argv[3]], process.argv[4], {compressionLevel: 0})
      .then(r => console.log(JSON.stringify(r)))' \
    "$RA_ROOT/tests/node/node_modules/@actions/artifact" "official-$round" "$WORK/files/bundle.zip" "$WORK/files"
done
