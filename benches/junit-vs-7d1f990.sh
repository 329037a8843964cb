#!/usr/bin/env bash
# The JUnit path against commit 7d1f990 (before the read-boundary fix, the attempt
# matching and the exact skipper), side by side in one run: `release-audit reports
# --json` on one ~100 MiB JUnit file (benches/parse.rs's generator: gotestsum-like
# suites, system-out full of escaped characters, 3 % failures), pinned to one core,
# runs interleaved (old, new, old, new, …), wall time and peak RSS from GNU time.
#
# Needs: apt-get install -y time util-linux (GNU time, taskset)
# Usage: benches/junit-vs-7d1f990.sh [runs]     (default 12)
#   OLD_TREE=dir   where 7d1f990 is checked out and built (default /tmp/release-audit-7d1f990;
#                  made with `git worktree add` when missing; its own target dir)
#   BENCH_FILE=f   keep the generated file there (default: a temporary directory)
# Both binaries are release builds, made with `nice` (the old one once).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-12}"
old_tree="${OLD_TREE:-/tmp/release-audit-7d1f990}"
file="${BENCH_FILE:-$(mktemp -d)/bench.xml}"

if [ ! -d "$old_tree" ]; then
  git worktree add --detach "$old_tree" 7d1f990 >/dev/null
fi
(cd "$old_tree" && nice cargo build --release --locked --bin release-audit --quiet)
nice cargo build --release --locked --bin release-audit --quiet
old="$old_tree/target/release/release-audit"
new="$(pwd)/target/release/release-audit"

if [ ! -s "$file" ]; then
  generator="$(nice cargo bench --bench parse --no-run --message-format=json 2>/dev/null | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "parse" and m.get("executable"):
        print(m["executable"])')"
  "$generator" generate "$file" 105 # megabytes: 105 MB is 100 MiB
fi
size=$(stat -c %s "$file")

# Both must count the same file the same way before their times are compared.
# (`reports` exits 1 here: the file has failed tests.)
count() { { "$1" reports --json "$file" || true; } | python3 -c 'import json,sys; t=json.load(sys.stdin)["totals"]; print(t["tests"], t["failed"], t["errored"], t["skipped"])'; }
old_counts="$(count "$old")"
new_counts="$(count "$new")"
[ "$old_counts" = "$new_counts" ] || { echo "the two count differently: $old_counts vs $new_counts" >&2; exit 1; }

results="$(mktemp)"
for i in $(seq "$runs"); do
  for which in old new; do
    bin="$old"; [ "$which" = new ] && bin="$new"
    /usr/bin/time -f "$which %e %M" -a -o "$results" taskset -c 0 "$bin" reports --json "$file" >/dev/null || true
  done
done

python3 - "$results" "$size" "$runs" "$new_counts" <<'EOF'
import statistics, sys
path, size, runs, counts = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
rows = {"old": [], "new": []}
for line in open(path):
    if not line.startswith(("old ", "new ")):
        continue  # GNU time's "Command exited with non-zero status 1" (the file has failed tests)
    which, seconds, kb = line.split()
    rows[which].append((float(seconds), int(kb)))
print(f"file: {size / 2**20:.0f} MiB JUnit, {counts.split()[0]} test cases; {runs} interleaved runs each, one core")
print()
print("| build | median wall s | min–max s | median peak RSS | MiB/s |")
print("| --- | ---: | ---: | ---: | ---: |")
for which, label in (("old", "7d1f990"), ("new", "this tree")):
    times = [s for s, _ in rows[which]]
    rss = statistics.median(k for _, k in rows[which]) / 1024
    t = statistics.median(times)
    print(f"| {label} | {t:.3f} | {min(times):.2f}–{max(times):.2f} | {rss:.1f} MiB | {size / 2**20 / t:.0f} |")
EOF
rm -f "$results"
