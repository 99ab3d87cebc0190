# The local OCI registry (CNCF distribution, Debian's docker-registry) on $REGISTRY_ADDR.
# shellcheck shell=bash

ensure_registry() {
  if registry_answers; then
    info "registry already answers on $REGISTRY_ADDR"
    return 0
  fi
  apt_install docker-registry skopeo
  mkdir -p "$STATE_DIR/registry/storage"
  local config="$STATE_DIR/registry/config.yml"
  cat > "$config" <<CFG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE_DIR/registry/storage
  delete:
    enabled: true
http:
  addr: $REGISTRY_ADDR
CFG
  info "starting docker-registry on $REGISTRY_ADDR (storage: $STATE_DIR/registry/storage)"
  # Debian's package may have started its own instance on :5000 from its init script; we
  # only reach here when nothing answers, so start ours.
  nohup docker-registry serve "$config" >>"$STATE_DIR/registry/registry.log" 2>&1 &
  echo $! > "$STATE_DIR/registry/registry.pid"
  WAIT_SECONDS=30 wait_for registry_answers || {
    tail -n 20 "$STATE_DIR/registry/registry.log" >&2
    die "registry did not start on $REGISTRY_ADDR"
  }
}
