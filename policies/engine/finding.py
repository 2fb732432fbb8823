"""A finding: one thing in a cluster's policies worth a look, and the severities it has.

Shared by the NetworkPolicy checks (lint.py) and the cluster-wide policy checks
(tier_findings.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
SEVERITY_ORDER = {severity: rank for rank, severity in enumerate(SEVERITIES)}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    namespace: str
    object_kind: str
    object_name: str
    message: str
    object_key: str = ""  # a CNI object's cni_object_key: its kind alone is ambiguous

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "namespace": self.namespace,
            "object_kind": self.object_kind,
            "object_name": self.object_name,
            "message": self.message,
            "object_key": self.object_key,
        }

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.object_name}" if self.namespace else self.object_name
        return f"[{self.severity}] {where} ({self.object_kind}): {self.message}"
