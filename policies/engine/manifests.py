"""Reading manifests: files and directories of YAML/JSON, multi-document, `kind: List`.

Public API (stable):

- ``load_paths(paths, limits=DEFAULT_LIMITS) -> Inventory``: files, or directories
  searched recursively for ``.yaml``/``.yml``/``.json``, within the size and time caps
  of ``ReadLimits`` (see safe_input.py: links never leave a directory, special files
  found in one are skipped with a note).
- ``load_documents(docs, source="<input>") -> Inventory``: already parsed dicts (the JSON
  the Kubernetes API returns), e.g. from the database mirror.
- ``load_yaml_text(text, source) -> list[dict]``: pasted or uploaded multi-document YAML.
- ``Inventory``: ``objects`` (the dicts of the kinds the engine reads, List items
  flattened), ``locations`` (where each came from, same order) and ``notes`` (one line
  per skipped kind).
- ``ManifestError``: raised for bad input; ``errors`` is a list of ``InputError``, each
  with file, line, object, path and message, ``str()`` = ``file:line: message``.

Line numbers come from the YAML composer, so a semantic error can point at the line of
the offending field, not only at the document. Every text passes ``check_yaml_text``
before it is composed: alias bombs, recursive aliases and deep nesting are refused in
milliseconds with a ManifestError.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .safe_input import (
    DEFAULT_LIMITS,
    MAX_NESTING,
    ReadBudget,
    ReadLimits,
    UnsafeInput,
    check_text_size,
    check_yaml_text,
    read_manifest_file,
    walk_manifest_files,
)

KINDS = (
    "Namespace",
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
    "NetworkPolicy",
    "ClusterNetworkPolicy",
    "AdminNetworkPolicy",
    "BaselineAdminNetworkPolicy",
    "Node",
)
"""Kinds the engine reads; everything else is skipped with a note."""

try:  # libyaml is much faster on big manifests; both give the same nodes and marks.
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment,unused-ignore]
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader


@dataclass(frozen=True)
class Location:
    """Where an object came from, with the line of each of its fields when known."""

    file: str
    line: int = 0
    field_lines: Mapping[str, int] = field(default_factory=dict, repr=False)

    def line_of(self, path: str) -> int:
        """The line of `path` or of its closest parent field that has one."""
        p = path
        while p:
            found = self.field_lines.get(p)
            if found:
                return found
            cut = max(p.rfind("."), p.rfind("["))
            p = p[:cut] if cut > 0 else ""
        return self.line


@dataclass(frozen=True)
class InputError:
    """One problem in the input: `file:line: message`."""

    file: str
    line: int
    object: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class ManifestError(Exception):
    """Bad input; `errors` lists every problem found."""

    def __init__(self, errors: Sequence[InputError]) -> None:
        self.errors: list[InputError] = list(errors)
        super().__init__("\n".join(str(e) for e in self.errors))


@dataclass
class Inventory:
    """Parsed objects of the kinds the engine reads, where each came from, and notes."""

    objects: list[dict[str, Any]] = field(default_factory=list)
    locations: list[Location] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)

    def add(self, obj: dict[str, Any], location: Location) -> None:
        self.objects.append(obj)
        self.locations.append(location)

    def finish(self) -> Inventory:
        self.notes = [
            f"skipped {n} {kind} object{'s' if n != 1 else ''}: kind {kind} is not used for NetworkPolicy analysis"
            for kind, n in sorted(self.skipped.items())
        ]
        return self


# -- YAML with line numbers -------------------------------------------------------------


class _Builder:
    """Turns composed YAML nodes into plain Python, recording each field's line."""

    def __init__(self) -> None:
        self.constructor = yaml.constructor.SafeConstructor()

    def build(self, node: yaml.Node, path: str, lines: dict[str, int], depth: int = 0) -> Any:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            depth += 1
            if depth > MAX_NESTING:  # check_yaml_text refuses this first; never recurse on
                raise UnsafeInput(f"nesting deeper than {MAX_NESTING} levels", node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    merged = self.build(value_node, path, {}, depth)
                    for m in merged if isinstance(merged, list) else [merged]:
                        if isinstance(m, dict):
                            for k, v in m.items():
                                out.setdefault(k, v)
                    continue
                key = self.constructor.construct_object(key_node, deep=True)
                child = f"{path}.{key}" if path else str(key)
                out[key] = self.build(value_node, child, lines, depth)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.build(v, f"{path}[{i}]", lines, depth) for i, v in enumerate(node.value)]
        return self.constructor.construct_object(node, deep=True)


