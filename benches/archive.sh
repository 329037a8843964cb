#!/usr/bin/env bash
# Archive benchmark (issue 22): N bundles in moto, indexed by `release-audit archive`
# (cold, then unchanged) and by the obvious script (list, download, verify each), in
# the same run. Prints wall time, requests and peak RSS of each.
#   benches/archive.sh [bundles]     (default 2000)
set -euo pipefail
source "$(dirname "$0")/../scripts/services.sh"
cd "$RA_ROOT"
BUNDLES="${1:-2000}"
ensure_packages
start_services
cargo build --quiet --release --bin release-audit
cargo bench --no-run -p release-audit --bench archive 2>/dev/null
BIN="$(ls -t target/release/deps/archive-* | grep -v '\.d$' | head -1)"
"$BIN" "$RA_ROOT/target/release/release-audit" "$BUNDLES"
