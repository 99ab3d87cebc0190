"""`repro compare A B`: two images, byte for byte, every difference explained."""

from __future__ import annotations

from typing import Annotated

import typer

from repro.cli._options import MaxDiffsOption, VerboseOption
from repro.render.console import stdout, write_stdout


def compare(
    image_a: Annotated[
        str,
        typer.Argument(
            metavar="A",
            help="OCI layout dir, OCI/docker-save tar, or registry reference "
            "(host[:port]/name:tag or @sha256:...).",
        ),
    ],
    image_b: Annotated[str, typer.Argument(metavar="B", help="The image to compare A with.")],
    json_output: Annotated[
        bool, typer.Option("--json", help="Print the comparison as JSON.")
    ] = False,
    max_diffs: MaxDiffsOption = 50,
    verbose: VerboseOption = False,
    ignore: Annotated[
        list[str] | None, typer.Option("--ignore", help="Drop differences at paths matching GLOB.")
    ] = None,
    platform: Annotated[
        str | None, typer.Option("--platform", help="Compare only this platform (os/arch).")
    ] = None,
    trust_digests: Annotated[
        bool,
        typer.Option(
            "--trust-digests",
            help="Do not read blobs whose digests are equal on both sides (faster; a blob "
            "corrupted under its own digest goes unseen). The report says so.",
        ),
    ] = False,
) -> None:
    """Compare two images byte for byte and explain every difference.

    Every blob of both images is read and checked against its digest, equal ones too,
    unless --trust-digests. Values that look secret are shown masked.

    Exit 0 identical, 1 differs, 2 bad input (missing, corrupted or truncated image),
    3 registry unreachable. An existing path wins over a registry reference.
    """
    from repro.cli import _wiring
    from repro.errors import ExitCode
    from repro.jsonout import dumps_stable
    from repro.oci import compare_images
    from repro.render.compare import differences_tree

    opener = _wiring.image_opener(_wiring.project_config())
    source_a, source_b = opener.open(image_a), opener.open(image_b)
    comparison = compare_images(
        source_a,
        source_b,
        platform=platform,
        ignore=tuple(ignore or ()),
        trust_digests=trust_digests,
    )
    if json_output:
        write_stdout(dumps_stable(comparison.to_json_dict()))
    else:
        stdout().print(differences_tree(comparison, max_diffs=max_diffs, verbose=verbose))
    if comparison.verdict != "identical":
        raise typer.Exit(int(ExitCode.NEGATIVE))
