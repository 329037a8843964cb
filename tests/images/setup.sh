#!/bin/sh
# Installs what the image tests (tests/it/images.rs) and the benchmark (benches/images.sh)
# need on Debian/Ubuntu: a real registry, htpasswd for its Basic auth, the image tools
# that build and push the test images, and GNU time for peak RSS.
set -eu
if [ "$(id -u)" -ne 0 ]; then exec sudo "$0" "$@"; fi
apt-get update
apt-get install -y --no-install-recommends docker-registry apache2-utils skopeo umoci time ca-certificates
