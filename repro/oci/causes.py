"""The cause catalogue: small rules tried in order; the first that matches explains a difference.

Each rule is a CauseRule with an id, a title, a fix and a predicate over one Difference
(plus a CauseContext for facts that need the whole comparison, like which layers come
from an unpinned base). A difference no rule matches stays `unclassified`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from repro.oci.model import (
    AREA_CONFIG,
    AREA_FILE,
    AREA_INDEX,
    AREA_LAYER,
    AREA_MANIFEST,
    UNCLASSIFIED_FIX,
    UNCLASSIFIED_ID,
    UNCLASSIFIED_TITLE,
    Difference,
)

BASE_KEY_PREFIX = "org.opencontainers.image.base."
CREATED_KEY = "org.opencontainers.image.created"


@dataclass(frozen=True)
class CauseContext:
    """Facts about the whole comparison that single-difference rules need."""

    # (platform, layer index) pairs that differ because the base image differs.
    base_layers: frozenset[tuple[str, int]] = frozenset()
    # platform -> SOURCE_DATE_EPOCH, where both configs record the same `created` time.
    epochs: Mapping[str, int] = field(default_factory=dict)


EMPTY_CONTEXT = CauseContext()


@dataclass(frozen=True)
class CauseRule:
    id: str
    title: str
    fix: str
    predicate: Callable[[Difference, CauseContext], bool]

    def matches(self, diff: Difference, context: CauseContext = EMPTY_CONTEXT) -> bool:
        return self.predicate(diff, context)


def _is_attestation(diff: Difference, _: CauseContext) -> bool:
    return diff.area == AREA_INDEX and diff.field == "attestations"


def _is_base_not_pinned(diff: Difference, context: CauseContext) -> bool:
    if diff.area in (AREA_LAYER, AREA_FILE) and diff.layer is not None:
        return (diff.platform, diff.layer) in context.base_layers
    return diff.area in (AREA_CONFIG, AREA_MANIFEST) and BASE_KEY_PREFIX in diff.path


_HISTORY_CREATED = re.compile(r"history\[\d+\]\.created")


def _is_created_time(diff: Difference, _: CauseContext) -> bool:
    if diff.area not in (AREA_CONFIG, AREA_MANIFEST):
        return False
    return (
        diff.path == "created"
        or _HISTORY_CREATED.fullmatch(diff.path) is not None
        or f'"{CREATED_KEY}"' in diff.path
    )


_FOLLOWS_FROM_LAYERS = re.compile(r"rootfs\.diff_ids\[\d+\]|config\.(digest|size)")


def _follows_from_layers(diff: Difference, _: CauseContext) -> bool:
    return (
        diff.area in (AREA_CONFIG, AREA_MANIFEST)
        and _FOLLOWS_FROM_LAYERS.fullmatch(diff.path) is not None
    )


def _is_compression_only(diff: Difference, _: CauseContext) -> bool:
    return diff.area == AREA_LAYER and diff.field == "compression"


PACKAGE_MANAGER_STATE = (
    "/var/log/dpkg.log",
    "/var/log/alternatives.log",
    "/var/log/apt/*",
    "/var/cache/ldconfig/aux-cache",
    "/etc/machine-id",
    "/var/cache/debconf/*-old",
    "/var/lib/dpkg/*-old",
    "/var/cache/apt/*.bin",
)


def _is_package_manager_state(diff: Difference, _: CauseContext) -> bool:
    return diff.area == AREA_FILE and any(fnmatchcase(diff.path, p) for p in PACKAGE_MANAGER_STATE)


_CONTENT_FIELDS = frozenset({"content", "size"})


def _is_pyc(diff: Difference, _: CauseContext) -> bool:
    return diff.area == AREA_FILE and diff.field in _CONTENT_FIELDS and diff.path.endswith(".pyc")


ARCHIVE_SUFFIXES = (".gz", ".tgz", ".zip", ".whl", ".jar", ".war", ".egg")


def _is_archive_with_times(diff: Difference, _: CauseContext) -> bool:
    return (
        diff.area == AREA_FILE
        and diff.field in _CONTENT_FIELDS
        and diff.path.endswith(ARCHIVE_SUFFIXES)
    )


def _is_entry_order(diff: Difference, _: CauseContext) -> bool:
    return diff.area == AREA_FILE and diff.field == "order"


# A RUN that captures the clock or randomness writes different bytes on every build.
_CLOCK = re.compile(r"\bdate\b|\btime\.time\(|datetime\.now|\bnow\(\)")
_RANDOM = re.compile(
    r"\$RANDOM|urandom|\buuid|\bopenssl\s+rand|\bmktemp\b|\bsecrets\.|\brandom\b|ssh-keygen"
)


def _run_matches(diff: Difference, pattern: re.Pattern[str]) -> bool:
    instruction = diff.instruction or ""
    return (
        diff.area == AREA_FILE
        and diff.field in _CONTENT_FIELDS
        and instruction.startswith("RUN")
        and pattern.search(instruction) is not None
    )


def _is_clock_content(diff: Difference, _: CauseContext) -> bool:
    return _run_matches(diff, _CLOCK)


def _is_random_content(diff: Difference, _: CauseContext) -> bool:
    return _run_matches(diff, _RANDOM)


_GROUP_OTHER_WRITE = 0o022


def _is_umask_mode(diff: Difference, _: CauseContext) -> bool:
    """Modes that differ only in group/other write bits: the checkout's umask leaked in."""
    if diff.area != AREA_FILE or diff.field != "mode":
        return False
    try:
        a, b = int(str(diff.value_a), 8), int(str(diff.value_b), 8)
    except ValueError:
        return False
    return a != b and (a ^ b) & ~_GROUP_OTHER_WRITE == 0


