"""group_differences: one group per platform, layer, instruction and cause, in report order."""

from __future__ import annotations

from repro.oci.causes import classify
from repro.oci.fixes import fix_for_group
from repro.oci.groups import group_differences
from repro.oci.model import Difference, LayerInventory

AMD, ARM = "linux/amd64", "linux/arm64"
APT = "RUN apt-get install -y jq"


def _file(platform: str, layer: int, instruction: str | None, path: str, field: str) -> Difference:
    a, b = ("0644", "0664") if field == "mode" else (1, 2)
    return classify(Difference(platform, "file", layer, instruction, path, field, "changed", a, b))


def _config(platform: str, path: str) -> Difference:
    return classify(Difference(platform, "config", None, None, path, path, "changed", "a", "b"))


def test_groups_come_per_platform_layer_by_layer_then_the_documents_causes_in_catalogue_order() -> (
    None
):
    created = _config(AMD, "created")
    diff_id = _config(AMD, "rootfs.diff_ids[2]")
    mtime = _file(AMD, 2, APT, "/etc/x", "mtime")
    dpkg = _file(AMD, 2, APT, "/var/log/dpkg.log", "content")
    umask = _file(AMD, 10, "COPY . /app", "/app/x", "mode")
    pyc = _file(AMD, 1, "COPY . /app", "/app/a.pyc", "content")
    arm = _file(ARM, 0, APT, "/etc/y", "mtime")
    dpkg_size = _file(AMD, 2, APT, "/var/log/dpkg.log", "size")
    groups = group_differences([created, diff_id, mtime, dpkg, umask, pyc, arm, dpkg_size])
    assert [(g.platform, g.layer, g.cause_id) for g in groups] == [
        (AMD, 1, "pyc-timestamp"),
        (AMD, 2, "package-manager-state"),
        (AMD, 2, "rewrite-timestamp"),
        (AMD, 10, "checkout-umask"),  # 10 after 2: layers by number, not as text
        (AMD, None, "source-date-epoch"),
        (AMD, None, "follows-from-layers"),
        (ARM, 0, "rewrite-timestamp"),
    ]
    apt = groups[1]
    assert apt.instruction == APT
    assert apt.differences == (dpkg, dpkg_size)
    assert apt.cause_title == dpkg.cause_title == "Package-manager logs or caches"
    assert apt.fix == fix_for_group("package-manager-state", APT, [dpkg, dpkg_size])
    assert groups[4].differences == (created,)


def test_a_layers_volatile_files_present_join_the_fix_of_that_layer_and_cause_only() -> None:
    dpkg = _file(AMD, 2, APT, "/var/log/dpkg.log", "content")
    other = _file(AMD, 3, APT, "/var/log/dpkg.log", "content")
    inventory = [
        LayerInventory(AMD, 2, "package-manager-state", ("/var/lib/apt/lists/x",)),
        LayerInventory(AMD, 2, "temp-files", ("/tmp/a",)),
        LayerInventory(ARM, 3, "package-manager-state", ("/var/log/apt/term.log",)),
    ]
    first, second = group_differences([dpkg, other], inventory)
    assert first.fix.paths == ("/var/lib/apt/lists/*", "/var/log/dpkg.log")
    assert second.fix.paths == ("/var/log/dpkg.log",)


def test_a_difference_of_no_layer_gets_no_present_files() -> None:
    # A config difference an unclassified rule left alone, in a group of no layer.
    diff = Difference(AMD, "file", None, None, "/tmp/x", "content", "changed", 1, 2)
    inventory = [LayerInventory(AMD, 0, "temp-files", ("/tmp/y",))]
    [group] = group_differences([classify(diff)], inventory)
    assert group.cause_id == "temp-files"
    assert group.fix.paths == ("/tmp/*",)
    assert group_differences([]) == ()


def test_groups_of_one_layer_and_cause_are_ordered_by_instruction_none_first() -> None:
    copied = _file(AMD, 1, "COPY x /", "/x", "mtime")
    unknown = _file(AMD, 1, None, "/y", "mtime")
    groups = group_differences([copied, unknown])
    assert [g.instruction for g in groups] == [None, "COPY x /"]


def test_a_cause_outside_the_catalogue_comes_after_every_catalogued_one() -> None:
    odd = Difference(AMD, "file", 1, None, "/z", "content", "changed", 1, 2, cause_id="zz-custom")
    mtime = _file(AMD, 1, None, "/y", "mtime")
    umask = _file(AMD, 1, None, "/x", "mode")
    groups = group_differences([odd, umask, mtime])
    assert [g.cause_id for g in groups] == ["checkout-umask", "rewrite-timestamp", "zz-custom"]
