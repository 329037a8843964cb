# A Docker daemon for the container tests (tests/it/container.rs), from Debian's packages,
# without installing them system-wide: `apt-get download` + `dpkg -x` into a cache
# directory, then `dockerd` with the vfs storage driver, no iptables and no bridge
# (containers run with `--network host`). Source it after scripts/services.sh.
#
#   start_docker   exports DOCKER_HOST and puts the daemon's own `docker` first on PATH;
#                  it stops the daemon on exit (stop_docker, then services.sh's stop_services).
#
# A machine that already runs a daemon can point RA_DOCKER_HOST at it (e.g.
# unix:///var/run/docker.sock on a GitHub runner); nothing is downloaded then.

RA_DOCKER_PACKAGES=(docker.io containerd runc tini)
RA_DOCKER_CACHE="${RA_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/release-audit/docker}"

# Unpacks the Debian packages once into $RA_DOCKER_CACHE/root.
install_docker() {
  local root="$RA_DOCKER_CACHE/root"
  if [ -x "$root/usr/sbin/dockerd" ] && [ -x "$root/usr/bin/containerd" ] && [ -x "$root/usr/sbin/runc" ]; then
    return 0
  fi
  log "downloading Debian packages ${RA_DOCKER_PACKAGES[*]} into $RA_DOCKER_CACHE"
  mkdir -p "$RA_DOCKER_CACHE/debs" "$root"
  if ! (cd "$RA_DOCKER_CACHE/debs" && apt-get download -qq "${RA_DOCKER_PACKAGES[@]}" >/dev/null 2>&1); then
    apt-get update -qq
    (cd "$RA_DOCKER_CACHE/debs" && apt-get download -qq "${RA_DOCKER_PACKAGES[@]}") || {
      log "error: could not download ${RA_DOCKER_PACKAGES[*]} with apt-get; the container tests need them"
      return 1
    }
  fi
  local deb
  for deb in "$RA_DOCKER_CACHE"/debs/*.deb; do dpkg -x "$deb" "$root"; done
  [ -x "$root/usr/sbin/dockerd" ] || { log "error: $root/usr/sbin/dockerd is missing after unpacking"; return 1; }
}

start_docker() {
  if [ -n "${RA_DOCKER_HOST:-}" ]; then
    export DOCKER_HOST="$RA_DOCKER_HOST"
    docker version >/dev/null || { log "error: no Docker daemon answers at RA_DOCKER_HOST=$RA_DOCKER_HOST"; return 1; }
    log "using the Docker daemon at $DOCKER_HOST"
    return 0
  fi
  install_docker || return 1
  local root="$RA_DOCKER_CACHE/root" dir="$RA_STATE/docker"
  mkdir -p "$dir/data" "$dir/exec"
  export PATH="$root/usr/bin:$root/usr/sbin:$PATH"
  # --userland-proxy=false, --iptables=false, --bridge=none: nothing but host networking,
  # so the daemon needs no kernel network setup. vfs works on any filesystem (overlay
  # inside a container often does not).
  dockerd --iptables=false --ip6tables=false --bridge=none --userland-proxy=false \
    --storage-driver=vfs --data-root "$dir/data" --exec-root "$dir/exec" \
    -H "unix://$dir/docker.sock" --pidfile "$dir/docker.pid" \
    >"$RA_STATE/dockerd.log" 2>&1 &
  RA_DOCKERD_PID=$!
  trap 'stop_docker; stop_services' EXIT
  export DOCKER_HOST="unix://$dir/docker.sock"
  local _
  for _ in $(seq 300); do
    if docker version >/dev/null 2>&1; then
      log "Docker daemon $(docker version --format '{{.Server.Version}}') at $DOCKER_HOST"
      return 0
    fi
    sleep 0.1
  done
  log "error: the Docker daemon did not answer within 30 s; its log ($RA_STATE/dockerd.log):"
  tail -n 30 "$RA_STATE/dockerd.log" >&2 || true
  return 1
}

# Stops the daemon started by start_docker, waits for it (it stops its containerd), and
# removes the network-namespace mount it leaves behind once a container ran.
stop_docker() {
  [ -n "${RA_DOCKERD_PID:-}" ] || return 0
  kill "$RA_DOCKERD_PID" 2>/dev/null || true
  wait "$RA_DOCKERD_PID" 2>/dev/null || true
  local netns="$RA_STATE/docker/exec/netns/default"
  if mountpoint -q "$netns" 2>/dev/null; then umount "$netns" || log "warning: could not unmount $netns"; fi
  RA_DOCKERD_PID=
}

# buildah assembles the image (scripts/image.sh); the daemon only pulls and runs it.
ensure_image_tools() {
  local missing=()
  command -v buildah >/dev/null 2>&1 || missing+=(buildah)
  command -v docker-registry >/dev/null 2>&1 || missing+=(docker-registry)
  command -v skopeo >/dev/null 2>&1 || missing+=(skopeo)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}
