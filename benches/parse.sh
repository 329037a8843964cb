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
  local cpu; cpu=$(awk -F': ' '/User time|System time/ {sum += $2} END {print sum}' "$times")
  rm -f "$times"
  echo "$output" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(d["seconds"], d["tests"])' | { read -r seconds tests; echo "$seconds $rss $tests $cpu"; }
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

read -r ours_s ours_rss ours_tests ours_cpu < <(measure "release-audit" "$bin" parse "$file")
read -r peer_s peer_rss peer_tests peer_cpu < <(measure "junitparser" python3 -c "$junitparser_script" "$file")

python3 - "$size" "$ours_s" "$ours_rss" "$ours_tests" "$peer_s" "$peer_rss" "$peer_tests" "$ours_cpu" "$peer_cpu" <<'EOF'
import sys
size, ours_s, ours_rss, ours_tests, peer_s, peer_rss, peer_tests, ours_cpu, peer_cpu = sys.argv[1:]
ours_cpu, peer_cpu = float(ours_cpu), float(peer_cpu)
size = int(size); mb = size / 1e6
ours_s, peer_s = float(ours_s), float(peer_s)
print()
print("| parser | parse seconds (wall) | MB/s | process CPU seconds (user+sys) | peak RSS | test cases |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
print(f"| release-audit | {ours_s:.3f} | {mb / ours_s:.0f} | {ours_cpu:.2f} | {int(ours_rss) / 1024:.0f} MiB | {ours_tests} |")
print(f"| junitparser | {peer_s:.3f} | {mb / peer_s:.1f} | {peer_cpu:.2f} | {int(peer_rss) / 1024:.0f} MiB | {peer_tests} |")
print()
print(f"ratio: {peer_s / ours_s:.1f}x faster by parse wall time, {peer_cpu / ours_cpu:.1f}x by process CPU time (target >= 10x)")
print("targets: >= 200 MB/s, peak RSS <= 64 MiB; wall times are noisy on a shared machine, CPU times less so")
if ours_tests != peer_tests:
    print(f"WARNING: the parsers counted different numbers of test cases: {ours_tests} vs {peer_tests}")
EOF
