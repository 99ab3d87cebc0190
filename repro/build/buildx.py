"""The one adapter to Docker and buildx (through python-on-whales).

Everything that starts docker or buildx processes lives here; callers get frozen
dataclasses and ReproErrors, never python-on-whales objects or exceptions.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, cast

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException
from python_on_whales.utils import run

from repro.build.model import BuilderStatus, BuildRequest
from repro.dockerfile import parse_dockerfile
from repro.dockerfile.secrets import secret_values
from repro.environment import BuilderFacts, EngineFacts
from repro.errors import BuildFailed, EngineError, ReproError
from repro.masking import Masker, secret_arguments

ENGINE_FIX = (
    "Start the engine with ./scripts/setup (it installs and starts dockerd with the "
    "containerd image store), or point DOCKER_HOST at a running engine."
)


def docker_binary() -> str:
    """The docker client to drive. Distribution clients match the daemon they ship with."""
    for candidate in ("/usr/bin/docker", shutil.which("docker")):
        if candidate and Path(candidate).exists():
            return candidate
    raise EngineError("the docker client was not found on PATH", hint=ENGINE_FIX)


def _client(host: str | None = None, context: str | None = None) -> DockerClient:
    return DockerClient(client_call=[docker_binary()], host=host, context=context)


def _client_for_builder(builder: str | None, host: str | None) -> tuple[DockerClient, str | None]:
    """The client and buildx --builder value for ``builder``.

    A docker context (a second daemon, say) is also a builder of the docker driver, but
    buildx only builds on the current context's: select such a builder with --context.
    """
    client = _client(host)
    if builder is None or host is not None:
        return client, builder
    try:
        contexts = {context.name for context in client.context.list()}
    except DockerException:
        contexts = set()
    if builder in contexts:
        return _client(context=builder), None
    return client, builder


def _tail(text: str, lines: int = 25) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def probe_engine(*, host: str | None = None, builder: str | None = None) -> EngineFacts:
    """Ask the engine and the selected buildx builder what they are."""
    client = _client(host)
    try:
        version = client.version()
    except DockerException as exc:
        raise EngineError(
            f"the Docker daemon does not answer{f' at {host}' if host else ''}: "
            f"{_tail(exc.stderr or str(exc), 3)}",
            hint=ENGINE_FIX,
        ) from exc
    try:
        buildx_version = client.buildx.version()
        inspected = client.buildx.inspect(builder, bootstrap=True)
        info = client.system.info()
    except DockerException as exc:
        raise EngineError(
            f"buildx is missing or broken: {_tail(exc.stderr or str(exc), 3)}",
            hint="Install docker-buildx (>= 0.13); ./scripts/setup does this on Debian.",
        ) from exc
    node = inspected.nodes[0] if inspected.nodes else None
    snapshotter = any(
        key == "driver-type" and "snapshotter" in value for key, value in info.driver_status or []
    )
    server = version.server
    return EngineFacts(
        server_version=str(server.version if server else "unknown"),
        api_version=str(server.api_version if server else "unknown"),
        client_version=str(version.client.version if version.client else "unknown"),
        buildx_version=buildx_version.split()[1]
        if len(buildx_version.split()) > 1
        else buildx_version,
        containerd_snapshotter=snapshotter,
        builder=BuilderFacts(
            name=str(inspected.name),
            driver=str(inspected.driver),
            buildkit_reported=str(node.version if node and node.version else "unknown"),
            platforms=tuple(node.platforms or ()) if node else (),
        ),
    )


def build_oci(request: BuildRequest, on_log: Callable[[str], None] | None = None) -> Path:
    """Build ``request`` into an OCI tar at ``request.dest``.

    Build log lines go to ``on_log`` as they arrive; a failure raises BuildFailed naming
    the failing step, with the tail of the log. Both are masked first: BuildKit prints
    ARG and ENV values expanded into its step names, so the values the Dockerfile and the
    build arguments give to secret-named variables are masked wherever they appear.
    """
    output = {"type": "oci", "dest": str(request.dest)}
    if request.rewrite_timestamp:
        output["rewrite-timestamp"] = "true"
    # The epoch goes last, so the build uses the epoch the record states (repro.project
    # refuses a --build-arg SOURCE_DATE_EPOCH that disagrees before anything is built).
    build_args = {**request.build_args, "SOURCE_DATE_EPOCH": str(request.source_date_epoch)}
    client, builder = _client_for_builder(request.builder, request.host)
    masker = _masker(request)
    recent: deque[str] = deque(maxlen=200)
    try:
        # Streaming plain progress is the only mode in which python-on-whales keeps
        # buildx's stderr, which holds the failing step.
        stream = client.buildx.build(
            request.context,
            file=request.dockerfile,
            target=request.target,
            platforms=list(request.platforms) or None,
            build_args=build_args,
            cache=False,
            output=output,
            provenance="provenance" in request.attest,
            sbom=_sbom(request),
            builder=builder,
            progress="plain",
            stream_logs=True,
        )
        for line in cast(Iterator[str], stream):
            text = masker.text(line.rstrip("\n"))
            recent.append(text)
            if on_log is not None:
                on_log(text)
    except DockerException as exc:
        log = "\n".join(recent) or masker.text(exc.stderr or str(exc))
        failing = next(
            (ln for ln in reversed(log.splitlines()) if ln.startswith("ERROR:")),
            "the build failed",
        )
        raise BuildFailed(failing.removeprefix("ERROR: "), log_tail=_tail(log)) from exc
    return request.dest


def _sbom(request: BuildRequest) -> bool | dict[str, str]:
    if "sbom" not in request.attest:
        return False
    # BuildKit's default scanner is docker/buildkit-syft-scanner on Docker Hub.
    return {"generator": request.sbom_generator} if request.sbom_generator else True


def _listed_builders(client: DockerClient) -> dict[str, dict[str, Any]]:
    """`docker buildx ls` as JSON, by name: the builders and, as docker-driver builders,
    the docker contexts. buildx 0.13 may list a builder twice; the first entry wins."""
    try:
        out = run(
            [*client.docker_cmd, "buildx", "ls", "--format", "{{json .}}"], return_stderr=False
        )
    except DockerException as exc:
        raise EngineError(
            f"`docker buildx ls` failed: {_tail(exc.stderr or str(exc), 3)}", hint=ENGINE_FIX
        ) from exc
    listed: dict[str, dict[str, Any]] = {}
    for line in out.splitlines():
        if line.strip():
            entry = json.loads(line)
            listed.setdefault(str(entry.get("Name", "")), entry)
    return listed


def _answering_nodes(entry: dict[str, Any]) -> int:
    return sum(1 for node in entry.get("Nodes") or [] if node.get("Status") == "running")


def _status(name: str, entry: dict[str, Any] | None, client: DockerClient) -> BuilderStatus:
    if entry is None:
        return BuilderStatus(
            name, known=False, up=False, detail="no buildx builder or docker context of this name"
        )
    driver = str(entry.get("Driver") or "")
    if entry.get("Err"):
        return BuilderStatus(name, known=True, up=False, driver=driver, detail=str(entry["Err"]))
    nodes = _answering_nodes(entry)
    if nodes == 0:
        # An inactive docker-container, kubernetes or remote builder starts (or connects)
        # on its first build; bootstrap it now, so a builder that cannot is known as down.
        try:
            client.buildx.inspect(name, bootstrap=True)
        except DockerException as exc:
            return BuilderStatus(name, True, False, driver, detail=_tail(exc.stderr or str(exc), 3))
        nodes = _answering_nodes(_listed_builders(client).get(name) or {})
        if nodes == 0:
            return BuilderStatus(name, True, False, driver, detail="no node is running")
    return BuilderStatus(name, known=True, up=True, driver=driver, nodes=nodes)


def current_builder() -> str:
    """The name of the builder buildx builds on when none is named (`docker buildx use`)."""
    try:
        return str(_client().buildx.inspect().name)
    except DockerException as exc:
        raise EngineError(
            f"buildx cannot name its current builder: {_tail(exc.stderr or str(exc), 3)}",
            hint=ENGINE_FIX,
        ) from exc


def builder_statuses(names: Sequence[str]) -> tuple[BuilderStatus, ...]:
    """Whether each builder of a pool answers, and with how many nodes (one `buildx ls`,
    plus a bootstrap for a builder whose nodes are not running yet)."""
    client = _client()
    listed = _listed_builders(client)
    return tuple(_status(name, listed.get(name), client) for name in names)


def _masker(request: BuildRequest) -> Masker:
    """A Masker for this build's secret ARG/ENV values and secret build arguments."""
    known = list(secret_arguments(request.build_args))
    dockerfile = request.dockerfile or request.context / "Dockerfile"
    with contextlib.suppress(OSError, ReproError):  # the build reports a broken Dockerfile
        known += secret_values(parse_dockerfile(dockerfile.read_bytes(), str(dockerfile)))
    return Masker(known)


class Buildx:
    """The Builder and EngineProbe the use cases receive: buildx on the local engine."""

    def build(self, request: BuildRequest, on_log: Callable[[str], None] | None = None) -> Path:
        return build_oci(request, on_log)

    def probe(self, builder: str | None = None) -> EngineFacts:
        return probe_engine(builder=builder)

    def statuses(self, names: Sequence[str]) -> tuple[BuilderStatus, ...]:
        return builder_statuses(names)

    def current(self) -> str:
        return current_builder()
