#!/usr/bin/env bash
# Bundle-writing benchmark (issue: durable bundle): a ~1 GB evidence directory (JUnit
# reports, go test -json streams, logs, some incompressible binaries) written as a
# bundle by release-audit (copy + sha256 of every file, manifest, SHA256SUMS, zip) and,
# in the same run, zipped by `zip -r -6`. Prints wall time and peak RSS of each.
#   benches/bundle.sh [size-MiB] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB="${1:-1024}"
ROUNDS="${2:-2}"
command -v zip >/dev/null && [ -x /usr/bin/time ] || { echo "needs zip and GNU time (apt-get install zip time)" >&2; exit 1; }
cargo bench --no-run -p release-audit --bench bundle 2>/dev/null
BIN="$(ls -t target/release/deps/bundle-* | grep -v '\.d$' | head -1)"
WORK="$(mktemp -d /tmp/release-audit-bench.XXXXXX)"; trap 'rm -rf "$WORK"' EXIT

python3 - "$WORK/evidence" "$SIZE_MIB" <<'PY'
import os, random, sys
root, total = sys.argv[1], int(sys.argv[2]) * 1024 * 1024
random.seed(7)
written, i = 0, 0
while written < total:
    kind = i % 10
    d = os.path.join(root, f"artifact-{i % 40:02d}")
    os.makedirs(d, exist_ok=True)
    if kind < 6:  # JUnit
        path = os.path.join(d, f"junit-{i}.xml")
        with open(path, "w") as f:
            f.write('<?xml version="1.0"?><testsuites>')
            for s in range(40):
                f.write(f'<testsuite name="github.com/kyma-project/pkg{s}" tests="50" time="{random.random()*9:.3f}">')
                for t in range(50):
                    f.write(f'<testcase classname="pkg{s}" name="Test{t}_{random.randrange(10**9)}" time="{random.random():.3f}">')
                    if random.random() < 0.05:
                        f.write(f'<failure message="expected {random.random()}">at line {random.randrange(999)}: value {random.random()}</failure>')
                    f.write('<system-out>' + ' '.join(f'log line {random.randrange(10**6)}' for _ in range(30)) + '</system-out></testcase>')
                f.write('</testsuite>')
            f.write('</testsuites>')
    elif kind < 8:  # go test -json
        path = os.path.join(d, f"test-{i}.json")
        with open(path, "w") as f:
            for n in range(20000):
                f.write(f'{{"Time":"2026-11-26T10:00:{n%60:02d}.{random.randrange(10**6):06d}Z","Action":"output","Package":"github.com/kyma-project/x","Test":"Test{n%300}","Output":"=== RUN Test{n} {random.random()}\\n"}}\n')
    elif kind == 8:  # logs
        path = os.path.join(d, f"job-{i}.log")
        with open(path, "w") as f:
            for n in range(60000):
                f.write(f"2026-11-26T10:{n%60:02d}:00.{random.randrange(10**7):07d}Z step {n%12} output {random.randrange(10**9)}\n")
    else:  # incompressible
        path = os.path.join(d, f"blob-{i}.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(4 * 1024 * 1024))
    written += os.path.getsize(path)
    i += 1
print(f"evidence: {i} files, {written/1024/1024:.0f} MiB")
PY

measure() { # label command...
  local out; out="$( { /usr/bin/time -f '%e %M' "${@:2}" >/dev/null; } 2>&1 | tail -1)"
  printf '%-34s wall %6.2f s   peak RSS %6.1f MB\n' "$1" "$(echo "$out" | cut -d' ' -f1)" "$(echo "$out" | awk '{print $2/1024}')"
}
echo "$(nproc) cores"
for round in $(seq "$ROUNDS"); do
  rm -rf "$WORK/out" "$WORK/ref.zip"; sync
  measure "release-audit bundle (round $round)" "$BIN" "$WORK/evidence" "$WORK/out"
  measure "zip -r -6 (round $round)" bash -c "cd '$WORK/evidence' && zip -q -r -6 '$WORK/ref.zip' ."
  printf '   sizes: bundle %s bytes, zip -r -6 %s bytes\n' "$(stat -c %s "$WORK/out/audit-bundle-1.0.0.zip")" "$(stat -c %s "$WORK/ref.zip")"
done
