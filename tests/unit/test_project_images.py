"""What `repro verify --all` finds to verify: Dockerfiles, compose builds, bake targets."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.errors import InputError
from repro.project_verify.images import find_images, select_images
from repro.project_verify.model import ImageSource, ProjectImage

REPO_ROOT = Path(__file__).resolve().parents[2]
HARBOUR = REPO_ROOT / "examples" / "harbour"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def by_name(
    root: Path, excludes: tuple[str, ...] = (), environment: dict[str, str] | None = None
) -> dict[str, ProjectImage]:
    return {image.name: image for image in find_images(root, excludes, environment).images}


def test_the_sample_project_builds_four_images_one_name_each() -> None:
    found = find_images(HARBOUR)
    assert found.notes == ()
    assert [(i.name, i.also, i.context, i.dockerfile, i.platforms) for i in found.images] == [
        ("compose.yaml:app", ("docker-bake.hcl:app",), "app", "app/Dockerfile", ()),
        ("compose.yaml:site", (), "site", "site/Dockerfile", ()),
        (
            "compose.yaml:worker",
            ("docker-bake.hcl:worker",),
            "app",
            "app/worker.Dockerfile",
            (),
        ),
        (
            "docker-bake.hcl:site",
            (),
            "site",
            "site/Dockerfile",
            ("linux/amd64", "linux/arm64"),
        ),
    ]
    bake_site = found.images[-1]
    # bake's own args, with its variable's default filled in
    assert bake_site.build_args == (("SITE_TITLE", "Harbour 1.4.0"),)
    assert bake_site.source is ImageSource.BAKE and bake_site.line == 22


def test_a_dockerfile_nothing_names_is_an_image_built_in_its_directory(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM scratch\n",
            "tools/lint.Dockerfile": "FROM scratch\n",
            "web/Dockerfile": "FROM scratch\n",
            "compose.yaml": "services:\n  web:\n    build: web\n",
        },
    )
    images = by_name(root)
    assert sorted(images) == ["Dockerfile", "compose.yaml:web", "tools/lint.Dockerfile"]
    lint = images["tools/lint.Dockerfile"]
    assert (lint.source, lint.context, lint.dockerfile) == (
        ImageSource.DOCKERFILE,
        "tools",
        "tools/lint.Dockerfile",
    )
    assert images["Dockerfile"].context == "."
    # --image takes a Dockerfile's directory for its name too
    picked = select_images(list(images.values()), ["web", "tools/lint.Dockerfile"])
    assert [i.name for i in picked] == ["compose.yaml:web", "tools/lint.Dockerfile"]


def test_compose_paths_are_relative_to_the_file_and_the_context(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "deploy/compose.yaml": """\
services:
  api:
    build:
      context: ../src
      dockerfile: docker/api.df
      target: runtime
      platforms: [linux/amd64]
      args:
        PYTHON: "3.11"
        TOKEN:
        UNSET:
    image: registry.example/api:${TAG:-dev}
