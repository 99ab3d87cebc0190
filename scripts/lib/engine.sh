# Install and start a container engine that supports rewrite-timestamp (BuildKit >= 0.13).
# shellcheck shell=bash

MIN_BUILDX_MINOR=13   # buildx 0.13 bundles BuildKit 0.13, the first with rewrite-timestamp

docker_bin() {
  # Prefer the distribution's client that matches the daemon we install; fall back to PATH.
  if [ -x /usr/bin/docker ]; then echo /usr/bin/docker; else command -v docker; fi
}

engine_usable() {
  local docker; docker=$(docker_bin) || return 1
  "$docker" version --format '{{.Server.Version}}' >/dev/null 2>&1 || return 1
  local bk
  bk=$("$docker" buildx version 2>/dev/null | awk '{print $2}') || return 1
  # "v0.13.1" or "0.13.1+ds1"
  local minor; minor=$(echo "$bk" | sed -E 's/^v?0\.([0-9]+).*/\1/')
  [ -n "$minor" ] && [ "$minor" -ge "$MIN_BUILDX_MINOR" ] 2>/dev/null
}

# Debian 13 (trixie) as a low-priority source: only what is asked for by name comes from it.
ensure_trixie_source() {
  if [ ! -f /etc/apt/sources.list.d/trixie.sources ]; then
    info "adding Debian 13 (trixie) as a low-priority apt source"
    cat > /etc/apt/sources.list.d/trixie.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    cat > /etc/apt/preferences.d/trixie-low <<'PREF'
Package: *
Pin: release n=trixie
Pin-Priority: 100
PREF
    APT_UPDATED=0
  fi
}

install_engine() {
  ensure_trixie_source
  # trixie's engine; runc, tini and iptables from bookworm (trixie's need a newer glibc).
  apt_install docker.io/trixie docker-buildx/trixie docker-cli/trixie containerd/trixie runc tini iptables
}

start_dockerd() {
  mkdir -p /etc/docker "$STATE_DIR"
  if [ ! -f /etc/docker/daemon.json ]; then
    info "writing /etc/docker/daemon.json (containerd image store)"
    echo '{"features":{"containerd-snapshotter":true}}' > /etc/docker/daemon.json
  fi
  if [ -S "$DOCKER_SOCK" ] && "$(docker_bin)" version >/dev/null 2>&1; then
    info "dockerd already answers on $DOCKER_SOCK"
    return 0
  fi
  info "starting dockerd (log: $STATE_DIR/dockerd.log)"
  # dockerd needs cgroups and an iptables that matches the kernel; legacy works everywhere here.
  if command -v update-alternatives >/dev/null && [ -x /usr/sbin/iptables-legacy ]; then
    update-alternatives --set iptables /usr/sbin/iptables-legacy >/dev/null 2>&1 || true
  fi
  nohup dockerd --pidfile "$STATE_DIR/dockerd.pid" >>"$STATE_DIR/dockerd.log" 2>&1 &
  WAIT_SECONDS=90 wait_for "$(docker_bin)" version || {
    tail -n 30 "$STATE_DIR/dockerd.log" >&2
    die "dockerd did not start"
  }
}

ensure_engine() {
  if engine_usable; then
    info "engine usable: docker $("$(docker_bin)" version --format '{{.Server.Version}}'), $("$(docker_bin)" buildx version)"
    return 0
  fi
  if ! command -v dockerd >/dev/null || ! [ -x /usr/libexec/docker/cli-plugins/docker-buildx ]; then
    install_engine
  fi
  start_dockerd
  engine_usable || die "engine started but buildx/BuildKit is older than 0.$MIN_BUILDX_MINOR"
  info "engine ready: docker $("$(docker_bin)" version --format '{{.Server.Version}}'), $("$(docker_bin)" buildx version)"
}

# A second, independent Docker daemon: `repro verify --builder default --builder repro-b`
# builds A and B on different engines, concurrently. Own data-root, exec-root, socket,
# pidfile and bridge (never --bridge=none: that deletes the first daemon's docker0).
SECOND_NAME=repro-b
SECOND_ROOT="$STATE_DIR/$SECOND_NAME"
SECOND_SOCK="unix://$SECOND_ROOT/docker.sock"
SECOND_BRIDGE=repro-b0
SECOND_SUBNET=172.31.250.0/24

second_daemon_answers() {
  "$(docker_bin)" -H "$SECOND_SOCK" version >/dev/null 2>&1
}

ensure_second_daemon() {
  mkdir -p "$SECOND_ROOT/data" "$SECOND_ROOT/exec"
  if ! second_daemon_answers; then
    if ! ip link show "$SECOND_BRIDGE" >/dev/null 2>&1; then
      ip link add "$SECOND_BRIDGE" type bridge
      ip addr add "${SECOND_SUBNET%.0/24}.1/24" dev "$SECOND_BRIDGE"
      ip link set "$SECOND_BRIDGE" up
    fi
    echo '{"features":{"containerd-snapshotter":true}}' > "$SECOND_ROOT/daemon.json"
    info "starting a second dockerd ($SECOND_SOCK, log: $SECOND_ROOT/dockerd.log)"
    nohup dockerd --config-file "$SECOND_ROOT/daemon.json" \
      --data-root "$SECOND_ROOT/data" --exec-root "$SECOND_ROOT/exec" \
      --pidfile "$SECOND_ROOT/dockerd.pid" -H "$SECOND_SOCK" \
      --bridge="$SECOND_BRIDGE" --iptables=false \
      >>"$SECOND_ROOT/dockerd.log" 2>&1 &
    WAIT_SECONDS=90 wait_for second_daemon_answers || {
      tail -n 30 "$SECOND_ROOT/dockerd.log" >&2
      die "the second dockerd did not start"
    }
  else
    info "second dockerd already answers on $SECOND_SOCK"
  fi
  # A docker context is also a buildx builder of that name (docker driver).
  if ! "$(docker_bin)" context inspect "$SECOND_NAME" >/dev/null 2>&1; then
    "$(docker_bin)" context create "$SECOND_NAME" --docker "host=$SECOND_SOCK" >/dev/null
  fi
  ensure_second_bridge_egress
  info "second builder ready: --builder $SECOND_NAME"
}

# The second daemon runs with --iptables=false (its rules would fight the first one's),
# so give its bridge the forwarding and masquerading the first daemon gives docker0:
# without them a RUN on repro-b cannot reach Debian's archive. Idempotent (-C first).
ensure_second_bridge_egress() {
  local rule
  iptables -t nat -C POSTROUTING -s "$SECOND_SUBNET" ! -o "$SECOND_BRIDGE" -j MASQUERADE 2>/dev/null \
    || iptables -t nat -A POSTROUTING -s "$SECOND_SUBNET" ! -o "$SECOND_BRIDGE" -j MASQUERADE
  for rule in "-i $SECOND_BRIDGE ! -o $SECOND_BRIDGE -j ACCEPT" \
              "-o $SECOND_BRIDGE -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"; do
    # shellcheck disable=SC2086  # the rule is a list of words on purpose
    iptables -C FORWARD $rule 2>/dev/null || iptables -I FORWARD $rule
  done
}
