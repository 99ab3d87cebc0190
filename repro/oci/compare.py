"""compare_images: top-down; the digests say where to look, every blob is still read.

Per platform: manifest digest equal -> identical; else manifest fields, config JSON, then
layers paired by position: equal diffID -> compression only; different diffID -> stream
both tars (noting, as the entries pass, the volatile files each differing layer holds).
Every other blob of both sides (equal layers, attestations) is read and checked against
its digest beside that work (repro.oci.integrity), so a blob corrupted under its own
name is an error, not "identical". With ``trust_digests`` equal digests are taken on
trust: an equal index or image digest is identical without reading anything else, and
equal layers are not read. The classified differences are then grouped by layer and
cause, each group with its fix; values that look secret are masked (repro.masking).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime
from fnmatch import fnmatchcase
from functools import partial
from typing import Any, TypeVar

from repro.errors import InputError
from repro.masking import mask_json, mask_text
from repro.oci.blobsource import BlobSource
from repro.oci.causes import BASE_KEY_PREFIX, CauseContext, classify, volatile_family
from repro.oci.digests import cancel_reads_on
from repro.oci.entrydiff import diff_entry_streams
from repro.oci.groups import group_differences
from repro.oci.history import (
    clean_created_by,
    history_for_layers,
    layer_instructions,
    layer_of_history_entry,
    run_build_args,
)
from repro.oci.integrity import BlobsRead, VerifyJob, interleave, total, verification_jobs
from repro.oci.jsondiff import diff_json
from repro.oci.layerstream import EntrySummary, iter_layer_entries, verify_layer
from repro.oci.model import (
    AREA_CONFIG,
    AREA_FILE,
    AREA_INDEX,
    AREA_LAYER,
    AREA_MANIFEST,
    AttestationRef,
    BlobsChecked,
    Comparison,
    ContentEvidence,
    Difference,
    LayerInventory,
    PlatformComparison,
    sort_differences,
)
from repro.oci.tree import (
    Descriptor,
    ImageTree,
    PlatformImage,
    read_index,
    resolve_tree,
    top_image_digest,
)


@dataclass(frozen=True)
class LayerResult:
    differences: list[Difference]
    inventory: tuple[LayerInventory, ...] = ()


LayerJob = Callable[[], LayerResult]
T = TypeVar("T")


def compare_images(
    a: BlobSource,
    b: BlobSource,
    *,
    platform: str | None = None,
    ignore: Sequence[str] = (),
    max_workers: int = 4,
    attestations_apart: bool = False,
    trust_digests: bool = False,
) -> Comparison:
    """Compare image ``a`` with image ``b`` and explain every difference.

    ``platform`` ('linux/amd64') limits the comparison to one platform; ``ignore`` globs
    drop differences whose path (file path or JSON path) matches; ``max_workers`` layer
    pairs are streamed at once. ``attestations_apart``: BuildKit's attestation manifests
    (provenance, SBOM; their timestamps and builder ids differ from build to build) are
    listed, not compared, and the differences are the image's alone. ``trust_digests``
    skips reading blobs whose digests are equal on both sides. Raises InputError for
    unreadable or corrupted images.
    """
    index_digest_a, index_a = read_index(a)
    index_digest_b, index_b = read_index(b)
    image_digest_a = top_image_digest(index_digest_a, index_a, a.location)
    image_digest_b = top_image_digest(index_digest_b, index_b, b.location)
    if trust_digests and (index_digest_a == index_digest_b or image_digest_a == image_digest_b):
        # Equal digests taken to mean equal bytes below: list the platforms from A's
        # manifests and configs (small documents), never read a layer.
        tree = resolve_tree(a, platform=platform)
        platforms = tuple(
            PlatformComparison(key, image.manifest.digest, image.manifest.digest, ())
            for key, image in sorted(tree.images.items())
        )
        count, size = total(tree.documents)
        return Comparison(
            index_digest_a,
            index_digest_b,
            image_digest_a,
            image_digest_b,
            platforms,
            (),
            attestations_apart=attestations_apart,
            blobs=BlobsChecked(trust_digests=True, count_a=count, bytes_a=size),
        )

    tree_a = resolve_tree(a, platform=platform)
    tree_b = resolve_tree(b, platform=platform)
    if platform is not None and not tree_a.images and not tree_b.images:
        raise InputError(f"neither image has platform {platform}")

    found: list[Difference] = index_differences(tree_a, tree_b, attestations=not attestations_apart)
    # With attestations apart, differing attestation manifests explain differing indexes.
    attested_apart = attestations_apart and _attested(tree_a) != _attested(tree_b)
    jobs: list[LayerJob] = []
    streamed_a: dict[str, int] = {}  # the layers the jobs read, per side
    streamed_b: dict[str, int] = {}
    manifest_digests: dict[str, tuple[str | None, str | None]] = {}
    instructions: dict[str, tuple[str | None, ...]] = {}
    base_layers: set[tuple[str, int]] = set()
    arg_layers: set[tuple[str, int]] = set()
    epochs: dict[str, int] = {}
    for key in sorted(set(tree_a.images) | set(tree_b.images)):
        image_a, image_b = tree_a.images.get(key), tree_b.images.get(key)
        manifest_digests[key] = (
            image_a.manifest.digest if image_a else None,
            image_b.manifest.digest if image_b else None,
        )
        built = image_a or image_b
        if built is not None:
            shown = layer_instructions(built.config_json, len(built.layers))
            instructions[key] = tuple(mask_text(step) if step else step for step in shown)
        if image_a is None or image_b is None:
            continue  # reported by index_differences
        if image_a.manifest.digest == image_b.manifest.digest:
            continue
        platform_found = manifest_differences(key, image_a, image_b)
        if image_a.config.digest != image_b.config.digest:
            platform_found += config_differences(key, image_a, image_b)
        layer_found, layer_jobs = layer_differences(a, b, key, image_a, image_b)
        platform_found += layer_found
        jobs += layer_jobs
        for layer_a, layer_b in zip(image_a.layers, image_b.layers, strict=False):
            if layer_a.digest != layer_b.digest:
                streamed_a[layer_a.digest] = layer_a.size
                streamed_b[layer_b.digest] = layer_b.size
        base_layers |= unpinned_base_layers(key, image_a, image_b)
        arg_layers |= varied_arg_layers(key, image_a, image_b)
        epoch = shared_epoch(image_a, image_b)
        if epoch is not None:
            epochs[key] = epoch
        if not platform_found and not layer_jobs:
            platform_found.append(
                Difference(
                    key,
                    AREA_MANIFEST,
                    None,
                    None,
                    "",
                    "digest",
                    "changed",
                    image_a.manifest.digest,
                    image_b.manifest.digest,
                )
            )
        found += platform_found
    read_a: BlobsRead = {**tree_a.documents, **streamed_a}
    read_b: BlobsRead = {**tree_b.documents, **streamed_b}
    checks: list[tuple[BlobsRead, VerifyJob]] = []
    if not trust_digests:
        jobs_a = verification_jobs(a, tree_a, already_read=frozenset(read_a))
        jobs_b = verification_jobs(b, tree_b, already_read=frozenset(read_b))
        checks = list(interleave([(read_a, j) for j in jobs_a], [(read_b, j) for j in jobs_b]))
    results, checked = run_layer_jobs(jobs, max_workers, checks=[job for _, job in checks])
    for (side, _job), blobs in zip(checks, checked, strict=True):
        side.update(blobs)
    inventory = [item for result in results for item in result.inventory]
    found += [diff for result in results for diff in result.differences]
    if not found and not attested_apart and image_digest_a != image_digest_b:
        found.append(
            Difference(
                "", AREA_INDEX, None, None, "", "digest", "changed", image_digest_a, image_digest_b
            )
        )

    context = CauseContext(
        base_layers=frozenset(base_layers), epochs=epochs, arg_layers=frozenset(arg_layers)
    )
    classified = [classify(d, context) for d in found]
    kept = [d for d in classified if not is_ignored(d.path, ignore)]
    differences, masked = mask_differences(sort_differences(kept))
    platforms = tuple(
        PlatformComparison(
            key,
            digest_a,
            digest_b,
            tuple(d for d in differences if d.platform == key),
            instructions.get(key, ()),
        )
        for key, (digest_a, digest_b) in sorted(manifest_digests.items())
    )
    return Comparison(
        index_digest_a,
        index_digest_b,
        image_digest_a,
        image_digest_b,
        platforms,
        differences,
        attestations_a=_attestation_refs(tree_a),
        attestations_b=_attestation_refs(tree_b),
        ignored_count=len(classified) - len(kept),
        groups=group_differences(differences, inventory),
        attestations_apart=attestations_apart,
        blobs=BlobsChecked(trust_digests, *total(read_a), *total(read_b)),
        masked_values=masked,
    )


def mask_differences(differences: Sequence[Difference]) -> tuple[tuple[Difference, ...], int]:
    """The differences with secret-looking values masked (their values, the instruction
    and the content evidence), and how many had one."""
    masked: list[Difference] = []
    count = 0
    for diff in differences:
        shown = replace(
            diff,
            instruction=mask_text(diff.instruction) if diff.instruction else diff.instruction,
            value_a=mask_json(diff.value_a),
            value_b=mask_json(diff.value_b),
            evidence=_masked_evidence(diff.evidence) if diff.evidence else diff.evidence,
        )
        count += shown != diff
        masked.append(shown)
    return tuple(masked), count


def _masked_evidence(evidence: ContentEvidence) -> ContentEvidence:
    """Evidence whose bytes show a secret shows the masked text instead (its hex would
    spell the secret the text masks)."""

    def window(data: bytes) -> bytes:
        text = data.decode("latin-1")
        shown = mask_text(text)
        return data if shown == text else shown.encode("utf-8")

    return replace(evidence, window_a=window(evidence.window_a), window_b=window(evidence.window_b))


def shared_epoch(image_a: PlatformImage, image_b: PlatformImage) -> int | None:
    """SOURCE_DATE_EPOCH as both configs record it (`created`), when they agree."""
    created = image_a.config_json.get("created")
    if not isinstance(created, str) or created != image_b.config_json.get("created"):
        return None
    try:
        moment = datetime.fromisoformat(created.replace("Z", "+00:00"))
    except ValueError:
        return None
    return int(moment.timestamp())


def is_ignored(path: str, patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(path, pattern) for pattern in patterns)


def _attestation_refs(tree: ImageTree) -> tuple[AttestationRef, ...]:
    return tuple(AttestationRef(a.digest, a.refers_to) for a in tree.attestations)


def _attested(tree: ImageTree) -> list[str]:
    return sorted({a.digest for a in tree.attestations})


def index_differences(
    tree_a: ImageTree, tree_b: ImageTree, *, attestations: bool = True
) -> list[Difference]:
    found: list[Difference] = []
    attested_a, attested_b = _attested(tree_a), _attested(tree_b)
    if attestations and attested_a != attested_b:
        kind = "added" if not attested_a else ("removed" if not attested_b else "changed")
        found.append(
            Difference(
                "",
                AREA_INDEX,
                None,
                None,
                "attestations",
                "attestations",
                kind,
                list(attested_a),
                list(attested_b),
            )
        )
    for key in sorted(set(tree_a.images) ^ set(tree_b.images)):
        only_a = key in tree_a.images
        image = tree_a.images[key] if only_a else tree_b.images[key]
        found.append(
            Difference(
                key,
                AREA_INDEX,
                None,
                None,
                "manifests",
                "platform",
                "removed" if only_a else "added",
                image.manifest.digest if only_a else None,
                None if only_a else image.manifest.digest,
            )
        )
    # Index annotations and media type; its manifests list is compared per platform.
    index_a = {k: v for k, v in (tree_a.image_index or {}).items() if k != "manifests"}
    index_b = {k: v for k, v in (tree_b.image_index or {}).items() if k != "manifests"}
    found += json_differences("", AREA_INDEX, index_a, index_b)
    return found


def json_differences(
    platform: str,
    area: str,
    a: Any,
    b: Any,
    attribute: Callable[[str], tuple[int | None, str | None]] = lambda _path: (None, None),
) -> list[Difference]:
    """One Difference per JSON change; ``attribute`` maps a path to (layer, instruction)."""
    found = []
    for change in diff_json(a, b):
        layer, instruction = attribute(change.path)
        found.append(
            Difference(
                platform,
                area,
                layer,
                instruction,
                change.path,
                change.key,
                change.kind,
                change.value_a,
                change.value_b,
            )
        )
    return found


def _manifest_projection(image: PlatformImage) -> dict[str, Any]:
    """The manifest fields worth reporting; layer digests are covered by the layer diff."""
    manifest = image.manifest_json
    projected = {
        key: manifest[key]
        for key in ("schemaVersion", "mediaType", "artifactType", "annotations", "subject")
        if key in manifest
    }
    projected["config"] = {"mediaType": image.config.media_type, "digest": image.config.digest}
    return projected


def manifest_differences(
    key: str, image_a: PlatformImage, image_b: PlatformImage
) -> list[Difference]:
    found = json_differences(
        key, AREA_MANIFEST, _manifest_projection(image_a), _manifest_projection(image_b)
    )
    count_a, count_b = len(image_a.layers), len(image_b.layers)
    if count_a != count_b:
        found.append(
            Difference(
                key, AREA_MANIFEST, None, None, "layers", "count", "changed", count_a, count_b
            )
        )
    instructions = layer_instructions(image_a.config_json, count_a)
    for position in range(min(count_a, count_b)):
        type_a, type_b = image_a.layers[position].media_type, image_b.layers[position].media_type
        if type_a != type_b:
            found.append(
                Difference(
                    key,
                    AREA_MANIFEST,
                    position,
                    instructions[position],
                    f"layers[{position}].mediaType",
                    "mediaType",
                    "changed",
                    type_a,
                    type_b,
                )
            )
    return found


def _history_instruction(config: Mapping[str, Any], position: int) -> str | None:
    history = config.get("history")
    entry = history[position] if isinstance(history, list) and position < len(history) else None
    created_by = entry.get("created_by") if isinstance(entry, dict) else None
    return clean_created_by(created_by) if isinstance(created_by, str) else None


_HISTORY_ITEM = re.compile(r"history\[(\d+)\]")
_DIFF_ID_ITEM = re.compile(r"rootfs\.diff_ids\[(\d+)\]")


def _config_attribution(
    path: str, image_a: PlatformImage, image_b: PlatformImage
) -> tuple[int | None, str | None]:
    """The layer and instruction a config JSON path belongs to, if it is about one."""
    # A list item's path only: a crafted config's object ({"0": ...}) gives history["0"].
    history_item = _HISTORY_ITEM.match(path)
    if history_item is not None:
        position = int(history_item.group(1))
        # A's entry, or B's where A has none that made a layer (an entry only B has).
        layer = layer_of_history_entry(image_a.config_json, position)
        if layer is None:
            layer = layer_of_history_entry(image_b.config_json, position)
        instruction = _history_instruction(image_a.config_json, position) or (
            _history_instruction(image_b.config_json, position)
        )
        return layer, instruction
    diff_id_item = _DIFF_ID_ITEM.match(path)
    if diff_id_item is not None:
        position = int(diff_id_item.group(1))
        instructions = layer_instructions(image_a.config_json, position + 1)
        return position, instructions[position]
    return None, None


def config_differences(
    key: str, image_a: PlatformImage, image_b: PlatformImage
) -> list[Difference]:
    return json_differences(
        key,
        AREA_CONFIG,
        image_a.config_json,
        image_b.config_json,
        attribute=lambda path: _config_attribution(path, image_a, image_b),
    )


def _layer_json(layer: Descriptor, diff_id: str | None) -> dict[str, Any]:
    return {**layer.to_json(), "diff_id": diff_id}


def layer_differences(
    a: BlobSource, b: BlobSource, key: str, image_a: PlatformImage, image_b: PlatformImage
) -> tuple[list[Difference], list[LayerJob]]:
    """Differences known from descriptors alone, and jobs that stream the rest."""
    found: list[Difference] = []
    jobs: list[LayerJob] = []
    diff_ids_a, diff_ids_b = image_a.diff_ids, image_b.diff_ids
    count_a, count_b = len(image_a.layers), len(image_b.layers)
    instructions_a = layer_instructions(image_a.config_json, count_a)
    instructions_b = layer_instructions(image_b.config_json, count_b)
    for position in range(max(count_a, count_b)):
        path = f"layers[{position}]"
        if position >= count_b:
            found.append(
                Difference(
                    key,
                    AREA_LAYER,
                    position,
                    instructions_a[position],
                    path,
                    "layer",
                    "removed",
                    _layer_json(image_a.layers[position], diff_ids_a[position]),
                    None,
                )
            )
            continue
        if position >= count_a:
            found.append(
                Difference(
                    key,
                    AREA_LAYER,
                    position,
                    instructions_b[position],
                    path,
                    "layer",
                    "added",
                    None,
                    _layer_json(image_b.layers[position], diff_ids_b[position]),
                )
            )
            continue
        layer_a, layer_b = image_a.layers[position], image_b.layers[position]
        if layer_a.digest == layer_b.digest:
            continue
        instruction = instructions_a[position] or instructions_b[position]
        diff_id_a, diff_id_b = diff_ids_a[position], diff_ids_b[position]
        # Same diffID: compression only, once both blobs are read and hashed to prove it.
        same_content = diff_id_a is not None and diff_id_a == diff_id_b
        job = compression_only if same_content else compare_layer_streams
        sides = ((layer_a, diff_id_a), (layer_b, diff_id_b))
        jobs.append(partial(job, a, b, key, position, instruction, *sides))
    return found, jobs


def compression_only(
    a: BlobSource,
    b: BlobSource,
    key: str,
    position: int,
    instruction: str | None,
    side_a: tuple[Descriptor, str | None],
    side_b: tuple[Descriptor, str | None],
) -> LayerResult:
    verify_layer(a, *side_a)
    verify_layer(b, *side_b)
    return LayerResult(
        [
            Difference(
                key,
                AREA_LAYER,
                position,
                instruction,
                f"layers[{position}]",
                "compression",
                "changed",
                _layer_json(*side_a),
                _layer_json(*side_b),
            )
        ]
    )


def _noting_volatile(
    entries: Iterator[EntrySummary], seen: dict[str, set[str]]
) -> Iterator[EntrySummary]:
    """Pass ``entries`` through, noting each volatile file's path under its cause."""
    for entry in entries:
        family = volatile_family(entry.path)
        if family is not None:
            seen.setdefault(family.cause_id, set()).add(entry.path)
        yield entry