""",
        },
    )
    api = by_name(root, environment={"TOKEN": "from-env"})["deploy/compose.yaml:api"]
    assert (api.context, api.dockerfile, api.target, api.platforms) == (
        "src",
        "src/docker/api.df",
        "runtime",
        ("linux/amd64",),
    )
    # An arg without a value takes the environment's, as compose does; unset stays unset.
    assert api.build_args == (("PYTHON", "3.11"), ("TOKEN", "from-env"))
    # The output name may use variables: it is not an input of the build.
    assert api.invalid is None


@pytest.mark.parametrize(
    ("build", "reason"),
    [
        ("context: .\n      args: {V: '${VERSION}'}", "needs ${VERSION} from the environment"),
        ("dockerfile_inline: 'FROM scratch'", "dockerfile_inline"),
        ("context: .\n      additional_contexts: {src: ../src}", "additional_contexts (src)"),
        ("context: https://github.com/x/y.git", "a remote build context"),
    ],
)
def test_what_repro_cannot_build_as_written_is_listed_with_the_reason(
    tmp_path: Path, build: str, reason: str
) -> None:
    root = write(tmp_path, {"compose.yaml": f"services:\n  web:\n    build:\n      {build}\n"})
    (web,) = find_images(root).images
    assert web.invalid is not None and reason in web.invalid


def test_bake_builds_what_its_groups_list_after_overrides_and_inherits(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "docker-bake.hcl": """\
group "default" { targets = ["release"] }
group "release" { targets = ["api", "cli"] }
target "_base" { args = { PYTHON = "3.11" } }
target "api" {
  inherits = ["_base"]
  context = "api"
}
target "cli" {
  inherits = ["_base"]
  context = "cli"
  dockerfile = "cli.Dockerfile"
}
target "scratchpad" { context = "pad" }
""",
            "docker-bake.override.hcl": 'target "api" {\n  args = { DEBUG = "0" }\n}\n',
        },
    )
    images = by_name(root)
    # Only what a group lists; the override's args merge over the parent's.
    assert sorted(images) == ["docker-bake.hcl:cli", "docker-bake.override.hcl:api"]
    api = images["docker-bake.override.hcl:api"]
    assert api.build_args == (("DEBUG", "0"), ("PYTHON", "3.11"))
    assert images["docker-bake.hcl:cli"].dockerfile == "cli/cli.Dockerfile"


def test_without_groups_bake_builds_every_target_nothing_inherits(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "docker-bake.hcl": """\
target "_common" { platforms = ["linux/amd64", "linux/arm64"] }
target "app" { inherits = ["_common"] }
target "matrix" {
  name = "m"
  matrix = { v = ["1", "2"] }
}
""",
        },
    )
    images = by_name(root)
    assert sorted(images) == ["docker-bake.hcl:app", "docker-bake.hcl:matrix"]
    assert images["docker-bake.hcl:app"].platforms == ("linux/amd64", "linux/arm64")
    assert "matrix: not literal" in (images["docker-bake.hcl:matrix"].invalid or "")


def test_a_compose_file_that_does_not_parse_is_an_input_error(tmp_path: Path) -> None:
    root = write(tmp_path, {"compose.yaml": "services:\n  web:\n    build: [unclosed\n"})
    with pytest.raises(InputError, match=r"compose\.yaml:\d+"):
        find_images(root)


def test_override_files_are_not_merged_and_say_so(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "compose.yaml": "services:\n  web:\n    build: .\n",
            "compose.override.yaml": "services:\n  web:\n    build:\n      args: {X: '1'}\n",
            "Dockerfile": "FROM scratch\n",
        },
    )
    found = find_images(root)
    assert [i.name for i in found.images] == ["compose.yaml:web"]
    assert "compose.override.yaml: an override file" in found.notes[0]


def test_a_compose_file_linked_from_outside_the_project_is_skipped_and_said_so(
    tmp_path: Path,
) -> None:
    outside = write(tmp_path / "outside", {"compose.yaml": "services:\n  x:\n    build: .\n"})
    root = write(tmp_path / "p", {"Dockerfile": "FROM scratch\n"})
    (root / "compose.yaml").symlink_to(outside / "compose.yaml")
    found = find_images(root)
    assert [i.name for i in found.images] == ["Dockerfile"]
    assert found.notes == (
        f"compose.yaml: skipped, it is a symlink to {outside / 'compose.yaml'} outside the project",
    )


def test_excluded_paths_are_left_out(tmp_path: Path) -> None:
    root = write(
        tmp_path,
        {
            "Dockerfile": "FROM scratch\n",
            "vendor/thing/Dockerfile": "FROM scratch\n",
            "vendor/compose.yaml": "services:\n  x:\n    build: thing\n",
        },
    )
    assert [i.name for i in find_images(root, excludes=("vendor",)).images] == ["Dockerfile"]


def test_select_by_full_name_other_name_or_unique_short_name() -> None:
    images = find_images(HARBOUR).images

    def pick(*names: str) -> list[str]:
        return [i.name for i in select_images(images, names)]

    assert pick("docker-bake.hcl:site") == ["docker-bake.hcl:site"]
    assert pick("docker-bake.hcl:app") == ["compose.yaml:app"]  # the same build
    assert pick("worker", "app", "worker") == ["compose.yaml:app", "compose.yaml:worker"]
    with pytest.raises(InputError, match="'site' names 2 images") as ambiguous:
        pick("site")
    assert "FILE:SERVICE" in (ambiguous.value.hint or "")
    with pytest.raises(InputError, match="no image named 'db'") as unknown:
        pick("db")
    assert "compose.yaml:app" in (unknown.value.hint or "")
