#!/usr/bin/env bash
# The JUnit path against commit 7d1f990 (before the read-boundary fix, the rerun and
# declared-count rules and the exact skipper), side by side in one run:
# `release-audit reports --json` on two ~100 MiB JUnit files, pinned to one core, runs
# interleaved (old, new, old, new, …), wall time and peak RSS from GNU time.
#
#   output-heavy  benches/parse.rs's generator: gotestsum-like suites whose test cases
#                 carry <system-out> full of escaped characters (most bytes are skipped)
#   case-heavy    ~670,000 short test cases, 3 % failed, 2 % skipped, no output (most
#                 bytes are tags and attributes, every test case is counted)
#
# Needs: apt-get install -y time util-linux valgrind (GNU time, taskset, massif); python3
# Usage: benches/junit-vs-7d1f990.sh [runs]     (default 12)
#   OLD_TREE=dir   where 7d1f990 is checked out and built (default /tmp/release-audit-7d1f990;
#                  made with `git worktree add` when missing; its own target dir)
#   BENCH_DIR=dir  keep the generated files there (default: a temporary directory)
# Both binaries are release builds, made with `nice` (the old one once).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-12}"
old_tree="${OLD_TREE:-/tmp/release-audit-7d1f990}"
dir="${BENCH_DIR:-$(mktemp -d)}"
mkdir -p "$dir"

if [ ! -d "$old_tree" ]; then
  git worktree add --detach "$old_tree" 7d1f990 >/dev/null
fi
(cd "$old_tree" && nice cargo build --release --locked --bin release-audit --quiet)
nice cargo build --release --locked --bin release-audit --quiet
old="$old_tree/target/release/release-audit"
new="$(pwd)/target/release/release-audit"

if [ ! -s "$dir/output-heavy.xml" ]; then
  generator="$(nice cargo bench --bench parse --no-run --message-format=json 2>/dev/null | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("target", {}).get("name") == "parse" and m.get("executable"):
        print(m["executable"])')"
  "$generator" generate "$dir/output-heavy.xml" 105 # megabytes: 105 MB is 100 MiB
fi
if [ ! -s "$dir/case-heavy.xml" ]; then
  python3 - "$dir/case-heavy.xml" 105 <<'EOF'
import sys
target = int(sys.argv[2]) * 1_000_000
x, mask = 0x9E3779B97F4A7C15, (1 << 64) - 1
def below(n):  # xorshift64: the same file every time
    global x
    x ^= (x << 13) & mask; x ^= x >> 7; x ^= (x << 17) & mask
    return x % n
with open(sys.argv[1], "w") as out:
    out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="unit">\n')
    written, suite = 0, 0
    while written < target:
        suite += 1
        pkg = f"github.com/example/monorepo/pkg{suite:05}"
        parts = [f'\t<testsuite name="{pkg}" tests="200" time="1.5">\n']
        for case in range(200):
            k, name = below(100), f"Test{case:04}/case_{below(1000)}"
            if k < 3:
                parts.append(f'\t\t<testcase classname="{pkg}" name="{name}" time="0.01"><failure message="Failed">want &lt;1&gt; got 2</failure></testcase>\n')
            elif k < 5:
                parts.append(f'\t\t<testcase classname="{pkg}" name="{name}" time="0"><skipped message="short mode"/></testcase>\n')
            else:
                parts.append(f'\t\t<testcase classname="{pkg}" name="{name}" time="0.001"></testcase>\n')
        parts.append("\t</testsuite>\n")
        text = "".join(parts)
        out.write(text)
        written += len(text)
    out.write("</testsuites>\n")
EOF
fi

# (`reports` exits 1 on these files: they have failed tests.)
count() { { "$1" reports --json "$2" || true; } | python3 -c 'import json,sys; t=json.load(sys.stdin)["totals"]; print(t["tests"], t["failed"], t["errored"], t["skipped"])'; }

# Peak RSS of each binary on a one-test report: what it takes before any parsing (its
# code and start-up), to tell the parser's memory from the binary's.
printf '<testsuite name="s"><testcase name="a"/></testsuite>' > "$dir/tiny.xml"
baselines=""
for which in old new; do
  bin="$old"; [ "$which" = new ] && bin="$new"
  rss=$(for _ in 1 2 3 4 5; do /usr/bin/time -f "%M" taskset -c 0 "$bin" reports --json "$dir/tiny.xml" 2>&1 >/dev/null | tail -1; done | sort -n | sed -n 3p)
  baselines="$baselines $rss"
  echo "$which: peak RSS on a one-test report $((rss / 1024)).$(((rss % 1024) * 10 / 1024)) MiB (the binary's own baseline)"
done
echo

for shape in output-heavy case-heavy; do
  file="$dir/$shape.xml"
  # Both must count the file the same way before their times are compared.
  old_counts="$(count "$old" "$file")"
  new_counts="$(count "$new" "$file")"
  [ "$old_counts" = "$new_counts" ] || { echo "$shape: the two count differently: $old_counts vs $new_counts" >&2; exit 1; }
  results="$(mktemp)"
  for _ in $(seq "$runs"); do
    for which in old new; do
      bin="$old"; [ "$which" = new ] && bin="$new"
      /usr/bin/time -f "$which %e %M" -a -o "$results" taskset -c 0 "$bin" reports --json "$file" >/dev/null || true
    done
  done
  # The heap alone, without the binary's code pages: valgrind's massif, peak of the heap
  # (malloc'd bytes plus the allocator's overhead); deterministic for the same input.
  heap() {
    local out; out="$(mktemp)"
    valgrind --tool=massif --massif-out-file="$out" "$1" reports --json "$2" >/dev/null 2>&1 || true
    python3 -c 'import sys,re; t=open(sys.argv[1]).read(); print(max(int(a)+int(b) for a,b in re.findall(r"mem_heap_B=(\d+)\nmem_heap_extra_B=(\d+)", t)))' "$out"
    rm -f "$out"
  }
  heaps="$(heap "$old" "$file") $(heap "$new" "$file")"
  python3 - "$results" "$(stat -L -c %s "$file")" "$runs" "$new_counts" "$shape" "$heaps" "$baselines" <<'EOF'
import statistics, sys
path, size, runs, counts, shape = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
heap = dict(zip(("old", "new"), (int(h) for h in sys.argv[6].split())))
baseline = dict(zip(("old", "new"), (int(b) for b in sys.argv[7].split())))
rows = {"old": [], "new": []}
for line in open(path):
    if not line.startswith(("old ", "new ")):
        continue  # GNU time's "Command exited with non-zero status 1"
    which, seconds, kb = line.split()
    rows[which].append((float(seconds), int(kb)))
print(f"{shape}: {size / 2**20:.0f} MiB, {counts.split()[0]} test cases; {runs} interleaved runs each, one core")
print()
print("| build | median wall s | min–max s | median peak RSS | above the binary's baseline | peak heap (massif) | MiB/s |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
for which, label in (("old", "7d1f990"), ("new", "this tree")):
    times = [s for s, _ in rows[which]]
    rss = statistics.median(k for _, k in rows[which]) / 1024
    t = statistics.median(times)
    above = rss - baseline[which] / 1024
    print(f"| {label} | {t:.3f} | {min(times):.2f}–{max(times):.2f} | {rss:.1f} MiB | {above:.1f} MiB | {heap[which] / 2**20:.2f} MiB | {size / 2**20 / t:.0f} |")
print()
EOF
  rm -f "$results"
done