def compare_layer_streams(
    a: BlobSource,
    b: BlobSource,
    key: str,
    position: int,
    instruction: str | None,
    side_a: tuple[Descriptor, str | None],
    side_b: tuple[Descriptor, str | None],
) -> LayerResult:
    """Stream both layer tars and report per-entry differences."""
    entries_a = iter_layer_entries(a, *side_a)
    entries_b = iter_layer_entries(b, *side_b)
    volatile: dict[str, set[str]] = {}
    try:
        changes = diff_entry_streams(
            _noting_volatile(entries_a, volatile), _noting_volatile(entries_b, volatile)
        )
    finally:
        entries_a.close()
        entries_b.close()
    found = [
        Difference(
            key,
            AREA_FILE,
            position,
            instruction,
            c.path,
            c.field,
            c.kind,
            c.value_a,
            c.value_b,
            size=c.size,
            evidence=c.evidence,
        )
        for c in changes
    ]
    inventory = tuple(
        LayerInventory(key, position, cause_id, tuple(sorted(paths)))
        for cause_id, paths in sorted(volatile.items())
    )
    if not found:
        # Same entries, same headers, same content: only the tar encoding differs.
        found.append(
            Difference(
                key,
                AREA_LAYER,
                position,
                instruction,
                f"layers[{position}]",
                "tar-encoding",
                "changed",
                side_a[1],
                side_b[1],
            )
        )
    return LayerResult(found, inventory)


