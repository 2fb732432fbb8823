"""Label selectors (metav1.LabelSelector) and the Kubernetes name rules they rely on.

A selector is matchLabels AND matchExpressions. Operators: In, NotIn, Exists,
DoesNotExist; NotIn and DoesNotExist match objects that lack the key, as upstream
`labels.Selector` does. An empty selector (``{}``) selects everything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_QUALIFIED_NAME_PART = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def dns1123_label_error(value: str) -> str | None:
    """Why `value` is not a DNS-1123 label (namespace names), or None."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _DNS1123_LABEL.match(value):
        return (
            "must consist of lower case alphanumeric characters or '-', "
            "and must start and end with an alphanumeric character"
        )
    return None


def dns1123_subdomain_error(value: str) -> str | None:
    """Why `value` is not a DNS-1123 subdomain (object names), or None."""
    if len(value) > 253:
        return "must be no more than 253 characters"
    if not value or any(not _DNS1123_LABEL.match(part) for part in value.split(".")):
        return (
            "must consist of lower case alphanumeric characters, '-' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None


def label_key_error(key: str) -> str | None:
    """Why `key` is not a qualified name usable as a label key, or None."""
    prefix, sep, name = key.rpartition("/")
    if sep and not prefix:
        return "has an empty prefix before '/'"
    if prefix:
        err = dns1123_subdomain_error(prefix)
        if err:
            return f"prefix {prefix!r} {err}"
    if not name:
        return "name part must be non-empty"
    if len(name) > 63:
        return "name part must be no more than 63 characters"
    if not _QUALIFIED_NAME_PART.match(name):
        return (
            "name part must consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None


def label_value_error(value: str) -> str | None:
    """Why `value` is not a valid label value, or None."""
    if len(value) > 63:
        return "must be no more than 63 characters"
    if not _LABEL_VALUE.match(value):
        return (
            "must be empty or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None


@dataclass(frozen=True, slots=True)
class Requirement:
    """One matchExpressions entry."""

    key: str
    operator: str
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op == "In":
            return labels.get(self.key) in self.values
        if op == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if op == "Exists":
            return self.key in labels
        return self.key not in labels  # DoesNotExist

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"key": self.key, "operator": self.operator}
        if self.operator in ("In", "NotIn"):
            out["values"] = sorted(self.values)
        return out


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """matchLabels AND matchExpressions; ``LabelSelector()`` selects everything."""

    match_labels: tuple[tuple[str, str], ...] = ()
    match_expressions: tuple[Requirement, ...] = ()

    @property
    def selects_all(self) -> bool:
        return not self.match_labels and not self.match_expressions

    def matches(self, labels: Mapping[str, str]) -> bool:
        for key, value in self.match_labels:
            if labels.get(key) != value:
                return False
        return all(req.matches(labels) for req in self.match_expressions)

    @classmethod
    def parse(cls, raw: Mapping[str, object] | None) -> LabelSelector:
        """From an already validated Kubernetes dict; canonical (sorted) form."""
        if not raw:
            return cls()
        labels_raw = raw.get("matchLabels") or {}
        exprs_raw = raw.get("matchExpressions") or []
        assert isinstance(labels_raw, Mapping)
        assert isinstance(exprs_raw, list)
        labels = tuple(sorted((str(k), _label_str(v)) for k, v in labels_raw.items()))
        reqs = []
        for e in exprs_raw:
            assert isinstance(e, Mapping)
            values = e.get("values") or []
            assert isinstance(values, list)
            reqs.append(
                Requirement(
                    str(e["key"]), str(e["operator"]), frozenset(_label_str(v) for v in values)
                )
            )
        reqs.sort(key=lambda r: (r.key, r.operator, sorted(r.values)))
        return cls(labels, tuple(dict.fromkeys(reqs)))

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.match_labels:
            out["matchLabels"] = dict(self.match_labels)
        if self.match_expressions:
            out["matchExpressions"] = [r.to_dict() for r in self.match_expressions]
        return out

    def __str__(self) -> str:
        parts = [f"{k}={v}" for k, v in self.match_labels]
        for r in self.match_expressions:
            if r.operator == "In":
                parts.append(f"{r.key} in ({','.join(sorted(r.values))})")
            elif r.operator == "NotIn":
                parts.append(f"{r.key} notin ({','.join(sorted(r.values))})")
            elif r.operator == "Exists":
                parts.append(r.key)
            else:
                parts.append(f"!{r.key}")
        return ",".join(parts) if parts else "(all)"


def _label_str(value: object) -> str:
    """YAML turns `true`/`1` into bool/int; Kubernetes would reject them, we compare text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
