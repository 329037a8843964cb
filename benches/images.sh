#!/usr/bin/env bash
# Benchmark of the image evidence stage (issue 4), against a real registry
# (Debian's docker-registry) that this script starts on a free loopback port.
#
# 1. Requests: comparing two 2-platform indexes must take exactly one GET per manifest
#    (2 indexes + 4 platform manifests), issued concurrently. Counted twice: by
#    release-audit itself (--json "requests") and by the registry's access log. Shown
#    beside `skopeo inspect --raw` of the same six manifests, in the same run.
# 2. Memory: diffing two 1 GiB layers streams them; peak RSS (GNU time) must stay
#    ≤ 64 MB.
#
# Usage: benches/images.sh            (BENCH_PROFILE=release for a release build,
#        BENCH_LAYER_MIB=1024 layer size, BENCH_RUNS=5 timing runs)
# Needs: docker-registry skopeo time openssl curl (tests/images/setup.sh installs them).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
PROFILE=${BENCH_PROFILE:-dev}
LAYER_MIB=${BENCH_LAYER_MIB:-1024}
RUNS=${BENCH_RUNS:-5}
RSS_LIMIT_KB=$((64 * 1000))

for tool in docker-registry skopeo /usr/bin/time openssl curl tar gzip sha256sum; do
  command -v "$tool" >/dev/null || { echo "error: $tool is missing; run tests/images/setup.sh" >&2; exit 2; }
done

cd "$ROOT"
if [ "$PROFILE" = release ]; then
  cargo build --quiet --release --bin release-audit
  BIN=$ROOT/target/release/release-audit
