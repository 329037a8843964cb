#!/usr/bin/env bash
# Change-trail benchmark (issue 13): a 5,000-commit release range in the fake GitHub,
# read by the release-audit binary (release build) with `previous-release: auto`.
# Prints wall time, the REST requests (by route) and GraphQL points the fake answered
# and the manifest's counts and notes, for a merge-commit history (5 commits per pull
# request) and a squash history (one commit per pull request), each read twice in the
# same run: through the REST API alone (GraphQL refused: the trail before issue 21) and
# with the GraphQL bulk reads.
#   benches/changes.sh [commits]
set -euo pipefail
source "$(dirname "$0")/../scripts/services.sh"
cd "$RA_ROOT"
COMMITS="${1:-5000}"
ensure_packages
start_services
cargo build --quiet --release --bin release-audit
cargo bench --no-run -p release-audit --bench changes 2>/dev/null
BIN="$(ls -t target/release/deps/changes-* | grep -v '\.d$' | head -1)"
for shape in 5 squash; do
  for path in rest graphql; do
    "$BIN" "$RA_ROOT/target/release/release-audit" "$COMMITS" "$shape" "$path"
  done
done
