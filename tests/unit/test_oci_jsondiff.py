"""diff_json: the leaves two JSON documents differ in, as paths a person can read."""

from __future__ import annotations

from repro.oci.jsondiff import JsonChange, child_path, diff_json


def test_every_kind_of_change_is_one_leaf_with_its_path_key_and_both_values() -> None:
    a = {
        "created": "2024-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/bin", "A=1"], "Labels": {"x.y": "1", "gone": "g"}},
        "history": [{"created_by": "RUN a"}, {"created_by": "RUN b"}],
        "same": {"k": [1, 2]},
        "only_a": 1,
    }
    b = {
        "created": "2024-02-02T00:00:00Z",
        "config": {"Env": ["PATH=/bin"], "Labels": {"x.y": "2", "new": "n"}},
        "history": [{"created_by": "RUN a"}, {"created_by": "RUN c"}, {"created_by": "RUN d"}],
        "same": {"k": [1, 2]},
        "only_b": [3],
    }
    assert list(diff_json(a, b)) == [
        JsonChange("config.Env[0]", "Env[0]", "changed", "PATH=/usr/bin", "PATH=/bin"),
        JsonChange("config.Env[1]", "Env[1]", "removed", "A=1", None),
        JsonChange("config.Labels.gone", "gone", "removed", "g", None),
        JsonChange("config.Labels.new", "new", "added", None, "n"),
        JsonChange('config.Labels["x.y"]', "x.y", "changed", "1", "2"),
        JsonChange("created", "created", "changed", "2024-01-01T00:00:00Z", "2024-02-02T00:00:00Z"),
        JsonChange("history[1].created_by", "created_by", "changed", "RUN b", "RUN c"),
        JsonChange("history[2]", "history[2]", "added", None, {"created_by": "RUN d"}),
        JsonChange("only_a", "only_a", "removed", 1, None),
        JsonChange("only_b", "only_b", "added", None, [3]),
    ]


def test_values_of_another_type_differ_even_when_python_calls_them_equal() -> None:
    assert list(diff_json({"n": 1}, {"n": True})) == [JsonChange("n", "n", "changed", 1, True)]
    assert list(diff_json({"n": 1}, {"n": 1.0})) == [JsonChange("n", "n", "changed", 1, 1.0)]
    assert list(diff_json([0], {"0": 0})) == [JsonChange("", "", "changed", [0], {"0": 0})]
    assert list(diff_json({"a": [1]}, {"a": {"b": 1}})) == [
        JsonChange("a", "a", "changed", [1], {"b": 1})
    ]


def test_equal_documents_have_no_change() -> None:
    document = {"a": [1, {"b": None}], "c": "d"}
    assert list(diff_json(document, {"c": "d", "a": [1, {"b": None}]})) == []


def test_a_shorter_list_on_the_b_side_removes_its_tail_item_by_item() -> None:
    assert list(diff_json({"l": [1, 2, 3]}, {"l": [1]})) == [
        JsonChange("l[1]", "l[1]", "removed", 2, None),
        JsonChange("l[2]", "l[2]", "removed", 3, None),
    ]
    assert list(diff_json([], [7])) == [JsonChange("[0]", "[0]", "added", None, 7)]


def test_child_paths_quote_keys_that_are_not_identifiers() -> None:
    assert child_path("", "config") == "config"
    assert child_path("config", "Env") == "config.Env"
    assert child_path("config", 3) == "config[3]"
    assert child_path("", 0) == "[0]"
    assert child_path("", "_a9") == "_a9"
    assert child_path("labels", "9a") == 'labels["9a"]'
    assert child_path("labels", "a-b") == 'labels["a-b"]'
    assert child_path("labels", "é") == 'labels["é"]'
    assert child_path("", "a b") == '["a b"]'
