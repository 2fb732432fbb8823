"""Label and field selectors as the API server parses them from `?labelSelector=` / `?fieldSelector=`.

The label grammar follows k8s.io/apimachinery/pkg/labels: `k=v`, `k==v`, `k!=v`, `k in (a,b)`,
`k notin (a,b)`, `k` (exists), `!k` (does not exist), `k>1`, `k<1`; a comma means AND.
`!=` and `notin` also match objects without the key, as upstream does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .status import ApiError, bad_request

_KEY = r"[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_KEY_RE = re.compile(rf"^{_KEY}$")
_VALUE_RE = re.compile(rf"^{_VALUE}$")


@dataclass(frozen=True)
class Requirement:
    key: str
    op: str  # = != in notin exists !exists gt lt
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        if self.op == "exists":
            return present
        if self.op == "!exists":
            return not present
        try:
            number = int(value or "")
        except ValueError:
            return False
        return number > int(self.values[0]) if self.op == "gt" else number < int(self.values[0])


def _split_requirements(text: str) -> list[str]:
    parts, depth, current = [], 0, []
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
    return [p.strip() for p in parts]


def _check_key(key: str, text: str) -> str:
    if not _KEY_RE.match(key) or key.count("/") > 1:
        raise bad_request(f"unable to parse requirement: invalid label key {key!r} in {text!r}")
    return key


def _check_value(value: str, text: str) -> str:
    if len(value) > 63 or not _VALUE_RE.match(value):
        raise bad_request(f"unable to parse requirement: invalid label value {value!r} in {text!r}")
    return value


_SET_RE = re.compile(r"^(?P<key>\S+)\s+(?P<op>in|notin)\s*\((?P<values>[^()]*)\)$")
_CMP_RE = re.compile(r"^(?P<key>[^=!<>\s]+)\s*(?P<op>==|=|!=|<|>)\s*(?P<value>.*)$")


def parse_label_selector(text: str | None) -> list[Requirement]:
    if not text or not text.strip():
        return []
    requirements = []
    for part in _split_requirements(text):
        if not part:
            raise bad_request(f"unable to parse requirement: found '', expected: identifier in {text!r}")
        if match := _SET_RE.match(part):
            values = tuple(_check_value(v.strip(), text) for v in match["values"].split(","))
            requirements.append(Requirement(_check_key(match["key"], text), match["op"], values))
        elif match := _CMP_RE.match(part):
            op = {"==": "=", "=": "=", "!=": "!=", ">": "gt", "<": "lt"}[match["op"]]
            value = match["value"].strip()
            if op in ("gt", "lt") and not re.fullmatch(r"-?\d+", value):
                raise bad_request(f"unable to parse requirement: for 'Gt', 'Lt' operators, the "
                                  f"value must be an integer in {text!r}")
            requirements.append(Requirement(_check_key(match["key"], text), op,
                                            (_check_value(value, text),)))
        elif part.startswith("!"):
            requirements.append(Requirement(_check_key(part[1:].strip(), text), "!exists"))
        elif " " not in part:
            requirements.append(Requirement(_check_key(part, text), "exists"))
        else:
            raise bad_request(f"unable to parse requirement: {part!r} in {text!r}")
    return requirements


def labels_match(requirements: list[Requirement], obj: dict[str, Any]) -> bool:
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return all(r.matches(labels) for r in requirements)


def _dig(obj: dict[str, Any], path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


# Fields each resource's field selector accepts besides metadata.name and metadata.namespace
# (the GetAttrs functions of the upstream registries).
_EXTRA_FIELDS: dict[str, tuple[str, ...]] = {
    "pods": ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
             "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
             "status.nominatedNodeName"),
    "namespaces": ("status.phase",),
    "jobs": ("status.successful",),
    "replicasets": ("status.replicas",),
}


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    op: str  # = or !=
    value: str

    def matches(self, obj: dict[str, Any]) -> bool:
        actual = _dig(obj, self.path)
        if isinstance(actual, bool):
            actual = str(actual).lower()
        elif actual is None:
            actual = ""
        return (str(actual) == self.value) == (self.op == "=")


def parse_field_selector(text: str | None, plural: str) -> list[FieldRequirement]:
    if not text or not text.strip():
        return []
    allowed = ("metadata.name", "metadata.namespace", *_EXTRA_FIELDS.get(plural, ()))
    out = []
    for part in _split_requirements(text):
        match = re.match(r"^([^=!]+)(==|=|!=)(.*)$", part)
        if not match:
            raise bad_request(f"invalid selector: '{text}'; can't understand '{part}'")
        path, op, value = match[1].strip(), match[2], match[3].strip()
        if path not in allowed:
            raise bad_request(f'field label not supported: {path}')
        out.append(FieldRequirement(path, "!=" if op == "!=" else "=", value))
    return out


def fields_match(requirements: list[FieldRequirement], obj: dict[str, Any]) -> bool:
    return all(r.matches(obj) for r in requirements)


def make_filter(label_selector: str | None, field_selector: str | None,
                plural: str) -> Callable[[dict[str, Any]], bool]:
    """One predicate for both selectors; raises ApiError 400 on a bad selector."""
    labels = parse_label_selector(label_selector)
    fields = parse_field_selector(field_selector, plural)
    if not labels and not fields:
        return lambda obj: True
    return lambda obj: labels_match(labels, obj) and fields_match(fields, obj)


__all__ = ["ApiError", "make_filter", "parse_field_selector", "parse_label_selector"]
