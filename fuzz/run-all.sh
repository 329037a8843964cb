#!/bin/sh
# Runs fuzz targets one after another, each for FUZZ_SECONDS (default 600), niced,
# with the limits the README states. Usage: fuzz/run-all.sh [target...] (from the repo root).
# Logs go to ${FUZZ_LOGS:-/tmp/fuzzlogs}/<target>.log.
set -u
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-600}
logs=${FUZZ_LOGS:-/tmp/fuzzlogs}
mkdir -p "$logs"
targets=${*:-"junit extract_zip verify_dir gotest_json ginkgo_json detect manifest image_record image_ref www_authenticate"}
for t in $targets; do
    echo "== $t start $(date -u +%H:%M:%S)" >> "$logs/queue.log"
    nice -n 19 cargo +nightly fuzz run -s none "$t" -- \
        -max_total_time="$seconds" -rss_limit_mb=512 -timeout=10 -print_final_stats=1 > "$logs/$t.log" 2>&1
    echo "== $t end rc=$? $(date -u +%H:%M:%S)" >> "$logs/queue.log"
done
