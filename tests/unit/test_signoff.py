"""repro signoff on synthetic images and data: each check, the layer walk, waivers, render."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from repro.config import parse_config
from repro.dockerfile import parse_dockerfile
from repro.errors import InputError
from repro.lockfile import (
    dump_lockfile,
    parse_lockfile,
    releases_of,
    with_release,
)
from repro.masking import mask_value as mask
from repro.oci import open_image
from repro.oci.layerwalk import entry_from_info
from repro.render.signoff import signoff_json, signoff_markdown
from repro.signoff import (
    CheckContext,
    Status,
    evaluate,
    gather_image,
    verification_from_lockfile,
    verification_from_record,
)
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
from repro.signoff.facts import FinalFile, ImageFacts
from repro.signoff.model import PlatformSize
from repro.signoff.secrets import scan_content, scan_text
from repro.signoff.units import human_bytes, parse_size
from repro.verify.model import VerificationRecord
from tests.unit.oci_factory import write_image
from tests.unit.test_release_record import make

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
FAKE_KEY = b"-----BEGIN RSA PRIVATE KEY-----\nRkFLRSBURVNUIEtFWQ==\n-----END RSA PRIVATE KEY-----\n"
FILE: dict[str, Any] = {}
DIR: dict[str, Any] = {"type": tarfile.DIRTYPE, "mode": 0o755}


def facts(
    container: dict[str, Any] | None = None,
    files: dict[str, FinalFile] | None = None,
    history: list[dict[str, Any]] | None = None,
    label_config: dict[str, Any] | None = None,
) -> ImageFacts:
    config: dict[str, Any] = {"config": container or {}, "history": history or []}
    config.update(label_config or {})
    return ImageFacts(
        platform="linux/amd64",
        config=config,
        instructions=("ADD rootfs.tar /",),
        files=files or {},
        size=PlatformSize("linux/amd64", 10, 100, 0, (), ()),
        secrets=(),
    )


def ctx(*images: ImageFacts, **kwargs: Any) -> CheckContext:
    return CheckContext(images=images or (facts(),), image_digest=DIGEST, **kwargs)


# --- the layer walk and the facts it gathers (a real OCI layout, written in memory) ---


def test_entry_from_info_reports_whiteouts_and_opaque_dirs() -> None:
    whiteout = entry_from_info(tarfile.TarInfo("./app/.wh.secret.pem"))
    opaque = entry_from_info(tarfile.TarInfo("var/cache/.wh..wh..opq"))
    plain = entry_from_info(tarfile.TarInfo("usr//bin/../bin/gcc"))
    assert (whiteout.path, whiteout.is_whiteout, whiteout.is_file) == (
        "/app/secret.pem",
        True,
        False,
    )
    assert (opaque.path, opaque.is_opaque) == ("/var/cache", True)
    assert (plain.path, plain.is_file) == ("/usr/bin/gcc", True)


@pytest.fixture()
def layered_image(tmp_path: Path) -> tuple[str, tuple[ImageFacts, ...]]:
    """Layer 0 adds files, layer 1 overwrites one and deletes a key, layer 2 empties /cache."""
    layers = [
        {
            "app/": (b"", DIR),
            "app/big.bin": (b"x" * 5000, FILE),
            "app/keep.txt": (b"keep", FILE),
            "root/.ssh/id_deploy": (FAKE_KEY, FILE),
            "cache/": (b"", DIR),
            "cache/blob": (b"c" * 700, FILE),
        },
        {"app/big.bin": (b"y" * 10, FILE), "root/.ssh/.wh.id_deploy": (b"", FILE)},
        {"cache/": (b"", DIR), "cache/.wh..wh..opq": (b"", FILE), "cache/new": (b"n", FILE)},
    ]
    instructions = ["COPY . /app # buildkit", "RUN /bin/sh -c rm x # buildkit", "RUN y"]
    write_image(tmp_path / "img", layers, instructions=instructions)
    return gather_image(open_image(tmp_path / "img"))


def test_gather_applies_whiteouts_and_counts_wasted_bytes(
    layered_image: tuple[str, tuple[ImageFacts, ...]],
) -> None:
    _, (image,) = layered_image
    assert "/root/.ssh/id_deploy" not in image.files
    assert "/cache/blob" not in image.files and "/cache/new" in image.files
    assert image.files["/app/big.bin"] == FinalFile(1, 10, "file")
    wasted = {(w.path, w.reason) for w in image.size.offenders}
    assert ("/app/big.bin", "overwritten in layer 1") in wasted
    assert ("/root/.ssh/id_deploy", "deleted in layer 1") in wasted
    assert ("/cache/blob", "hidden by an opaque directory in layer 2") in wasted
    assert image.size.wasted_bytes == 5000 + len(FAKE_KEY) + 700
    assert image.size.layers[0].wasted_bytes == image.size.wasted_bytes
    assert 0 < image.size.efficiency < 1


def test_a_deleted_key_is_a_secret_that_still_ships(
    layered_image: tuple[str, tuple[ImageFacts, ...]],
) -> None:
    digest, images = layered_image
    result = secrets.check(CheckContext(images=images, image_digest=digest))
    assert result.status is Status.FAIL
    (line,) = [e for e in result.evidence if "private key" in e]
    assert "/root/.ssh/id_deploy" in line and "layer 0" in line
    assert "removed in layer 1, still ships in layer 0" in line
    assert "RkFLRSBURVNUIEtFWQ" not in line  # masked


# --- secrets ---


def test_findings_are_masked_as_a_short_hash_and_a_length() -> None:
    assert mask("ghp_abcdefghijklmnop") == "sha256:7ddfcc93…(20 chars)"
    assert mask("abc") == "sha256:ba7816bf…(3 chars)"


def test_scan_text_finds_tokens_and_assignments_but_not_comments_or_examples() -> None:
    token = "ghp_" + "A1" * 18
    found = scan_text(f"RUN |1 DB_PASSWORD=hunter22 curl -H {token} AKIAIOSFODNN7EXAMPLE")
    kinds = sorted(f.kind for f in found)
    assert kinds == ["GitHub token", "secret assignment (DB_PASSWORD=)"]
    assert all(token not in f.masked and "hunter22" not in f.masked for f in found)
    assert scan_text("# password=hunter22") == [] and scan_text("passwd:  files") == []


def test_scan_content_finds_pem_keys_even_in_binaries() -> None:
    (finding,) = scan_content("/x.bin", b"\0\0" + FAKE_KEY)
    assert finding.kind.startswith("private key") and finding.masked.startswith("sha256:")
    assert "RkFL" not in finding.masked


def test_secrets_in_env_labels_and_history_are_reported_masked() -> None:
    image = facts(
        {"Env": ["PATH=/bin", "API_TOKEN=s3cr3t-value"], "Labels": {"deploy.password": "pw12345"}},
        history=[{"created_by": "RUN |1 DB_PASSWORD=hunter22 /bin/sh -c make # buildkit"}],
    )
    result = secrets.check(ctx(image))
    assert result.status is Status.FAIL
    text = "\n".join(result.evidence)
    assert "config Env API_TOKEN" in text and "config Label deploy.password" in text
    assert "history[0]" in text
    assert "s3cr3t-value" not in text and "hunter22" not in text and "pw12345" not in text


# --- each check on synthetic data ---


def test_toolchain_is_found_in_final_files() -> None:
    files = {
        "/usr/bin/gcc-12": FinalFile(0, 10, "file"),
        "/usr/bin/python3": FinalFile(0, 10, "file"),
        "/usr/include/stdio.h": FinalFile(0, 30, "file"),
        "/var/lib/dpkg/info/libc6-dev:amd64.list": FinalFile(0, 5, "file"),
        "/root/.cache/pip/wheels/x.whl": FinalFile(2, 100, "file"),
    }
    result = toolchain.check(ctx(facts(files=files)))
    assert result.status is Status.FAIL
    text = "\n".join(result.evidence)
    assert "/usr/bin/gcc-12" in text and "python3" not in text
    assert "1 header files under /usr/include" in text and "libc6-dev" in text
    assert "/root/.cache/pip" in text
    clean = {"/usr/bin/python3": FinalFile(0, 10, "file")}
    assert toolchain.check(ctx(facts(files=clean))).status is Status.PASS


@pytest.mark.parametrize(
    ("user", "status"),
    [
        (None, Status.FAIL),
        ("root", Status.FAIL),
        ("0:0", Status.FAIL),
        ("10001:10001", Status.PASS),
    ],
)
def test_non_root(user: str | None, status: Status) -> None:
    container = {} if user is None else {"User": user}
    assert non_root.check(ctx(facts(container))).status is status


def test_exec_form_and_healthcheck() -> None:
    shell = facts({"Cmd": ["/bin/sh", "-c", "gunicorn --bind 0.0.0.0:8000 app"]})
    exec_ = facts({"Entrypoint": ["gunicorn"], "Healthcheck": {"Test": ["CMD", "true"]}})
    assert exec_form.check(ctx(shell)).status is Status.FAIL
    assert exec_form.check(ctx(exec_)).status is Status.PASS
    assert healthcheck.check(ctx(shell)).status is Status.FAIL
    assert healthcheck.check(ctx(exec_)).status is Status.PASS
    disabled = facts({"Healthcheck": {"Test": ["NONE"]}})
    assert healthcheck.check(ctx(disabled)).status is Status.FAIL


@pytest.mark.parametrize(
    ("exposed", "cmd", "status"),
    [
        ({"8000/tcp": {}}, ["gunicorn", "--bind", "0.0.0.0:8000"], Status.PASS),
        ({"8080/tcp": {}}, ["gunicorn", "--bind=0.0.0.0:8000"], Status.FAIL),
        ({"8000/tcp": {}}, ["python3", "app.py"], Status.WARN),
        ({}, ["python3", "app.py"], Status.PASS),
    ],
)
def test_expose_matches_bound_port(exposed: dict[str, Any], cmd: list[str], status: Status) -> None:
    assert expose.check(ctx(facts({"ExposedPorts": exposed, "Cmd": cmd}))).status is status


def test_size_budget_and_waste() -> None:
    image = facts()
    assert size.check(ctx(image, size_budget=50)).status is Status.FAIL
    assert size.check(ctx(image, size_budget=500)).status is Status.PASS
    assert size.check(ctx(image)).status is Status.WARN  # no budget set


def test_oci_labels_warn_when_missing_or_created_differs() -> None:
    prefix = "org.opencontainers.image."
    good = {prefix + k: "x" for k in ("source", "revision", "version")}
    ok = facts({"Labels": {**good, prefix + "created": "2023-11-14T22:13:20Z"}})
    assert labels.check(ctx(ok, source_date_epoch=1700000000)).status is Status.PASS
    late = facts({"Labels": {**good, prefix + "created": "2024-01-01T00:00:00Z"}})
    result = labels.check(ctx(late, source_date_epoch=1700000000))
    assert result.status is Status.WARN and "!= SOURCE_DATE_EPOCH" in result.evidence[0]
    assert labels.check(ctx(facts())).status is Status.WARN


def test_apt_hygiene_from_history_and_files() -> None:
    sloppy = facts(
        history=[{"created_by": "RUN /bin/sh -c apt-get update && apt-get install -y gcc"}],
        files={"/var/lib/apt/lists/deb.debian.org_Packages": FinalFile(1, 900, "file")},
    )
    result = apt.check(ctx(sloppy))
    assert result.status is Status.FAIL
    assert len(result.evidence) == 3
    clean = facts(
        history=[
            {
                "created_by": "RUN /bin/sh -c apt-get update && apt-get install -y "
                "--no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*"
            }
        ],
        files={"/var/lib/apt/lists/lock": FinalFile(1, 0, "file")},
    )
    assert apt.check(ctx(clean)).status is Status.PASS


def _lock(digest: str) -> str:
    return (
        "schema_version = 1\n[[image]]\n"
        'reference = "localhost:5000/library/python:3.11-slim"\n'
        'name = "localhost:5000/library/python"\ntag = "3.11-slim"\n'
        f'digest = "{digest}"\nmedia_type = "application/vnd.oci.image.manifest.v1+json"\n'
        'resolved_at = "2026-01-01T00:00:00Z"\n'
    )


def test_base_pins_need_digest_lockfile_match_and_no_latest() -> None:
    pinned = parse_dockerfile(
        f"FROM localhost:5000/library/python:3.11-slim@{DIGEST}\n".encode(), "D"
    )
    result = base_pins.check(ctx(dockerfile=pinned, lockfile=parse_lockfile(_lock(DIGEST))))
    assert result.status is Status.PASS
    mismatch = base_pins.check(ctx(dockerfile=pinned, lockfile=parse_lockfile(_lock(OTHER))))
    assert mismatch.status is Status.FAIL and "does not match" in mismatch.evidence[0]
    assert base_pins.check(ctx(dockerfile=pinned)).status is Status.FAIL  # no repro.lock
    latest = parse_dockerfile(b"FROM busybox\nFROM localhost:5000/x:3.1\n", "D")
    evidence = base_pins.check(ctx(dockerfile=latest)).evidence
    assert evidence[0].startswith("D:1:") and ":latest" in evidence[0]
    assert evidence[-1] == "D:2: localhost:5000/x:3.1 is not pinned by digest"


def test_dockerignore_requires_the_usual_exclusions() -> None:
    full = (".git", ".env", ".venv", "venv/", "__pycache__/", ".pytest_cache/")
    assert dockerignore.check(ctx(dockerignore=full)).status is Status.PASS
    partial = dockerignore.check(ctx(dockerignore=(".git",)))
    assert partial.status is Status.FAIL
    assert ".env, virtualenvs, caches" in partial.evidence[0]
    assert dockerignore.check(ctx()).status is Status.FAIL  # no file at all


def test_reproducible_reads_stored_records() -> None:
    record = {
        "kind": "verification",
        "commit": "c" * 40,
        "verdict": "identical",
        "image_digest_a": DIGEST,
    }
    verification = verification_from_record(
        VerificationRecord.from_json(record, "verify.json"), "verify.json"
    )
    assert reproducible.check(ctx(verification=verification, commit="c" * 40)).status is Status.PASS
    assert reproducible.check(ctx(verification=verification, commit="d" * 40)).status is Status.SKIP
    assert reproducible.check(ctx()).status is Status.SKIP
    differs = verification_from_record(
        VerificationRecord.from_json({**record, "verdict": "differs"}, "v.json"), "v.json"
    )
    assert reproducible.check(ctx(verification=differs)).status is Status.FAIL
    with pytest.raises(InputError, match="is not a `repro verify --json` record"):
        VerificationRecord.from_json({"kind": "signoff"}, "other.json")
    with pytest.raises(InputError, match="`verdict` is missing"):
        VerificationRecord.from_json({**record, "verdict": None}, "v.json")


def _released(digest: str) -> str:
    """repro.lock text with a release as `repro release` writes it (Release.to_toml)."""
    release = make("1.4.0", [(1, "COPY . /app")], digest=digest)  # commit "c" * 40
    return dump_lockfile(with_release(parse_lockfile(_lock(DIGEST)), release))


def test_reproducible_compares_the_signed_off_image_with_the_released_one() -> None:
    text = _released(DIGEST)
    releases = releases_of(parse_lockfile(text), text)
    found = verification_from_lockfile(releases, "c" * 40, "repro.lock")
    assert found is not None and found.identical and "1.4.0" in found.source
    assert found.image_digest == DIGEST  # the release's `digest`, as Release.to_toml writes it
    assert verification_from_lockfile(releases, "d" * 40, "repro.lock") is None

    same = reproducible.check(ctx(verification=found, commit="c" * 40))  # image_digest=DIGEST
    assert same.status is Status.PASS
    assert f"the signed-off image is the verified one ({DIGEST})" in same.evidence

    other = "sha256:" + "f" * 64
    different = reproducible.check(
        CheckContext(images=(facts(),), image_digest=other, verification=found, commit="c" * 40)
    )
    assert different.status is Status.FAIL
    assert f"verified image {DIGEST}, signed-off image {other}" in different.evidence


# --- the report: waivers, verdict, Markdown and JSON ---


def test_waivers_show_and_do_not_fail_the_signoff() -> None:
    image = facts({"User": "10001", "Cmd": ["app"], "Healthcheck": {"Test": ["CMD", "true"]}})
    context = ctx(
        image,
        dockerignore=(".git", ".env", ".venv", "venv", "__pycache__", ".pytest_cache"),
        size_budget=1000,
    )
    report = evaluate(context, image="img.tar", dockerfile=None, context=None)
    assert report.passed  # base-pinned is skipped without a Dockerfile; labels only warn
    rooted = ctx(facts({"Cmd": ["app"]}), size_budget=1000)
    failing = evaluate(rooted, image="img.tar", dockerfile=None, context=None)
    assert not failing.passed
    waived = evaluate(
        rooted,
        image="img.tar",
        dockerfile=None,
        context=None,
        waivers={"non-root": "needs CAP_NET_RAW", "healthcheck": "k8s probes"},
        allow=("dockerignore",),
    )
    assert waived.passed
    markdown = signoff_markdown(waived)
    assert "### Waivers" in markdown and "`non-root` (fail): needs CAP_NET_RAW" in markdown
    assert "allowed on the command line (--allow)" in markdown
    record = json.loads(signoff_json(waived))
    assert record["schema_version"] == 1 and record["kind"] == "signoff"
    assert record["verdict"] == "pass" and record["counts"]["waived"] == 3
    check = next(c for c in record["checks"] if c["id"] == "non-root")
    assert check["status"] == "fail" and check["waived"] == "needs CAP_NET_RAW"


def test_markdown_has_a_table_and_a_bar_chart(
    layered_image: tuple[str, tuple[ImageFacts, ...]],
) -> None:
    digest, images = layered_image
    report = evaluate(
        CheckContext(images=images, image_digest=digest, size_budget=10),
        image="x",
        dockerfile=None,
        context=None,
    )
    markdown = signoff_markdown(report)
    assert "| | Check | Status | Evidence | Fix |" in markdown
    assert "## Release sign-off: FAIL" in markdown
    assert "█" in markdown and "biggest wasted files:" in markdown
    record = json.loads(signoff_json(report))
    assert record["size"][0]["wasted_bytes"] == images[0].size.wasted_bytes
    assert [layer["index"] for layer in record["size"][0]["layers"]] == [0, 1, 2]


# --- units and config ---


def test_sizes() -> None:
    assert parse_size("200MB") == 200_000_000 and parse_size("1GiB") == 1 << 30
    assert parse_size("1.5 GB") == 1_500_000_000
    with pytest.raises(InputError):
        parse_size("big")
    assert human_bytes(1_100_000_000) == "1.1 GB" and human_bytes(12) == "12 B"


def test_config_waivers_need_a_reason() -> None:
    config = parse_config(
        {"signoff": {"waivers": {"healthcheck": "probed by k8s"}, "size-budget": "200MB"}},
        source=Path("/p/repro.toml"),
    )
    assert config.signoff_waivers == {"healthcheck": "probed by k8s"}
    assert config.signoff_size_budget == "200MB"
    with pytest.raises(InputError, match="written reason"):
        parse_config({"signoff": {"waivers": {"healthcheck": ""}}}, source=Path("/p/repro.toml"))


def test_layer_tar_helper_is_streamed_not_extracted(tmp_path: Path) -> None:
    write_image(tmp_path / "i", [{"a.txt": (b"hello", FILE)}])
    _, (image,) = gather_image(open_image(tmp_path / "i"))
    assert image.files["/a.txt"].size == 5
    assert list(tmp_path.rglob("a.txt")) == []


def test_dockerignore_asks_only_for_what_the_context_has() -> None:
    go_project = frozenset({"Dockerfile", "main.go", "go.mod", ".git/"})
    minimal = (".git", ".env")
    result = dockerignore.check(ctx(dockerignore=minimal, context_paths=go_project))
    assert result.status is Status.PASS
    assert result.evidence == (".dockerignore: excludes .git, .env",)
    python_tree = go_project | {".venv/", ".venv/pyvenv.cfg", "src/", "src/__pycache__/"}
    failing = dockerignore.check(ctx(dockerignore=minimal, context_paths=python_tree))
    assert failing.status is Status.FAIL
    assert failing.evidence[0] == (
        ".dockerignore: does not exclude virtualenvs (.venv/), caches (src/__pycache__/)"
    )
    assert failing.fix is not None and ".venv/" in failing.fix and "src/__pycache__/" in failing.fix
    covered = (*minimal, ".venv", "**/__pycache__")
    assert (
        dockerignore.check(ctx(dockerignore=covered, context_paths=python_tree)).status
        is Status.PASS
    )


def test_dockerignore_still_requires_git_and_env_in_a_clean_context() -> None:
    result = dockerignore.check(ctx(dockerignore=(".git",), context_paths=frozenset({"a.txt"})))
    assert result.status is Status.FAIL
    assert result.evidence[0] == ".dockerignore: does not exclude .env"


def test_list_context_names_virtualenvs_and_caches_without_walking_them(tmp_path: Path) -> None:
    from repro.signoff.service import list_context

    (tmp_path / "venv" / "lib").mkdir(parents=True)
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / "venv" / "lib" / "site.py").write_text("")
    (tmp_path / "app" / "__pycache__").mkdir(parents=True)
    (tmp_path / "app" / "__pycache__" / "a.pyc").write_bytes(b"")
    (tmp_path / "app" / "main.py").write_text("")
    assert list_context(tmp_path) == {
        "app/",
        "app/__pycache__/",
        "app/main.py",
        "venv/",
        "venv/pyvenv.cfg",
    }
