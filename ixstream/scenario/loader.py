"""Reading a scenario file, with errors an author can act on.

Authors write YAML by hand, so an error must say where: `traffic-stop.yaml:23:
triggers[1].when.zone.radius_m: Input should be greater than 0`. PyYAML's composer
keeps each node's position (`start_mark`); we build the plain data from those nodes and
map every pydantic error location back along the node tree to a line. YAML's own
syntax errors carry their line too. Duplicate keys, which YAML parsers silently merge,
are refused here. Only safe YAML is read (no tags that build Python objects).

Documents come from instructors over the API, so the loader is also a security edge.
Anchors and aliases let ~600 bytes stand for billions of nodes ("billion laughs"): the
composer shares an aliased node rather than copying it, so the graph stays small, but
anything that walks it as a tree (our checks, pydantic) pays the expanded size. The
graph is therefore measured first, once per distinct node, and a document whose
expansion passes `MAX_EXPANDED_NODES`, which uses more than `MAX_ALIASES` aliases, or
which nests deeper than `MAX_DEPTH` is refused with the line where it happens, before
anything walks it. Together with `MAX_SCENARIO_BYTES` that bounds a parse's time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from ixstream.scenario.model import Scenario

#: Generous for a hand-written document, small enough to parse without worry.
MAX_SCENARIO_BYTES = 256 * 1024
#: The samples expand to ~1,500 nodes; ten times the largest plausible hand-written one.
MAX_EXPANDED_NODES = 50_000
#: Anchors are for reusing a waypoint list or a caption, a handful per document.
MAX_ALIASES = 100
#: A scenario is about eight levels deep; nesting beyond this is never authored by hand.
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem: the line (1-based; None when unknown), the field path, the message."""

    line: int | None
    field: str
    message: str


class ScenarioError(ValueError):
    """A scenario file that cannot be used; `str()` lists every issue, one a line."""

    def __init__(self, filename: str, issues: Sequence[Issue]) -> None:
        self.filename = filename
        self.issues = list(issues)
        super().__init__("\n".join(self.describe(i) for i in self.issues))

    def describe(self, issue: Issue) -> str:
        where = f"{self.filename}:{issue.line}" if issue.line is not None else self.filename
        return (
            f"{where}: {issue.field}: {issue.message}"
            if issue.field
            else f"{where}: {issue.message}"
        )


def load_scenario(path: Path, scene_dirs: Sequence[Path] = ()) -> Scenario:
    """Read and validate `path`; see `parse_scenario`."""
    if path.stat().st_size > MAX_SCENARIO_BYTES:
        raise _too_large(path.name)
    return parse_scenario(path.read_bytes(), path.name, scene_dirs=scene_dirs)


def parse_scenario(
    text: bytes | str,
    filename: str,
    *,
    expected_id: str | None = None,
    scene_dirs: Sequence[Path] = (),
) -> Scenario:
    """Validate a scenario document. `expected_id`: the id it must have (a library
    names files by id). `scene_dirs`: when given, every scene not marked `pending` must
    be a file in one of them."""
    raw = text.encode() if isinstance(text, str) else text
    if len(raw) > MAX_SCENARIO_BYTES:
        raise _too_large(filename)
    root = _compose(raw, filename)
    data = _construct(root, filename)
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(filename, [_issue(root, e) for e in exc.errors()]) from None
    issues: list[Issue] = []
    if expected_id is not None and scenario.id != expected_id:
        line = _line_of(root, ("id",))
        issues.append(Issue(line, "id", f"must be {expected_id!r}, the scenario's file name"))
    if scene_dirs:
        for i, scene in enumerate(scenario.scenes):
            if not scene.pending and not any((d / scene.path).is_file() for d in scene_dirs):
                where = ", ".join(str(d) for d in scene_dirs)
                message = f"no scene file {scene.path!r} in {where} (mark it `pending: true`?)"
                issues.append(
                    Issue(_line_of(root, ("scenes", i, "path")), f"scenes[{i}].path", message)
                )
    if issues:
        raise ScenarioError(filename, issues)
    return scenario


def _too_large(filename: str) -> ScenarioError:
    return ScenarioError(filename, [Issue(None, "", f"larger than {MAX_SCENARIO_BYTES} bytes")])


