#!/usr/bin/env bash
# Parse benchmark: our JUnit parser against Python's junitparser on the same file.
#
# Generates a realistic ~100 MB JUnit file (benches/parse.rs), then parses it on one
# core (taskset -c 0) with our release build and with junitparser (with lxml when it is
# installed, as junitparser itself prefers; with the standard library's ElementTree
# otherwise), measuring wall time and peak RSS with GNU time. Both count every test
# case's outcome, so they do the same work.
#
# Needs: apt-get install -y time util-linux; pip install junitparser lxml
# Usage: benches/parse.sh [megabytes]      (default 100; BENCH_FILE=path to keep the file)
# Targets (issue 3): >= 200 MB/s, peak RSS <= 64 MB, >= 10x junitparser.
set -euo pipefail
cd "$(dirname "$0")/.."

megabytes="${1:-100}"
file="${BENCH_FILE:-$(mktemp -d)/bench.xml}"

bin="$(cargo bench --bench parse --no-run --message-format=json 2>/dev/null \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "parse" and m.get("executable"):
        print(m["executable"])')"
[ -x "$bin" ] || { echo "could not build the benchmark" >&2; exit 1; }

[ -s "$file" ] || "$bin" generate "$file" "$megabytes"
size=$(stat -c %s "$file")
echo "file: $file ($((size / 1000000)) MB)"

measure() { # label, command...: runs it under GNU time, prints its stdout, returns "seconds rss_kb"
  local label="$1"; shift
  local times; times="$(mktemp)"
  local output
  output="$(/usr/bin/time -v -o "$times" taskset -c 0 "$@")"
  echo "$label: $output" >&2
  local rss; rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$times")
  local wall; wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$times")
  rm -f "$times"
  echo "$output" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["seconds"], d["tests"])' | { read -r seconds tests; echo "$seconds $rss $tests $wall"; }
}

junitparser_script='
import json, sys, time
try:
    import lxml  # noqa: F401
    backend = "lxml"
except ImportError:
    backend = "xml.etree"
from junitparser import JUnitXml, Failure, Error, Skipped
start = time.perf_counter()
xml = JUnitXml.fromfile(sys.argv[1])
counts = {"tests": 0, "failed": 0, "errored": 0, "skipped": 0}
suites = [xml] if xml._tag == "testsuite" else list(xml)
for suite in suites:
    for case in suite:
        counts["tests"] += 1
        kinds = {type(r) for r in case.result}
        if Failure in kinds: counts["failed"] += 1
        elif Error in kinds: counts["errored"] += 1
        elif Skipped in kinds: counts["skipped"] += 1
seconds = time.perf_counter() - start
print(json.dumps({"parser": "junitparser+" + backend, "seconds": round(seconds, 3), **counts}))
'

read -r ours_s ours_rss ours_tests ours_wall < <(measure "release-audit" "$bin" parse "$file")
read -r peer_s peer_rss peer_tests peer_wall < <(measure "junitparser" python3 -c "$junitparser_script" "$file")

python3 - "$size" "$ours_s" "$ours_rss" "$ours_tests" "$peer_s" "$peer_rss" "$peer_tests" <<'EOF'
import sys
size, ours_s, ours_rss, ours_tests, peer_s, peer_rss, peer_tests = sys.argv[1:]
size = int(size); mb = size / 1e6
ours_s, peer_s = float(ours_s), float(peer_s)
print()
print(f"| parser | seconds | MB/s | peak RSS | test cases |")
print(f"| --- | ---: | ---: | ---: | ---: |")
print(f"| release-audit | {ours_s:.2f} | {mb / ours_s:.0f} | {int(ours_rss) / 1024:.0f} MiB | {ours_tests} |")
print(f"| junitparser | {peer_s:.2f} | {mb / peer_s:.1f} | {int(peer_rss) / 1024:.0f} MiB | {peer_tests} |")
print()
print(f"ratio: {peer_s / ours_s:.1f}x faster (target >= 10x); throughput target >= 200 MB/s; RSS target <= 64 MiB")
if ours_tests != peer_tests:
    print(f"WARNING: the parsers counted different numbers of test cases: {ours_tests} vs {peer_tests}")
EOF
