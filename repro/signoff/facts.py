"""Everything the checks need from one platform image, gathered in one streaming pass.

Layers are walked in order with repro.oci.layerwalk; nothing is extracted. The pass
keeps the final file system (path -> the layer and size of its visible version), the
file versions a later layer overwrites or deletes (wasted bytes: they still ship), the
per-layer sizes, and secrets found in any layer's files, deleted ones included.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from repro.oci.blobsource import BlobSource
from repro.oci.history import layer_instructions
from repro.oci.layerwalk import LayerEntry, walk_layer
from repro.oci.tree import PlatformImage
from repro.signoff.model import LayerSize, PlatformSize, WastedFile
from repro.signoff.secrets import Finding, scan_content, secret_file_kind, wants_content

TOP_OFFENDERS = 10


@dataclass(frozen=True)
class FinalFile:
    layer: int
    size: int
    kind: str


@dataclass(frozen=True)
class SecretInLayer:
    layer: int
    path: str
    finding: Finding
    deleted_in: int | None = None  # a later layer deletes it; the bytes still ship


@dataclass(frozen=True)
class ImageFacts:
    platform: str
    config: Mapping[str, Any]  # the image config document
    instructions: tuple[str | None, ...]  # per layer: the instruction that made it
    files: Mapping[str, FinalFile]  # the final file system, whiteouts applied
    size: PlatformSize
    secrets: tuple[SecretInLayer, ...]

    @property
    def container_config(self) -> Mapping[str, Any]:
        inner = self.config.get("config")
        return inner if isinstance(inner, dict) else {}

    def layer_label(self, layer: int) -> str:
        instruction = self.instructions[layer] if layer < len(self.instructions) else None
        text = f"layer {layer}"
        if instruction:
            short = instruction if len(instruction) <= 60 else instruction[:57] + "..."
            text += f" ({short})"
        return text


class _Accumulator:
    """The running final file system and what later layers hide of it."""

    def __init__(self) -> None:
        self.files: dict[str, FinalFile] = {}
        self.wasted_per_layer: dict[int, int] = {}
        self.wasted_total = 0
        self.offenders: list[tuple[int, str, WastedFile]] = []  # a min-heap by size
        self.secrets: dict[tuple[int, str], list[SecretInLayer]] = {}

    def _waste(self, path: str, old: FinalFile, reason: str, *, by_layer: int) -> None:
        hits = self.secrets.get((old.layer, path), [])
        for index, hit in enumerate(hits):  # hidden, yet its bytes still ship
            hits[index] = SecretInLayer(hit.layer, hit.path, hit.finding, deleted_in=by_layer)
        if old.kind == "directory" or old.size == 0:
            return
        self.wasted_per_layer[old.layer] = self.wasted_per_layer.get(old.layer, 0) + old.size
        self.wasted_total += old.size
        item = (old.size, path, WastedFile(path, old.layer, old.size, reason))
        if len(self.offenders) < TOP_OFFENDERS:
            heapq.heappush(self.offenders, item)
        else:
            heapq.heappushpop(self.offenders, item)

    def _remove(self, path: str, layer: int, reason: str, *, keep_self: bool = False) -> None:
        prefix = path.rstrip("/") + "/"
        doomed = [p for p in self.files if p.startswith(prefix) or (p == path and not keep_self)]
        for doomed_path in doomed:
            old = self.files[doomed_path]
            if old.layer >= layer:
                continue
            del self.files[doomed_path]
            self._waste(doomed_path, old, reason, by_layer=layer)

    def add(self, layer: int, entry: LayerEntry) -> None:
        if entry.is_whiteout:
            self._remove(entry.path, layer, f"deleted in layer {layer}")
            return
        if entry.is_opaque:
            self._remove(
                entry.path, layer, f"hidden by an opaque directory in layer {layer}", keep_self=True
            )
            return
        old = self.files.get(entry.path)
        if old is not None and old.layer < layer:
            if old.kind == "directory" and entry.kind != "directory":
                self._remove(entry.path, layer, f"replaced in layer {layer}", keep_self=True)
            if not (old.kind == "directory" and entry.kind == "directory"):
                self._waste(entry.path, old, f"overwritten in layer {layer}", by_layer=layer)
        self.files[entry.path] = FinalFile(layer, entry.size if entry.is_file else 0, entry.kind)
        if entry.is_file:
            self._scan(layer, entry)

    def _scan(self, layer: int, entry: LayerEntry) -> None:
        hits: list[Finding] = []
        kind = secret_file_kind(entry.path)
        if kind is not None:
            hits.append(Finding(kind, "(file)"))
        if entry.head:
            hits.extend(scan_content(entry.path, entry.head))
        if hits:
            self.secrets[(layer, entry.path)] = [
                SecretInLayer(layer, entry.path, finding) for finding in hits
            ]


def gather(source: BlobSource, image: PlatformImage) -> ImageFacts:
    """Walk every layer of ``image`` once and collect the facts the checks read."""
    config = image.config_json
    instructions = tuple(layer_instructions(config, len(image.layers)))
    acc = _Accumulator()
    layer_totals: list[tuple[int, int]] = []
    for index, (layer, diff_id) in enumerate(zip(image.layers, image.diff_ids, strict=True)):
        total = count = 0
        for entry in walk_layer(source, layer, diff_id, peek=wants_content):
            if entry.is_file:
                total += entry.size
                count += 1
            acc.add(index, entry)
        layer_totals.append((total, count))
    layers = tuple(
        LayerSize(
            index=index,
            digest=layer.digest,
            instruction=instructions[index],
            compressed_bytes=layer.size,
            uncompressed_bytes=layer_totals[index][0],
            file_count=layer_totals[index][1],
            wasted_bytes=acc.wasted_per_layer.get(index, 0),
        )
        for index, layer in enumerate(image.layers)
    )
    offenders = tuple(item[2] for item in sorted(acc.offenders, key=lambda i: (-i[0], i[1])))
    size = PlatformSize(
        platform=image.platform,
        compressed_bytes=sum(layer.size for layer in image.layers),
        uncompressed_bytes=sum(layer.uncompressed_bytes for layer in layers),
        wasted_bytes=acc.wasted_total,
        layers=layers,
        offenders=offenders,
    )
    secrets = tuple(hit for key in sorted(acc.secrets) for hit in acc.secrets[key])
    return ImageFacts(
        platform=image.platform,
        config=config,
        instructions=instructions,
        files=dict(acc.files),
        size=size,
        secrets=secrets,
    )
