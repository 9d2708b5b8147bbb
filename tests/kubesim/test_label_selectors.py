"""Label and field selectors parse and match as labels.md describes them."""

from __future__ import annotations

import pytest

from kubesim.errors import BadRequest
from kubesim.selectors import POD_FIELDS, parse_field_selector, parse_label_selector

LABELS = {"app": "ixstream", "tier": "gpu", "ixstream.io/state": "warm"}


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ("", True),
        ("app=ixstream", True),
        ("app==ixstream", True),
        ("app!=ixstream", False),
        ("missing!=x", True),  # != matches objects without the key
        ("tier in (gpu, cpu)", True),
        ("tier notin (gpu)", False),
        ("missing notin (gpu)", True),
        ("ixstream.io/state", True),
        ("!ixstream.io/state", False),
        ("!ixstream.io/session", True),
        ("app=ixstream,tier in (cpu)", False),
        ("app=ixstream, ixstream.io/state in (warm,bound), !ixstream.io/session", True),
    ],
)
def test_label_selectors_match_equality_and_set_based_requirements(
    selector: str, matches: bool
) -> None:
    assert parse_label_selector(selector).matches(LABELS) is matches


@pytest.mark.parametrize("selector", ["app=(", "bad key=x", "app=" + "x" * 64, "a in (b c)"])
def test_a_malformed_label_selector_is_a_bad_request(selector: str) -> None:
    with pytest.raises(BadRequest):
        parse_label_selector(selector)


def test_field_selectors_match_the_fields_pods_support() -> None:
    pod = {
        "metadata": {"name": "p", "namespace": "ns"},
        "spec": {"nodeName": "n1"},
        "status": {"phase": "Running"},
    }
    assert parse_field_selector("status.phase=Running,spec.nodeName!=n2", POD_FIELDS).matches(pod)
    assert not parse_field_selector("metadata.name=q", POD_FIELDS).matches(pod)


def test_an_unsupported_field_selector_is_refused_like_the_real_server() -> None:
    with pytest.raises(BadRequest, match="field label not supported"):
        parse_field_selector("spec.schedulerName=x", POD_FIELDS)
