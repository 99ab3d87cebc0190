"""`repro lock`: pin every image reference to a digest, keep repro.lock, check it in CI.

``discover`` finds Dockerfiles, ``plan`` decides (pure), ``service.run_lock`` runs the
whole flow with the resolver it is given (repro.registry.resolver in the CLI) and writes
all or nothing. ManifestKey and Resolution are the registry wing's vocabulary
(repro.registry.model).
"""

from repro.lock.discover import Discovery, FoundFile, discover, is_dockerfile_name
from repro.lock.plan import (
    OFFENCES,
    Action,
    FileChange,
    Mode,
    Plan,
    PlannedRef,
    SourceFile,
    load_source,
    plan,
    required_keys,
    unified_diff,
)
from repro.lock.policy import source_policy, source_policy_json

__all__ = [
    "OFFENCES",
    "Action",
    "Discovery",
    "FileChange",
    "FoundFile",
    "Mode",
    "Plan",
    "PlannedRef",
    "SourceFile",
    "discover",
    "is_dockerfile_name",
    "load_source",
    "plan",
    "required_keys",
    "source_policy",
    "source_policy_json",
    "unified_diff",
]
