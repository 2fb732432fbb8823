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

What is accepted is what kubectl, Helm and the API server write: empty documents are
skipped, typed lists (``PodList``...) give their items the list's kind and apiVersion,
``kind: List`` is unpacked, and in a directory walk a file with no Kubernetes object is
skipped with a note (``load_text(..., skip_without_objects=True)`` for one file).

Reading uses libyaml's C loader into plain objects. Line numbers are computed only when
a message needs one: a ``Location`` composes its file once more, with marks, on the
first ``line``/``line_of``, so a semantic error still points at the offending field. Every text passes ``check_yaml_text``
before it is composed: alias bombs, recursive aliases and deep nesting are refused in
milliseconds with a ManifestError.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .block_yaml import LineCache, SafeConstructor, implicit_tag, load_block_yaml
from .cni.kinds import is_cni_object
from .safe_input import (
    DEFAULT_LIMITS,
    INT64,
    MAX_NESTING,
    ReadBudget,
    ReadLimits,
    UnsafeInput,
    check_text_size,
    check_yaml_text,
    load_json_text,
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
    "ServiceAccount",
)
"""Kinds the engine reads (and the CNI kinds of ``cni.CNI_KINDS``, by API group and
kind); everything else is skipped with a note."""

try:  # libyaml is much faster on big manifests; both give the same nodes and marks.
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment,unused-ignore]
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader

_STR = "tag:yaml.org,2002:str"
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class _FastLoader(_Loader):  # type: ignore[misc,valid-type,unused-ignore]
    """The safe loader's tags, resolved without its path-resolver bookkeeping (the safe
    loader has no path resolvers): the composer asks for one tag per node."""

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def __init__(self, stream: Any) -> None:
        super().__init__(stream)
        self._plain_tags: dict[str, str] = {}  # a manifest repeats its plain scalars

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            if implicit[0]:
                tag = self._plain_tags.get(value)
                if tag is None:
                    tag = self._plain_tags[value] = implicit_tag(value)
                return tag
            return _STR
        return _SEQ if kind is yaml.SequenceNode else _MAP


class _Unusual(Exception):
    """A document the plain conversion leaves to PyYAML's constructor (merge keys, tags,
    complex keys)."""


class _TooDeep(Exception):
    pass


class _Plain:
    """Composed nodes to plain dicts, lists and scalars, as the safe constructor builds
    them, without its per-node bookkeeping: strings (nearly every value of a manifest)
    are taken as they are, other scalars go through the safe constructor."""

    def __init__(self) -> None:
        self._constructor = SafeConstructor()

    def scalar(self, node: yaml.Node) -> Any:
        c = self._constructor
        try:
            value = c.construct_object(node, deep=True)
        except ValueError as exc:
            raise _unreadable_value(exc, node) from None
        c.constructed_objects.clear()
        return value

    def document(self, node: yaml.Node) -> Any:
        try:
            return self.build(node, 0)
        except (_Unusual, RecursionError, TypeError):  # TypeError: an unhashable key
            c = self._constructor
            try:
                return c.construct_document(node)
            except ValueError as exc:
                raise _unreadable_value(exc, node) from None
            finally:
                c.constructed_objects.clear()
                c.recursive_objects.clear()

    def build(self, node: yaml.Node, depth: int) -> Any:
        cls = node.__class__
        if cls is yaml.ScalarNode:
            return node.value if node.tag == _STR else self.scalar(node)
        depth += 1
        if depth > MAX_NESTING:
            raise _TooDeep
        if cls is yaml.SequenceNode:
            if node.tag != _SEQ:
                raise _Unusual
            out_list = []
            for v in node.value:
                if v.__class__ is yaml.ScalarNode and v.tag == _STR:
                    out_list.append(v.value)
                else:
                    out_list.append(self.build(v, depth))
            return out_list
        if node.tag != _MAP:
            raise _Unusual
        out: dict[Any, Any] = {}
        for k, v in node.value:
            if k.__class__ is yaml.ScalarNode and k.tag == _STR:
                key = k.value
            elif k.__class__ is yaml.ScalarNode and not k.tag.endswith((":merge", ":value")):
                key = self.scalar(k)
            else:
                raise _Unusual
            if v.__class__ is yaml.ScalarNode and v.tag == _STR:
                out[key] = v.value
            else:
                out[key] = self.build(v, depth)
        return out


