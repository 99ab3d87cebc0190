# The project's virtualenv with the package and its dev tools, pinned by constraints.txt.
# shellcheck shell=bash

VENV="$REPO_ROOT/.venv"

ensure_venv() {
  if [ ! -x "$VENV/bin/python" ]; then
    info "creating $VENV"
    python3 -m venv "$VENV"
  fi
  # Reinstall only when what we install from changed: re-runs stay quick.
  local stamp="$VENV/.repro-installed"
  local want
  want=$(cat "$REPO_ROOT/pyproject.toml" "$REPO_ROOT/constraints.txt" | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$VENV/bin/repro" --version >/dev/null 2>&1; then
    info "virtualenv up to date ($("$VENV/bin/repro" --version))"
    return 0
  fi
  info "installing repro with dev extras into $VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -c "$REPO_ROOT/constraints.txt" -e "$REPO_ROOT[dev]"
  echo "$want" > "$stamp"
  info "installed $("$VENV/bin/repro" --version)"
}
