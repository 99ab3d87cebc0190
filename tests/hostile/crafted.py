"""What the hostile tests hand repro, and how they watch it: crafted OCI layouts and tars
(deep nesting, corrupted equal-digest layers, slow gzip layers), broken config files,
extreme lockfiles, deep envelopes, planted secrets; and `run`, which starts repro as a
real process with a deadline and records what a user would see."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import tarfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

# A secret planted in images, build arguments and files; no output may ever show it.
SECRET = "hunter2-planted-s3cret"
TOKEN = "ghp_" + "Zq9" * 12  # a GitHub token shape


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


# -- running repro --------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a user saw: the exit code, both streams, and how long it took."""

    args: tuple[str, ...]
    code: int
    stdout: str
    stderr: str
    seconds: float

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def explain(self) -> str:
        return (
            f"repro {' '.join(self.args)} -> {self.code} in {self.seconds:.1f}s\n"
            f"--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"
        )


def repro_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "repro", *args]


def clean_env(**extra: str) -> dict[str, str]:
    # COSIGN_PASSWORD: keys made and read without a terminal (empty, as cosign allows).
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", "TERM": "dumb", "COSIGN_PASSWORD": ""}
    env.pop("FORCE_COLOR", None)
    return {**env, **extra}


def run(
    *args: str,
    cwd: Path | None = None,
    deadline: float = 60,
    stdin: bytes | None = None,
    env: Mapping[str, str] | None = None,
) -> Outcome:
    """repro ARGS as a real process; a test fails (not hangs) past ``deadline`` seconds."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            repro_command(*args),
            cwd=cwd,
            input=stdin,
            capture_output=True,
            timeout=deadline,
            env=dict(env) if env is not None else clean_env(),
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"repro {' '.join(args)} did not finish in {deadline}s") from exc
    return Outcome(
        tuple(args),
        done.returncode,
        done.stdout.decode("utf-8", "replace"),
        done.stderr.decode("utf-8", "replace"),
        time.monotonic() - started,
    )


def interrupt(
    *args: str,
    cwd: Path | None = None,
    after: float = 0,
    when_output: str | None = None,
    when_reading: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[Outcome, float]:
    """Start repro, press Ctrl-C (SIGINT to its process group, as a terminal does) once
    it printed ``when_output`` or holds a file under ``when_reading`` open, and ``after``
    more seconds passed; return what it showed and how long it took to exit after."""
    process = subprocess.Popen(
        repro_command(*args),
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=dict(env) if env is not None else clean_env(),
        start_new_session=True,  # its own process group, like a shell job
    )
    started = time.monotonic()
    seen = b""
    if when_output is not None:
        assert process.stderr is not None
        os.set_blocking(process.stderr.fileno(), False)
        while when_output.encode() not in seen:
            if process.poll() is not None or time.monotonic() - started > 300:
                raise AssertionError(f"{when_output!r} never appeared: {seen[-2000:]!r}")
            seen += process.stderr.read() or b""
            time.sleep(0.05)
        os.set_blocking(process.stderr.fileno(), True)
    if when_reading is not None:
        while not _holds_open(process.pid, when_reading):
            if process.poll() is not None or time.monotonic() - started > 300:
                raise AssertionError(f"repro never opened a file under {when_reading}")
            time.sleep(0.02)
    time.sleep(after)
    assert process.poll() is None, "repro finished before it could be interrupted"
    os.killpg(process.pid, signal.SIGINT)
    signalled = time.monotonic()
    try:
        stdout, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError("repro was still running 30 s after Ctrl-C") from None
    took = time.monotonic() - signalled
    outcome = Outcome(
        tuple(args),
        process.returncode,
        stdout.decode("utf-8", "replace"),
        (seen + stderr).decode("utf-8", "replace"),
        time.monotonic() - started,
    )
    return outcome, took


def _holds_open(pid: int, directory: Path) -> bool:
    """Whether process ``pid`` has a file under ``directory`` open (Linux /proc)."""
    fds = Path(f"/proc/{pid}/fd")
    try:
        targets = [os.readlink(fd) for fd in fds.iterdir()]
    except OSError:  # gone, or an fd closed while listing
        return False
    return any(target.startswith(f"{directory}/") for target in targets)


def assert_refused(outcome: Outcome, code: int, *messages: str, deadline: float = 30) -> None:
    """A clean failure: the exit code, each message on the ``error:`` lines, no
    traceback, no "this is a bug", within ``deadline``."""
    explained = outcome.explain()
    assert outcome.code == code, explained
    assert "Traceback" not in outcome.output, explained
    assert "this is a bug" not in outcome.output, explained
    flat = " ".join(outcome.stderr.split())
    assert "error: " in outcome.stderr, explained
    for message in messages:
        assert message in flat, explained
    assert outcome.seconds < deadline, explained


def files_under(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` (relative path -> bytes): what a refused run must leave as
    it found it."""
    found = sorted(root.rglob("*"))
    return {str(p.relative_to(root)): p.read_bytes() for p in found if p.is_file()}


def assert_no_secret(outcome: Outcome, *secrets: str) -> None:
    for secret in secrets or (SECRET, TOKEN):
        assert secret not in outcome.output, outcome.explain()


# -- OCI layouts, written blob by blob ---------------------------------------------------


def layer_tar(files: Mapping[str, bytes], *, mtime: int = 0) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(content), mtime, 0o644
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