def _unreadable_value(exc: ValueError, node: yaml.Node) -> yaml.YAMLError:
    """A scalar the safe constructor cannot build, as a YAML error with its line: a
    number of more than 4,300 digits (int() refuses it), a date like 2001-13-45. A
    ValueError got past the reader's error handling, a 500 for a pasted port."""
    reason = str(exc).split(";")[0]
    return yaml.constructor.ConstructorError(
        None, None, f"a value cannot be read ({reason})", node.start_mark
    )


class Location:
    """Where an object came from, with the line of each of its fields when known.

    Lines of files read by the reader are computed only when asked for (an error or a
    warning to report): the text is then composed once more, with marks, by ``_Lines``.
    """

    __slots__ = ("_field_lines", "_item", "_line", "_lines", "_doc", "file")

    def __init__(
        self,
        file: str,
        line: int = 0,
        field_lines: Mapping[str, int] | None = None,
        *,
        lines: _Lines | None = None,
        doc: int = 0,
        item: int | None = None,
    ) -> None:
        self.file = file
        self._line = line
        self._field_lines = field_lines
        self._lines = lines
        self._doc = doc
        self._item = item

    def _resolve(self) -> None:
        if self._field_lines is None:
            if self._lines is None:
                self._field_lines = {}
            else:
                self._line, self._field_lines = self._lines.of(self._doc, self._item)

    @property
    def line(self) -> int:
        self._resolve()
        return self._line

    @property
    def field_lines(self) -> Mapping[str, int]:
        self._resolve()
        assert self._field_lines is not None
        return self._field_lines

    def line_of(self, path: str) -> int:
        """The line of `path` or of its closest parent field that has one."""
        lines = self.field_lines
        p = path
        while p:
            found = lines.get(p)
            if found:
                return found
            cut = max(p.rfind("."), p.rfind("["))
            p = p[:cut] if cut > 0 else ""
        return self.line

    def __repr__(self) -> str:
        return f"Location({self.file!r})"


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
                raise UnsafeInput(
                    f"nesting deeper than {MAX_NESTING} levels", node.start_mark.line + 1
                )
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


def _list_items_node(node: yaml.Node) -> yaml.SequenceNode | None:
    """The `items` of a composed `kind: ...List` document, else None."""
    if not isinstance(node, yaml.MappingNode):
        return None
    items = None
    is_list = False
    for k, v in node.value:
        key = getattr(k, "value", None)
        if key == "items" and isinstance(v, yaml.SequenceNode):
            items = v
        elif key == "kind" and str(getattr(v, "value", "")).endswith("List"):
            is_list = True
    return items if is_list else None


