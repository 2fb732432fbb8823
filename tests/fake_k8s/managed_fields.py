"""metadata.managedFields bookkeeping and server-side apply.

A simplified model of structured-merge-diff: ownership is tracked per leaf field, and every
list is atomic (owned and replaced as a whole). That is exact for NetworkPolicy, whose lists
are all `listType=atomic`, and an approximation for keyed lists such as containers.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .status import ApiError

Path = tuple[str, ...]

_SYSTEM_METADATA = {
    "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp",
    "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "generateName",
}


def leaf_paths(obj: dict[str, Any] | None, section: str = "main") -> set[Path]:
    """Leaf fields of obj: non-empty maps are walked, anything else (lists too) is a leaf."""
    paths: set[Path] = set()
    if not obj:
        return paths

    def walk(node: Any, path: Path) -> None:
        if isinstance(node, dict) and node:
            for key, value in node.items():
                walk(value, (*path, str(key)))
        else:
            paths.add(path)

    for key, value in obj.items():
        if key in ("apiVersion", "kind"):
            continue
        if section == "status":
            if key == "status":
                walk(value, ("status",))
            continue
        if key == "status":
            continue
        if key == "metadata":
            for meta_key, meta_value in (value or {}).items():
                if meta_key not in _SYSTEM_METADATA:
                    walk(meta_value, ("metadata", meta_key))
        else:
            walk(value, (key,))
    return paths


def get_path(obj: Any, path: Path) -> Any:
    node = obj
    for part in path:
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


_MISSING = object()


def _overlaps(a: Path, b: Path) -> bool:
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def encode(paths: set[Path]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path in sorted(paths):
        node = root
        for part in path:
            node = node.setdefault(f"f:{part}", {})
    return root


def decode(fields: dict[str, Any] | None) -> set[Path]:
    paths: set[Path] = set()

    def walk(node: dict[str, Any], path: Path) -> None:
        children = [k for k in node if k.startswith("f:")]
        if not children:
            if path:
                paths.add(path)
            return
        for key in children:
            walk(node[key] or {}, (*path, key[2:]))

    walk(fields or {}, ())
    return paths


@dataclass
class Entry:
    manager: str
    operation: str  # Apply | Update
    api_version: str
    time: str
    paths: set[Path] = field(default_factory=set)
    subresource: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "manager": self.manager,
            "operation": self.operation,
            "apiVersion": self.api_version,
            "time": self.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": encode(self.paths),
        }
        if self.subresource:
            out["subresource"] = self.subresource
        return out


def read_entries(obj: dict[str, Any] | None) -> list[Entry]:
    entries = []
    for raw in ((obj or {}).get("metadata") or {}).get("managedFields") or []:
        entries.append(Entry(raw.get("manager", ""), raw.get("operation", "Update"),
                             raw.get("apiVersion", ""), raw.get("time", ""),
                             decode(raw.get("fieldsV1")), raw.get("subresource")))
    return entries


def write_entries(obj: dict[str, Any], entries: list[Entry]) -> None:
    kept = [e for e in entries if e.paths]
    if kept:
        obj.setdefault("metadata", {})["managedFields"] = [e.to_json() for e in kept]
    else:
        obj.setdefault("metadata", {}).pop("managedFields", None)


def _entry(entries: list[Entry], manager: str, operation: str, subresource: str | None,
           api_version: str, now: str) -> Entry:
    for entry in entries:
        if (entry.manager, entry.operation, entry.subresource) == (manager, operation, subresource):
            entry.api_version, entry.time = api_version, now
            return entry
    entry = Entry(manager, operation, api_version, now, set(), subresource)
    entries.append(entry)
    return entry


def record_update(old: dict[str, Any] | None, new: dict[str, Any], manager: str,
                  api_version: str, now: str, subresource: str | None = None) -> None:
    """After a create/update/patch: `manager` owns what it changed; nobody owns what is gone."""
    section = "status" if subresource == "status" else "main"
    entries = read_entries(old)
    old_paths, new_paths = leaf_paths(old, section), leaf_paths(new, section)
    changed = {p for p in new_paths
               if p not in old_paths or get_path(old, p) != get_path(new, p)}
    all_new = leaf_paths(new) | leaf_paths(new, "status")
    for entry in entries:
        entry.paths = {p for p in entry.paths if p in all_new}
        entry.paths -= changed
    if changed:
        _entry(entries, manager, "Update", subresource, api_version, now).paths |= changed
    write_entries(new, entries)


def _delete_path(obj: dict[str, Any], path: Path) -> None:
    parents = []
    node: Any = obj
    for part in path[:-1]:
        if not isinstance(node, dict) or part not in node:
            return
        parents.append((node, part))
        node = node[part]
    if isinstance(node, dict):
        node.pop(path[-1], None)
    for parent, key in reversed(parents):
        if parent[key] == {} and key != "metadata":
            del parent[key]
        else:
            break


def _deep_merge(base: Any, overlay: Any) -> Any:
    if isinstance(base, dict) and isinstance(overlay, dict):
        out = dict(base)
        for key, value in overlay.items():
            out[key] = _deep_merge(base.get(key), value)
        return out
    return copy.deepcopy(overlay)


def server_side_apply(existing: dict[str, Any] | None, config: dict[str, Any], manager: str,
                      force: bool, api_version: str, now: str) -> dict[str, Any]:
    """The object after `manager` applies `config`; raises 409 on conflicts unless force."""
    applied = leaf_paths(config)
    if existing is None:
        result = copy.deepcopy(config)
        write_entries(result, [Entry(manager, "Apply", api_version, now, applied)])
        return result

    entries = read_entries(existing)
    conflicts: dict[str, list[Path]] = {}
    for entry in entries:
        if entry.manager == manager:
            continue
        for path in applied:
            if get_path(existing, path) == get_path(config, path):
                continue
            if any(_overlaps(path, owned) for owned in entry.paths):
                conflicts.setdefault(entry.manager, []).append(path)
                if force:
                    entry.paths = {p for p in entry.paths if not _overlaps(p, path)}
    if conflicts and not force:
        raise _conflict_error(conflicts, api_version)

    result = _deep_merge(copy.deepcopy(existing), config)
    mine = next((e for e in entries if e.manager == manager and e.operation == "Apply"), None)
    previously = mine.paths if mine else set()
    for path in previously - applied:
        still_owned = any(path in e.paths for e in entries if e is not mine)
        if not still_owned and get_path(config, path) is _MISSING:
            _delete_path(result, path)
    _entry(entries, manager, "Apply", None, api_version, now).paths = set(applied)
    surviving = leaf_paths(result) | leaf_paths(result, "status")
    for entry in entries:
        entry.paths = {p for p in entry.paths if p in surviving}
    write_entries(result, entries)
    return result


def _conflict_error(conflicts: dict[str, list[Path]], api_version: str) -> ApiError:
    causes = []
    lines = []
    total = 0
    for manager, paths in conflicts.items():
        for path in sorted(paths):
            total += 1
            field_name = "." + ".".join(path)
            lines.append(field_name)
            causes.append({"reason": "FieldManagerConflict",
                           "message": f'conflict with "{manager}" using {api_version}',
                           "field": field_name})
    managers = ", ".join(f'"{m}"' for m in conflicts)
    if total == 1:
        message = f"Apply failed with 1 conflict: conflict with {managers} using {api_version}: {lines[0]}"
    else:
        message = (f"Apply failed with {total} conflicts: conflicts with {managers} using "
                   f"{api_version}:\n" + "\n".join(f"- {line}" for line in lines))
    return ApiError(409, message, "Conflict", {"causes": causes})
