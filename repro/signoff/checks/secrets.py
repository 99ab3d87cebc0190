"""No secrets in the config (Env, Labels), the history, or any layer's files.

Files deleted by a later layer are scanned too: their bytes still ship in the layer that
added them. Values are always masked.
"""

from __future__ import annotations

from repro.signoff.context import CheckContext, config_value
from repro.signoff.model import CheckResult, Status
from repro.signoff.secrets import scan_env_entry, scan_text

ID = "no-secrets"
TITLE = "No secrets in Env, ARG defaults, labels, history or layer files"
FIX = (
    "Remove the secret from the build context and history, rotate it, and pass build-time "
    "secrets with `RUN --mount=type=secret` (deleting a file in a later layer does not "
    "remove it from the image)."
)


def check(ctx: CheckContext) -> CheckResult:
    evidence: list[str] = []
    for facts in ctx.images:
        for entry in config_value(facts, "Env") or []:
            for finding in scan_env_entry(str(entry)):
                key = str(entry).split("=", 1)[0]
                evidence.append(
                    ctx.where(facts, f"config Env {key}: {finding.kind} {finding.masked}")
                )
        labels = config_value(facts, "Labels") or {}
        for key, value in sorted(labels.items()):
            for finding in scan_text(f"{key}={value}"):
                evidence.append(
                    ctx.where(facts, f"config Label {key}: {finding.kind} {finding.masked}")
                )
        history = facts.config.get("history")
        for position, item in enumerate(history if isinstance(history, list) else []):
            created_by = item.get("created_by") if isinstance(item, dict) else None
            if not isinstance(created_by, str):
                continue
            for finding in scan_text(created_by):
                where = ctx.line_of(_clean(created_by)) or f"history[{position}]"
                evidence.append(
                    ctx.where(
                        facts, f"{where} (history created_by): {finding.kind} {finding.masked}"
                    )
                )
        for hit in facts.secrets:
            value = "" if hit.finding.masked == "(file)" else f" {hit.finding.masked}"
            text = f"{facts.layer_label(hit.layer)}: {hit.path}: {hit.finding.kind}{value}"
            if hit.deleted_in is not None:
                text += f" (removed in layer {hit.deleted_in}, still ships in layer {hit.layer})"
            evidence.append(ctx.where(facts, text))
    if evidence:
        return CheckResult(
            ID, TITLE, Status.FAIL, tuple(evidence), FIX, f"{len(evidence)} secret(s) found"
        )
    return CheckResult(
        ID, TITLE, Status.PASS, summary="Env, labels, history and every layer's files scanned"
    )


def _clean(created_by: str) -> str:
    from repro.oci.history import clean_created_by

    return clean_created_by(created_by)
