#!/bin/sh
# Shrinks corpora for the repository, after fuzz/run-all.sh: drops generated inputs
# (40-hex names) over the size cap — 3 KiB for junit, detect, gotest_json and
# verify_dir, 8 KiB for the rest; named seeds stay — then `cargo fuzz cmin`.
# Usage: fuzz/minimize.sh <target>... (from the repo root); prints the corpora's size.
set -eu
cd "$(dirname "$0")"
for t in "$@"; do
    case "$t" in
        junit|detect|gotest_json|verify_dir) cap=3072 ;;
        *) cap=8192 ;;
    esac
    find "corpus/$t" -type f -size +"$cap"c -regextype posix-extended -regex '.*/[0-9a-f]{40}' -delete
    nice -n 19 cargo +nightly fuzz cmin -s none "$t" -- -rss_limit_mb=512 -timeout=10 > "/tmp/cmin-$t.log" 2>&1
    echo "$t: $(ls "corpus/$t" | wc -l) inputs, $(du -cb "corpus/$t" | tail -1 | cut -f1) bytes"
done
echo "all corpora: $(du -cb corpus | tail -1 | cut -f1) bytes"