def _compose(raw: bytes, filename: str) -> yaml.MappingNode:
    try:
        root = yaml.compose(raw, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ScenarioError(filename, [Issue(line, "", f"not valid YAML: {message}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError(filename, [Issue(None, "", f"not valid YAML: {exc}")]) from None
    except RecursionError:  # PyYAML's composer recurses once per nesting level
        raise ScenarioError(
            filename, [Issue(None, "", f"nested deeper than {MAX_DEPTH} levels")]
        ) from None
    if not isinstance(root, yaml.MappingNode):
        line = root.start_mark.line + 1 if root is not None else None
        raise ScenarioError(filename, [Issue(line, "", "a scenario is a mapping of fields")])
    _refuse_expansion(root, filename)
    return root


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _refuse_expansion(root: yaml.Node, filename: str) -> None:
    """Refuse a document whose node graph expands past the limits (module docstring).

    One depth-first pass over the graph sizes each distinct node once (a memo by
    identity), so the check costs the graph's size, not the expansion's. Popping a node
    already sized is an alias; popping one still open is an alias to its own ancestor
    (`&a [*a]`), which would expand forever. Iterative, so depth cannot exhaust Python's
    stack here.
    """
    expanded: dict[int, int] = {}
    open_nodes: set[int] = set()
    aliases = 0
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, closing = stack.pop()
        line = node.start_mark.line + 1
        if closing:
            size = 1 + sum(expanded[id(child)] for child in _children(node))
            if size > MAX_EXPANDED_NODES:
                raise _expansion_error(filename, line, _TOO_BIG)
            open_nodes.discard(id(node))
            expanded[id(node)] = size
        elif id(node) in open_nodes:
            raise _expansion_error(filename, line, "an alias refers to the node that holds it")
        elif id(node) in expanded:
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _expansion_error(filename, line, f"more than {MAX_ALIASES} aliases")
        elif depth > MAX_DEPTH:
            raise _expansion_error(filename, line, f"nested deeper than {MAX_DEPTH} levels")
        else:
            open_nodes.add(id(node))
            stack.append((node, depth, True))
            stack.extend((child, depth + 1, False) for child in reversed(_children(node)))


_TOO_BIG = (
    f"expands to more than {MAX_EXPANDED_NODES} nodes through anchors and aliases "
    "(&name, *name); write the repeated part out fewer times"
)


def _expansion_error(filename: str, line: int, message: str) -> ScenarioError:
    return ScenarioError(filename, [Issue(line, "", message)])


def _construct(root: yaml.MappingNode, filename: str) -> object:
    _refuse_duplicate_keys(root, filename)
    constructor = yaml.SafeLoader("")
    try:
        return constructor.construct_document(root)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        raise ScenarioError(filename, [Issue(line, "", f"{exc.problem}")]) from None


def _refuse_duplicate_keys(node: yaml.Node, filename: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    line = key.start_mark.line + 1
                    raise ScenarioError(filename, [Issue(line, key.value, "duplicate key")])
                seen.add(key.value)
            _refuse_duplicate_keys(value, filename)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(item, filename)


def _issue(root: yaml.Node, error: object) -> Issue:
    assert isinstance(error, dict)
    loc: tuple[str | int, ...] = tuple(error["loc"])
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        # Point at the tag field itself (`kind:` / `do:`), not at its parent.
        loc = (*loc, str(error["ctx"]["discriminator"]).strip("'"))
    path, line = _walk(root, loc)
    return Issue(line, _dotted(path), str(error["msg"]))


def _line_of(root: yaml.Node, loc: tuple[str | int, ...]) -> int:
    return _walk(root, loc)[1]


def _walk(root: yaml.Node, loc: tuple[str | int, ...]) -> tuple[list[str | int], int]:
    """Follow `loc` down the node tree: the path as written (pydantic's union tags, which
    name no node, left out) and the line of the deepest node reached. A field that is
    missing ends the walk at its parent's line, and is still named in the path."""
    node, line, path = root, root.start_mark.line + 1, []
    for i, part in enumerate(loc):
        child = _child(node, part)
        if child is None:
            if i == len(loc) - 1:
                path.append(part)
            continue
        key_line, node = child
        path.append(part)
        line = key_line
    return path, line


def _child(node: yaml.Node, part: str | int) -> tuple[int, yaml.Node] | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return key.start_mark.line + 1, value
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item.start_mark.line + 1, item
    return None


def _dotted(path: list[str | int]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text
