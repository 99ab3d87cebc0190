# Shared helpers for the project's scripts. Sourced, never run.
# shellcheck shell=bash
set -euo pipefail

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Machine-level state (engine, registry storage, pids) lives outside the clone so
# a fresh clone on the same machine reuses the seeded registry and its digests.
STATE_DIR=${REPRO_STATE_DIR:-/var/lib/repro-dev}
REGISTRY_ADDR=${REPRO_REGISTRY:-127.0.0.1:5000}
DOCKER_SOCK=${REPRO_DOCKER_SOCK:-/var/run/docker.sock}
export DEBIAN_FRONTEND=noninteractive

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# wait_for CMD... : retry CMD for up to $WAIT_SECONDS (default 60) seconds.
wait_for() {
  local deadline=$((SECONDS + ${WAIT_SECONDS:-60}))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.5
  done
}

APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" = 0 ]; then
    info "apt-get update"
    apt-get update -qq
    APT_UPDATED=1
  fi
}

# apt_install PKG... : install only what is missing.
apt_install() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "${p%%/*}" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  apt_update_once
  info "apt-get install ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# is_pid_alive PIDFILE : the recorded process still runs.
is_pid_alive() {
  [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

registry_answers() {
  curl -fsS --max-time 2 "http://$REGISTRY_ADDR/v2/" >/dev/null 2>&1
}
