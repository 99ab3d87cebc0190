import pytest

from repro.environment import BuilderFacts, EngineFacts, buildkit_version, parse_version


def facts(server: str, reported: str, driver: str = "docker") -> EngineFacts:
    return EngineFacts(
        server_version=server,
        api_version="1.45",
        client_version="28.2.2",
        buildx_version="0.13.1",
        containerd_snapshotter=True,
        builder=BuilderFacts("default", driver, reported, ("linux/amd64",)),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("v0.13.1", (0, 13, 1)),
        ("0.13.1+ds1", (0, 13, 1)),
        ("26.1.5+dfsg1", (26, 1, 5)),
        ("v0.0.0+unknown", None),
        ("unknown", None),
        ("27.0", (27, 0, 0)),
    ],
)
def test_parse_version(text: str, expected: tuple[int, int, int] | None) -> None:
    assert parse_version(text) == expected


def test_reported_buildkit_version_wins() -> None:
    version = buildkit_version(facts("20.10.24", "v0.16.0", driver="docker-container"))
    assert version.version == (0, 16, 0)
    assert not version.inferred
    assert version.supports_rewrite_timestamp


def test_debian_engine_without_stamped_buildkit_is_inferred_from_engine() -> None:
    version = buildkit_version(facts("26.1.5+dfsg1", "v0.0.0+unknown"))
    assert version.inferred
    assert version.version is not None and version.version[:2] == (0, 13)
    assert version.supports_rewrite_timestamp
    assert "bundled" in version.text


def test_bookworm_engine_is_too_old() -> None:
    version = buildkit_version(facts("20.10.24+dfsg1", "v0.0.0+unknown"))
    assert not version.supports_rewrite_timestamp


def test_engine_newer_than_the_table_counts_as_new_enough() -> None:
    assert buildkit_version(facts("31.0.0", "v0.0.0+unknown")).supports_rewrite_timestamp


def test_unknown_version_on_a_remote_driver_is_not_assumed() -> None:
    version = buildkit_version(facts("26.1.5", "unknown", driver="remote"))
    assert version.version is None
    assert not version.supports_rewrite_timestamp