class _Lines:
    """Field lines of one text's documents, composed (with marks) on first use only:
    reading takes the C loader's plain objects, and lines matter only for a message."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._nodes: list[yaml.Node | None] | None = None

    def of(self, doc: int, item: int | None) -> tuple[int, dict[str, int]]:
        if self._nodes is None:
            try:
                self._nodes = list(yaml.compose_all(self._text, Loader=_Loader))
            except (yaml.YAMLError, RecursionError):
                self._nodes = []
            self._text = ""
        node = self._nodes[doc] if doc < len(self._nodes) else None
        if node is None:
            return 0, {}
        if item is not None:
            items = _list_items_node(node)
            if items is None or item >= len(items.value):
                return node.start_mark.line + 1, {}
            node = items.value[item]
        lines: dict[str, int] = {}
        with contextlib.suppress(yaml.YAMLError, UnsafeInput):  # the lines up to the problem
            _Builder().build(node, "", lines)
        return node.start_mark.line + 1, lines


def _typed_list_items(doc: Any) -> list[Any] | None:
    """The items of `kind: List` or a typed list (`PodList`, `NetworkPolicyList`...).

    The API server leaves `kind` and `apiVersion` out of a typed list's items: they
    take the list's (`PodList` -> `Pod`); `kind: List` items carry their own."""
    if not isinstance(doc, Mapping):
        return None
    kind, items = doc.get("kind"), doc.get("items")
    if not (isinstance(kind, str) and kind.endswith("List") and isinstance(items, list)):
        return None
    item_kind = kind[: -len("List")]
    if item_kind:
        api_version = doc.get("apiVersion")
        for item in items:
            if isinstance(item, dict) and not item.get("kind"):
                item["kind"] = item_kind
                if api_version and not item.get("apiVersion"):
                    item["apiVersion"] = api_version
    return items


def _load_all(text: str) -> list[Any]:
    """The documents of a stream as plain objects (`_TooDeep` for one nested too deep)."""
    loader = _FastLoader(text)
    plain = _Plain()
    docs: list[Any] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            try:
                docs.append(None if node is None else plain.document(node))
            except _TooDeep:
                docs.append(_TooDeep)
    finally:
        loader.dispose()
    return docs


def _parse_stream(
    text: str, source: str, cache: LineCache | None = None
) -> tuple[list[tuple[Any, Location]], bool]:
    """Every object of a YAML/JSON stream, List items flattened, with lazy locations, and
    whether the reader vouches that every value can be stored (see `_accept`).

    Empty documents (a `---` followed by nothing or only comments, trailing separators)
    are skipped."""
    try:
        # JSON through the json module (libyaml reads long JSON lines slowly: a 7 MB
        # `kubectl get -o json` dump took 18 s), parsed once; YAML checked, then loaded.
        odd: list[str] = []
        docs = load_json_text(text, odd)
        storable = docs is not None and not odd
        if docs is None:
            # Plain block YAML (nearly every manifest) is read by a line reader at about
            # four times libyaml's composing speed; anything else, and anything the
            # hostile-input checks could refuse, takes the checked libyaml path.
            docs = load_block_yaml(text, cache)
            storable = docs is not None
        if docs is None:
            check_yaml_text(text)
            docs = _load_all(text)
    except UnsafeInput as exc:
        raise ManifestError([_unsafe_error(exc, source)]) from None
    except yaml.YAMLError as exc:
        raise ManifestError([_yaml_error(exc, source)]) from None
    except RecursionError:  # only the pure-Python loader recurses in Python
        raise ManifestError(
            [InputError(source, 0, "", "", f"nesting deeper than {MAX_NESTING} levels")]
        ) from None
    lines = _Lines(text)
    out: list[tuple[Any, Location]] = []
    errors: list[InputError] = []
    for i, doc in enumerate(docs):
        if doc is None:
            continue
        if doc is _TooDeep:
            line = Location(source, lines=lines, doc=i).line
            errors.append(
                InputError(source, line, "", "", f"nesting deeper than {MAX_NESTING} levels")
            )
            continue
        items = _typed_list_items(doc)
        if items is None:
            out.append((doc, Location(source, lines=lines, doc=i)))
            continue
        out.extend(
            (item, Location(source, lines=lines, doc=i, item=j)) for j, item in enumerate(items)
        )
    if errors:
        raise ManifestError(errors)
    return out, storable


def _is_object(doc: Any) -> bool:
    """A Kubernetes object: a mapping with a kind."""
    return isinstance(doc, dict) and isinstance(doc.get("kind"), str) and bool(doc["kind"])