def run_layer_jobs(
    jobs: Sequence[LayerJob],
    max_workers: int,
    *,
    checks: Sequence[Callable[[], BlobsRead]] = (),
) -> tuple[list[LayerResult], list[BlobsRead]]:
    """Run the layer jobs, then the blob checks, ``max_workers`` at a time: their results,
    and what each check read (in the order given)."""
    if not jobs and not checks:
        return [], []
    stop = threading.Event()

    def cancellable(job: Callable[[], T]) -> Callable[[], T]:
        def run() -> T:
            cancel_reads_on(stop)
            return job()

        return run

    pool = ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="repro-layer")
    try:
        futures: list[Future[LayerResult]] = [pool.submit(cancellable(j)) for j in jobs]
        checked: list[Future[BlobsRead]] = [pool.submit(cancellable(c)) for c in checks]
        every: list[Future[Any]] = [*futures, *checked]
        wait(every, return_when=FIRST_EXCEPTION)
        failed = next((f for f in every if f.done() and f.exception() is not None), None)
        if failed is not None:
            raise failed.exception()  # type: ignore[misc]  # not None: just checked
        found = [future.result() for future in futures]
        read = [future.result() for future in checked]
    except BaseException:
        # A failure or Ctrl-C: start nothing still queued, and stop the reads under way
        # at their next chunk, so the pool is empty in moments, not after every layer.
        stop.set()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    return found, read


