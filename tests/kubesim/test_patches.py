"""Merge, strategic-merge and JSON patches apply as their specifications say, and never
mutate the object they patch (the store shares objects between readers)."""

from __future__ import annotations

import copy

import pytest

from kubesim.errors import Invalid, UnsupportedMediaType
from kubesim.patch import apply_patch, json_patch, merge_patch, strategic_merge_patch

POD = {
    "metadata": {"name": "p", "labels": {"a": "1", "b": "2"}, "resourceVersion": "7"},
    "spec": {"containers": [{"name": "c", "image": "x:1", "env": [{"name": "A", "value": "1"}]}]},
    "status": {"conditions": [{"type": "Ready", "status": "False"}]},
}


def test_a_merge_patch_merges_maps_deletes_nulls_and_replaces_lists() -> None:
    original = copy.deepcopy(POD)
    patched = merge_patch(
        POD,
        {
            "metadata": {"labels": {"a": None, "c": "3"}},
            "spec": {"containers": [{"name": "d", "image": "y"}]},
        },
    )
    assert patched["metadata"]["labels"] == {"b": "2", "c": "3"}
    assert patched["spec"]["containers"] == [{"name": "d", "image": "y"}]
    assert original == POD


def test_a_strategic_merge_patch_merges_lists_by_their_merge_key() -> None:
    patched = strategic_merge_patch(
        POD,
        {
            "spec": {
                "containers": [{"name": "c", "image": "x:2", "env": [{"name": "B", "value": "2"}]}]
            },
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        },
    )
    (container,) = patched["spec"]["containers"]
    assert container["image"] == "x:2"
    assert [e["name"] for e in container["env"]] == ["A", "B"]
    assert patched["status"]["conditions"] == [{"type": "Ready", "status": "True"}]


def test_a_strategic_merge_patch_deletes_a_list_element_by_directive() -> None:
    patched = strategic_merge_patch(
        POD, {"spec": {"containers": [{"name": "c", "$patch": "delete"}]}}
    )
    assert patched["spec"]["containers"] == []


def test_a_json_patch_applies_in_order_and_a_failed_test_applies_nothing() -> None:
    patched = json_patch(
        POD,
        [
            {"op": "test", "path": "/metadata/resourceVersion", "value": "7"},
            {"op": "add", "path": "/metadata/labels/ixstream.io~1state", "value": "bound"},
            {"op": "remove", "path": "/metadata/labels/a"},
        ],
    )
    assert patched["metadata"]["labels"] == {"b": "2", "ixstream.io/state": "bound"}
    with pytest.raises(Invalid):
        json_patch(POD, [{"op": "test", "path": "/metadata/resourceVersion", "value": "6"}])


def test_the_content_type_chooses_the_patch_and_apply_is_refused() -> None:
    body = {"metadata": {"labels": {"a": "9"}}}
    assert (
        apply_patch("application/merge-patch+json; charset=utf-8", POD, body)["metadata"]["labels"][
            "a"
        ]
        == "9"
    )
    with pytest.raises(UnsupportedMediaType):
        apply_patch("application/apply-patch+yaml", POD, body)
