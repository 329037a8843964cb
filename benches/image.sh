#!/usr/bin/env bash
# Benchmark of the action's image (issue 11): its compressed size, and the time from
# `docker run` to the first log line, beside the peer a JavaScript action pays instead
# (the runner starts `node` on the action's entry; here the entry imports
# @actions/artifact, as upload-artifact's does, and logs one line).
#
# The image is the one tests/it/container.rs builds: the repository's Dockerfile assembled by
# scripts/image.sh (buildah --timestamp) from the static x86_64 release binary, pushed to a
# local registry (Debian's docker-registry) and pulled by digest into the local Docker
# daemon (scripts/docker.sh). Compressed size = config + layers as stored in the registry
# (what a runner downloads for one platform).
#
# Usage: benches/image.sh [RUNS]      (default 10 runs of each; medians and ranges printed)
# Needs: what tests/run installs; the static binary
#   RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --target x86_64-unknown-linux-gnu --bin release-audit
set -euo pipefail

RUNS="${1:-10}"
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
source "$ROOT/scripts/services.sh"
source "$ROOT/scripts/docker.sh"
trap 'rm -f "$ROOT/tests/node/entry-bench.mjs"; stop_services' EXIT
cd "$ROOT"

BIN="${CARGO_TARGET_DIR:-$ROOT/target}/x86_64-unknown-linux-gnu/release/release-audit"
[ -x "$BIN" ] || { echo "error: $BIN is missing; build it (see the header of this script)" >&2; exit 2; }
for tool in buildah docker-registry skopeo python3; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing; run tests/run once (it installs it)" >&2; exit 2; }
done
[ -f tests/node/node_modules/@actions/artifact/package.json ] || { echo "error: tests/node/node_modules is missing: (cd tests/node && npm ci)" >&2; exit 2; }

start_docker

# A registry on a free port.
port="$(free_port)"
mkdir -p "$RA_STATE/registry"
printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
  "$RA_STATE/registry" "$port" >"$RA_STATE/registry.yml"
docker-registry serve "$RA_STATE/registry.yml" >"$RA_STATE/registry.log" 2>&1 &
RA_PIDS+=($!)
wait_for_port "$port" registry 20

# The build context: Dockerfile as released, the binary, a local CA-bundle image.
work="$RA_STATE/image"
mkdir -p "$work/context/dist/linux-amd64" "$work/certs/etc/ssl/certs"
cp Dockerfile .dockerignore "$work/context/"
cp "$BIN" "$work/context/dist/linux-amd64/release-audit"
cp /etc/ssl/certs/ca-certificates.crt "$work/certs/etc/ssl/certs/"
printf 'FROM scratch\nCOPY etc /etc\n' >"$work/certs/Dockerfile"
export BUILDAH_ROOT="$work/root" BUILDAH_RUNROOT="$work/run" BUILDAH_STORAGE_DRIVER=vfs BUILDAH_ISOLATION=chroot
buildah --root "$BUILDAH_ROOT" --runroot "$BUILDAH_RUNROOT" --storage-driver vfs bud --quiet --timestamp 0 -t localhost/certs:bench "$work/certs" >/dev/null
CONTEXT="$work/context" CERTS_IMAGE=localhost/certs:bench SOURCE_DATE_EPOCH="$(git log -1 --format=%ct)" \
  scripts/image.sh build localhost/release-audit:bench linux/amd64 2>/dev/null
digest="$(DEST_TLS_VERIFY=false scripts/image.sh push localhost/release-audit:bench "127.0.0.1:$port/release-audit:bench" 2>/dev/null)"
ref="127.0.0.1:$port/release-audit@$digest"
docker pull --quiet "$ref" >/dev/null

# Size: the amd64 manifest's config + layers (compressed, as pulled), and the binary.
sizes="$(skopeo inspect --raw --tls-verify=false "docker://$ref" | python3 -c '
import json, subprocess, sys
index = json.load(sys.stdin)
m = next(m for m in index["manifests"] if m["platform"]["architecture"] == "amd64")
ref = sys.argv[1].split("@")[0] + "@" + m["digest"]
man = json.loads(subprocess.check_output(["skopeo", "inspect", "--raw", "--tls-verify=false", "docker://" + ref]))
compressed = man["config"]["size"] + sum(l["size"] for l in man["layers"])
print(compressed, len(man["layers"]))' "$ref")"
compressed="${sizes% *}"; layers="${sizes#* }"
uncompressed="$(docker image inspect --format '{{.Size}}' "$ref")"

# Time to the first line of output, measured from just before the process is spawned.
first_line() { # command...
  python3 - "$@" <<'PY'
import subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
line = p.stdout.readline()
t1 = time.monotonic()
p.stdout.read(); p.wait()
if not line:
    sys.exit("no output from " + " ".join(sys.argv[1:]))
print(f"{(t1 - t0) * 1000:.0f}")
PY
}
stats() { sort -n | python3 -c 'import sys, statistics; v=[int(x) for x in sys.stdin]; print(f"median {statistics.median(v):.0f} ms (min {min(v)}, max {max(v)}, n={len(v)})")'; }

# Ours: the action's own entry, `run`, as the runner starts it (no inputs: it logs its
# first line and stops with the error that release-version is missing).
ours="$(for _ in $(seq "$RUNS"); do first_line docker run --rm --network host --workdir /github/workspace -e GITHUB_ACTIONS=true -e CI=true "$ref" run; done | stats)"
# Baseline of the daemon on this machine: the same container printing its version.
version="$(for _ in $(seq "$RUNS"); do first_line docker run --rm --network host "$ref" --version; done | stats)"
# The peer: node on a JS action's entry that imports @actions/artifact and logs.
entry="$RA_STATE/entry.mjs"
printf 'import { DefaultArtifactClient } from "@actions/artifact";\nnew DefaultArtifactClient();\nconsole.log("::group::Uploading");\n' >"$entry"
# ES modules ignore NODE_PATH: the entry is placed inside tests/node so that its
# node_modules resolve, and removed afterwards.
cp "$entry" "$ROOT/tests/node/entry-bench.mjs"
peer="$(for _ in $(seq "$RUNS"); do first_line node "$ROOT/tests/node/entry-bench.mjs"; done | stats)"
rm -f "$ROOT/tests/node/entry-bench.mjs"

printf '\nimage %s\n' "$ref"
printf 'compressed size (config + %s layer(s), amd64): %s bytes = %s MB (target <= 15 MB)\n' "$layers" "$compressed" "$(python3 -c "print(f'{$compressed / 1e6:.2f}')")"
printf 'uncompressed (docker image inspect): %s bytes; binary %s bytes\n' "$uncompressed" "$(stat -c %s "$BIN")"
printf 'docker run … run      → first log line: %s\n' "$ours"
printf 'docker run … --version → first line:    %s\n' "$version"
printf 'node entry importing @actions/artifact → first log line: %s   (node %s)\n' "$peer" "$(node --version)"
printf 'docker %s, storage driver %s\n' "$(docker version --format '{{.Server.Version}}')" "$(docker info --format '{{.Driver}}')"