def _yaml_error(exc: yaml.YAMLError, source: str) -> InputError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 0
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    text = f"{context}, {problem}" if context else str(problem)
    text = " ".join(text.split())  # one line, whatever the parser's layout
    return InputError(source, line, "", "", f"invalid YAML: {text}")


def _unsafe_error(exc: UnsafeInput, source: str) -> InputError:
    return InputError(source, exc.line, "", "", exc.message)


def _object_name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    name = meta.get("name") or "<unnamed>"
    ns = meta.get("namespace")
    kind = obj.get("kind") or "object"
    return f"{kind} {ns}/{name}" if ns else f"{kind} {name}"


def _parse_stream(text: str, source: str) -> list[tuple[Any, Location]]:
    """Every object of a YAML/JSON stream, List items flattened, with locations."""
    builder = _Builder()
    out: list[tuple[Any, Location]] = []
    try:
        check_yaml_text(text)
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except UnsafeInput as exc:
        raise ManifestError([_unsafe_error(exc, source)]) from None
    except yaml.YAMLError as exc:
        raise ManifestError([_yaml_error(exc, source)]) from None
    except RecursionError:  # only the pure-Python composer recurses in Python
        raise ManifestError([InputError(source, 0, "", "", f"nesting deeper than {MAX_NESTING} levels")]) from None
    errors: list[InputError] = []
    for node in nodes:
        if node is None:
            continue
        try:
            if isinstance(node, yaml.MappingNode):
                items_node = None
                for k, v in node.value:
                    if getattr(k, "value", None) == "items" and isinstance(v, yaml.SequenceNode):
                        items_node = v
                kind_is_list = any(
                    getattr(k, "value", None) == "kind"
                    and str(getattr(v, "value", "")).endswith("List")
                    for k, v in node.value
                )
                if kind_is_list and items_node is not None:
                    for item in items_node.value:
                        lines: dict[str, int] = {}
                        obj = builder.build(item, "", lines)
                        out.append((obj, Location(source, item.start_mark.line + 1, lines)))
                    continue
            lines = {}
            obj = builder.build(node, "", lines)
            out.append((obj, Location(source, node.start_mark.line + 1, lines)))
        except yaml.YAMLError as exc:
            errors.append(_yaml_error(exc, source))
        except UnsafeInput as exc:
            errors.append(_unsafe_error(exc, source))
    if errors:
        raise ManifestError(errors)
    return out


def _accept(inv: Inventory, obj: Any, loc: Location, errors: list[InputError]) -> None:
    if not isinstance(obj, dict):
        errors.append(
            InputError(
                loc.file,
                loc.line,
                "",
                "",
                f"a document must be a Kubernetes object (a mapping), found {type(obj).__name__}",
            )
        )
        return
    kind = obj.get("kind")
    if not isinstance(kind, str) or not kind:
        errors.append(
            InputError(loc.file, loc.line, _object_name(obj), "kind", "object has no kind")
        )
        return
    if kind not in KINDS:
        inv.skipped[kind] += 1
        return
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not isinstance(meta.get("name"), str) or not meta.get("name"):
        errors.append(
            InputError(
                loc.file,
                loc.line_of("metadata.name"),
                _object_name(obj),
                "metadata.name",
                f"{kind}: metadata.name is required",
            )
        )
        return
    inv.add(obj, loc)


