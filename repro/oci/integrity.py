"""Every blob an image hands compare, read and checked against its digest.

Equal digests on both sides say the bytes should be equal; only reading them shows a
blob corrupted (or swapped) under its own name. Reading an image's tree verifies its
documents (indexes, manifests, configs); this reads the rest: each layer, and each
attestation manifest with the blobs it lists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from itertools import zip_longest
from typing import Any, TypeVar

from repro.errors import InputError
from repro.oci.blobsource import BlobSource, open_verified, read_json_blob
from repro.oci.tree import ImageTree, parse_descriptor

# What one verification job read: digest -> size.
BlobsRead = dict[str, int]
T = TypeVar("T")
_GAP: Any = object()


def layer_blobs(tree: ImageTree) -> dict[str, int]:
    """digest -> size of every layer of every image in ``tree``."""
    return {layer.digest: layer.size for image in tree.images.values() for layer in image.layers}


def attestation_manifests(tree: ImageTree) -> dict[str, int | None]:
    """digest -> declared size of the attestation manifests ``tree`` lists."""
    return {attestation.digest: attestation.size for attestation in tree.attestations}


def verify_blob(source: BlobSource, digest: str, size: int | None) -> BlobsRead:
    """Read the whole blob; InputError unless its size and sha256 match."""
    reader = open_verified(source, digest, declared_size=size)
    try:
        reader.finish()
    finally:
        reader.close()
    return {digest: reader.bytes_read}


def verify_attestation(source: BlobSource, digest: str, size: int | None) -> BlobsRead:
    """An attestation manifest (verified as it is read) and every blob it lists."""
    manifest = read_json_blob(source, digest, declared_size=size)
    where = f"attestation manifest {digest} in {source.location}"
    read: BlobsRead = {digest: size if size is not None else source.blob_size(digest)}
    layers = manifest.get("layers", [])
    if not isinstance(layers, list):
        raise InputError(f"{where}: its layers are not a list")
    entries = [manifest["config"]] if "config" in manifest else []
    for descriptor in (parse_descriptor(raw, where=where) for raw in [*entries, *layers]):
        if descriptor.digest not in read:
            read.update(verify_blob(source, descriptor.digest, descriptor.size))
    return read


VerifyJob = Callable[[], BlobsRead]


def verification_jobs(
    source: BlobSource, tree: ImageTree, *, already_read: frozenset[str]
) -> list[VerifyJob]:
    """A job for each blob of ``tree`` not in ``already_read``, largest first."""
    jobs: list[tuple[int, VerifyJob]] = []
    for digest, size in layer_blobs(tree).items():
        if digest not in already_read:
            jobs.append((size, _bind(verify_blob, source, digest, size)))
    for digest, declared in attestation_manifests(tree).items():
        if digest not in already_read:
            jobs.append((declared or 0, _bind(verify_attestation, source, digest, declared)))
    jobs.sort(key=lambda job: -job[0])
    return [job for _size, job in jobs]


def _bind(
    verify: Callable[[BlobSource, str, int | None], BlobsRead],
    source: BlobSource,
    digest: str,
    size: int | None,
) -> VerifyJob:
    return lambda: verify(source, digest, size)


def interleave(*sides: Sequence[T]) -> Iterator[T]:
    """A's first, B's first, A's second...: each side's reads run beside the other's."""
    for group in zip_longest(*sides, fillvalue=_GAP):
        for item in group:
            if item is not _GAP:
                yield item


def total(read: Mapping[str, int]) -> tuple[int, int]:
    """(count, bytes) of the distinct blobs in ``read``."""
    return len(read), sum(read.values())
