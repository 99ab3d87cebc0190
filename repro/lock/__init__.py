"""`repro lock`: pin every image reference to a digest, keep repro.lock, check it in CI.

``discover`` finds Dockerfiles, ``plan`` decides (pure), ``service.run_lock`` runs the
whole flow with a resolver from repro.registry and writes all or nothing.
"""

from repro.lock.discover import Discovery, FoundFile, discover, is_dockerfile_name
from repro.lock.model import INDEX_MEDIA_TYPES, ManifestKey, Resolution
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
    "INDEX_MEDIA_TYPES",
    "OFFENCES",
    "Action",
    "Discovery",
    "FileChange",
    "FoundFile",
    "ManifestKey",
    "Mode",
    "Plan",
    "PlannedRef",
    "Resolution",
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
