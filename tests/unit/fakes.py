"""Fake adapters for the use cases' orchestration tests: no engine, no git, no network.

FakeBuilder writes a small OCI tar made from the build context's files (so the same
checkout gives the same image); FakePool is a pool of them by builder name, some down,
some failing; FakeSourceControl "clones" by copying a directory;
FakeRegistry keeps manifests and blobs in dicts, as a registry stores them.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tarfile
import tempfile
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from repro.build.model import BuilderStatus, BuildRequest
from repro.environment import BuilderFacts, EngineFacts
from repro.errors import BuildFailed, RegistryError
from repro.lockfile import Release, ReleaseBase, ReleaseImage
from repro.oci.mediatypes import INDEX_TYPES, MANIFEST_TYPES, OCI_INDEX
from repro.registry.model import ManifestResponse
from tests.unit.oci_factory import tar_directory, write_image

COMMIT = "c0ffee" + "0" * 34
DEAD = "Cannot connect to the Docker daemon at unix:///nowhere.sock"
COMMIT_EPOCH = 1700000000


@dataclass
class FakeClock:
    """A wall clock that only moves when slept on (or told to): no unit test waits."""

    time: float = 1_800_000_000.3
    naps: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.time += seconds


@dataclass
class FakeBuilder:
    """Builds an image holding the context's files, SOURCE_DATE_EPOCH and the build args.

    ``vary`` adds what differs between two builds (the destination file name), to make
    A and B differ as an unreproducible build would. A request with ``attest`` gets an
    attestation manifest in its index that differs from build to build, as BuildKit's.
    """

    vary: bool = False
    requests: list[BuildRequest] = field(default_factory=list)

    def build(self, request: BuildRequest, on_log: Callable[[str], None] | None = None) -> Path:
        self.requests.append(request)
        files: dict[str, tuple[bytes, Mapping[str, object]]] = {
            f"app/{path.relative_to(request.context).as_posix()}": (path.read_bytes(), {})
            for path in sorted(request.context.rglob("*"))
            if path.is_file()
        }
        files["etc/epoch"] = (str(request.source_date_epoch).encode(), {})
        for key, value in sorted(request.build_args.items()):
            files[f"etc/args/{key}"] = (value.encode(), {})
        if self.vary:
            files["etc/built-as"] = (request.dest.name.encode(), {})
        if on_log is not None:
            on_log(f"#1 building {request.dest.name}")
        # BuildKit's attestations record when and where each build ran: they differ.
        attestation = (
            f'{{"attest":"{",".join(request.attest)}","built":"{request.dest.name}"}}'.encode()
            if request.attest
            else None
        )
        with tempfile.TemporaryDirectory() as layout:
            write_image(Path(layout) / "oci", [files], attestation=attestation)
            tar_directory(Path(layout) / "oci", request.dest)
        return request.dest

    def probe(self, builder: str | None = None) -> EngineFacts:
        return EngineFacts(
            server_version="26.1.5",
            api_version="1.45",
            client_version="26.1.5",
            buildx_version="0.13.1",
            containerd_snapshotter=True,
            builder=BuilderFacts(builder or "default", "docker", "v0.0.0+unknown", ()),
        )


@dataclass
class FakeSourceControl:
    """A "repository" is a directory with a .git directory; HEAD is COMMIT."""

    dirty: list[str] = field(default_factory=list)
    tag: str | None = None
    history: list[str] = field(default_factory=list)
    remote: str | None = None
    clones: list[tuple[str, int, Mapping[str, str]]] = field(default_factory=list)

    def head_commit(self, repo: Path) -> str:
        return COMMIT

    def dirty_paths(self, repo: Path, path: Path) -> list[str]:
        return list(self.dirty)

    def commit_epoch(self, path: Path) -> int:
        return COMMIT_EPOCH

    def clone_at(
        self, source: Path, commit: str, dest: Path, *, umask: int, env: Mapping[str, str]
    ) -> Path:
        self.clones.append((commit, umask, dict(env)))
        # What `repro release` writes after the commit is not in a checkout of it.
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns(".git", "repro.lock", ".repro"))
        return dest

    def tracked_files(self, repo: Path) -> list[str]:
        return sorted(
            str(p.relative_to(repo))
            for p in repo.rglob("*")
            if p.is_file() and ".git" not in p.parts
        )

    def exact_tag(self, repo: Path, commit: str = "HEAD") -> str | None:
        return self.tag

    def log(self, repo: Path, old: str, new: str) -> list[str]:
        return list(self.history)

    def has_commit(self, repo: Path, commit: str) -> bool:
        return commit == COMMIT

    def remote_url(self, repo: Path) -> str | None:
        return self.remote


@dataclass
class FakePool:
    """Builders by name: each builds like FakeBuilder; some are down, some go down."""

    up: dict[str, bool] = field(default_factory=lambda: {"default": True, "repro-b": True})
    failing: set[str] = field(default_factory=set)  # contexts whose build fails
    varying: set[str] = field(default_factory=set)  # contexts that build differently each time
    dies_after: dict[str, int] = field(default_factory=dict)  # builder -> builds it survives
    built: list[tuple[str, str | None]] = field(default_factory=list)  # (context, builder)
    requests: list[BuildRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def build(self, request: BuildRequest, on_log: Callable[[str], None] | None = None) -> Path:
        name = request.builder or "default"
        with self.lock:
            left = self.dies_after.get(name)
            if left is not None:
                if left == 0:
                    self.up[name] = False
                self.dies_after[name] = left - 1
            if not self.up.get(name, False):
                raise BuildFailed(f"{DEAD}. Is the docker daemon running?")
            self.built.append((request.context.name, request.builder))
            self.requests.append(request)
        if request.context.name in self.failing:
            raise BuildFailed(
                'process "/bin/sh -c false" did not complete successfully: exit code: 1',
                log_tail="#5 [2/2] RUN false\n#5 ERROR: exit code: 1",
            )
        vary = request.context.name in self.varying
        return FakeBuilder(vary=vary).build(request, on_log)

    def statuses(self, names: Sequence[str]) -> tuple[BuilderStatus, ...]:
        with self.lock:
            return tuple(
                BuilderStatus(
                    name,
                    known=name in self.up,
                    up=self.up.get(name, False),
                    driver="docker",
                    nodes=1,
                    detail="" if self.up.get(name) else DEAD,
                )
                for name in names
            )

    def current(self) -> str:
        return "default"


def git_project(root: Path, dockerfile: str = "FROM scratch\nCOPY . /app\n") -> Path:
    """A directory that repro.project takes for a git work tree, with a Dockerfile."""
    root.mkdir(parents=True, exist_ok=True)
    (root / ".git").mkdir()
    (root / "Dockerfile").write_text(dockerfile)
    (root / "hello.txt").write_text("hello\n")
    return root


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class FakeRegistry:
    """A registry in memory: what is pushed is kept byte for byte, by digest and by tag.

    ``referrers_api`` True: it answers the OCI 1.1 referrers API as the distribution spec
    says (every manifest whose subject is the digest, listed with its artifactType, else
    its config's media type, and its annotations); False: 404, as the local
    docker-registry 2.8 does. ``referrer_requests`` counts the API calls.
    """

    host: str = "registry.example"
    plain_http: bool = False
    referrers_api: bool = False
    manifests: dict[tuple[str, str], tuple[bytes, str]] = field(default_factory=dict)
    blobs: dict[tuple[str, str], bytes] = field(default_factory=dict)
    pushed_archives: list[tuple[Path, str]] = field(default_factory=list)
    referrer_requests: int = 0

    def referrers(self, repository: str, digest: str) -> bytes | None:
        self.referrer_requests += 1
        if not self.referrers_api:
            return None
        listed = []
        for (repo, reference), (body, media_type) in sorted(self.manifests.items()):
            if repo != repository or reference != _digest(body):
                continue  # each manifest once, by its digest
            try:
                document = json.loads(body)
            except ValueError:
                continue
            subject = document.get("subject") if isinstance(document, dict) else None
            if not isinstance(subject, dict) or subject.get("digest") != digest:
                continue
            descriptor: dict[str, object] = {
                "mediaType": media_type,
                "digest": reference,
                "size": len(body),
                "artifactType": document.get("artifactType")
                or document.get("config", {}).get("mediaType"),
            }
            if document.get("annotations"):
                descriptor["annotations"] = document["annotations"]
            listed.append(descriptor)
        return json.dumps(
            {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": listed}
        ).encode()

    def put_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        digest = _digest(body)
        self.manifests[(repository, reference)] = (body, media_type)
        self.manifests[(repository, digest)] = (body, media_type)
        return digest

    def find_manifest(self, repository: str, reference: str) -> ManifestResponse | None:
        found = self.manifests.get((repository, reference))
        if found is None:
            return None
        return ManifestResponse(_digest(found[0]), found[1], found[0])

    def get_manifest(self, repository: str, reference: str) -> ManifestResponse:
        found = self.find_manifest(repository, reference)
        if found is None:
            raise RegistryError(f"{self.host}/{repository}:{reference} was not found")
        return found

    def resolve(self, repository: str, reference: str) -> ManifestResponse:
        return self.get_manifest(repository, reference)

    def push_blob(self, repository: str, data: bytes) -> str:
        self.blobs[(repository, _digest(data))] = data
        return _digest(data)

    def get_blob(self, repository: str, digest: str) -> bytes:
        return self.blobs[(repository, digest)]

    def push_archive(self, archive: Path, reference: str, plain_http: bool) -> None:
        """What skopeo copy --all --preserve-digests does with an OCI archive, for a tag."""
        self.pushed_archives.append((archive, reference))
        repository, _, tag = reference.partition("/")[2].rpartition(":")
        with tarfile.open(archive) as tar:

            def member(name: str) -> bytes:
                handle = tar.extractfile(name)
                assert handle is not None
                return handle.read()

            index = json.loads(member("index.json"))
            (top,) = index["manifests"]
            body = member(f"blobs/sha256/{top['digest'].removeprefix('sha256:')}")
            assert top["mediaType"] in MANIFEST_TYPES | INDEX_TYPES
            if top["mediaType"] in INDEX_TYPES:  # its manifests first, by digest
                for child in json.loads(body)["manifests"]:
                    data = member(f"blobs/sha256/{child['digest'].removeprefix('sha256:')}")
                    self.put_manifest(repository, child["digest"], data, child["mediaType"])
            self.put_manifest(repository, tag, body, top["mediaType"])


def recorded_release(
    version: str,
    *,
    bases: tuple[ReleaseBase, ...],
    digest: str,
    images: tuple[ReleaseImage, ...],
    build_args: Mapping[str, str] | None = None,
) -> Release:
    """A release as repro.lock records it, with the facts no test varies filled in (one
    commit, the root Dockerfile, epoch 1700000000, BuildKit 0.13)."""
    return Release(
        version=version,
        commit="c" * 40,
        tag=None,
        context=".",
        dockerfile="Dockerfile",
        dockerfile_sha256="e" * 64,
        source_date_epoch=1700000000,
        build_args=dict(build_args or {}),
        target=None,
        platforms=(),
        bases=bases,
        digest=digest,
        images=images,
        buildkit="0.13.x",
        buildx="0.13.1",
        verified_at="2026-01-01T00:00:00Z",
    )