@dataclass
class Layer:
    blob: bytes
    diff_id: str
    media_type: str = LAYER_TAR
    instruction: str = "RUN /bin/sh -c make # buildkit"

    @classmethod
    def of(cls, files: Mapping[str, bytes], *, instruction: str | None = None) -> Layer:
        tar = layer_tar(files)
        return cls(tar, digest_of(tar), LAYER_TAR, instruction or cls.instruction)


@dataclass
class Image:
    """An image to write as an OCI layout: layers, Env, labels, extra history."""

    layers: Sequence[Layer]
    env: Sequence[str] = ("PATH=/usr/bin",)
    labels: Mapping[str, str] = field(default_factory=dict)
    created: str = "2024-01-01T00:00:00Z"


def write_blob(root: Path, data: bytes) -> str:
    digest = digest_of(data)
    path = root / "blobs" / "sha256" / digest.removeprefix("sha256:")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return digest


def json_bytes(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True).encode()


def write_layout(root: Path, image: Image) -> Path:
    """``image`` as an OCI layout directory at ``root``; index.json names its manifest."""
    (root / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (root / "oci-layout").write_text('{"imageLayoutVersion":"1.0.0"}')
    descriptors = []
    for layer in image.layers:
        descriptors.append(
            {
                "mediaType": layer.media_type,
                "digest": write_blob(root, layer.blob),
                "size": len(layer.blob),
            }
        )
    config = {
        "architecture": "amd64",
        "os": "linux",
        "created": image.created,
        "config": {"Env": list(image.env), "Labels": dict(image.labels)},
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id for layer in image.layers]},
        "history": [
            {"created": image.created, "created_by": layer.instruction} for layer in image.layers
        ],
    }
    config_bytes = json_bytes(config)
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG,
            "digest": write_blob(root, config_bytes),
            "size": len(config_bytes),
        },
        "layers": descriptors,
    }
    manifest_bytes = json_bytes(manifest)
    index = {
        "schemaVersion": 2,
        "mediaType": OCI_INDEX,
        "manifests": [
            {
                "mediaType": OCI_MANIFEST,
                "digest": write_blob(root, manifest_bytes),
                "size": len(manifest_bytes),
                "platform": {"architecture": "amd64", "os": "linux"},
            }
        ],
    }
    (root / "index.json").write_bytes(json_bytes(index))
    return root


def pack(directory: Path, destination: Path) -> Path:
    """A layout directory as the tar `buildx --output type=oci,dest=...` writes."""
    with tarfile.open(destination, "w") as archive:
        for path in sorted(directory.rglob("*")):
            archive.add(path, arcname=path.relative_to(directory).as_posix(), recursive=False)
    return destination


def nested(depth: int, leaf: str = "0") -> str:
    """JSON text ``depth`` arrays deep."""
    return "[" * depth + leaf + "]" * depth


def slow_gzip_layer(gigabytes: int, mark: bytes) -> Layer:
    """A gzip layer of one file holding ``gigabytes`` GiB of zeros, then ``mark``, as many
    concatenated gzip members: a ~9 MB blob that takes seconds to stream, made in under
    one (one 64 MiB member repeated; its diffID hashed without building the tar)."""
    chunk = 64 << 20
    count = gigabytes * 16
    size = count * chunk + len(mark)
    info = tarfile.TarInfo("big")
    info.size, info.mode = size, 0o644
    header = info.tobuf(format=tarfile.PAX_FORMAT)
    padding = b"\0" * (-size % 512) + b"\0" * 1024  # the end-of-archive blocks
    zeros = b"\0" * chunk
    diff = hashlib.sha256(header)
    for _ in range(count):
        diff.update(zeros)
    diff.update(mark + padding)
    member = gzip.compress(zeros, compresslevel=1, mtime=0)
    blob = gzip.compress(header, mtime=0) + member * count + gzip.compress(mark + padding, mtime=0)
    return Layer(blob, "sha256:" + diff.hexdigest(), LAYER_GZIP, "RUN /bin/sh -c fill # buildkit")


def write_sparse_layout(root: Path, gigabytes: int) -> Path:
    """A layout whose one (uncompressed) layer is ``gigabytes`` GiB of zeros, stored as a
    sparse file: free to make, and seconds to hash on each side. Its tar is all
    end-of-archive blocks, so the layer is an empty, valid tar."""
    size = gigabytes << 30
    zeros = b"\0" * (64 << 20)
    digest = hashlib.sha256()
    for _ in range(size // len(zeros)):
        digest.update(zeros)
    layer_digest = "sha256:" + digest.hexdigest()
    write_layout(root, Image([Layer(b"", layer_digest)]))
    manifest = json.loads((root / "index.json").read_text())["manifests"][0]["digest"]
    manifest_path = root / "blobs" / "sha256" / manifest.removeprefix("sha256:")
    document = json.loads(manifest_path.read_bytes())
    document["layers"][0].update(digest=layer_digest, size=size)
    manifest_bytes = json_bytes(document)
    index = json.loads((root / "index.json").read_text())
    index["manifests"][0].update(digest=write_blob(root, manifest_bytes), size=len(manifest_bytes))
    (root / "index.json").write_bytes(json_bytes(index))
    with (root / "blobs" / "sha256" / layer_digest.removeprefix("sha256:")).open("wb") as blob:
        blob.truncate(size)
    return root
