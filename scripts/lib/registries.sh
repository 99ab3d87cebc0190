# The registries that companies run, for the registry client's integration tests:
#   registry.test:5443  distribution (Debian's docker-registry), TLS from the private CA,
#                       htpasswd auth
#   registry.test:5444  distribution, TLS, `auth: token`; the token service is
#                       tests/support/token_issuer.py, started by a pytest fixture on
#                       registry.test:5445 (the realm below)
#   127.0.0.1:5446      go-containerregistry's registry with the OCI 1.1 referrers API
#                       (plain HTTP, in-memory manifests), built from Debian's source
# and the oracles the tests check them with: cosign and oras (Debian 13).
# shellcheck shell=bash

TLS_REGISTRY_PORT=5443
TOKEN_REGISTRY_PORT=5444
TOKEN_ISSUER_PORT=5445
REFERRERS_REGISTRY_ADDR=127.0.0.1:5446
TOKEN_SERVICE="$TEST_HOST:$TOKEN_REGISTRY_PORT"
TOKEN_ISSUER_NAME=repro-test-token-issuer

# http_status URL [CURL_ARGS...] : the status code, or 000 when nothing answers.
http_status() {
  local url=$1; shift
  curl -sS -o /dev/null -w '%{http_code}' --max-time 3 "$@" "$url" 2>/dev/null || true
}