def _base_metadata(image: PlatformImage) -> dict[str, Any]:
    """The org.opencontainers.image.base.* annotations and labels (which base was used)."""
    container_config = image.config_json.get("config")
    labels = container_config.get("Labels") if isinstance(container_config, dict) else None
    merged: dict[str, Any] = {}
    for recorded in (image.manifest_json.get("annotations"), labels):
        if isinstance(recorded, dict):
            merged.update({k: v for k, v in recorded.items() if str(k).startswith(BASE_KEY_PREFIX)})
    return merged


REWRITTEN_TIMESTAMP = "buildkit/rewritten-timestamp"


def pulled_layer_count(image: PlatformImage) -> int:
    """How many leading layers the build pulled rather than wrote.

    With rewrite-timestamp, BuildKit annotates every layer it writes with
    buildkit/rewritten-timestamp and never a base layer it passes through; an image with
    no such annotation tells nothing (0).
    """
    marks = [REWRITTEN_TIMESTAMP in layer.annotations for layer in image.layers]
    return marks.index(True) if any(marks) else 0


def varied_arg_layers(
    key: str, image_a: PlatformImage, image_b: PlatformImage
) -> set[tuple[str, int]]:
    """Layers made by a RUN that each build gave other build-argument values."""

    def entries(image: PlatformImage) -> list[dict[str, str] | None]:
        history = image.config_json.get("history")
        listed = history if isinstance(history, list) else []
        found: list[dict[str, str] | None] = []
        for index in history_for_layers(image.config_json, len(image.layers)):
            entry = listed[index] if index is not None else None
            created_by = entry.get("created_by") if isinstance(entry, dict) else None
            found.append(run_build_args(created_by) if isinstance(created_by, str) else None)
        return found

    args_a, args_b = entries(image_a), entries(image_b)
    return {
        (key, position)
        for position, (a, b) in enumerate(zip(args_a, args_b, strict=False))
        if a is not None and b is not None and a != b
    }


