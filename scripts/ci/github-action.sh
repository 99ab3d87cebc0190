#!/usr/bin/env bash
# The steps of action.yml (the composite GitHub Action), as one script a test runs.
# Inputs arrive as REPRO_COMMAND, REPRO_CONTEXT, REPRO_BUILDER, REPRO_ARGS, REPRO_INSTALL;
# GitHub sets GITHUB_ACTION_PATH, GITHUB_STEP_SUMMARY and GITHUB_OUTPUT.
# Annotations (::error file=...,line=...::) go to the log, the Markdown report to the job
# summary, `verdict=pass|fail|error` to the step's outputs; the exit code is repro's, so
# a negative verdict (1) or an error (2, 3, 4) fails the job.
set -euo pipefail

command=${REPRO_COMMAND:-lock --check}
context=${REPRO_CONTEXT:-.}
read -r -a builders <<< "${REPRO_BUILDER:-}"
read -r -a extra <<< "${REPRO_ARGS:-}"

if ! command -v repro >/dev/null 2>&1; then
  if [ "${REPRO_INSTALL:-true}" != "true" ]; then
    echo "::error title=repro::repro is not on PATH (install it, or set install: true)"
    exit 3
  fi
  python3 -m pip install --quiet "${GITHUB_ACTION_PATH:?the action path}"
fi

case "$command" in
  "lock --check") args=(lock --check "$context") ;;
  verify)
    args=(verify "$context")
    for builder in "${builders[@]}"; do
      args+=(--builder "$builder")
    done
    ;;
  signoff) args=(signoff "$context") ;;
  *)
    echo "::error title=repro::command must be 'lock --check', 'verify' or 'signoff', not '$command'"
    exit 2
    ;;
esac

summary=()
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  summary=(--summary "$GITHUB_STEP_SUMMARY")
fi

status=0
repro "${args[@]}" "${extra[@]}" --format github "${summary[@]}" || status=$?

case "$status" in
  0) verdict=pass ;;
  1) verdict=fail ;;
  *) verdict=error ;;
esac
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "verdict=$verdict" >> "$GITHUB_OUTPUT"
fi
exit "$status"
