#!/usr/bin/env bash
# Builds the action's image the one way CI, the release workflow and the container test
# all use, so "same commit, same digest" is a property of this script, not of luck.
#
#   scripts/image.sh binaries                 cross-compile dist/linux-{amd64,arm64}/release-audit
#                                             (musl, static; a cross linker, no emulation)
#   scripts/image.sh build NAME PLATFORMS     assemble the Dockerfile into a local manifest list NAME
#                                             (e.g. linux/amd64,linux/arm64) with buildah
#   scripts/image.sh push NAME DEST           push NAME (all platforms, OCI) to docker://DEST;
#                                             prints the index digest (sha256:…) on stdout
#
# Environment:
#   SOURCE_DATE_EPOCH   required for build: the commit time (`git log -1 --format=%ct`).
#                       Image `created`, history and every file time in the layers are set
#                       to it (`buildah bud --timestamp`), which is what makes two builds equal.
#   CONTEXT             build context holding Dockerfile and dist/ (default: the repository).
#   CERTS_IMAGE         image the CA bundle is copied from (default: the Dockerfile's pin).
#   BUILDAH_ROOT, BUILDAH_RUNROOT, BUILDAH_STORAGE_DRIVER   buildah storage (default: buildah's
#                       own); the test uses a temp dir and vfs, which mounts nothing.
#   DEST_TLS_VERIFY     false to push to a plain-HTTP registry (the test's local one).
#   RUST_TOOLCHAIN      toolchain for `binaries` (default 1.95.0; the digest depends on it).
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

buildah_() {
  local global=()
  [ -n "${BUILDAH_ROOT:-}" ] && global+=(--root "$BUILDAH_ROOT")
  [ -n "${BUILDAH_RUNROOT:-}" ] && global+=(--runroot "$BUILDAH_RUNROOT")
  [ -n "${BUILDAH_STORAGE_DRIVER:-}" ] && global+=(--storage-driver "$BUILDAH_STORAGE_DRIVER")
  buildah "${global[@]}" "$@"
}

binaries() {
  local toolchain="${RUST_TOOLCHAIN:-1.95.0}" arch triple
  cd "$root"
  for arch in amd64 arm64; do
    case "$arch" in
      amd64) triple=x86_64-unknown-linux-musl ;;
      arm64) triple=aarch64-unknown-linux-musl
             export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER="${CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER:-aarch64-linux-gnu-gcc}"
             export CC_aarch64_unknown_linux_musl="${CC_aarch64_unknown_linux_musl:-aarch64-linux-gnu-gcc}" ;;
    esac
    # Paths are remapped so the binary does not depend on where the checkout or the
    # cargo home was; with the same toolchain and Cargo.lock the bytes are the same.
    RUSTFLAGS="-C target-feature=+crt-static --remap-path-prefix=$root=. --remap-path-prefix=${CARGO_HOME:-$HOME/.cargo}=cargo" \
      cargo "+$toolchain" build --release --locked --bin release-audit --target "$triple"
    install -D -m 0755 "target/$triple/release/release-audit" "dist/linux-$arch/release-audit"
    sha256sum "dist/linux-$arch/release-audit"
  done
}

build() {
  local name="${1:?NAME}" platforms="${2:?PLATFORMS}" context="${CONTEXT:-$root}"
  [ -n "${SOURCE_DATE_EPOCH:-}" ] || die "SOURCE_DATE_EPOCH is not set: set it to the commit time (git log -1 --format=%ct) so the image is reproducible"
  local p
  for p in ${platforms//,/ }; do
    [ -x "$context/dist/${p//\//-}/release-audit" ] || die "$context/dist/${p//\//-}/release-audit is missing: run 'scripts/image.sh binaries' first"
  done
  local args=(--timestamp "$SOURCE_DATE_EPOCH" --platform "$platforms" --manifest "$name" --pull=false
              --file "$context/Dockerfile" --layers=false --format oci)
  [ -n "${CERTS_IMAGE:-}" ] && args+=(--build-arg "CERTS_IMAGE=$CERTS_IMAGE")
  # A manifest list of the same name from an earlier build would collect both.
  buildah_ manifest rm "$name" >/dev/null 2>&1 || true
  buildah_ bud "${args[@]}" "$context" >&2
}

push() {
  local name="${1:?NAME}" dest="${2:?DEST}" digestfile
  digestfile="$(mktemp)"
  buildah_ manifest push --all --format oci --tls-verify="${DEST_TLS_VERIFY:-true}" \
    --digestfile "$digestfile" "$name" "docker://$dest" >&2
  cat "$digestfile"; echo
  rm -f "$digestfile"
}

cmd="${1:-}"; shift || true
case "$cmd" in
  binaries) binaries "$@" ;;
  build) build "$@" ;;
  push) push "$@" ;;
  *) die "usage: scripts/image.sh binaries | build NAME PLATFORMS | push NAME DEST" ;;
esac
