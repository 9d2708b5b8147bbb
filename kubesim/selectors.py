"""Label and field selectors, parsed once and matched against objects.

Label selectors follow labels.md ("Label selectors"): comma-separated requirements,
all of which must hold. Equality-based (`k=v`, `k==v`, `k!=v`) and set-based
(`k in (a,b)`, `k notin (a,b)`, `k`, `!k`). `!=` and `notin` also match objects
without the key, as in the real API. Field selectors accept `=`, `==` and `!=` on the
few fields each kind supports (`metadata.name`, `metadata.namespace`, and for pods
`spec.nodeName` and `status.phase`); any other field is a 400, like the real server's
"field label not supported".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubesim.errors import BadRequest

_KEY = re.compile(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$"
)
_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_SET = re.compile(r"^\s*(\S+)\s+(in|notin)\s*\(([^)]*)\)\s*$")


def valid_label_key(key: str) -> bool:
    """A qualified name with an optional DNS-subdomain prefix (labels.md, "Syntax")."""
    if not _KEY.match(key):
        return False
    prefix, _, _ = key.rpartition("/")
    return len(prefix) <= 253


def valid_label_value(value: str) -> bool:
    """At most 63 characters, alphanumeric at both ends, `-_.` inside."""
    return len(value) <= 63 and bool(_VALUE.match(value))


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str  # "=", "!=", "in", "notin", "exists", "!exists"
    values: frozenset[str]

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        match self.operator:
            case "exists":
                return present
            case "!exists":
                return not present
            case "=" | "in":
                return present and labels[self.key] in self.values
            case _:  # "!=" and "notin" match a missing key too
                return not present or labels[self.key] not in self.values


@dataclass(frozen=True, slots=True)
class LabelSelector:
    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        return not self.requirements


EVERYTHING = LabelSelector(())


def _split_top_level(text: str) -> list[str]:
    """Split on commas that are not inside `( )`."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def _check_key(key: str, selector: str) -> str:
    if not valid_label_key(key):
        raise BadRequest(f"unable to parse requirement: invalid label key {key!r} in {selector!r}")
    return key


def _check_values(values: list[str], selector: str) -> frozenset[str]:
    for value in values:
        if not valid_label_value(value):
            raise BadRequest(f"unable to parse requirement: invalid label value {value!r}")
    return frozenset(values)


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse the `labelSelector` query parameter; malformed input is a 400."""
    if not text:
        return EVERYTHING
    requirements = []
    for part in _split_top_level(text):
        set_match = _SET.match(part)
        if set_match:
            key, op, raw = set_match.groups()
            values = [v.strip() for v in raw.split(",") if v.strip()]
            requirements.append(Requirement(_check_key(key, text), op, _check_values(values, text)))
        elif "!=" in part:
            key, value = (s.strip() for s in part.split("!=", 1))
            requirements.append(
                Requirement(_check_key(key, text), "!=", _check_values([value], text))
            )
        elif "=" in part:
            key, value = (s.strip() for s in part.replace("==", "=", 1).split("=", 1))
            requirements.append(
                Requirement(_check_key(key, text), "=", _check_values([value], text))
            )
        elif part.startswith("!"):
            requirements.append(
                Requirement(_check_key(part[1:].strip(), text), "!exists", frozenset())
            )
        else:
            requirements.append(Requirement(_check_key(part, text), "exists", frozenset()))
    return LabelSelector(tuple(requirements))


def selector_from_match_labels(match_labels: Mapping[str, str]) -> LabelSelector:
    """A `matchLabels` map as a selector (e.g. a PodDisruptionBudget's)."""
    return LabelSelector(
        tuple(Requirement(k, "=", frozenset({v})) for k, v in sorted(match_labels.items()))
    )


FieldGetter = Callable[[dict[str, Any]], str]

COMMON_FIELDS: dict[str, FieldGetter] = {
    "metadata.name": lambda o: str(o["metadata"].get("name", "")),
    "metadata.namespace": lambda o: str(o["metadata"].get("namespace", "")),
}
POD_FIELDS: dict[str, FieldGetter] = {
    **COMMON_FIELDS,
    "spec.nodeName": lambda o: str(o.get("spec", {}).get("nodeName", "")),
    "status.phase": lambda o: str(o.get("status", {}).get("phase", "")),
}


@dataclass(frozen=True, slots=True)
class FieldSelector:
    terms: tuple[tuple[FieldGetter, bool, str], ...]  # (getter, equal?, value)

    def matches(self, obj: dict[str, Any]) -> bool:
        return all((get(obj) == value) == equal for get, equal, value in self.terms)


NO_FIELDS = FieldSelector(())


def parse_field_selector(
    text: str | None, supported: Mapping[str, FieldGetter] = COMMON_FIELDS
) -> FieldSelector:
    """Parse `fieldSelector`; fields a kind does not index are a 400."""
    if not text:
        return NO_FIELDS
    terms = []
    for part in _split_top_level(text):
        if "!=" in part:
            field, value = part.split("!=", 1)
            equal = False
        elif "=" in part:
            field, value = part.replace("==", "=", 1).split("=", 1)
            equal = True
        else:
            raise BadRequest(f"invalid field selector: {part!r}")
        getter = supported.get(field.strip())
        if getter is None:
            raise BadRequest(f'field label not supported: "{field.strip()}"')
        terms.append((getter, equal, value.strip()))
    return FieldSelector(tuple(terms))