tls_v2_answers_401() {  # tls_v2_answers_401 PORT
  [ "$(http_status "https://$TEST_HOST:$1/v2/" --cacert "$TLS_DIR/ca.crt")" = 401 ]
}

stop_by_pidfile() {  # stop_by_pidfile PIDFILE
  if is_pid_alive "$1"; then
    local pid; pid=$(cat "$1")
    kill "$pid"
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  fi
  rm -f "$1"
}

# run_distribution NAME PORT CONFIG_TEXT : start (or restart, when its config changed)
# docker-registry with this config in $REGISTRIES_DIR/NAME.
run_distribution() {
  local name=$1 port=$2 config_text=$3 dir="$REGISTRIES_DIR/$1"
  mkdir -p "$dir/storage"
  printf '%s\n' "$config_text" > "$dir/config.yml.new"
  if cmp -s "$dir/config.yml.new" "$dir/config.yml" && is_pid_alive "$dir/registry.pid" \
      && tls_v2_answers_401 "$port"; then
    rm -f "$dir/config.yml.new"
    info "$name already answers on https://$TEST_HOST:$port"
    return 0
  fi
  stop_by_pidfile "$dir/registry.pid"
  mv "$dir/config.yml.new" "$dir/config.yml"
  info "starting $name on https://$TEST_HOST:$port (log: $dir/registry.log)"
  nohup docker-registry serve "$dir/config.yml" >>"$dir/registry.log" 2>&1 &
  echo $! > "$dir/registry.pid"
  WAIT_SECONDS=30 wait_for tls_v2_answers_401 "$port" || {
    tail -n 20 "$dir/registry.log" >&2
    die "$name did not start on 127.0.0.1:$port"
  }
}

# distribution_config NAME PORT AUTH_YAML : a TLS registry's config, storage in $REGISTRIES_DIR/NAME.
distribution_config() {
  printf '%s\n' "version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $REGISTRIES_DIR/$1/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$2
  tls:
    certificate: $TLS_DIR/server.crt
    key: $TLS_DIR/server.key
auth:
$3"
}

ensure_tls_registry() {
  apt_install docker-registry
  run_distribution tls-registry "$TLS_REGISTRY_PORT" "$(distribution_config tls-registry "$TLS_REGISTRY_PORT" "  htpasswd:
    realm: repro-test
    path: $AUTH_DIR/htpasswd")"
}

ensure_token_registry() {
  apt_install docker-registry
  run_distribution token-registry "$TOKEN_REGISTRY_PORT" "$(distribution_config token-registry "$TOKEN_REGISTRY_PORT" "  token:
    realm: https://$TEST_HOST:$TOKEN_ISSUER_PORT/token
    service: $TOKEN_SERVICE
    issuer: $TOKEN_ISSUER_NAME
    rootcertbundle: $AUTH_DIR/token-signing.crt")"
}

# --- the referrers-API registry ---------------------------------------------------------
# No registry with the OCI 1.1 referrers API is packaged for Debian 12/13, PyPI or npm
# (distribution 3 and zot are not; trixie's docker-registry is 2.8). Debian 13 does ship
# go-containerregistry's source, whose pkg/registry implements it: build a small server
# around it with Debian's Go, from that package's files alone (GOPATH mode, stdlib only).
GGCR_PACKAGE=golang-github-google-go-containerregistry-dev/trixie
GO_PACKAGE=golang-1.19-go
GO_BIN=/usr/lib/go-1.19/bin/go
REFERRERS_DIR="$REGISTRIES_DIR/referrers-registry"
REFERRERS_MAIN="$REPO_ROOT/scripts/lib/referrers-registry/main.go"

referrers_answers() {
  [ "$(http_status "http://$REFERRERS_REGISTRY_ADDR/v2/")" = 200 ]
}

build_referrers_registry() {
  local bin="$REFERRERS_DIR/bin/referrers-registry" stamp="$REFERRERS_DIR/bin/.stamp" want
  ensure_trixie_source
  apt_install "$GO_PACKAGE"
  if [ ! -d "$REFERRERS_DIR/src/usr/share/gocode/src/github.com/google/go-containerregistry" ]; then
    info "fetching go-containerregistry's source ($GGCR_PACKAGE)"
    apt_update_once
    local work; work=$(mktemp -d); chmod 755 "$work"
    (cd "$work" && apt-get download -qq "$GGCR_PACKAGE" >/dev/null 2>&1) \
      || die "apt-get download $GGCR_PACKAGE failed"
    rm -rf "$REFERRERS_DIR/src"; mkdir -p "$REFERRERS_DIR/src"
    dpkg-deb -x "$work"/golang-github-google-go-containerregistry-dev_*.deb "$REFERRERS_DIR/src"
    dpkg-deb -f "$work"/golang-github-google-go-containerregistry-dev_*.deb Version \
      > "$REFERRERS_DIR/src/VERSION"
    rm -rf "$work"
  fi
  want=$(cat "$REFERRERS_MAIN" "$REFERRERS_DIR/src/VERSION" | sha256sum | cut -d' ' -f1)
  if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then return 0; fi
  info "building the referrers registry (go-containerregistry $(cat "$REFERRERS_DIR/src/VERSION"))"
  mkdir -p "$REFERRERS_DIR/bin"
  GO111MODULE=off GOPATH="$REFERRERS_DIR/src/usr/share/gocode" GOFLAGS= \
    GOCACHE="$REFERRERS_DIR/gocache" CGO_ENABLED=0 \
    "$GO_BIN" build -o "$bin" "$REFERRERS_MAIN" || die "building the referrers registry failed"
  echo "$want" > "$stamp"
  stop_by_pidfile "$REFERRERS_DIR/registry.pid"   # a new binary replaces the running one
}

ensure_referrers_registry() {
  build_referrers_registry
  if is_pid_alive "$REFERRERS_DIR/registry.pid" && referrers_answers; then
    info "referrers registry already answers on http://$REFERRERS_REGISTRY_ADDR"
    return 0
  fi
  stop_by_pidfile "$REFERRERS_DIR/registry.pid"
  mkdir -p "$REFERRERS_DIR/blobs"
  info "starting the referrers registry on http://$REFERRERS_REGISTRY_ADDR (log: $REFERRERS_DIR/registry.log)"
  nohup "$REFERRERS_DIR/bin/referrers-registry" -addr "$REFERRERS_REGISTRY_ADDR" \
    -blobs "$REFERRERS_DIR/blobs" >>"$REFERRERS_DIR/registry.log" 2>&1 &
  echo $! > "$REFERRERS_DIR/registry.pid"
  WAIT_SECONDS=20 wait_for referrers_answers || {
    tail -n 20 "$REFERRERS_DIR/registry.log" >&2
    die "the referrers registry did not start on $REFERRERS_REGISTRY_ADDR"
  }
}

# --- oracles ----------------------------------------------------------------------------
ensure_oracles() {
  ensure_trixie_source
  apt_install cosign/trixie oras/trixie skopeo curl
  # Debian's cosign reports its git version as "devel": the package version is the truth.
  cosign version >/dev/null 2>&1 || die "cosign does not run"
  info "cosign $(dpkg-query -W -f='${Version}' cosign), oras $(oras version | awk '/^Version:/ {print $2}'), skopeo $(skopeo --version | awk '{print $3}')"
}

ensure_private_registries() {
  ensure_tls_material
  ensure_hosts_entry
  ensure_ca_trust "$TLS_REGISTRY_PORT" "$TOKEN_REGISTRY_PORT" "$TOKEN_ISSUER_PORT"
  ensure_tls_registry
  ensure_token_registry
}