def _check_size(text: str, source: str, limits: ReadLimits) -> None:
    try:
        check_text_size(text, limits)
    except UnsafeInput as exc:
        raise ManifestError([_unsafe_error(exc, source)]) from None


def load_yaml_text(
    text: str, source: str = "<input>", limits: ReadLimits = DEFAULT_LIMITS
) -> list[dict[str, Any]]:
    """Parse multi-document YAML (or JSON) text; ManifestError on broken input."""
    _check_size(text, source, limits)
    inv = Inventory()
    errors: list[InputError] = []
    for obj, loc in _parse_stream(text, source):
        if isinstance(obj, dict):
            inv.add(obj, loc)
        else:
            _accept(inv, obj, loc, errors)
    if errors:
        raise ManifestError(errors)
    return inv.objects


def load_text(text: str, source: str = "<input>", limits: ReadLimits = DEFAULT_LIMITS) -> Inventory:
    """Like load_yaml_text but keeps locations and skips kinds the engine does not read."""
    _check_size(text, source, limits)
    inv = Inventory()
    errors: list[InputError] = []
    for obj, loc in _parse_stream(text, source):
        _accept(inv, obj, loc, errors)
    if errors:
        raise ManifestError(errors)
    return inv.finish()


def load_paths(paths: Sequence[str | Path], limits: ReadLimits = DEFAULT_LIMITS) -> Inventory:
    """Read files and directories (recursively) of YAML/JSON manifests.

    One budget spans every path: each file is held to `limits.file_bytes`, all of them
    together to `limits.source_bytes`, the whole read to `limits.seconds`. Inside a
    directory, links leaving it and special files are skipped with a note."""
    inv = Inventory()
    errors: list[InputError] = []
    skipped: list[str] = []
    budget = ReadBudget(limits)
    try:
        for raw in paths:
            path = Path(raw)
            if not path.exists():
                errors.append(InputError(str(raw), 0, "", "", "no such file or directory"))
                continue
            if path.is_dir():
                files, left_out = walk_manifest_files(path, budget=budget)
                skipped.extend(str(s) for s in left_out)
            else:
                files = [path]
            for f in files:
                try:
                    text = read_manifest_file(f, budget, regular_only=f is not path)
                except OSError as exc:
                    errors.append(InputError(str(f), 0, "", "", f"cannot read: {exc.strerror or exc}"))
                    continue
                except UnsafeInput as exc:
                    if exc.whole_read:
                        raise
                    errors.append(_unsafe_error(exc, str(f)))
                    continue
                try:
                    parsed = _parse_stream(text, str(f))
                except ManifestError as exc:
                    errors.extend(exc.errors)
                    continue
                for obj, loc in parsed:
                    _accept(inv, obj, loc, errors)
    except UnsafeInput as exc:  # a cap of the whole read: nothing more is read
        errors.append(InputError(", ".join(str(p) for p in paths), 0, "", "", exc.message))
    if errors:
        raise ManifestError(errors)
    inv.finish()
    inv.notes = skipped + inv.notes
    return inv


def load_documents(docs: Iterable[Mapping[str, Any]], source: str = "<input>") -> Inventory:
    """Objects already parsed (the Kubernetes JSON shape); List objects are flattened."""
    inv = Inventory()
    errors: list[InputError] = []
    for i, doc in enumerate(docs):
        loc = Location(f"{source}[{i}]")
        if (
            isinstance(doc, Mapping)
            and str(doc.get("kind", "")).endswith("List")
            and isinstance(doc.get("items"), list)
        ):
            for j, item in enumerate(doc["items"]):
                _accept(inv, item, Location(f"{source}[{i}].items[{j}]"), errors)
            continue
        _accept(inv, dict(doc) if isinstance(doc, Mapping) else doc, loc, errors)
    if errors:
        raise ManifestError(errors)
    return inv.finish()
