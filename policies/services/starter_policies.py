"""Start points for the editor: policy templates from policies/templates_library/.

Each template is a YAML file (one or more NetworkPolicies) with ``${name}``
placeholders. Parameter values are checked against a conservative pattern before they
are put into the text, so a value can never change the YAML's structure; the rendered
policies then go through the same validation as anything typed into the editor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from string import Template as _Text
from typing import Any

from .. import engine

LIBRARY = Path(__file__).resolve().parent.parent / "templates_library"

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
_PORT = re.compile(r"^[0-9]{1,5}$")


@dataclass(frozen=True)
class Param:
    name: str
    label: str
    default: str
    kind: str  # namespace | label | port
    help: str = ""

    def check(self, value: str) -> str | None:
        """Why `value` cannot be used, or None."""
        if self.kind == "namespace" and not _NAME.match(value):
            return f"{self.label} must be a namespace name (lower case letters, digits, '-')"
        if self.kind == "label" and not _LABEL_VALUE.match(value):
            return f"{self.label} must be a label value (letters, digits, '-', '_', '.')"
        if self.kind == "port" and not (_PORT.match(value) and 1 <= int(value) <= 65535):
            return f"{self.label} must be a port number between 1 and 65535"
        return None


@dataclass(frozen=True)
class PolicyTemplate:
    slug: str
    title: str
    description: str
    params: tuple[Param, ...] = ()

    @property
    def path(self) -> Path:
        return LIBRARY / f"{self.slug}.yaml"

    @property
    def multiple(self) -> bool:
        return self.path.read_text().count("\n---") > 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "slug": self.slug,
            "title": self.title,
            "description": self.description,
            "multiple": self.multiple,
            "params": [
                {
                    "name": p.name,
                    "label": p.label,
                    "default": p.default,
                    "kind": p.kind,
                    "help": p.help,
                }
                for p in self.params
            ],
        }


class TemplateError(ValueError):
    """Unknown template or unusable parameter values; the message says which."""


TEMPLATES: tuple[PolicyTemplate, ...] = (
    PolicyTemplate(
        "default-deny-all",
        "Default deny all",
        "Isolate every pod of the namespace for ingress and egress (seed article, example 1). "
        "Add DNS egress next, or nothing resolves names.",
    ),
    PolicyTemplate(
        "default-deny-ingress",
        "Default deny ingress",
        "Isolate every pod of the namespace for ingress; egress stays open.",
    ),
    PolicyTemplate(
        "allow-dns-egress",
        "Allow DNS egress to kube-system",
        "Every pod may query the cluster DNS (k8s-app=kube-dns in kube-system) on UDP and TCP 53.",
    ),
    PolicyTemplate(
        "allow-from-namespace",
        "Allow from a namespace",
        "Every pod of another namespace may reach every pod of this one.",
        (Param("from_namespace", "Source namespace", "monitoring", "namespace"),),
    ),
    PolicyTemplate(
        "allow-from-tier",
        "Allow from a tier",
        "Pods labelled tier=<tier> accept one TCP port from pods labelled tier=<source tier> "
        "in the same namespace.",
        (
            Param("tier", "Tier (the pods this policy protects)", "backend", "label"),
            Param("from_tier", "Source tier", "frontend", "label"),
            Param("port", "TCP port", "8080", "port"),
        ),
    ),
    PolicyTemplate(
        "three-tier",
        "3-tier set: frontend, backend, database",
        "The seed article's multi-tier example as three policies: frontend open on 80 and "
        "talking to the backend on 8080, backend only from the frontend, database only "
        "from the backend on 5432.",
    ),
)
BY_SLUG = {t.slug: t for t in TEMPLATES}
NAMESPACE = Param("namespace", "Namespace", "default", "namespace")


def get(slug: str) -> PolicyTemplate:
    try:
        return BY_SLUG[slug]
    except KeyError:
        raise TemplateError(f"no template {slug!r}: choose one of {', '.join(BY_SLUG)}") from None


def render(slug: str, namespace: str, values: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """The template's policies for `namespace`, with the given parameter values
    (defaults for the missing ones)."""
    template = get(slug)
    values = dict(values or {})
    params: dict[str, str] = {}
    problems = []
    for param in (NAMESPACE, *template.params):
        value = (
            namespace if param is NAMESPACE else values.get(param.name, "")
        ).strip() or param.default
        why = param.check(value)
        if why:
            problems.append(why)
        params[param.name] = value
    if problems:
        raise TemplateError("; ".join(problems))
    text = _Text(template.path.read_text()).substitute(params)
    return engine.load_yaml_text(text, f"template {slug}")
