"""The cause catalogue: small rules tried in order; the first that matches explains a difference.

Each rule is a CauseRule with an id, a title, a fix and a predicate over one Difference
(plus a CauseContext for facts that need the whole comparison, like which layers come
from an unpinned base). A difference no rule matches stays `unclassified`, with the
evidence of its content sample. Rules that look at content use that evidence to claim
only what they can explain: a pyc whose code differs is not a timestamp, a gzip whose
data differs is not its header. VOLATILE_FAMILIES names the files some causes leave on
every build; the comparer notes which of them a differing layer holds.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import partial

from repro.oci.history import clean_created_by, run_build_args
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
    # (platform, layer index) pairs made by a RUN whose build arguments differ between
    # the builds (BuildKit records them in the history: ``RUN |1 TZ=UTC ...``).
    arg_layers: frozenset[tuple[str, int]] = frozenset()


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


@dataclass(frozen=True)
class Family:
    """Files one cause leaves behind: ``match`` (fnmatch, ``*`` crosses ``/``) finds them,
    ``remove`` is what a fix deletes for them (the family's glob, or the path itself)."""

    cause_id: str
    match: str
    remove: str | None = None  # None: the matched path itself

    def removal(self, path: str) -> str:
        return self.remove if self.remove is not None else path


PACKAGE_MANAGER_STATE_ID = "package-manager-state"
SSH_HOST_KEYS_ID = "ssh-host-keys"
MACHINE_ID_ID = "machine-id"
PIP_CACHE_ID = "pip-cache"
NPM_CACHE_ID = "npm-cache"
TEMP_FILES_ID = "temp-files"

VOLATILE_FAMILIES: tuple[Family, ...] = (
    Family(SSH_HOST_KEYS_ID, "/etc/ssh/ssh_host_*", "/etc/ssh/ssh_host_*"),
    Family(MACHINE_ID_ID, "/etc/machine-id"),
    Family(MACHINE_ID_ID, "/var/lib/dbus/machine-id"),
    Family(PACKAGE_MANAGER_STATE_ID, "/var/log/dpkg.log"),
    Family(PACKAGE_MANAGER_STATE_ID, "/var/log/alternatives.log"),
    Family(PACKAGE_MANAGER_STATE_ID, "/var/log/apt/*", "/var/log/apt/*"),
    Family(PACKAGE_MANAGER_STATE_ID, "/var/cache/ldconfig/aux-cache"),
    Family(PACKAGE_MANAGER_STATE_ID, "/var/cache/debconf/*-old", "/var/cache/debconf/*-old"),
    Family(PACKAGE_MANAGER_STATE_ID, "/var/lib/dpkg/*-old", "/var/lib/dpkg/*-old"),
    Family(PACKAGE_MANAGER_STATE_ID, "/var/cache/apt/*.bin", "/var/cache/apt/*.bin"),
    Family(PACKAGE_MANAGER_STATE_ID, "/var/lib/apt/lists/*", "/var/lib/apt/lists/*"),
    Family(
        PACKAGE_MANAGER_STATE_ID, "/var/cache/apt/archives/*.deb", "/var/cache/apt/archives/*.deb"
    ),
    Family(PIP_CACHE_ID, "/root/.cache/pip/*", "/root/.cache/pip"),
    Family(PIP_CACHE_ID, "/home/*/.cache/pip/*"),
    Family(NPM_CACHE_ID, "/root/.npm/_cacache/*", "/root/.npm/_cacache"),
    Family(NPM_CACHE_ID, "/root/.npm/_logs/*", "/root/.npm/_logs"),
    Family(NPM_CACHE_ID, "/root/.npm/_update-notifier-last-checked"),
    Family(NPM_CACHE_ID, "/usr/local/share/.cache/yarn/*", "/usr/local/share/.cache/yarn"),
    Family(NPM_CACHE_ID, "/root/.cache/yarn/*", "/root/.cache/yarn"),
    # Paths inside an image being compared, never opened here.
    Family(TEMP_FILES_ID, "/tmp/*", "/tmp/*"),  # noqa: S108
    Family(TEMP_FILES_ID, "/var/tmp/*", "/var/tmp/*"),  # noqa: S108
)


def volatile_family(path: str) -> Family | None:
    """The volatile family ``path`` belongs to, if any (the first that matches)."""
    for family in VOLATILE_FAMILIES:
        if fnmatchcase(path, family.match):
            return family
    return None


def _in_family(cause_id: str, diff: Difference, _: CauseContext) -> bool:
    # A rule's predicate is partial(_in_family, its cause): this body runs per difference,
    # not once at import (where scripts/mutation could not reach it).
    if diff.area != AREA_FILE:
        return False
    family = volatile_family(diff.path)
    return family is not None and family.cause_id == cause_id


_CONTENT_FIELDS = frozenset({"content", "size"})


def _content_change(diff: Difference) -> bool:
    return diff.area == AREA_FILE and diff.field == "content"


# A timestamp pyc: magic(4) flags(4) source mtime(4) source size(4). Only the flags and
# the mtime/hash words change when nothing but the source file's time does.
_PYC_HEADER = (4, 16)


def _is_pyc(diff: Difference, _: CauseContext) -> bool:
    if not _content_change(diff) or not diff.path.endswith(".pyc"):
        return False
    return diff.evidence is None or diff.evidence.confined_to(*_PYC_HEADER)


ZIP_SUFFIXES = (".zip", ".whl", ".jar", ".war", ".ear", ".egg", ".apk", ".nupkg")
TAR_GZ_SUFFIXES = (".tgz", ".tar.gz")
ARCHIVE_SUFFIXES = (".gz", ".tgz", *ZIP_SUFFIXES)
# gzip: magic(2) method(1) flags(1) MTIME(4): without -n, only these four bytes differ.
_GZIP_MTIME = (4, 8)


def _is_archive_with_times(diff: Difference, _: CauseContext) -> bool:
    """An archive whose bytes differ the way member or header times make them differ."""
    if diff.area != AREA_FILE or diff.field not in _CONTENT_FIELDS:
        return False
    if diff.path.endswith(TAR_GZ_SUFFIXES):
        return True  # a compressed tar's member times cannot be told from its data here
    if diff.field != "content" or not diff.path.endswith(ARCHIVE_SUFFIXES):
        return False  # times change bytes in place, never a plain .gz's or a zip's size
    evidence = diff.evidence
    if evidence is None:
        return True
    if diff.path.endswith(".gz"):
        return evidence.confined_to(*_GZIP_MTIME)
    # zip family: times change bytes in place, never the size.
    return evidence.size_a == evidence.size_b


def _is_embedded_build_path(diff: Difference, _: CauseContext) -> bool:
    """Each side names its own temporary build directory (mktemp, tempfile, go, pip)."""
    evidence = diff.evidence
    return (
        _content_change(diff)
        and evidence is not None
        and bool(evidence.temp_paths_a)
        and bool(evidence.temp_paths_b)
        and evidence.temp_paths_a != evidence.temp_paths_b
    )


def _is_unordered_output(diff: Difference, _: CauseContext) -> bool:
    return _content_change(diff) and diff.evidence is not None and diff.evidence.reordered_lines


def _is_entry_order(diff: Difference, _: CauseContext) -> bool:
    return diff.area == AREA_FILE and diff.field == "order"


BUILD_ARG_ID = "build-arg"
_HISTORY_CREATED_BY = re.compile(r"history\[\d+\]\.created_by")


def _is_varied_build_arg(diff: Difference, context: CauseContext) -> bool:
    """A RUN given other build-argument values in each build: its history entry, and
    what it wrote."""
    if diff.area == AREA_FILE and diff.layer is not None:
        return (diff.platform, diff.layer) in context.arg_layers
    if diff.area != AREA_CONFIG or _HISTORY_CREATED_BY.fullmatch(diff.path) is None:
        return False
    a, b = diff.value_a, diff.value_b
    if not isinstance(a, str) or not isinstance(b, str):
        return False
    args_a, args_b = run_build_args(a), run_build_args(b)
    return (
        args_a is not None
        and args_b is not None
        and args_a != args_b
        and clean_created_by(a) == clean_created_by(b)
    )


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


_BUILD_HOST = re.compile(r"\bhostname\b|\$\{?HOSTNAME\b|\buname\s+-[a-z]*n|/etc/hostname|\bip\s+a")


def _is_build_host(diff: Difference, _: CauseContext) -> bool:
    return _run_matches(diff, _BUILD_HOST)


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
        SSH_HOST_KEYS_ID,
        "SSH host keys generated at build time",
        "Installing openssh-server generates host keys: every build (and every container "
        "of the image) gets the same keys by copy, and they differ between builds. Delete "
        "them in the RUN that installs the server (`rm -f /etc/ssh/ssh_host_*`) and "
        "generate them when the container starts (`ssh-keygen -A`).",
        partial(_in_family, SSH_HOST_KEYS_ID),
    ),
    CauseRule(
        MACHINE_ID_ID,
        "A machine id generated at build time",
        "Installing dbus or systemd writes a random machine id. Delete it in that RUN "
        "(`rm -f /etc/machine-id /var/lib/dbus/machine-id`); it is made at first boot.",
        partial(_in_family, MACHINE_ID_ID),
    ),
    CauseRule(
        PACKAGE_MANAGER_STATE_ID,
        "Package-manager logs or caches",
        "Delete them in the same RUN that installs packages, e.g. "
        "`rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/dpkg.log /var/log/apt/* "
        "/var/log/alternatives.log /var/cache/ldconfig/aux-cache /var/cache/debconf/*-old "
        "/var/lib/dpkg/*-old`.",
        partial(_in_family, PACKAGE_MANAGER_STATE_ID),
    ),
    CauseRule(
        PIP_CACHE_ID,
        "pip's cache (downloads and wheels built in the image)",
        "Install with `pip install --no-cache-dir`, or delete the cache in the same RUN "
        "(`rm -rf /root/.cache/pip`): wheels built into it carry build times.",
        partial(_in_family, PIP_CACHE_ID),
    ),
    CauseRule(
        NPM_CACHE_ID,
        "npm/yarn cache and logs",
        "npm's content cache and debug logs record when they were written: delete them in "
        "the RUN that installs (`rm -rf /root/.npm/_cacache /root/.npm/_logs`, or "
        "`npm cache clean --force`).",
        partial(_in_family, NPM_CACHE_ID),
    ),
    CauseRule(
        TEMP_FILES_ID,
        "Temporary files left in the layer",
        "A step left files in /tmp (often under a name made afresh each build): delete "
        "them at the end of that RUN (`rm -rf /tmp/* /var/tmp/*`).",
        partial(_in_family, TEMP_FILES_ID),
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
        "builders (`jar --date`), or `touch -d @$SOURCE_DATE_EPOCH` on the inputs before "
        "zipping them.",
        _is_archive_with_times,
    ),
    CauseRule(
        "embedded-build-path",
        "A temporary build directory is embedded in the file",
        "The build ran in a directory named afresh each time (mktemp, tempfile) and the "
        "compiler recorded it: build in a fixed directory, or strip it "
        "(`go build -trimpath -buildvcs=false`, `gcc -ffile-prefix-map=$PWD=.`).",
        _is_embedded_build_path,
    ),
    CauseRule(
        "unordered-output",
        "The same lines in another order (parallel jobs, directory order)",
        "Output written by parallel jobs (xargs -P, make -j) or in directory order follows "
        "scheduling and CPU count: sort it where it is written (`LC_ALL=C sort -o FILE FILE`).",
        _is_unordered_output,
    ),
    CauseRule(
        BUILD_ARG_ID,
        "The RUN took a build argument each build set differently",
        "An ARG without a default takes whatever the builder passes (a CI's TZ or LANG, "
        "say), and BuildKit records it in the image history: give it a default "
        "(`ARG TZ=UTC`), or set the value with ENV.",
        _is_varied_build_arg,
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
        "build-host",
        "A RUN step recorded the build host (name or address)",
        "Do not record the building machine in the image: each builder has its own "
        "address (and a builder's sandbox name is not the host's). Record it when the "
        "container starts, or drop it.",
        _is_build_host,
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
