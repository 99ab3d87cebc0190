"""The registry settings of [tool.repro], and how `repro doctor` shows a registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.config import parse_config
from repro.doctor import Status, _registry_checks
from repro.environment import RegistryFinding, RegistryStatus
from repro.errors import InputError

SOURCE = Path("/project/repro.toml")


def test_ca_files_are_relative_to_the_config_and_the_timeout_is_read() -> None:
    config = parse_config(
        {"ca-files": ["certs/corp.pem", "/etc/ssl/extra.pem"], "registry-timeout": 12},
        source=SOURCE,
    )
    assert config.ca_files == (Path("/project/certs/corp.pem"), Path("/etc/ssl/extra.pem"))
    assert config.registry_timeout == 12.0
    assert parse_config({}, source=SOURCE).registry_timeout is None


@pytest.mark.parametrize("value", [0, -1, "30", True, 5000])
def test_a_bad_registry_timeout_is_an_input_error(value: object) -> None:
    with pytest.raises(InputError, match="`registry-timeout` must be a number of seconds"):
        parse_config({"registry-timeout": value}, source=SOURCE)


def test_an_empty_mirror_is_a_configuration_error() -> None:
    with pytest.raises(InputError, match=r"the mirror for docker\.io is empty") as raised:
        parse_config({"mirrors": {"docker.io": " "}}, source=SOURCE)
    assert raised.value.exit_code == 2


def test_a_ca_files_entry_that_is_not_a_string() -> None:
    with pytest.raises(InputError, match="`ca-files` must be a list of strings"):
        parse_config({"ca-files": "corp.pem"}, source=SOURCE)


def test_doctor_shows_reachability_then_tls_and_auth() -> None:
    status = RegistryStatus(
        "reg.example",
        True,
        "reachable over https",
        (
            RegistryFinding("tls", True, "certificate verified by the OS trust store"),
            RegistryFinding("auth", None, "anonymous token obtained", "log in"),
        ),
    )
    rows = _registry_checks(status)
    assert [(r.name, r.status) for r in rows] == [
        ("registry reg.example", Status.OK),
        ("registry reg.example tls", Status.OK),
        ("registry reg.example auth", Status.WARN),
    ]
    assert rows[2].fix == "log in"


def test_an_unreachable_registry_keeps_the_clients_fix_not_a_developer_script() -> None:
    status = RegistryStatus("reg.example", False, "TCP connect failed", fix="is it running?")
    (row,) = _registry_checks(status)
    assert row.status is Status.FAIL and row.fix == "is it running?"
    (default,) = _registry_checks(RegistryStatus("r", False, "down"))
    assert default.fix is not None and "scripts/setup" not in default.fix
