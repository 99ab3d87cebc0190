"""Pick the BlobSource for a path by looking at what is there."""

from __future__ import annotations

import stat
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
    try:
        mode = path.stat().st_mode  # stat, not open: opening a FIFO would block
    except FileNotFoundError:
        raise InputError(f"{path} does not exist") from None
    except OSError as exc:
        raise InputError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    if stat.S_ISDIR(mode):
        return OciLayoutDir(path)
    if not stat.S_ISREG(mode):
        raise InputError(
            f"{path} is {_file_kind(mode)}, not an image file or directory",
            hint="repro reads an image tar by seeking to each blob, which a stream cannot "
            "do: write it to a file first (e.g. `docker save -o image.tar IMAGE`, or "
            "`cat > image.tar`) and pass that file",
        )
    try:
        is_tar = tarfile.is_tarfile(path)
    except OSError as exc:
        raise InputError(f"{path} cannot be read: {exc.strerror or exc}") from exc
    if not is_tar:
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


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a pipe (FIFO)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _member_label(name: str) -> str:
    """``blob sha256:<hex>`` for a blob of an OCI layout, else the member name."""
    prefix = "blobs/sha256/"
    return f"blob sha256:{name.removeprefix(prefix)}" if name.startswith(prefix) else name
