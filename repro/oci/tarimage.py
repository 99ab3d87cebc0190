"""Images packed in one tar file, read in place by seeking to each member."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from repro.errors import InputError
from repro.jsonout import canonical_json, load_json
from repro.oci import mediatypes
from repro.oci.digests import buffered, check_digest, digest_hex, sha256_digest
from repro.oci.layerstream import forget_members

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer


@dataclass(frozen=True)
class TarMember:
    offset: int
    size: int
    truncated: bool


def _member_name(name: str) -> str:
    return name.removeprefix("./").lstrip("/")


class TarMemberIndex:
    """Name -> (offset, size) for the regular files of an uncompressed tar; no extraction."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.members: dict[str, TarMember] = {}
        self.truncated = False
        try:
            file_size = path.stat().st_size
            archive = tarfile.open(path, "r:")  # noqa: SIM115 - closed below
        except FileNotFoundError as exc:
            raise InputError(f"{path} does not exist") from exc
        except (tarfile.TarError, OSError) as exc:
            raise InputError(
                f"{path} is not a readable uncompressed tar: {exc}",
                hint="pass an OCI layout tar (buildx --output type=oci) or a docker save tar",
            ) from exc
        with archive:
            while True:
                try:
                    info = archive.next()
                except (tarfile.TarError, EOFError, OSError):
                    # Header reads ran past the end: the last member is cut short.
                    self.truncated = True
                    break
                if info is None:
                    break
                forget_members(archive)
                if info.isreg():
                    end = info.offset_data + info.size
                    self.members[_member_name(info.name)] = TarMember(
                        info.offset_data, info.size, truncated=end > file_size
                    )

    def has(self, name: str) -> bool:
        return name in self.members

    def member(self, name: str, *, what: str) -> TarMember:
        found = self.members.get(name)
        if found is None:
            suffix = " (the tar file is truncated)" if self.truncated else ""
            raise InputError(f"{what} is missing from {self.path}{suffix}")
        return found

    def open(self, name: str, *, what: str) -> BinaryIO:
        found = self.member(name, what=what)
        return buffered(_FileSlice(self.path, found.offset, found.size))

    def read(self, name: str, *, what: str, limit: int = 32 << 20) -> bytes:
        found = self.member(name, what=what)
        if found.size > limit:
            raise InputError(f"{what} in {self.path} is too large ({found.size} bytes)")
        with self.open(name, what=what) as stream:
            data = stream.read()
        if len(data) != found.size:
            raise InputError(f"{what} in {self.path} is truncated")
        return data


class _FileSlice(io.RawIOBase):
    """A read-only window onto part of a file; each opens its own handle (thread safe)."""

    def __init__(self, path: Path, offset: int, size: int) -> None:
        super().__init__()
        self._handle = path.open("rb")
        self._handle.seek(offset)
        self._remaining = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer, /) -> int:
        view = memoryview(buffer).cast("B")
        wanted = min(len(view), self._remaining)
        if wanted <= 0:
            return 0
        count = self._handle.readinto(view[:wanted])
        self._remaining -= count
        return count

    def close(self) -> None:
        self._handle.close()
        super().close()


class OciTar:
    """A BlobSource for an OCI image layout packed in a tar (buildx --output type=oci)."""

    def __init__(self, path: Path | str, *, members: TarMemberIndex | None = None) -> None:
        self.path = Path(path)
        self._tar = members if members is not None else TarMemberIndex(self.path)
        if not self._tar.has("index.json"):
            raise InputError(f"{self.path} holds no index.json: not an OCI layout tar")

    @property
    def location(self) -> str:
        return str(self.path)

    def index_bytes(self) -> bytes:
        return self._tar.read("index.json", what="index.json")

    def open_blob(self, digest: str) -> BinaryIO:
        return self._tar.open(f"blobs/sha256/{digest_hex(digest)}", what=f"blob {digest}")

    def blob_size(self, digest: str) -> int:
        name = f"blobs/sha256/{digest_hex(digest)}"
        return self._tar.member(name, what=f"blob {digest}").size


