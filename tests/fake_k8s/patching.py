"""PATCH bodies: JSON merge patch (RFC 7386), strategic merge patch, JSON patch (RFC 6902).

Strategic merge is JSON merge patch plus merge keys for the few lists the built-in types
declare with `patchStrategy:"merge"` (containers by name, env by name, ...). Every
NetworkPolicy list (ingress, egress, from, to, ports, policyTypes) is atomic upstream, so a
strategic patch replaces those wholesale, exactly as kube-apiserver does.
"""

from __future__ import annotations

import copy
from typing import Any

from .status import ApiError

# field name -> merge key, for lists upstream marks patchStrategy=merge.
_MERGE_KEYS = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "volumeMounts": "mountPath",
    "imagePullSecrets": "name",
    "ownerReferences": "uid",
}
_CONTAINER_LISTS = {"containers", "initContainers", "ephemeralContainers"}


def merge_key(path: tuple[str | int, ...]) -> str | None:
    """The strategic merge key of the list at `path`, None for an atomic list."""
    if not path:
        return None
    field = path[-1]
    if field == "ports" and len(path) >= 3 and path[-3] in _CONTAINER_LISTS:
        return "containerPort"
    return _MERGE_KEYS.get(str(field))


def json_merge_patch(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = json_merge_patch(result.get(key), value)
    return result


def strategic_merge_patch(target: Any, patch: Any, path: tuple[str | int, ...] = ()) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if patch.get("$patch") == "delete":
        return None
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$setElementOrder/") or key in ("$retainKeys", "$patch"):
            continue
        if value is None:
            result.pop(key, None)
            continue
        sub_path = (*path, key)
        mkey = merge_key(sub_path) if isinstance(value, list) else None
        if mkey and isinstance(result.get(key), list):
            result[key] = _merge_keyed_list(result[key], value, mkey, sub_path)
        elif isinstance(value, dict):
            merged = strategic_merge_patch(result.get(key), value, sub_path)
            if merged is None:
                result.pop(key, None)
            else:
                result[key] = merged
        else:
            result[key] = copy.deepcopy(value)
    return result


def _merge_keyed_list(current: list[Any], patch: list[Any], key: str,
                      path: tuple[str | int, ...]) -> list[Any]:
    result = copy.deepcopy(current)
    for item in patch:
        if not isinstance(item, dict) or key not in item:
            raise ApiError(422, f"map: {item!r} does not contain declared merge key: {key}",
                           "Invalid")
        index = next((i for i, old in enumerate(result)
                      if isinstance(old, dict) and old.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if index is not None:
                del result[index]
        elif index is None:
            result.append({k: v for k, v in copy.deepcopy(item).items() if k != "$patch"})
        else:
            result[index] = strategic_merge_patch(result[index], item, (*path, index))
    return result


def _pointer(pointer: str) -> list[str]:
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ApiError(422, f'invalid JSON pointer: "{pointer}"', "Invalid")
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer[1:].split("/")]


def _parent(doc: Any, parts: list[str], op: str) -> tuple[Any, str]:
    node = doc
    for part in parts[:-1]:
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            raise ApiError(422, f"{op} operation does not apply: doc is missing path: "
                                f"\"/{'/'.join(parts)}\": missing value", "Invalid")
    return node, parts[-1]


def _get(doc: Any, parts: list[str], op: str) -> Any:
    if not parts:
        return doc
    parent, last = _parent(doc, parts, op)
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent[int(last)]
    raise ApiError(422, f"{op} operation does not apply: doc is missing path: "
                        f"\"/{'/'.join(parts)}\": missing value", "Invalid")


def _remove(doc: Any, parts: list[str], op: str) -> Any:
    parent, last = _parent(doc, parts, op)
    if isinstance(parent, dict) and last in parent:
        return parent.pop(last)
    if isinstance(parent, list) and last.isdigit() and int(last) < len(parent):
        return parent.pop(int(last))
    raise ApiError(422, f"{op} operation does not apply: doc is missing path: "
                        f"\"/{'/'.join(parts)}\": missing value", "Invalid")


def _add(doc: Any, parts: list[str], value: Any, op: str) -> Any:
    if not parts:
        return value
    parent, last = _parent(doc, parts, op)
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        if last == "-":
            parent.append(value)
        elif last.isdigit() and int(last) <= len(parent):
            parent.insert(int(last), value)
        else:
            raise ApiError(422, f"{op} operation does not apply: index out of range: {last}",
                           "Invalid")
    else:
        raise ApiError(422, f"{op} operation does not apply: doc is missing path: "
                            f"\"/{'/'.join(parts)}\": missing value", "Invalid")
    return doc


def json_patch(target: Any, operations: Any) -> Any:
    if not isinstance(operations, list):
        raise ApiError(400, "json: cannot unmarshal object into Go value of type jsonpatch.Patch",
                       "BadRequest")
    doc = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation:
            raise ApiError(422, "Unexpected kind: missing op", "Invalid")
        op = operation["op"]
        parts = _pointer(operation.get("path", ""))
        if op == "add":
            doc = _add(doc, parts, copy.deepcopy(operation.get("value")), op)
        elif op == "remove":
            _remove(doc, parts, op)
        elif op == "replace":
            _get(doc, parts, op)
            if parts:
                parent, last = _parent(doc, parts, op)
                if isinstance(parent, list):
                    parent[int(last)] = copy.deepcopy(operation.get("value"))
                else:
                    parent[last] = copy.deepcopy(operation.get("value"))
            else:
                doc = copy.deepcopy(operation.get("value"))
        elif op == "move":
            value = _remove(doc, _pointer(operation.get("from", "")), op)
            doc = _add(doc, parts, value, op)
        elif op == "copy":
            value = copy.deepcopy(_get(doc, _pointer(operation.get("from", "")), op))
            doc = _add(doc, parts, value, op)
        elif op == "test":
            if _get(doc, parts, op) != operation.get("value"):
                raise ApiError(422, f"testing value /{'/'.join(parts)} failed: test failed",
                               "Invalid")
        else:
            raise ApiError(422, f"Unexpected kind: {op}", "Invalid")
    return doc
