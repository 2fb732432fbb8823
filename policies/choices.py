"""The dashboard's vocabulary, defined once and imported by services, pages, API and commands.

Finding codes, severities and protocols come from the engine, which defines them next to the
checks and port sets that give them meaning; the words below are the web side's own.
"""

from __future__ import annotations

from typing import Literal

from .engine import FINDING_CODES, PROTOCOLS, SEVERITIES

__all__ = [
    "DIRECTIONS",
    "DIRECTION_LABELS",
    "FINDING_CODES",
    "FORMATS",
    "LEVELS",
    "LEVEL_LABELS",
    "PROTOCOLS",
    "RULE_DIRECTIONS",
    "SEVERITIES",
    "SEVERITY_RANK",
    "Direction",
    "Level",
]

# What a node of a reachability answer is.
Level = Literal["workload", "pod", "tier", "namespace"]
LEVELS: tuple[str, ...] = ("workload", "pod", "tier", "namespace")
LEVEL_LABELS: dict[str, str] = {
    "tier": "tiers",
    "workload": "workloads",
    "namespace": "namespaces",
    "pod": "pods",
}

# Whose rules decide: both sides (the cluster's answer) or one side alone.
Direction = Literal["combined", "ingress", "egress"]
DIRECTIONS: tuple[str, ...] = ("combined", "ingress", "egress")
DIRECTION_LABELS: dict[str, str] = {
    "combined": "combined",
    "ingress": "ingress rules only",
    "egress": "egress rules only",
}

# The two directions of a NetworkPolicy's rules and the key of their peers.
RULE_DIRECTIONS: tuple[tuple[str, str], ...] = (("ingress", "from"), ("egress", "to"))

# How a reachability answer is laid out: a sparse edge list or a matrix.
FORMATS: tuple[str, ...] = ("edges", "matrix")

SEVERITY_RANK: dict[str, int] = {severity: rank for rank, severity in enumerate(SEVERITIES)}