def _accept(
    inv: Inventory, obj: Any, loc: Location, errors: list[InputError], storable: bool = False
) -> None:
    """Add one document to `inv`, or say in `errors` why it cannot be. `storable`: its
    reader vouches that no value is one the API server would refuse (a number beyond 64
    bits, infinite or NaN, a NUL character): the walk over every value (a third of a
    7 MB cluster's reading) is then left out, the identifying fields still checked."""
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
    if kind not in KINDS and not is_cni_object(obj):
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
    bad = _over_limits(obj, kind) or (_long_name(obj) if storable else unstorable_value(obj))
    if bad is not None:
        path, message = bad
        errors.append(
            InputError(
                loc.file, loc.line_of(path), _object_name(obj), path, f"{kind}: {path} {message}"
            )
        )
        return
    inv.add(obj, loc)


MAX_NAME = 253


_LIMITS = (
    ("apiVersion", 64),  # a group and a version; the longest real one is about 35
    ("metadata.namespace", 63),  # a DNS label
    ("metadata.uid", 64),
    ("metadata.resourceVersion", 64),
)


def _over_limits(obj: Mapping[str, Any], kind: str) -> tuple[str, str] | None:
    """(path, reason) for an identifying field longer than Kubernetes allows."""
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    limits = [*_LIMITS, ("metadata.name", 63)] if kind == "Namespace" else list(_LIMITS)
    for path, limit in limits:
        value = obj.get(path) if "." not in path else meta.get(path.split(".", 1)[1])
        if value is not None and len(str(value)) > limit:
            return path, f"is longer than {limit} characters"
    return None


def unstorable_value(value: Any, path: str = "") -> tuple[str, str] | None:
    """(path, reason) of the first value the Kubernetes API server would refuse and
    JSON cannot carry: NaN or infinite numbers, integers beyond 64 bits, strings with a NUL
    character, or a metadata.name longer than 253 characters; None when there is none."""
    if not path and type(value) is dict and _plainly_storable(value):
        meta = value.get("metadata")
        names = (meta.get("name") if type(meta) is dict else None, value.get("metadata.name"))
        if not any(type(n) is str and len(n) > MAX_NAME for n in names):
            return None
    return _unstorable(value, path)


def _long_name(obj: dict[str, Any]) -> tuple[str, str] | None:
    """The one finding of `unstorable_value` a storable reading can still hold."""
    for name in (obj["metadata"]["name"], obj.get("metadata.name")):
        if type(name) is str and len(name) > MAX_NAME:
            return "metadata.name", f"is longer than {MAX_NAME} characters"
    return None


def _plainly_storable(value: dict[Any, Any]) -> bool:
    """True when the walk of `_unstorable` would find nothing but a long metadata.name:
    string keys, strings without NUL, 64-bit integers, booleans and nulls only. The same
    walk without the paths, a quarter of its time on a cluster; False for anything else
    (floats, other types): the full walk then decides."""
    todo: list[Any] = [value]
    while todo:
        v = todo.pop()
        for k, x in v.items() if type(v) is dict else enumerate(v):
            if type(k) is str and "\x00" in k:
                return False
            t = type(x)
            if t is str:
                if "\x00" in x:
                    return False
            elif t is dict or t is list:
                todo.append(x)
            elif t is int:
                if not -INT64 <= x < INT64:
                    return False
            elif t is not bool and x is not None:
                return False
    return True