def unpinned_base_layers(
    key: str, image_a: PlatformImage, image_b: PlatformImage
) -> set[tuple[str, int]]:
    """Base layers that differ: the base image is not the same in both builds.

    When the recorded base image (org.opencontainers.image.base.* annotations/labels)
    differs: the leading layers with the same instruction text but different diffIDs.
    Otherwise: the leading layers both builds pulled (see pulled_layer_count) whose
    diffIDs differ, since a pulled layer of the same base is the same blob.
    """
    if _base_metadata(image_a) == _base_metadata(image_b):
        pulled = min(pulled_layer_count(image_a), pulled_layer_count(image_b))
        return {
            (key, position)
            for position in range(pulled)
            if image_a.diff_ids[position] != image_b.diff_ids[position]
        }
    count = min(len(image_a.layers), len(image_b.layers))
    instructions_a = layer_instructions(image_a.config_json, count)
    instructions_b = layer_instructions(image_b.config_json, count)
    diff_ids_a, diff_ids_b = image_a.diff_ids, image_b.diff_ids
    layers: set[tuple[str, int]] = set()
    for position in range(count):
        same_instruction = (
            instructions_a[position] is not None
            and instructions_a[position] == instructions_b[position]
        )
        if not same_instruction or diff_ids_a[position] == diff_ids_b[position]:
            break
        layers.add((key, position))
    return layers