def _is_stale_time(diff: Difference, context: CauseContext) -> bool:
    """One side's file time is the epoch, the other's is older: nothing clamped the older."""
    epoch = context.epochs.get(diff.platform)
    if epoch is None or diff.area != AREA_FILE or diff.field != "mtime":
        return False
    a, b = diff.value_a, diff.value_b
    if not isinstance(a, int) or not isinstance(b, int):
        return False
    return max(a, b) == epoch and min(a, b) < epoch


_TIME_FIELDS = frozenset({"mtime", "pax:mtime", "pax:atime", "pax:ctime"})


def _is_file_time(diff: Difference, _: CauseContext) -> bool:
    return diff.area == AREA_FILE and diff.field in _TIME_FIELDS


RULES: tuple[CauseRule, ...] = (
    CauseRule(
        "attestation-manifests",
        "Provenance/SBOM attestation manifests present",
        "Attestations record build times and hosts. Build with --provenance=false "
        "--sbom=false, or compare platform images only.",
        _is_attestation,
    ),
    CauseRule(
        "base-not-pinned",
        "Base image not pinned",
        "The base layers differ: pin FROM by digest (FROM image@sha256:...), "
        "e.g. with `repro lock`.",
        _is_base_not_pinned,
    ),
    CauseRule(
        "source-date-epoch",
        "Creation time differs (SOURCE_DATE_EPOCH missing or different)",
        "Set the same SOURCE_DATE_EPOCH for both builds (e.g. the last commit time: "
        "--build-arg SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)).",
        _is_created_time,
    ),
    CauseRule(
        "follows-from-layers",
        "Follows from the layer differences",
        "Nothing to fix here: this digest changes whenever a layer or the config changes.",
        _follows_from_layers,
    ),
    CauseRule(
        "compression-only",
        "Same layer content, different compression",
        "Use the same compression and level for both builds, e.g. "
        "--output type=oci,compression=gzip,compression-level=6,force-compression=true.",
        _is_compression_only,
    ),
    CauseRule(
        "package-manager-state",
        "Package-manager logs or caches",
        "Delete them in the same RUN that installs packages, e.g. "
        "`rm -rf /var/log/dpkg.log /var/log/apt/* /var/cache/ldconfig/aux-cache "
        "/var/cache/debconf/*-old /var/lib/dpkg/*-old`.",
        _is_package_manager_state,
    ),
    CauseRule(
        "pyc-timestamp",
        "Python bytecode embeds source timestamps",
        "Pass SOURCE_DATE_EPOCH into the stage (ARG SOURCE_DATE_EPOCH) so pyc files record "
        "it, or compile with `python -m compileall --invalidation-mode unchecked-hash`.",
        _is_pyc,
    ),
    CauseRule(
        "archive-timestamps",
        "Archive embeds file times (gzip/zip/wheel/jar)",
        "Create archives with fixed times: `gzip -n`, SOURCE_DATE_EPOCH for wheel/jar "
        "builders, or `zip -X` after `touch -d @$SOURCE_DATE_EPOCH`.",
        _is_archive_with_times,
    ),
    CauseRule(
        "clock-in-content",
        "A RUN step wrote the build time into a file",
        "Do not bake the clock into the image: derive times from SOURCE_DATE_EPOCH "
        "(`date -u -d @$SOURCE_DATE_EPOCH`, with ARG SOURCE_DATE_EPOCH in the stage) or compute "
        "them when the container starts.",
        _is_clock_content,
    ),
    CauseRule(
        "random-content",
        "A RUN step wrote random data (uuid, keys, temp names)",
        "Generate keys, ids and tokens when the container starts (or inject them as secrets), "
        "never at build time.",
        _is_random_content,
    ),
    CauseRule(
        "checkout-umask",
        "File modes follow the checkout's umask",
        "COPY keeps the modes of the build context, which depend on the umask of whoever "
        "checked it out. Normalise them: COPY into a build stage, `RUN chmod -R u=rwX,go=rX` "
        "there and COPY --from that stage (or COPY --chmod for plain files).",
        _is_umask_mode,
    ),
    CauseRule(
        "entry-order",
        "Layer tar entries in a different order",
        "Layers must be written in a stable order: let BuildKit create them (not a "
        "hand-made tar), or sort entries when building an ADDed tar (tar --sort=name).",
        _is_entry_order,
    ),
    CauseRule(
        "time-older-than-epoch",
        "A file time older than SOURCE_DATE_EPOCH survived on one side",
        "rewrite-timestamp only clamps times newer than SOURCE_DATE_EPOCH. The older time "
        "comes from the build context (a file older than the commit: build from a fresh "
        "checkout, as repro verify does) or from a layer the builder reused from an earlier "
        "build despite --no-cache (seen with BuildKit 0.13 for WORKDIR): prune that builder's "
        "cache (`docker builder prune`) and build again.",
        _is_stale_time,
    ),
    CauseRule(
        "rewrite-timestamp",
        "File timestamps not normalised (rewrite-timestamp not applied)",
        "Build with SOURCE_DATE_EPOCH and --output type=oci,rewrite-timestamp=true "
        "(BuildKit >= 0.13) so file mtimes are clamped to SOURCE_DATE_EPOCH.",
        _is_file_time,
    ),
)


def classify(
    diff: Difference,
    context: CauseContext = EMPTY_CONTEXT,
    rules: Sequence[CauseRule] = RULES,
) -> Difference:
    """``diff`` with the cause of the first matching rule, or unclassified."""
    for rule in rules:
        if rule.matches(diff, context):
            return dataclasses.replace(diff, cause_id=rule.id, cause_title=rule.title, fix=rule.fix)
    return dataclasses.replace(
        diff, cause_id=UNCLASSIFIED_ID, cause_title=UNCLASSIFIED_TITLE, fix=UNCLASSIFIED_FIX
    )


def rule_by_id(rule_id: str) -> CauseRule:
    for rule in RULES:
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)
