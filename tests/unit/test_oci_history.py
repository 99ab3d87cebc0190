"""Attribution of layers to Dockerfile instructions."""

from __future__ import annotations

import pytest

from repro.oci.history import (
    clean_created_by,
    history_for_layers,
    layer_instructions,
    layer_of_history_entry,
    run_build_args,
)


@pytest.mark.parametrize(
    ("created_by", "expected"),
    [
        ("RUN /bin/sh -c apt-get update # buildkit", "RUN apt-get update"),
        ("RUN |2 A=1 B=2 /bin/sh -c make # buildkit", "RUN make"),
        ('/bin/sh -c #(nop)  CMD ["sh"]', 'CMD ["sh"]'),
        ("/bin/sh -c make install", "RUN make install"),
        ("COPY . /app # buildkit", "COPY . /app"),
        ("WORKDIR /app", "WORKDIR /app"),
    ],
)
def test_clean_created_by(created_by: str, expected: str) -> None:
    assert clean_created_by(created_by) == expected


CONFIG = {
    "history": [
        {"created_by": "/bin/sh -c #(nop) ADD file:1 in /"},
        {"created_by": "ENV A=1", "empty_layer": True},
        {"created_by": "RUN /bin/sh -c make # buildkit"},
        {"created_by": 'CMD ["app"]', "empty_layer": True},
        {"created_by": "COPY app /app # buildkit"},
    ]
}


def test_empty_layer_entries_produce_no_layer() -> None:
    assert history_for_layers(CONFIG, 3) == [0, 2, 4]
    assert layer_instructions(CONFIG, 3) == ["ADD file:1 in /", "RUN make", "COPY app /app"]


def test_more_layers_than_history() -> None:
    assert layer_instructions(CONFIG, 4)[3] is None
    assert layer_instructions({}, 1) == [None]


def test_layer_of_history_entry() -> None:
    assert layer_of_history_entry(CONFIG, 2) == 1
    assert layer_of_history_entry(CONFIG, 1) is None


def test_the_last_layers_history_entry_is_found_past_empty_layer_entries() -> None:
    assert [layer_of_history_entry(CONFIG, i) for i in range(6)] == [0, None, 1, None, 2, None]
    explicit = {"history": [{"created_by": "a", "empty_layer": False}, {"created_by": "b"}]}
    assert layer_of_history_entry(explicit, 1) == 1


@pytest.mark.parametrize("config", [{}, {"history": None}, {"history": {"0": {}}}])
def test_a_config_without_a_history_list_attributes_nothing(config: dict[str, object]) -> None:
    assert layer_of_history_entry(config, 0) is None
    assert layer_instructions(config, 2) == [None, None]


@pytest.mark.parametrize(
    ("created_by", "arguments"),
    [
        ("RUN |2 A=1 B=2 /bin/sh -c make # buildkit", {"A": "1", "B": "2"}),
        ("  RUN |1 TZ=Europe/Paris /bin/sh -c date  ", {"TZ": "Europe/Paris"}),
        ("RUN |1 OPTS=-a=b /bin/sh -c make", {"OPTS": "-a=b"}),  # the first = splits
        ("RUN |1 EMPTY= /bin/sh -c make", {"EMPTY": ""}),
        ("RUN |1 SEP=a\tb /bin/sh -c make", {"SEP": "a\tb"}),  # words end at a space only
        ("RUN /bin/sh -c make # buildkit", None),
        ("COPY |1 A=1 /app", None),
        ("RUN |x A=1 /bin/sh -c make", None),
    ],
)
def test_run_build_args_are_the_recorded_name_value_pairs(
    created_by: str, arguments: dict[str, str] | None
) -> None:
    assert run_build_args(created_by) == arguments