def _unstorable(value: Any, path: str = "") -> tuple[str, str] | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float):
        return (
            None
            if value == value and value not in (float("inf"), float("-inf"))
            else (path, "is not a finite number")
        )
    if isinstance(value, int):
        return (
            None
            if -INT64 <= value < INT64
            else (path, "is a number too large for a 64-bit integer")
        )
    if isinstance(value, str):
        if "\x00" in value:
            return path, "contains a NUL character"
        if path == "metadata.name" and len(value) > MAX_NAME:
            return path, f"is longer than {MAX_NAME} characters"
        return None
    if isinstance(value, Mapping):
        for k, v in value.items():
            if isinstance(k, str) and "\x00" in k:
                return f"{path}.{k!r}".lstrip("."), "has a NUL character in a key"
            found = _unstorable(v, f"{path}.{k}" if path else str(k))
            if found is not None:
                return found
        return None
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _unstorable(v, f"{path}[{i}]")
            if found is not None:
                return found
    return None


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
    parsed, _ = _parse_stream(text, source)
    for obj, loc in parsed:
        if isinstance(obj, dict):
            inv.add(obj, loc)
        else:
            _accept(inv, obj, loc, errors)
    if errors:
        raise ManifestError(errors)
    return inv.objects


def load_text(
    text: str,
    source: str = "<input>",
    limits: ReadLimits = DEFAULT_LIMITS,
    *,
    skip_without_objects: bool = False,
) -> Inventory:
    """Like load_yaml_text but keeps locations and skips kinds the engine does not read.

    With `skip_without_objects` (a file met in a directory walk), a text holding no
    Kubernetes object at all (a chart's values, another tool's JSON) gives an empty
    Inventory with one note instead of errors."""
    _check_size(text, source, limits)
    inv = Inventory()
    errors: list[InputError] = []
    parsed, storable = _parse_stream(text, source)
    if skip_without_objects and not any(_is_object(o) for o, _ in parsed):
        inv.notes = [_no_object_note(source)]
        return inv
    for obj, loc in parsed:
        _accept(inv, obj, loc, errors, storable)
    if errors:
        raise ManifestError(errors)
    return inv.finish()


def _no_object_note(source: str) -> str:
    return f"skipped {source}: it holds no Kubernetes object (no document with a kind)"


def load_paths(paths: Sequence[str | Path], limits: ReadLimits = DEFAULT_LIMITS) -> Inventory:
    """Read files and directories (recursively) of YAML/JSON manifests.

    What kubectl, Helm and the API server write is accepted: empty documents are
    skipped, typed lists give their items the list's kind, and a file met in a directory
    walk that holds no Kubernetes object (a chart's values, a kustomization's JSON
    patch) is skipped with a note. ManifestError when a file cannot be read or parsed,
    or when a document of a file with objects is not one. (Nothing at all to read is
    the caller's to judge: the CLI refuses it, a manifests cluster is then empty.)

    One budget spans every path: each file is held to `limits.file_bytes`, all of them
    together to `limits.source_bytes`, the whole read to `limits.seconds`. Inside a
    directory, links leaving it and special files are skipped with a note."""
    inv = Inventory()
    errors: list[InputError] = []
    skipped: list[str] = []
    budget = ReadBudget(limits)
    cache = LineCache()
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
                    errors.append(
                        InputError(str(f), 0, "", "", f"cannot read: {exc.strerror or exc}")
                    )
                    continue
                except UnsafeInput as exc:
                    if exc.whole_read:
                        raise
                    errors.append(_unsafe_error(exc, str(f)))
                    continue
                try:
                    parsed, storable = _parse_stream(text, str(f), cache)
                except ManifestError as exc:
                    errors.extend(exc.errors)
                    continue
                objects = sum(1 for o, _ in parsed if _is_object(o))
                if not objects and f is not path:
                    skipped.append(_no_object_note(str(f)))
                    continue
                for obj, loc in parsed:
                    _accept(inv, obj, loc, errors, storable)
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
        if doc is None:
            continue
        loc = Location(f"{source}[{i}]")
        items = _typed_list_items(doc)
        if items is not None:
            for j, item in enumerate(items):
                _accept(inv, item, Location(f"{source}[{i}].items[{j}]"), errors)
            continue
        _accept(inv, dict(doc) if isinstance(doc, Mapping) else doc, loc, errors)
    if errors:
        raise ManifestError(errors)
    return inv.finish()
