"""Each sign-off check, result by result: status, evidence, summary and fix, with the
boundary and asymmetric cases (a uid:gid pair that disagrees, a value that differs only
at its end)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from repro.dockerfile import parse_dockerfile
from repro.lockfile import parse_lockfile
from repro.signoff.checks import (
    apt,
    base_pins,
    dockerignore,
    exec_form,
    expose,
    healthcheck,
    labels,
    non_root,
    reproducible,
    secrets,
    size,
    toolchain,
)
from repro.signoff.context import Verification
from repro.signoff.facts import FinalFile, ImageFacts, SecretInLayer
from repro.signoff.model import CheckResult, PlatformSize, Status, WastedFile
from repro.signoff.secrets import Finding
from tests.unit.test_signoff import ctx, facts

NON_ROOT_FIX = (
    "Add `USER 10001:10001` (a numeric uid) to the final stage, after files are in place."
)


@pytest.mark.parametrize(
    ("user", "shown"),
    [
        (None, "not set (root)"),
        ("", "not set (root)"),
        ("root", "'root'"),
        ("0", "'0'"),
        ("0:0", "'0:0'"),
        ("root:root", "'root:root'"),
        ("0:10001", "'0:10001'"),  # uid 0 with a non-root group is still root
        ("root:app", "'root:app'"),
        ("0:10001:x", "'0:10001:x'"),  # the user half ends at the first colon
    ],
)
def test_non_root_fails_when_the_user_half_is_root(user: str | None, shown: str) -> None:
    container = {} if user is None else {"User": user}
    result = non_root.check(ctx(facts(container)))
    assert result == CheckResult(
        "non-root",
        "Runs as a non-root user",
        Status.FAIL,
        (f"config User: {shown}",),
        NON_ROOT_FIX,
        "the container runs as root",
    )


@pytest.mark.parametrize("user", ["10001", "10001:0", "app", "app:root", "10001:10001", "1"])
def test_non_root_passes_when_the_user_half_is_not_root(user: str) -> None:
    result = non_root.check(ctx(facts({"User": user})))
    assert result == CheckResult(
        "non-root",
        "Runs as a non-root user",
        Status.PASS,
        (f"config User: {user}",),
        summary="non-root user",
    )


def test_non_root_names_the_last_user_instruction_of_the_final_stage() -> None:
    dockerfile = parse_dockerfile(
        b"FROM busybox AS build\nUSER 0\nFROM busybox\nUSER 0\nUSER 10001\nRUN true\n"
        b"USER 10002:0\n",
        "app/Dockerfile",
    )
    result = non_root.check(ctx(facts({"User": "10002:0"}), dockerfile=dockerfile))
    assert result.status is Status.PASS
    assert result.evidence == ("config User: 10002:0", "app/Dockerfile:7: USER 10002:0")


def test_non_root_says_when_the_final_stage_has_no_user() -> None:
    dockerfile = parse_dockerfile(b"FROM busybox\nUSER 10001\nFROM busybox\n", "Dockerfile")
    result = non_root.check(ctx(facts(), dockerfile=dockerfile))
    assert result.status is Status.FAIL
    assert result.evidence == (
        "config User: not set (root)",
        "Dockerfile: no USER in the final stage",
    )


def test_non_root_fails_when_one_platform_of_several_is_root() -> None:
    amd64 = facts({"User": "10001"})
    arm64 = facts({"User": "0:10001"})
    arm64 = type(arm64)(**{**arm64.__dict__, "platform": "linux/arm64"})
    result = non_root.check(ctx(amd64, arm64))
    assert result.status is Status.FAIL
    assert result.evidence == (
        "[linux/amd64] config User: 10001",
        "[linux/arm64] config User: '0:10001'",
    )


# --- size: the budget is inclusive, waste warns below 95% efficiency ---

SIZE_FIX = (
    "Start from a -slim base, build in a separate stage, and clean up in the same RUN that "
    "made the files (a later rm leaves them in the earlier layer)."
)
MB_200 = 200_000_000


def sized(
    uncompressed: int = MB_200,
    wasted: int = 0,
    offenders: tuple[WastedFile, ...] = (),
    platform: str = "linux/amd64",
) -> ImageFacts:
    image = facts()
    size = PlatformSize(platform, 80_000_000, uncompressed, wasted, (), offenders)
    return replace(image, platform=platform, size=size)


def size_lines(budget: str = "", wasted: str = "0 B", efficiency: str = "100.0%") -> list[str]:
    return [
        f"200.0 MB uncompressed, 80.0 MB compressed, 0 layers{budget}",
        f"wasted {wasted} (overwritten or deleted by later layers), efficiency {efficiency}",
    ]


def test_size_at_exactly_the_budget_passes() -> None:
    result = size.check(ctx(sized(), size_budget=MB_200))
    assert result == CheckResult(
        "size",
        "Image size within budget (wasted bytes and efficiency)",
        Status.PASS,
        tuple(size_lines("; budget 200.0 MB")),
        summary="within budget",
    )


def test_size_one_byte_over_the_budget_fails_and_says_exceeded() -> None:
    result = size.check(ctx(sized(MB_200 + 1), size_budget=MB_200))
    assert result == CheckResult(
        "size",
        "Image size within budget (wasted bytes and efficiency)",
        Status.FAIL,
        tuple(size_lines("; budget 200.0 MB EXCEEDED")),
        SIZE_FIX,
        "over the size budget",
    )


def test_size_without_a_budget_warns_and_says_how_to_set_one() -> None:
    result = size.check(ctx(sized()))
    assert result == CheckResult(
        "size",
        "Image size within budget (wasted bytes and efficiency)",
        Status.WARN,
        tuple(size_lines()),
        "Set a budget: --size-budget 200MB or [tool.repro.signoff] size-budget.",
        "no size budget set",
    )


def test_size_waste_of_exactly_five_percent_is_not_a_warning() -> None:
    result = size.check(ctx(sized(wasted=10_000_000), size_budget=MB_200))
    assert result == CheckResult(
        "size",
        "Image size within budget (wasted bytes and efficiency)",
        Status.PASS,
        tuple(size_lines("; budget 200.0 MB", "10.0 MB", "95.0%")),
        summary="within budget",
    )


def test_size_waste_just_over_five_percent_warns_within_the_budget() -> None:
    result = size.check(ctx(sized(wasted=10_000_001), size_budget=MB_200))
    assert result == CheckResult(
        "size",
        "Image size within budget (wasted bytes and efficiency)",
        Status.WARN,
        tuple(size_lines("; budget 200.0 MB", "10.0 MB", "95.0%")),
        SIZE_FIX,
        "within budget, but later layers waste space",
    )


def test_size_shows_the_five_biggest_wasted_files_with_their_layer() -> None:
    offenders = tuple(
        WastedFile(f"/app/f{n}", 0, 1_000_000 - n, "deleted in layer 1") for n in range(6)
    )
    result = size.check(ctx(sized(wasted=5_999_985, offenders=offenders), size_budget=MB_200))
    assert result.status is Status.PASS
    assert result.evidence == (
        *size_lines("; budget 200.0 MB", "6.0 MB", "97.0%"),
        "layer 0 (ADD rootfs.tar /): /app/f0 1.0 MB, deleted in layer 1",
        "layer 0 (ADD rootfs.tar /): /app/f1 1000.0 kB, deleted in layer 1",
        "layer 0 (ADD rootfs.tar /): /app/f2 1000.0 kB, deleted in layer 1",
        "layer 0 (ADD rootfs.tar /): /app/f3 1000.0 kB, deleted in layer 1",
        "layer 0 (ADD rootfs.tar /): /app/f4 1000.0 kB, deleted in layer 1",
    )


def test_size_fails_when_only_the_first_platform_is_over_and_warns_when_only_it_wastes() -> None:
    offender = (WastedFile("/big", 0, 20_000_000, "overwritten in layer 1"),)
    first = sized(MB_200 + 1, wasted=20_000_000, offenders=offender)
    second = sized(platform="linux/arm64")
    result = size.check(ctx(first, second, size_budget=MB_200))
    assert result.status is Status.FAIL
    assert result.evidence == (
        "[linux/amd64] 200.0 MB uncompressed, 80.0 MB compressed, 0 layers; budget 200.0 MB "
        "EXCEEDED",
        "[linux/amd64] wasted 20.0 MB (overwritten or deleted by later layers), efficiency 90.0%",
        "[linux/amd64] layer 0 (ADD rootfs.tar /): /big 20.0 MB, overwritten in layer 1",
        "[linux/arm64] 200.0 MB uncompressed, 80.0 MB compressed, 0 layers; budget 200.0 MB",
        "[linux/arm64] wasted 0 B (overwritten or deleted by later layers), efficiency 100.0%",
    )
    wasteful_first = size.check(ctx(sized(wasted=20_000_000), second, size_budget=MB_200 + 1))
    assert (wasteful_first.status, wasteful_first.summary) == (
        Status.WARN,
        "within budget, but later layers waste space",
    )


# --- no-secrets: every place a secret can hide, each finding masked and located ---

SECRETS_TITLE = "No secrets in Env, ARG defaults, labels, history or layer files"
SECRETS_FIX = (
    "Remove the secret from the build context and history, rotate it, and pass build-time "
    "secrets with `RUN --mount=type=secret` (deleting a file in a later layer does not "
    "remove it from the image)."
)
LEAKY_LABELS = {"z.note": "fine", "deploy.password": "pw12345"}


def test_no_secrets_passes_a_clean_image_and_says_what_it_scanned() -> None:
    result = secrets.check(ctx(facts({"Env": ["PATH=/bin"], "Labels": {"a": "b"}})))
    assert result == CheckResult(
        "no-secrets",
        SECRETS_TITLE,
        Status.PASS,
        summary="Env, labels, history and every layer's files scanned",
    )


def test_no_secrets_reports_each_finding_where_it_is_and_masked() -> None:
    history: list[Any] = [
        "not an entry",
        {"empty_layer": True},  # no created_by: passed over, the next ones still scanned
        {"created_by": "RUN /bin/sh -c DB_PASSWORD=hunter22 make # buildkit"},
        {"created_by": "RUN /bin/sh -c curl --password=abcd1234 x"},
    ]
    amd64 = replace(
        facts(
            {"Env": ["PATH=/bin", "API_TOKEN=s3cr3t=with=equals"]},
            history=history,
        ),
        secrets=(
            SecretInLayer(0, "/app/.env", Finding(".env file", "(file)")),
            SecretInLayer(
                0,
                "/root/.ssh/id_deploy",
                Finding("private key (PEM RSA PRIVATE KEY)", "sha256:4831d0e9…(20 chars)"),
                deleted_in=1,
            ),
        ),
    )
    amd64 = replace(
        amd64,
        config={**amd64.config, "config": {**amd64.container_config, "Labels": LEAKY_LABELS}},
    )
    arm64 = replace(facts(), platform="linux/arm64", config={"config": {}})  # no history
    dockerfile = parse_dockerfile(b"FROM busybox\nRUN DB_PASSWORD=hunter22 make\n", "Dockerfile")
    result = secrets.check(ctx(amd64, arm64, dockerfile=dockerfile))
    assert result == CheckResult(
        "no-secrets",
        SECRETS_TITLE,
        Status.FAIL,
        (
            "[linux/amd64] config Env API_TOKEN: secret assignment (API_TOKEN=) "
            "sha256:8e4a69e6…(18 chars)",
            "[linux/amd64] config Label deploy.password: secret assignment (deploy.password=) "
            "sha256:4121a448…(7 chars)",
            "[linux/amd64] Dockerfile:2 (history created_by): secret assignment (DB_PASSWORD=) "
            "sha256:20d2fe5e…(8 chars)",
            "[linux/amd64] history[3] (history created_by): secret assignment (password=) "
            "sha256:e9cee71a…(8 chars)",
            "[linux/amd64] layer 0 (ADD rootfs.tar /): /app/.env: .env file",
            "[linux/amd64] layer 0 (ADD rootfs.tar /): /root/.ssh/id_deploy: private key "
            "(PEM RSA PRIVATE KEY) sha256:4831d0e9…(20 chars) (removed in layer 1, still ships "
            "in layer 0)",
        ),
        SECRETS_FIX,
        "6 secret(s) found",
    )


# --- expose: EXPOSE against the ports ENTRYPOINT + CMD bind ---

EXPOSE_TITLE = "EXPOSE matches the port the app listens on"
EXPOSE_FIX = (
    "Make EXPOSE name the port the command binds (e.g. EXPOSE 8000 with --bind 0.0.0.0:8000)."
)


def served(
    exposed: tuple[str, ...], entrypoint: list[str], cmd: list[str] | None = None
) -> ImageFacts:
    container: dict[str, Any] = {"ExposedPorts": {port: {} for port in exposed}}
    container["Entrypoint"] = entrypoint
    if cmd is not None:
        container["Cmd"] = cmd
    return facts(container)


def test_expose_passes_when_the_entrypoint_binds_the_exposed_port() -> None:
    image = served(("8000/tcp",), ["gunicorn", "--bind", "0.0.0.0:8000"], ["app:application"])
    assert expose.check(ctx(image)) == CheckResult(
        "expose",
        EXPOSE_TITLE,
        Status.PASS,
        ("EXPOSE 8000; command binds 8000",),
        summary="ports match",
    )


def test_expose_passes_when_nothing_is_exposed_or_bound() -> None:
    assert expose.check(ctx(served((), ["python3", "app.py"]))) == CheckResult(
        "expose",
        EXPOSE_TITLE,
        Status.PASS,
        ("EXPOSE (none); command binds (no --bind/--port found)",),
        summary="ports match",
    )


def test_expose_fails_when_a_bound_port_is_not_exposed() -> None:
    image = served(("9000/udp", "8000/tcp"), ["app"], ["--bind=0.0.0.0:8080", "--port", "8000"])
    assert expose.check(ctx(image)) == CheckResult(
        "expose",
        EXPOSE_TITLE,
        Status.FAIL,
        ("EXPOSE 8000, 9000; command binds 8000, 8080",),
        EXPOSE_FIX,
        "EXPOSE and the bound port differ",
    )


@pytest.mark.parametrize(
    ("image", "shown"),
    [
        (
            served(("8000/tcp",), ["python3", "app.py"]),
            "EXPOSE 8000; command binds (no --bind/--port found)",
        ),
        (served((), ["app", "-p", "8000"]), "EXPOSE (none); command binds 8000"),
    ],
)
def test_expose_warns_when_only_one_side_names_a_port(image: ImageFacts, shown: str) -> None:
    assert expose.check(ctx(image)) == CheckResult(
        "expose",
        EXPOSE_TITLE,
        Status.WARN,
        (shown,),
        EXPOSE_FIX,
        "cannot confirm the exposed port from the command",
    )


def test_expose_fails_when_one_platform_differs_even_if_another_only_warns() -> None:
    unconfirmed = replace(served(("8000/tcp",), ["app"]), platform="linux/amd64")
    wrong = replace(served(("8000/tcp",), ["app", "--port=9000"]), platform="linux/arm64")
    result = expose.check(ctx(unconfirmed, wrong))
    assert (result.status, result.summary) == (Status.FAIL, "EXPOSE and the bound port differ")
    assert result.evidence == (
        "[linux/amd64] EXPOSE 8000; command binds (no --bind/--port found)",
        "[linux/arm64] EXPOSE 8000; command binds 9000",
    )
    assert expose.check(ctx(wrong, unconfirmed)).status is Status.FAIL


# --- apt hygiene: each install step and the lists and caches that ship ---

APT_TITLE = "apt: --no-install-recommends, lists removed in the same RUN, no caches shipped"
APT_FIX = (
    "RUN apt-get update && apt-get install -y --no-install-recommends PKG "
    "&& rm -rf /var/lib/apt/lists/*  (one RUN; or use a cache mount for /var/lib/apt)"
)
CLEAN_INSTALL = (
    "RUN /bin/sh -c apt-get update && apt-get install -y --no-install-recommends libpq5 "
    "&& rm -rf /var/lib/apt/lists/* # buildkit"
)


def test_apt_passes_clean_installs_and_apt_bookkeeping_files_and_counts_the_steps() -> None:
    history: list[Any] = [
        "not an entry",
        {"empty_layer": True},
        {"created_by": "RUN /bin/sh -c echo apt is mentioned, nothing installed"},
        {"created_by": CLEAN_INSTALL},
        {"created_by": CLEAN_INSTALL.replace("apt-get install", "apt -q install")},
    ]
    files = {
        path: FinalFile(1, 10, "file")
        for path in (
            "/var/lib/apt/lists/lock",
            "/var/lib/apt/lists/partial",
            "/var/lib/apt/lists/auxfiles",
            "/var/lib/apt/lists/partial/deb.debian.org_Packages",
            "/var/cache/apt/archives/lock",
            "/opt/vendor/tool.deb",
            "/opt/vendor/blob.bin",
        )
    }
    files["/var/cache/apt/archives/partial.deb"] = FinalFile(1, 0, "directory")
    assert apt.check(ctx(facts(history=history, files=files))) == CheckResult(
        "apt-hygiene", APT_TITLE, Status.PASS, summary="2 apt install step(s), each clean"
    )


def test_apt_passes_an_image_without_apt_or_history() -> None:
    bare = replace(facts(), config={"config": {}})
    assert apt.check(ctx(bare)) == CheckResult(
        "apt-hygiene",
        APT_TITLE,
        Status.PASS,
        summary="no apt install in the history; no apt lists or caches in the image",
    )


def test_apt_names_each_sloppy_step_and_the_caches_that_ship() -> None:
    sloppy = "RUN /bin/sh -c apt-get update && apt-get install -y gcc # buildkit"
    history = [{"created_by": sloppy}, {"created_by": "RUN /bin/sh -c apt install -y make"}]
    files = {
        "/var/lib/apt/lists/deb.debian.org_Packages": FinalFile(1, 900, "file"),
        "/var/cache/apt/pkgcache.bin": FinalFile(0, 200, "file"),
        "/var/cache/apt/archives/gcc.deb": FinalFile(1, 100, "file"),
    }
    dockerfile = parse_dockerfile(
        b"FROM debian\nRUN --mount=type=secret,id=k apt-get update && apt-get install -y gcc\n",
        "Dockerfile",
    )
    amd64 = facts(history=history, files=files)
    arm64 = replace(facts(), platform="linux/arm64")
    result = apt.check(ctx(amd64, arm64, dockerfile=dockerfile))
    assert result == CheckResult(
        "apt-hygiene",
        APT_TITLE,
        Status.FAIL,
        (
            "[linux/amd64] Dockerfile:2: apt install without --no-install-recommends",
            "[linux/amd64] Dockerfile:2: /var/lib/apt/lists not removed in the same RUN",
            "[linux/amd64] history[1]: apt install without --no-install-recommends",
            "[linux/amd64] history[1]: /var/lib/apt/lists not removed in the same RUN",
            "[linux/amd64] layer 1: 3 apt list/cache files (1.2 kB), "
            "e.g. /var/cache/apt/archives/gcc.deb",
        ),
        APT_FIX,
        "apt installs leave recommends or caches behind",
    )


def test_apt_lists_in_a_cache_mount_of_the_final_stage_need_no_cleanup() -> None:
    install = "apt-get update && apt-get install -y --no-install-recommends gcc"
    history = [{"created_by": f"RUN /bin/sh -c {install} # buildkit"}]
    mounted = parse_dockerfile(
        f"FROM debian AS build\nFROM debian\n"
        f"RUN --mount=type=cache,target=/var/lib/apt {install}\n".encode(),
        "Dockerfile",
    )
    result = apt.check(ctx(facts(history=history), dockerfile=mounted))
    assert (result.status, result.evidence) == (Status.PASS, ())
    assert result.summary == "1 apt install step(s), each clean"
    only_earlier = parse_dockerfile(
        f"FROM debian AS build\nRUN --mount=type=cache,target=/var/lib/apt {install}\n"
        f"FROM debian\n".encode(),
        "Dockerfile",
    )
    result = apt.check(ctx(facts(history=history), dockerfile=only_earlier))
    assert result.evidence == ("history[0]: /var/lib/apt/lists not removed in the same RUN",)


# --- dockerignore: what it must exclude, and what the fix asks for ---

DOCKERIGNORE_TITLE = (
    ".dockerignore excludes .git, .env and the virtualenvs and caches the context has"
)
DOCKERIGNORE_FIX = "Add a .dockerignore next to the Dockerfile listing at least: .git, .env, .env.*"


def test_dockerignore_missing_asks_for_the_usual_list_and_names_a_git_dir_in_the_image() -> None:
    files = {
        "/app/.git": FinalFile(1, 0, "directory"),
        "/app/.github": FinalFile(1, 0, "directory"),
        "/srv/.git": FinalFile(0, 5, "file"),  # a file named .git is a worktree's pointer
    }
    amd64 = facts(files=files)
    arm64 = replace(facts(files={"/.git": FinalFile(0, 0, "directory")}), platform="linux/arm64")
    assert dockerignore.check(ctx(amd64, arm64)) == CheckResult(
        "dockerignore",
        DOCKERIGNORE_TITLE,
        Status.FAIL,
        (
            ".dockerignore: missing",
            "[linux/amd64] layer 1: /app/.git is in the image",
            "[linux/arm64] layer 0 (ADD rootfs.tar /): /.git is in the image",
        ),
        DOCKERIGNORE_FIX + ", .venv, venv/, __pycache__/, .pytest_cache/, .mypy_cache/.",
        "no .dockerignore",
    )


def test_dockerignore_in_a_clean_context_asks_only_for_git_and_env() -> None:
    clean = frozenset({"main.go"})
    assert dockerignore.check(ctx(dockerignore=(".git",), context_paths=clean)) == CheckResult(
        "dockerignore",
        DOCKERIGNORE_TITLE,
        Status.FAIL,
        (".dockerignore: does not exclude .env",),
        DOCKERIGNORE_FIX + ".",
        "the build context can carry .git, secrets or caches",
    )
    shipped = facts(files={"/app/.git": FinalFile(0, 0, "directory")})
    result = dockerignore.check(ctx(shipped, dockerignore=(".git", ".env"), context_paths=clean))
    assert (result.status, result.evidence) == (
        Status.FAIL,
        ("layer 0 (ADD rootfs.tar /): /app/.git is in the image",),
    )


def test_dockerignore_names_three_unexcluded_caches_and_the_fix_the_first_eight() -> None:
    caches = ("a/__pycache__/", "b/__pycache__/", "c/.mypy_cache/", "d/.ruff_cache/")
    more = ("e/.tox/", "f/.pytest_cache/", "g/__pycache__/", "h/__pycache__/")
    paths = frozenset({"envs/X/pyvenv.cfg", "envs/X/bin/", "__pycache__/", *caches, *more})
    result = dockerignore.check(ctx(dockerignore=(".git", ".env", "h"), context_paths=paths))
    assert result == CheckResult(
        "dockerignore",
        DOCKERIGNORE_TITLE,
        Status.FAIL,
        (
            ".dockerignore: does not exclude virtualenvs (envs/X/), "
            "caches (__pycache__/, a/__pycache__/, b/__pycache__/)",
        ),
        DOCKERIGNORE_FIX + ", envs/X/, __pycache__/, a/__pycache__/, b/__pycache__/, "
        "c/.mypy_cache/, d/.ruff_cache/, e/.tox/, f/.pytest_cache/.",
        "the build context can carry .git, secrets or caches",
    )
    covered = (".git", ".env", "envs/X", "**/__pycache__", "*/.*_cache", "e/.tox")
    assert dockerignore.check(ctx(dockerignore=covered, context_paths=paths)) == CheckResult(
        "dockerignore",
        DOCKERIGNORE_TITLE,
        Status.PASS,
        (".dockerignore: excludes .git, .env, virtualenvs, caches",),
        summary="lean, secret-free build context",
    )


# --- no-build-toolchain: compilers, headers, -dev packages and caches, each located ---

TOOLCHAIN_TITLE = "Final image carries no build toolchain, dev headers or build caches"
TOOLCHAIN_FIX = (
    "Build in a separate stage and COPY --from only the artifacts (a venv, a binary) into "
    "a -slim/distroless base; install with --no-cache-dir or a cache mount."
)


def in_layer(layer: int, size: int = 10, kind: str = "file") -> FinalFile:
    return FinalFile(layer, size, kind)


def test_toolchain_names_well_known_tools_first_then_headers_packages_and_caches() -> None:
    files = {
        "/usr/bin/x86_64-linux-gnu-gcc-12": in_layer(0),
        "/usr/bin/gcc-12": in_layer(0),
        "/usr/bin/ld.gold": in_layer(0),
        "/usr/bin/cpp": in_layer(0),
        "/usr/bin/make": in_layer(0),
        "/usr/bin/g++": in_layer(0),
        "/usr/bin/gcc": in_layer(0),
        "/usr/local/bin/clang": in_layer(1, kind="symlink"),
        "/usr/bin/cc": in_layer(1, 0, "directory"),
        "/opt/bin/gcc": in_layer(0),
        "/usr/include/stdio.h": in_layer(0, 600),
        "/usr/include/linux/": in_layer(0, 0, "directory"),
        "/usr/include/x/y.h": in_layer(2, 500),
        "/usr/share/doc/build-essential": in_layer(1, 0, "directory"),
        **{f"/var/lib/dpkg/info/lib{c}-dev:amd64.list": in_layer(0) for c in "ihgfedcba"},
        "/var/lib/dpkg/info/libc6:amd64.list": in_layer(0),
        "/root/.cache/pip/http/a": in_layer(1, 1000),
        "/root/.cache/pip/wheels/b": in_layer(2, 1500),
        "/root/.cache/pip/": in_layer(1, 0, "directory"),
        "/home/app/.cache/uv/x": in_layer(2, 70),
        "/home/app/.cachet/x": in_layer(2, 70),
    }
    assert toolchain.check(ctx(facts(files=files))) == CheckResult(
        "no-build-toolchain",
        TOOLCHAIN_TITLE,
        Status.FAIL,
        (
            "layer 0 (ADD rootfs.tar /): compilers/build tools /usr/bin/gcc, /usr/bin/g++, "
            "/usr/bin/make, /usr/bin/cpp, /usr/bin/ld.gold, /usr/bin/gcc-12 and 1 more",
            "layer 1: compilers/build tools /usr/local/bin/clang",
            "layer 1: /usr/share/doc/build-essential (the build-essential package)",
            "layer 0, 2: 2 header files under /usr/include (1.1 kB)",
            "/var/lib/dpkg/info: 9 -dev packages installed: liba-dev, libb-dev, libc-dev, "
            "libd-dev, libe-dev, libf-dev, libg-dev, libh-dev and 1 more",
            "layer 2: build cache /home/app/.cache/uv (1 files, 70 B)",
            "layer 1, 2: build cache /root/.cache/pip (2 files, 2.5 kB)",
        ),
        TOOLCHAIN_FIX,
        "build toolchain or caches ship in the final image",
    )


def test_toolchain_shows_six_tools_of_a_layer_and_passes_an_image_without_any() -> None:
    six = {f"/usr/bin/{tool}": in_layer(0) for tool in ("gcc", "g++", "cc", "c++", "make", "ld")}
    result = toolchain.check(ctx(facts(files=six)))
    assert result.evidence == (
        "layer 0 (ADD rootfs.tar /): compilers/build tools /usr/bin/gcc, /usr/bin/g++, "
        "/usr/bin/cc, /usr/bin/c++, /usr/bin/make, /usr/bin/ld",
    )
    eight = {f"/var/lib/dpkg/info/lib{c}-dev.list": in_layer(0) for c in "abcdefgh"}
    result = toolchain.check(ctx(facts(files=eight)))
    assert result.evidence == (
        "/var/lib/dpkg/info: 8 -dev packages installed: liba-dev, libb-dev, libc-dev, "
        "libd-dev, libe-dev, libf-dev, libg-dev, libh-dev",
    )
    clean = {"/usr/bin/python3": in_layer(0), "/usr/bin/gccgo-wrapper": in_layer(0)}
    assert toolchain.check(ctx(facts(files=clean))) == CheckResult(
        "no-build-toolchain",
        TOOLCHAIN_TITLE,
        Status.PASS,
        summary="no compilers, /usr/include headers, -dev packages or build caches",
    )


def test_toolchain_prefixes_each_platform() -> None:
    amd64 = facts(files={"/usr/bin/gcc": in_layer(0)})
    arm64 = replace(facts(files={"/bin/as": in_layer(0)}), platform="linux/arm64")
    assert toolchain.check(ctx(amd64, arm64)).evidence == (
        "[linux/amd64] layer 0 (ADD rootfs.tar /): compilers/build tools /usr/bin/gcc",
        "[linux/arm64] layer 0 (ADD rootfs.tar /): compilers/build tools /bin/as",
    )


# --- healthcheck ---

HEALTH_TITLE = "HEALTHCHECK declared"
HEALTH_FIX = (
    'Add HEALTHCHECK --interval=30s --timeout=3s CMD ["python3", "-c", "import urllib.request; '
    "urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)\"]"
)


def test_healthcheck_passes_and_shows_the_test_cut_at_90_characters() -> None:
    probe = ["CMD-SHELL", "curl -f http://127.0.0.1:8000/healthz/" + "x" * 60]
    assert healthcheck.check(ctx(facts({"Healthcheck": {"Test": probe}}))) == CheckResult(
        "healthcheck",
        HEALTH_TITLE,
        Status.PASS,
        ("config Healthcheck: " + ("CMD-SHELL " + probe[1])[:90],),
        summary="healthcheck declared",
    )


@pytest.mark.parametrize(
    "container",
    [
        {},
        {"Healthcheck": "CMD true"},  # not a healthcheck object
        {"Healthcheck": {"Interval": 30}},
        {"Healthcheck": {"Test": []}},
        {"Healthcheck": {"Test": ["NONE"]}},  # HEALTHCHECK NONE switches the base's off
    ],
)
def test_healthcheck_fails_when_none_is_declared_or_it_is_switched_off(
    container: dict[str, Any],
) -> None:
    assert healthcheck.check(ctx(facts(container))) == CheckResult(
        "healthcheck",
        HEALTH_TITLE,
        Status.FAIL,
        ("config Healthcheck: none",),
        HEALTH_FIX,
        "orchestrators cannot tell when the app is healthy",
    )


def test_healthcheck_fails_when_the_first_platform_has_none() -> None:
    amd64 = facts()
    arm64 = replace(facts({"Healthcheck": {"Test": ["CMD", "true"]}}), platform="linux/arm64")
    result = healthcheck.check(ctx(amd64, arm64))
    assert (result.status, result.evidence) == (
        Status.FAIL,
        ("[linux/amd64] config Healthcheck: none", "[linux/arm64] config Healthcheck: CMD true"),
    )


# --- exec-form: the effective command and how the Dockerfile wrote it ---

EXEC_TITLE = "ENTRYPOINT/CMD in exec form (signals reach the app)"
EXEC_FIX = 'Write it as JSON: CMD ["gunicorn", "--bind", "0.0.0.0:8000", "app:application"].'
SHELL_PID_1 = "a shell is PID 1: signals do not reach the app"


@pytest.mark.parametrize(
    ("container", "shown"),
    [
        (
            {"Entrypoint": ["/bin/sh", "-c", "exec app"]},
            "config Entrypoint: ['/bin/sh', '-c', 'exec app']",
        ),
        ({"Cmd": ["sh", "-c", "app"]}, "config Cmd: ['sh', '-c', 'app']"),
        ({"Cmd": ["/bin/bash", "-c", "app"]}, "config Cmd: ['/bin/bash', '-c', 'app']"),
        ({"Cmd": ["bash", "-c"]}, "config Cmd: ['bash', '-c']"),
        (
            {"Entrypoint": ["sh", "-c", "app"], "Cmd": ["app"]},
            "config Entrypoint: ['sh', '-c', 'app']",
        ),
    ],
)
def test_exec_form_fails_a_shell_as_pid_1(container: dict[str, Any], shown: str) -> None:
    assert exec_form.check(ctx(facts(container))) == CheckResult(
        "exec-form", EXEC_TITLE, Status.FAIL, (f"{shown} (shell form)",), EXEC_FIX, SHELL_PID_1
    )


@pytest.mark.parametrize(
    ("container", "shown"),
    [
        ({"Entrypoint": ["gunicorn"], "Cmd": ["sh", "-c", "x"]}, "config Entrypoint: ['gunicorn']"),
        ({"Cmd": ["app"]}, "config Cmd: ['app']"),
        ({"Entrypoint": [], "Cmd": ["app"]}, "config Cmd: ['app']"),
        ({"Cmd": ["sh"]}, "config Cmd: ['sh']"),
        ({"Cmd": ["sh", "app.sh"]}, "config Cmd: ['sh', 'app.sh']"),
        ({"Cmd": ["python3", "-c", "import app"]}, "config Cmd: ['python3', '-c', 'import app']"),
        ({"Cmd": "sh -c app"}, "config Cmd: sh -c app"),
    ],
)
def test_exec_form_passes_an_app_as_pid_1(container: dict[str, Any], shown: str) -> None:
    assert exec_form.check(ctx(facts(container))) == CheckResult(
        "exec-form", EXEC_TITLE, Status.PASS, (shown,), summary="exec form"
    )


def test_exec_form_fails_without_a_command_and_names_each_final_stage_instruction() -> None:
    dockerfile = parse_dockerfile(
        b'FROM busybox AS build\nCMD ["build"]\nFROM busybox\nENTRYPOINT app --serve\n'
        b'CMD ["--port", "80"]\n',
        "app/Dockerfile",
    )
    arm64 = replace(facts({"Cmd": ["app"]}), platform="linux/arm64")
    assert exec_form.check(ctx(facts(), arm64, dockerfile=dockerfile)) == CheckResult(
        "exec-form",
        EXEC_TITLE,
        Status.FAIL,
        (
            "[linux/amd64] no ENTRYPOINT or CMD",
            "[linux/arm64] config Cmd: ['app']",
            "app/Dockerfile:4: ENTRYPOINT in shell form",
            "app/Dockerfile:5: CMD in exec form",
        ),
        EXEC_FIX,
        SHELL_PID_1,
    )


# --- oci-labels: present, non-empty, and created = SOURCE_DATE_EPOCH ---

LABELS_TITLE = "OCI labels: source, revision, version, created = SOURCE_DATE_EPOCH"
LABELS_FIX = (
    "Declare ARG VERSION/REVISION/CREATED and LABEL org.opencontainers.image.{source,revision,"
    "version,created}; build with --build-arg REVISION=$(git rev-parse HEAD) and "
    "CREATED=$(date -u -d @$SOURCE_DATE_EPOCH +%Y-%m-%dT%H:%M:%SZ)."
)
OCI = "org.opencontainers.image."
LABELS = {
    OCI + "source": "https://github.com/example/app",
    OCI + "revision": "c" * 40,
    OCI + "version": "1.4.0",
    OCI + "created": "2023-11-14T22:13:20Z",
}
SHOWN_LABELS = (
    f"{OCI}source=https://github.com/example/app",
    f"{OCI}revision={'c' * 40}",
    f"{OCI}version=1.4.0",
)


def labelled(labels: dict[str, str], created: object = None) -> ImageFacts:
    return facts({"Labels": labels}, label_config={} if created is None else {"created": created})


@pytest.mark.parametrize(
    ("created", "epoch", "config_created"),
    [
        ("2023-11-14T22:13:20Z", 1700000000, "2020-01-01T00:00:00Z"),  # the epoch wins
        ("2023-11-14T22:13:20+00:00", 1700000000, None),  # the same instant, written otherwise
        ("2023-11-14T22:13:20Z", None, "2023-11-14T22:13:20.000Z"),  # no epoch: the config's
        ("2023-11-14T22:13:20Z", None, 1700000000),  # nothing to compare with
        ("a Tuesday", None, "a Tuesday"),  # not a date, but the same text
    ],
)
def test_labels_pass_when_all_are_set_and_created_is_the_build_time(
    created: str, epoch: int | None, config_created: object
) -> None:
    image = labelled({**LABELS, OCI + "created": created}, config_created)
    assert labels.check(ctx(image, source_date_epoch=epoch)) == CheckResult(
        "oci-labels", LABELS_TITLE, Status.PASS, SHOWN_LABELS, summary="labels present"
    )


def test_labels_warn_on_each_missing_or_empty_label_and_a_created_that_differs() -> None:
    partial = {OCI + "source": "https://github.com/example/app", OCI + "version": ""}
    assert labels.check(ctx(labelled(partial), source_date_epoch=0)) == CheckResult(
        "oci-labels",
        LABELS_TITLE,
        Status.WARN,
        (
            f"missing {OCI}revision, {OCI}version, {OCI}created",
            f"{OCI}source=https://github.com/example/app",
        ),
        LABELS_FIX,
        "OCI labels missing or inconsistent",
    )
    late = {**LABELS, OCI + "created": "2023-11-14T22:13:21Z"}
    result = labels.check(ctx(labelled(late, "2023-11-14T22:13:21Z"), source_date_epoch=1700000000))
    assert (result.status, result.evidence) == (
        Status.WARN,
        (
            f"{OCI}created 2023-11-14T22:13:21Z != SOURCE_DATE_EPOCH 2023-11-14T22:13:20Z",
            *SHOWN_LABELS,
        ),
    )
    unparsable = labelled({**LABELS, OCI + "created": "a Tuesday"}, "a Wednesday")
    result = labels.check(ctx(unparsable))
    assert result.evidence[0] == f"{OCI}created a Tuesday != SOURCE_DATE_EPOCH a Wednesday"


def test_labels_warn_when_only_the_first_platform_lacks_them() -> None:
    arm64 = replace(labelled(LABELS), platform="linux/arm64")
    result = labels.check(ctx(labelled({}), arm64, source_date_epoch=1700000000))
    assert (result.status, result.evidence) == (
        Status.WARN,
        (
            f"[linux/amd64] missing {OCI}source, {OCI}revision, {OCI}version, {OCI}created",
            *(f"[linux/arm64] {line}" for line in SHOWN_LABELS),
        ),
    )


# --- reproducible: the stored verification against this commit, Dockerfile and image ---

REPRO_TITLE = "Reproducible: the last verification of this commit was bit-identical"
REPRO_FIX = (
    "Run `repro verify --json > verify.json` on this commit and pass it with "
    "--verification verify.json (or record a release)."
)
COMMIT_C = "c" * 40
IMAGE_A = "sha256:" + "a" * 64
VERIFIED = Verification("verify.json", COMMIT_C, identical=True)


def test_reproducible_skips_without_a_stored_verification() -> None:
    assert reproducible.check(ctx()) == CheckResult(
        "reproducible",
        REPRO_TITLE,
        Status.SKIP,
        fix="run `repro verify` for this commit. " + REPRO_FIX,
        summary="no stored verification found for this commit",
    )


def test_reproducible_skips_a_verification_of_another_commit() -> None:
    other = "d" * 39 + "e"  # differs only at the end
    assert reproducible.check(ctx(verification=VERIFIED, commit=other)) == CheckResult(
        "reproducible",
        REPRO_TITLE,
        Status.SKIP,
        ("verify.json: commit cccccccccccc, identical",),
        "run `repro verify` for this commit. " + REPRO_FIX,
        "the stored verification is for cccccccccccc, not dddddddddddd",
    )


def test_reproducible_fails_when_the_builds_differed() -> None:
    differs = replace(VERIFIED, identical=False)
    assert reproducible.check(ctx(verification=differs, commit=COMMIT_C)) == CheckResult(
        "reproducible",
        REPRO_TITLE,
        Status.FAIL,
        ("verify.json: commit cccccccccccc, differs",),
        "Make the build deterministic; `repro verify` explains each difference.",
        "the two builds differed",
    )


def test_reproducible_warns_when_the_dockerfile_changed_since() -> None:
    verified = replace(VERIFIED, dockerfile_sha256="sha256:" + "e" * 64)
    result = reproducible.check(ctx(verification=verified, dockerfile_sha256="e" * 63 + "f"))
    assert result == CheckResult(
        "reproducible",
        REPRO_TITLE,
        Status.WARN,
        (
            "verify.json: commit cccccccccccc, identical",
            "the Dockerfile changed since it was verified",
        ),
        REPRO_FIX,
        "verified, but for another Dockerfile",
    )
    same = reproducible.check(ctx(verification=verified, dockerfile_sha256="e" * 64))
    assert (same.status, same.summary) == (Status.PASS, "bit-identical rebuilds")


def test_reproducible_fails_when_another_image_was_verified() -> None:
    verified = replace(VERIFIED, image_digest="sha256:" + "a" * 63 + "b")
    assert reproducible.check(ctx(verification=verified)) == CheckResult(
        "reproducible",
        REPRO_TITLE,
        Status.FAIL,
        (
            "verify.json: commit cccccccccccc, identical",
            f"verified image sha256:{'a' * 63}b, signed-off image {IMAGE_A}",
        ),
        "Sign off the verified (released) image, or verify this one: " + REPRO_FIX,
        "the image signed off is not the verified one",
    )


@pytest.mark.parametrize(
    ("verified", "evidence"),
    [
        (VERIFIED, ("verify.json: commit cccccccccccc, identical",)),
        (
            replace(VERIFIED, image_digest=IMAGE_A, dockerfile_sha256="sha256:" + "e" * 64),
            (
                "verify.json: commit cccccccccccc, identical",
                f"the signed-off image is the verified one ({IMAGE_A})",
            ),
        ),
    ],
)
def test_reproducible_passes_for_this_commit_and_image(
    verified: Verification, evidence: tuple[str, ...]
) -> None:
    result = reproducible.check(ctx(verification=verified, commit=COMMIT_C))
    assert result == CheckResult(
        "reproducible", REPRO_TITLE, Status.PASS, evidence, summary="bit-identical rebuilds"
    )


# --- base-pinned: every FROM against repro.lock ---

PINS_TITLE = "Base images pinned by digest (matching repro.lock, no :latest)"
PINS_FIX = "Run `repro lock` to pin every base by digest and record it in repro.lock."
PIN_A, PIN_B, PIN_ARM = ("sha256:" + c * 64 for c in "ab9")
SLIM = "localhost:5000/library/python:3.11-slim"
SLIM_LOCK = (
    f'schema_version = 1\n[[image]]\nreference = "{SLIM}"\n'
    'name = "localhost:5000/library/python"\ntag = "3.11-slim"\n'
    f'digest = "{PIN_A}"\nmedia_type = "application/vnd.oci.image.index.v1+json"\n'
    'resolved_at = "2026-01-01T00:00:00Z"\n'
    f'[image.platforms]\n"linux/arm64" = "{PIN_ARM}"\n'
)
EVERY_KIND_OF_BASE = parse_dockerfile(
    (
        "# syntax=docker/dockerfile:1\n"
        f"ARG BASE={SLIM}\n"
        f"FROM ${{BASE}}@{PIN_A} AS index\n"
        f"FROM {SLIM}@{PIN_ARM} AS platform\n"
        f"FROM {SLIM}@{PIN_B} AS moved\n"
        f"FROM localhost:5000/library/python:3.12@{PIN_A} AS unlocked\n"
        f"FROM busybox:latest@{PIN_A} AS latest_pinned\n"
        "FROM busybox AS latest\n"
        "FROM localhost:5000/x:1 AS tagged\n"
        "FROM Bad//Ref AS invalid\n"
        "FROM scratch\n"
    ).encode(),
    "app/Dockerfile",
)


def test_base_pins_skip_without_a_dockerfile_and_pass_from_scratch() -> None:
    assert base_pins.check(ctx()) == CheckResult(
        "base-pinned",
        PINS_TITLE,
        Status.SKIP,
        fix="Pass the Dockerfile with -f.",
        summary="no Dockerfile to read the bases from",
    )
    scratch = parse_dockerfile(b"# syntax=docker/dockerfile:1\nFROM scratch\n", "Dockerfile")
    assert base_pins.check(ctx(dockerfile=scratch)) == CheckResult(
        "base-pinned", PINS_TITLE, Status.PASS, summary="no base images (FROM scratch)"
    )


def test_base_pins_pass_an_index_or_a_platform_manifest_repro_lock_records() -> None:
    pinned = parse_dockerfile(f"FROM {SLIM}@{PIN_A}\nFROM {SLIM}@{PIN_ARM}\n".encode(), "D")
    result = base_pins.check(ctx(dockerfile=pinned, lockfile=parse_lockfile(SLIM_LOCK)))
    assert result == CheckResult(
        "base-pinned",
        PINS_TITLE,
        Status.PASS,
        (
            f"D:1: {SLIM}@{PIN_A} (matches repro.lock)",
            f"D:2: {SLIM}@{PIN_ARM} (matches repro.lock)",
        ),
        summary="2 base reference(s) pinned and locked",
    )


def test_base_pins_name_every_base_that_is_not_pinned_or_not_locked() -> None:
    result = base_pins.check(
        ctx(
            dockerfile=EVERY_KIND_OF_BASE,
            lockfile=parse_lockfile(SLIM_LOCK),
            lockfile_path="deploy/repro.lock",
        )
    )
    assert result == CheckResult(
        "base-pinned",
        PINS_TITLE,
        Status.FAIL,
        (
            f"app/Dockerfile:5: {SLIM}@{PIN_B} does not match deploy/repro.lock ({PIN_A})",
            f"app/Dockerfile:6: localhost:5000/library/python:3.12@{PIN_A} is not recorded in "
            "deploy/repro.lock",
            f"app/Dockerfile:7: busybox:latest@{PIN_A} uses the :latest tag",
            f"app/Dockerfile:7: docker.io/library/busybox:latest@{PIN_A} is not recorded in "
            "deploy/repro.lock",
            "app/Dockerfile:8: busybox uses the :latest tag",
            "app/Dockerfile:9: localhost:5000/x:1 is not pinned by digest",
            "app/Dockerfile:10: invalid image reference 'Bad//Ref': repository name '/Ref' must "
            "be lowercase",
        ),
        PINS_FIX,
        "7 base reference(s) not pinned or not locked",
    )


def test_base_pins_without_repro_lock_name_each_pinned_base_and_read_build_args() -> None:
    dockerfile = parse_dockerfile(f"ARG BASE={SLIM}\nFROM ${{BASE}}@{PIN_A}\n".encode(), "D")
    result = base_pins.check(ctx(dockerfile=dockerfile, build_args={"BASE": "localhost:5000/x:2"}))
    assert (result.status, result.evidence) == (
        Status.FAIL,
        (f"D:2: localhost:5000/x:2@{PIN_A} is pinned, but there is no repro.lock",),
    )
    assert result.summary == "1 base reference(s) not pinned or not locked"