else
  cargo build --quiet --bin release-audit
  BIN=$ROOT/target/debug/release-audit
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/release-audit-bench.XXXXXX")
REGISTRY_PID=
cleanup() {
  if [ -n "$REGISTRY_PID" ]; then kill "$REGISTRY_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# --- a registry on a free loopback port --------------------------------------------
for port in $(shuf -i 20000-60000 -n 50); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then PORT=$port; break; fi
done
HOST=127.0.0.1:$PORT
cat >"$WORK/registry.yml" <<EOF
version: 0.1
log:
  level: info
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: $WORK/storage
http:
  addr: $HOST
EOF
docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do
  [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$HOST/v2/")" = 200 ] && break
  sleep 0.1
done

# --- an OCI layout composed by hand (deterministic: fixed mtimes, sorted tar, gzip -n)
L=$WORK/layout
mkdir -p "$L/blobs/sha256"
echo '{"imageLayoutVersion":"1.0.0"}' >"$L/oci-layout"
: >"$WORK/tags"

# blob FILE → moves FILE into the layout, prints "digest size"
blob() {
  local hex size
  hex=$(sha256sum "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  mv "$1" "$L/blobs/sha256/$hex"
  echo "sha256:$hex $size"
}
# json TEXT → blob of the text, prints "digest size"
json() { printf '%s' "$1" >"$WORK/json.tmp"; blob "$WORK/json.tmp"; }
# layer DIR → prints "digest size diff_id" of DIR as a gzip'd tar layer
layer() {
  tar --sort=name --owner=0 --group=0 --numeric-owner --format=gnu -C "$1" -cf "$WORK/$2.tar" .
  local diff_id
  diff_id=sha256:$(sha256sum "$WORK/$2.tar" | cut -d' ' -f1)
  gzip -n -1 -c "$WORK/$2.tar" >"$WORK/$2.tar.gz"
  rm "$WORK/$2.tar"
  echo "$(blob "$WORK/$2.tar.gz") $diff_id"
}
# image ARCH "LAYER" → prints "digest size" of a single-layer image manifest
image() {
  local arch=$1 ld ls li cd cs
  read -r ld ls li <<<"$2"
  read -r cd cs < <(json "{\"architecture\":\"$arch\",\"os\":\"linux\",\"created\":\"2024-01-01T00:00:00Z\",\"config\":{\"Cmd\":[\"/app\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"$li\"]},\"history\":[{\"created\":\"2024-01-01T00:00:00Z\",\"created_by\":\"COPY . /\"}]}")
  json "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"$cd\",\"size\":$cs},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$ld\",\"size\":$ls}]}"
}
# index "AMD64" "ARM64" → prints "digest size" of a linux/amd64 + linux/arm64 index
index() {
  local ad as rd rs
  read -r ad as <<<"$1"
  read -r rd rs <<<"$2"
  json "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$ad\",\"size\":$as,\"platform\":{\"architecture\":\"amd64\",\"os\":\"linux\"}},{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"digest\":\"$rd\",\"size\":$rs,\"platform\":{\"architecture\":\"arm64\",\"os\":\"linux\"}}]}"
}
# tag NAME MEDIA-TYPE "DIGEST SIZE" → names a manifest in the layout's index.json
tag() {
  local d s
  read -r d s <<<"$3"
  echo "{\"mediaType\":\"$2\",\"digest\":\"$d\",\"size\":$s,\"annotations\":{\"org.opencontainers.image.ref.name\":\"$1\"}}" >>"$WORK/tags"
  echo "{\"schemaVersion\":2,\"manifests\":[$(paste -sd, "$WORK/tags")]}" >"$L/index.json"
}
push() { skopeo copy -q --all --preserve-digests --dest-tls-verify=false "oci:$L:$1" "docker://$HOST/$2"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# manifest GETs in the access log from a user agent
gets() { grep -c "\"GET /v2/bench/[^ ]*/manifests/[^\"]*\" 200 .*\"$1" "$WORK/registry.log" || true; }
all_requests() { grep -c "\" [0-9][0-9][0-9] [0-9]* \"[^\"]*\" \"$1" "$WORK/registry.log" || true; }

# --- 1. requests and wall time -------------------------------------------------------
mkdir -p "$WORK/app/app"
printf 'hello\n' >"$WORK/app/app/hello.txt"
printf '1.0.0\n' >"$WORK/app/app/version"
find "$WORK/app" -exec touch -h -d @1700000000 {} +
SMALL=$(layer "$WORK/app" small)
printf '1.0.1\n' >"$WORK/app/app/version"
touch -h -d @1700000000 "$WORK/app/app/version"
CHANGED=$(layer "$WORK/app" changed)
AMD=$(image amd64 "$SMALL")
ARM=$(image arm64 "$SMALL")
ARM2=$(image arm64 "$CHANGED")
tag tested application/vnd.oci.image.index.v1+json "$(index "$AMD" "$ARM")"
tag released application/vnd.oci.image.index.v1+json "$(index "$AMD" "$ARM2")"
push tested bench/tested:1
push tested bench/copy:1
push released bench/released:1

T=$HOST/bench/tested:1
C=$HOST/bench/copy:1
R=$HOST/bench/released:1

run_compare() { # label released extra-flags...
  local label=$1 released=$2; shift 2
  local times=() before after out requests in_flight
  before=$(gets release-audit)
  for _ in $(seq "$RUNS"); do
    local start; start=$(now_ms)
    out=$("$BIN" compare "$T" "$released" --insecure-registry "$HOST" --json "$@" 2>/dev/null || true)
    times+=($(($(now_ms) - start)))
  done
  after=$(gets release-audit)
  requests=$(grep -o '"requests": [0-9]*' <<<"$out" | grep -o '[0-9]*$')
  in_flight=$(grep -o '"max_in_flight": [0-9]*' <<<"$out" | grep -o '[0-9]*$')
  printf '| release-audit compare (%s) | %s | %s | %s | %s |\n' "$label" "$requests" "$(((after - before) / RUNS))" "$in_flight" "$(printf '%s\n' "${times[@]}" | median)"
}

run_skopeo() {
  local times=() before_all before after_all after
  before=$(gets skopeo)
  before_all=$(all_requests skopeo)
  for _ in $(seq "$RUNS"); do
    local start; start=$(now_ms)
    for ref in "$T" "$R"; do
      local raw repo=${ref%:*}
      raw=$(skopeo inspect --raw --tls-verify=false "docker://$ref")
      for digest in $(grep -o 'sha256:[0-9a-f]\{64\}' <<<"$raw"); do
        skopeo inspect --raw --tls-verify=false "docker://$repo@$digest" >/dev/null
      done
    done
    times+=($(($(now_ms) - start)))
  done
  after=$(gets skopeo)
  after_all=$(all_requests skopeo)
  printf '| skopeo inspect --raw × 6 (sequential) | %s | %s | 1 | %s |\n' "$(((after_all - before_all) / RUNS))" "$(((after - before) / RUNS))" "$(printf '%s\n' "${times[@]}" | median)"
}

echo "## Requests (median of $RUNS runs, $PROFILE build, $(nproc) cores)"
echo
echo '| what | requests (all) | manifest GETs (registry log) | max in flight | wall ms |'
echo '|---|---|---|---|---|'
run_compare "identical indexes" "$C"
run_compare "arm64 differs, --layer-diff-limit 0" "$R" --layer-diff-limit 0
run_compare "arm64 differs, layer diffed" "$R"
run_skopeo

# --- 2. layer diff of two large layers: peak RSS ------------------------------------
FILES=64
CHUNK_MIB=$((LAYER_MIB / FILES))
mkdir -p "$WORK/big/data"
# random SEED → CHUNK_MIB of incompressible, reproducible bytes (AES-CTR keystream)
random() { head -c "$((CHUNK_MIB * 1024 * 1024))" < <(openssl enc -aes-128-ctr -nosalt -pbkdf2 -pass "pass:$1" </dev/zero 2>/dev/null); }
for i in $(seq -w 0 $((FILES - 1))); do
  random "file-$i" >"$WORK/big/data/f$i"
done
find "$WORK/big" -exec touch -h -d @1700000000 {} +
BIG_A=$(layer "$WORK/big" big-a)
# The released build: f07 has other content, f13 another mtime.
random other >"$WORK/big/data/f07"
touch -h -d @1700000000 "$WORK/big/data/f07"
touch -h -d @1700003600 "$WORK/big/data/f13"
BIG_B=$(layer "$WORK/big" big-b)
rm -rf "$WORK/big"
tag big-tested application/vnd.oci.image.manifest.v1+json "$(image amd64 "$BIG_A")"
tag big-released application/vnd.oci.image.manifest.v1+json "$(image amd64 "$BIG_B")"
push big-tested bench/big-tested:1
push big-released bench/big-released:1
rm -rf "$L"

read -r _ SIZE_A _ <<<"$BIG_A"
read -r _ SIZE_B _ <<<"$BIG_B"
/usr/bin/time -v "$BIN" compare "$HOST/bench/big-tested:1" "$HOST/bench/big-released:1" --insecure-registry "$HOST" \
  --layer-diff-limit 8GiB --json >"$WORK/big.json" 2>"$WORK/big.time" || true
RSS_KB=$(grep 'Maximum resident set size' "$WORK/big.time" | grep -o '[0-9]*$')
WALL=$(grep 'Elapsed (wall clock)' "$WORK/big.time" | sed 's/.*): //')
FOUND_CONTENT=$(grep -c '"data/f07: .* content differs"' "$WORK/big.json" || true)
FOUND_MTIME=$(grep -c '"data/f13: mtime ' "$WORK/big.json" || true)

echo
echo "## Layer diff of two ${LAYER_MIB} MiB layers ($FILES files; f07 content and f13 mtime differ)"
echo
echo '| compressed sizes | peak RSS | wall | found f07 content / f13 mtime | limit |'
echo '|---|---|---|---|---|'
printf '| %s + %s bytes | %s MB | %s | %s / %s | %s |\n' "$SIZE_A" "$SIZE_B" "$((RSS_KB / 1000))" "$WALL" "$FOUND_CONTENT" "$FOUND_MTIME" \
  "$([ "$RSS_KB" -le "$RSS_LIMIT_KB" ] && echo "≤ 64 MB ✅" || echo "over 64 MB ❌")"
[ "$RSS_KB" -le "$RSS_LIMIT_KB" ] && [ "$FOUND_CONTENT" -ge 1 ] && [ "$FOUND_MTIME" -ge 1 ]
