"""Attribution of layers to Dockerfile instructions."""

from __future__ import annotations

import pytest

from repro.oci.history import (
    clean_created_by,
    history_for_layers,
    layer_instructions,
    layer_of_history_entry,
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
