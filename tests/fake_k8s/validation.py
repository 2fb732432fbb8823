"""Server-side defaulting and validation, a small copy of what kube-apiserver does.

Kept inside the fake on purpose (the product's engine is what is under test). Defaults are the
ones a drift check sees come back from a real server: NetworkPolicy `policyTypes` and port
`protocol: TCP`, container port protocols, Namespace finalizers and the
`kubernetes.io/metadata.name` label, workload replicas and strategies.
Messages follow k8s.io/apimachinery/pkg/util/validation/field.
"""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

from .resources import Resource
from .status import ApiError, invalid

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")

LABEL_MSG = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
             "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
             "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                 "characters, '-' or '.', and must start and end with an alphanumeric character "
                 "(e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
LABEL_VALUE_MSG = ("a valid label must be an empty string or consist of alphanumeric characters, "
                   "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                   "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
                   "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")
QUALIFIED_NAME_MSG = ("name part must consist of alphanumeric characters, '-', '_' or '.', and "
                      "must start and end with an alphanumeric character (e.g. 'MyName',  or "
                      "'my.name',  or '123-abc', regex used for validation is "
                      "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
CIDR_MSG = "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"


def _render(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | list | dict):
        return json.dumps(value)
    return str(value)


class _Errors:
    def __init__(self) -> None:
        self.causes: list[dict[str, str]] = []

    def add(self, reason: str, field: str, message: str) -> None:
        self.causes.append({"reason": reason, "message": message, "field": field})

    def invalid(self, field: str, value: Any, detail: str) -> None:
        self.add("FieldValueInvalid", field, f"Invalid value: {_render(value)}: {detail}")

    def required(self, field: str, detail: str = "") -> None:
        self.add("FieldValueRequired", field, "Required value" + (f": {detail}" if detail else ""))

    def forbidden(self, field: str, detail: str) -> None:
        self.add("FieldValueForbidden", field, f"Forbidden: {detail}")

    def not_supported(self, field: str, value: Any, allowed: list[str]) -> None:
        choices = ", ".join(json.dumps(a) for a in sorted(allowed))
        self.add("FieldValueNotSupported", field,
                 f"Unsupported value: {_render(value)}: supported values: {choices}")


# --- defaulting --------------------------------------------------------------------------


def _default_pod_spec(spec: dict[str, Any]) -> None:
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("securityContext", {})
    for key in ("containers", "initContainers"):
        for container in spec.get(key) or []:
            if not isinstance(container, dict):
                continue
            image = str(container.get("image", ""))
            tag = image.rsplit("/", 1)[-1]
            latest = ":" not in tag or tag.endswith(":latest")
            container.setdefault("imagePullPolicy", "Always" if latest else "IfNotPresent")
            container.setdefault("terminationMessagePath", "/dev/termination-log")
            container.setdefault("terminationMessagePolicy", "File")
            container.setdefault("resources", {})
            for port in container.get("ports") or []:
                if isinstance(port, dict):
                    port.setdefault("protocol", "TCP")


def _template_spec(obj: dict[str, Any]) -> dict[str, Any] | None:
    template = (obj.get("spec") or {}).get("template")
    if isinstance(template, dict):
        template.setdefault("metadata", {})
        spec = template.setdefault("spec", {})
        return spec if isinstance(spec, dict) else None
    return None


def apply_defaults(resource: Resource, obj: dict[str, Any]) -> None:
    """Mutates obj in place the way the registry's defaulting functions do."""
    metadata = obj.setdefault("metadata", {})
    kind = resource.kind
    if kind == "Namespace":
        name = metadata.get("name")
        if name:
            metadata.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
        obj.setdefault("status", {}).setdefault("phase", "Active")
        return
    if resource.group.endswith(("projectcalico.org", "cilium.io", "antrea.io")):
        return  # the CNIs' resources: stored as given
    if kind == "NetworkPolicy":
        spec = obj.setdefault("spec", {})
        if not isinstance(spec, dict):
            return
        spec.setdefault("podSelector", {})
        for direction in ("ingress", "egress"):
            for rule in spec.get(direction) or []:
                for port in (rule or {}).get("ports") or []:
                    if isinstance(port, dict) and port.get("protocol") is None:
                        port["protocol"] = "TCP"
        if not spec.get("policyTypes"):
            spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
        return
    if kind == "Pod":
        spec = obj.setdefault("spec", {})
        if isinstance(spec, dict):
            _default_pod_spec(spec)
        return
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    pod_spec = _template_spec(obj)
    if pod_spec is not None:
        _default_pod_spec(pod_spec)
    if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        spec.setdefault("replicas", 1)
    if kind in ("Deployment", "StatefulSet", "DaemonSet"):
        spec.setdefault("revisionHistoryLimit", 10)
    if kind == "Deployment":
        spec.setdefault("progressDeadlineSeconds", 600)
        spec.setdefault("strategy", {"type": "RollingUpdate",
                                     "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
    elif kind == "StatefulSet":
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("updateStrategy", {"type": "RollingUpdate",
                                           "rollingUpdate": {"partition": 0}})
    elif kind == "DaemonSet":
        spec.setdefault("updateStrategy", {"type": "RollingUpdate",
                                           "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    elif kind == "Job":
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completions", 1)
        spec.setdefault("parallelism", 1)
    elif kind == "CronJob":
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)


# --- validation --------------------------------------------------------------------------


def _validate_qualified_key(errors: _Errors, field: str, key: str) -> None:
    prefix, _, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        errors.invalid(field, key, "prefix part " + SUBDOMAIN_MSG)
    if not name:
        errors.invalid(field, key, "name part must be non-empty")
    elif len(name) > 63:
        errors.invalid(field, key, "name part must be no more than 63 characters")
    elif not _QUALIFIED_NAME.match(name):
        errors.invalid(field, key, QUALIFIED_NAME_MSG)


def _validate_labels(errors: _Errors, field: str, labels: Any) -> None:
    if labels is None:
        return
    if not isinstance(labels, dict):
        errors.invalid(field, labels, "must be a map of string keys and values")
        return
    for key, value in labels.items():
        _validate_qualified_key(errors, field, str(key))
        if not isinstance(value, str):
            errors.invalid(field, value, "must be a string")
        elif len(value) > 63:
            errors.invalid(field, value, "must be no more than 63 characters")
        elif not _LABEL_VALUE.match(value):
            errors.invalid(field, value, LABEL_VALUE_MSG)


def _validate_metadata(errors: _Errors, resource: Resource, metadata: dict[str, Any]) -> None:
    name = metadata.get("name")
    if not name:
        errors.required("metadata.name", "name or generateName is required")
    elif resource.kind == "Namespace" and (len(name) > 63 or not _DNS1123_LABEL.match(name)):
        errors.invalid("metadata.name", name, LABEL_MSG)
    elif len(name) > 253 or not _DNS1123_SUBDOMAIN.match(name):
        errors.invalid("metadata.name", name, SUBDOMAIN_MSG)
    _validate_labels(errors, "metadata.labels", metadata.get("labels"))


def _validate_label_selector(errors: _Errors, field: str, selector: Any) -> None:
    if not isinstance(selector, dict):
        errors.invalid(field, selector, "must be a label selector")
        return
    _validate_labels(errors, f"{field}.matchLabels", selector.get("matchLabels"))
    for i, expr in enumerate(selector.get("matchExpressions") or []):
        path = f"{field}.matchExpressions[{i}]"
        operator = (expr or {}).get("operator")
        values = (expr or {}).get("values") or []
        if operator in ("In", "NotIn"):
            if not values:
                errors.required(f"{path}.values",
                                "must be specified when `operator` is 'In' or 'NotIn'")
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errors.forbidden(f"{path}.values",
                                 "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")
        else:
            errors.invalid(f"{path}.operator", operator, "not a valid selector operator")
        _validate_qualified_key(errors, f"{path}.key", str((expr or {}).get("key", "")))


def _port_name_errors(name: str) -> list[str]:
    out = []
    if len(name) > 15:
        out.append("must be no more than 15 characters")
    if not re.fullmatch(r"[-a-z0-9]*", name):
        out.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not re.search(r"[a-z]", name):
        out.append("must contain at least one letter (a-z)")
    if "--" in name:
        out.append("must not contain consecutive hyphens")
    if name.startswith("-") or name.endswith("-"):
        out.append("must not begin or end with a hyphen")
    return out


def _validate_np_port(errors: _Errors, path: str, port: Any) -> None:
    if not isinstance(port, dict):
        errors.invalid(path, port, "must be an object")
        return
    protocol = port.get("protocol")
    if protocol is not None and protocol not in ("TCP", "UDP", "SCTP"):
        errors.not_supported(f"{path}.protocol", protocol, ["TCP", "UDP", "SCTP"])
    number, end_port = port.get("port"), port.get("endPort")
    if number is None:
        if end_port is not None:
            errors.invalid(f"{path}.endPort", end_port,
                           "may not be specified when `port` is not specified")
    elif isinstance(number, int) and not isinstance(number, bool):
        if not 1 <= number <= 65535:
            errors.invalid(f"{path}.port", number, "must be between 1 and 65535, inclusive")
        if end_port is not None:
            if not isinstance(end_port, int) or end_port < number:
                errors.invalid(f"{path}.endPort", number, "must be greater than or equal to `port`")
            if isinstance(end_port, int) and not 1 <= end_port <= 65535:
                errors.invalid(f"{path}.endPort", end_port,
                               "must be between 1 and 65535, inclusive")
    elif isinstance(number, str):
        if end_port is not None:
            errors.invalid(f"{path}.endPort", end_port,
                           "may not be specified when `port` is non-numeric")
        for message in _port_name_errors(number):
            errors.invalid(f"{path}.port", number, message)
    else:
        errors.invalid(f"{path}.port", number, "must be an integer or a port name")


def _validate_ip_block(errors: _Errors, path: str, block: Any) -> None:
    if not isinstance(block, dict):
        errors.invalid(path, block, "must be an object")
        return
    cidr = block.get("cidr")
    if not cidr:
        errors.required(f"{path}.cidr")
        return
    try:
        network = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        errors.invalid(f"{path}.cidr", cidr, CIDR_MSG)
        return
    for i, excepted in enumerate(block.get("except") or []):
        try:
            sub = ipaddress.ip_network(excepted, strict=False)
        except ValueError:
            errors.invalid(f"{path}.except[{i}]", excepted, CIDR_MSG)
            continue
        if (sub.version != network.version or not sub.subnet_of(network)  # type: ignore[arg-type]
                or sub.prefixlen <= network.prefixlen):
            errors.invalid(f"{path}.except[{i}]", excepted, "must be a strict subset of `cidr`")


def _validate_peer(errors: _Errors, path: str, peer: Any) -> None:
    if not isinstance(peer, dict):
        errors.invalid(path, peer, "must be an object")
        return
    count = 0
    for key in ("podSelector", "namespaceSelector"):
        if peer.get(key) is not None:
            count += 1
            _validate_label_selector(errors, f"{path}.{key}", peer[key])
    if peer.get("ipBlock") is not None:
        count += 1
        _validate_ip_block(errors, f"{path}.ipBlock", peer["ipBlock"])
    if count == 0:
        errors.required(path, "must specify a peer")
    elif count > 1 and peer.get("ipBlock") is not None:
        errors.forbidden(path, "may not specify both ipBlock and another peer")


def _validate_network_policy(errors: _Errors, spec: Any) -> None:
    if not isinstance(spec, dict):
        errors.invalid("spec", spec, "must be an object")
        return
    _validate_label_selector(errors, "spec.podSelector", spec.get("podSelector") or {})
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        if rules is None:
            continue
        if not isinstance(rules, list):
            errors.invalid(f"spec.{direction}", rules, "must be a list")
            continue
        for i, rule in enumerate(rules):
            rule = rule or {}
            for j, port in enumerate(rule.get("ports") or []):
                _validate_np_port(errors, f"spec.{direction}[{i}].ports[{j}]", port)
            for j, peer in enumerate(rule.get(peers_key) or []):
                _validate_peer(errors, f"spec.{direction}[{i}].{peers_key}[{j}]", peer)
    policy_types = spec.get("policyTypes") or []
    for i, policy_type in enumerate(policy_types):
        if policy_type not in ("Ingress", "Egress"):
            errors.not_supported(f"spec.policyTypes[{i}]", policy_type, ["Ingress", "Egress"])
    if len(policy_types) > 2:
        errors.invalid("spec.policyTypes", policy_types, "may not specify more than two policyTypes")


def validate(resource: Resource, obj: dict[str, Any]) -> None:
    """Raises ApiError 422 Invalid with one cause per problem, like the registry strategies."""
    errors = _Errors()
    metadata = obj.get("metadata") or {}
    _validate_metadata(errors, resource, metadata)
    if resource.kind == "NetworkPolicy" and resource.group == "networking.k8s.io":
        _validate_network_policy(errors, obj.get("spec"))
    if errors.causes:
        raise invalid(resource.qualified_kind, metadata.get("name", ""), errors.causes,
                      resource.group, resource.kind)


__all__ = ["ApiError", "apply_defaults", "validate"]