class DockerArchiveTar:
    """A BlobSource for a `docker save` tar without an OCI index (manifest.json only).

    Each manifest.json entry becomes a synthesised image manifest so the comparison code
    sees one shape of image. Layer digests come from the blob path when it names one;
    old-style `<id>/layer.tar` layers are uncompressed, so their digest is the diffID.
    """

    def __init__(self, path: Path | str, *, members: TarMemberIndex | None = None) -> None:
        self.path = Path(path)
        self._tar = members if members is not None else TarMemberIndex(self.path)
        self._files_by_digest: dict[str, str] = {}
        self._synthesised: dict[str, bytes] = {}
        entries = _load_json(
            self._tar.read("manifest.json", what="manifest.json"), self.path, "manifest.json"
        )
        if not isinstance(entries, list) or not entries:
            raise InputError(f"{self.path}: manifest.json lists no images")
        descriptors = [self._synthesise(entry) for entry in entries]
        index = {"schemaVersion": 2, "mediaType": mediatypes.OCI_INDEX, "manifests": descriptors}
        self._index = canonical_json(index)

    @property
    def location(self) -> str:
        return str(self.path)

    def index_bytes(self) -> bytes:
        return self._index

    def open_blob(self, digest: str) -> BinaryIO:
        if digest in self._synthesised:
            return io.BytesIO(self._synthesised[digest])
        return self._tar.open(self._file_for(digest), what=f"blob {digest}")

    def blob_size(self, digest: str) -> int:
        if digest in self._synthesised:
            return len(self._synthesised[digest])
        return self._tar.member(self._file_for(digest), what=f"blob {digest}").size

    def _file_for(self, digest: str) -> str:
        name = self._files_by_digest.get(digest)
        if name is None:
            raise InputError(f"blob {digest} is missing from {self.path}")
        return name

    def _synthesise(self, entry: Any) -> dict[str, Any]:
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str):
            raise InputError(f"{self.path}: malformed manifest.json entry")
        config_name = _member_name(entry["Config"])
        config_bytes = self._tar.read(config_name, what=config_name)
        config_digest = sha256_digest(config_bytes)
        self._files_by_digest[config_digest] = config_name
        config = _load_json(config_bytes, self.path, config_name)
        rootfs = config.get("rootfs") if isinstance(config, dict) else None
        diff_ids = rootfs.get("diff_ids", []) if isinstance(rootfs, dict) else []
        listed = entry.get("Layers") or []
        if not isinstance(listed, list):
            raise InputError(f"{self.path}: manifest.json `Layers` is not a list")
        layers = []
        for position, raw_name in enumerate(listed):
            name = _member_name(str(raw_name))
            digest = self._layer_digest(name, diff_ids, position)
            self._files_by_digest[digest] = name
            size = self._tar.member(name, what=f"layer {name}").size
            layers.append({"mediaType": mediatypes.OCI_LAYER_TAR, "digest": digest, "size": size})
        manifest = {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_MANIFEST,
            "config": {
                "mediaType": mediatypes.OCI_CONFIG,
                "digest": config_digest,
                "size": len(config_bytes),
            },
            "layers": layers,
        }
        manifest_bytes = canonical_json(manifest)
        manifest_digest = sha256_digest(manifest_bytes)
        self._synthesised[manifest_digest] = manifest_bytes
        descriptor: dict[str, Any] = {
            "mediaType": mediatypes.OCI_MANIFEST,
            "digest": manifest_digest,
            "size": len(manifest_bytes),
        }
        tags = entry.get("RepoTags")
        if isinstance(tags, list) and tags:
            descriptor["annotations"] = {"io.containerd.image.name": str(tags[0])}
        return descriptor

    def _layer_digest(self, name: str, diff_ids: Any, position: int) -> str:
        if name.startswith("blobs/sha256/"):
            return check_digest("sha256:" + name.removeprefix("blobs/sha256/"), where=name)
        if isinstance(diff_ids, list) and position < len(diff_ids):
            return check_digest(diff_ids[position], where=f"{self.path} config rootfs")
        raise InputError(f"{self.path}: layer {name} has no diffID in its config")


def _load_json(data: bytes, path: Path, member: str) -> Any:
    return load_json(data, f"{member} in the docker save archive {path}")
