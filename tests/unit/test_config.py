from pathlib import Path

import pytest

from repro.config import load_config
from repro.errors import InputError


def test_no_config_is_empty(tmp_path: Path) -> None:
    config = load_config(tmp_path)
    assert config.registries == ()
    assert config.source is None


def test_repro_toml_is_found_from_a_subdirectory(tmp_path: Path) -> None:
    (tmp_path / "repro.toml").write_text(
        'registries = ["localhost:5000"]\n'
        'insecure-registries = ["registry.lan:5000"]\n'
        '[mirrors]\n"docker.io" = "http://localhost:5000"\n'
    )
    sub = tmp_path / "services" / "api"
    sub.mkdir(parents=True)
    config = load_config(sub)
    assert config.registries == ("localhost:5000",)
    assert config.mirrors == {"docker.io": "http://localhost:5000"}
    assert config.insecure_registries == frozenset({"registry.lan:5000"})
    assert config.root == tmp_path.resolve()


def test_pyproject_tool_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.repro]\nregistries = ["r.example:443"]\n'
    )
    assert load_config(tmp_path).registries == ("r.example:443",)


def test_pyproject_without_tool_table_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(tmp_path).source is None


def test_malformed_config_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "repro.toml").write_text("registries = [1, 2]\n")
    with pytest.raises(InputError, match="list of strings"):
        load_config(tmp_path)
    (tmp_path / "repro.toml").write_text("registries = [\n")
    with pytest.raises(InputError, match="not valid TOML"):
        load_config(tmp_path)
