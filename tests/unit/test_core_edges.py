"""Edges the seed-16 mutation sample found untested (scripts/mutation, README: Mutation
testing): quoting and byte offsets in Dockerfiles, declared sizes and where errors point in
image documents, and which key of a statement decides that a value is secret."""

from __future__ import annotations

import pytest

from repro.dockerfile.parser import parse_dockerfile
from repro.dockerfile.references import find_references
from repro.dockerfile.source import LocatedText, Source
from repro.dockerfile.span import Span
from repro.errors import InputError
from repro.oci import mediatypes
from repro.oci.blobsource import open_verified
from repro.oci.tree import resolve_tree
from repro.release.attest import json_mismatches
from tests.unit.oci_factory import MemorySource


def test_a_single_quoted_heredoc_marker_keeps_its_backslash() -> None:
    df = parse_dockerfile(b"RUN <<'E\\OF'\necho hi\nEOF\nE\\OF\n")
    assert len(df.instructions) == 1
    [heredoc] = df.instructions[0].heredocs
    assert heredoc.name == "E\\OF"
    assert heredoc.body == Span(13, 25)


def test_a_quoted_from_points_inside_its_quotes() -> None:
    [ref] = find_references(parse_dockerfile(b'FROM "alpine:3.19"\n'))
    assert (ref.raw, ref.resolved, ref.span, ref.column) == (
        "alpine:3.19",
        "alpine:3.19",
        Span(6, 17),
        7,
    )


def test_an_undecodable_byte_in_from_is_kept_as_a_surrogate() -> None:
    [ref] = find_references(parse_dockerfile(b"FROM alpine:3\xff\n"))
    assert ref.raw == "alpine:3\udcff"


def test_byte_0x80_counts_as_one_byte() -> None:
    source = Source(b"a\x80b")
    assert [source.byte_offset(i) for i in range(4)] == [0, 1, 2, 3]


def test_an_empty_span_inside_the_text_sits_at_its_character() -> None:
    assert LocatedText("ab", (0, 1), 2).span(1, 1) == Span(1, 1)
    assert LocatedText("ab", (0, 1), 2).slice(1, 1).end == 1
    assert parse_dockerfile(b"RUN   \n").instructions[0].arguments.span() == Span(3, 3)


def test_without_a_declared_size_the_stored_size_is_checked() -> None:
    class Longer(MemorySource):
        """Its stored size says one byte more than it serves."""

        def blob_size(self, digest: str) -> int:
            return super().blob_size(digest) + 1

    source = Longer()
    digest = source.put(b"abc")["digest"]
    reader = open_verified(source, digest)
    with pytest.raises(InputError, match=r"is truncated: 3 of 4 bytes"):
        reader.finish()


def test_a_malformed_layer_descriptor_names_its_manifest() -> None:
    source = MemorySource()
    config = {
        "mediaType": mediatypes.OCI_CONFIG,
        **source.put({"os": "linux", "architecture": "amd64"}),
    }
    manifest = source.put({"config": config, "layers": ["x"]})
    source.set_index({"manifests": [{"mediaType": mediatypes.OCI_MANIFEST, **manifest}]})
    with pytest.raises(InputError) as caught:
        resolve_tree(source)
    assert (
        caught.value.message
        == f"manifest {manifest['digest']} in memory: a descriptor is not a JSON object"
    )


def test_a_config_is_read_at_its_declared_size() -> None:
    source = MemorySource()
    config = source.put({"os": "linux", "architecture": "amd64"})
    config["size"] += 5
    manifest = source.put({"config": {"mediaType": mediatypes.OCI_CONFIG, **config}, "layers": []})
    source.set_index({"manifests": [{"mediaType": mediatypes.OCI_MANIFEST, **manifest}]})
    with pytest.raises(InputError, match=r"is truncated: 40 of 45 bytes"):
        resolve_tree(source)


def test_only_the_last_key_decides_masking() -> None:
    assert json_mismatches(
        {"tokens": {"name": "alpha-value"}}, {"tokens": {"name": "beta-value"}}, "predicate"
    ) == ['predicate.tokens.name: signed "alpha-value", repro.lock has "beta-value"']
