"""Pick the BlobSource for a path by looking at what is there."""

from __future__ import annotations

import tarfile
from pathlib import Path

from repro.errors import InputError
from repro.oci.blobsource import BlobSource
from repro.oci.layout import OciLayoutDir
from repro.oci.tarimage import DockerArchiveTar, OciTar, TarMemberIndex


def open_image(path: Path | str) -> BlobSource:
    """An OCI layout directory, an OCI layout tar, or a `docker save` tar.

    A tar with index.json is read as an OCI layout even if it also has manifest.json
    (newer `docker save` writes both; the OCI index keeps the real manifests).
    """
    path = Path(path)
    if path.is_dir():
        return OciLayoutDir(path)
    if not path.exists():
        raise InputError(f"{path} does not exist")
    if not tarfile.is_tarfile(path):
        raise InputError(
            f"{path} is neither an OCI layout directory nor a tar file",
            hint="export with `docker buildx build --output type=oci,dest=image.tar` "
            "or `docker save -o image.tar IMAGE`",
        )
    members = TarMemberIndex(path)
    if members.has("index.json"):
        return OciTar(path, members=members)
    if members.has("manifest.json"):
        return DockerArchiveTar(path, members=members)
    if members.truncated:
        cut = [name for name, member in members.members.items() if member.truncated]
        inside = f" inside {_member_label(cut[-1])}" if cut else ""
        raise InputError(
            f"{path} is truncated{inside}: index.json and manifest.json are missing",
            hint="the image file is incomplete; export it again",
        )
    raise InputError(f"{path} holds neither index.json nor manifest.json: not an image tar")


def _member_label(name: str) -> str:
    """``blob sha256:<hex>`` for a blob of an OCI layout, else the member name."""
    prefix = "blobs/sha256/"
    return f"blob sha256:{name.removeprefix(prefix)}" if name.startswith(prefix) else name
