"""One read of a live cluster for the command line: no database, nothing written.

The same client factory, resource list, paged list calls and error words as the sync
(`client.py`, `sync.list_resource`); only list and get verbs are used, so the read-only
RBAC of the in-cluster deployment (or a namespace-scoped role with `--namespace`) is
enough.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from .client import (
    NODES,
    RESOURCES,
    SERVICE_ACCOUNTS,
    ConnectionSettings,
    ConnectionSettingsError,
    Resource,
    build_api_client,
    describe_failure,
    discover_cluster_policies,
    discover_cni,
    served_groups,
    server_url,
)
from .objects import slim_object
from .sync import SyncOptions, list_resource

# What an answer misses when the role may not list a kind (the note's words).
_MISSING_WITHOUT = {
    "adminnetworkpolicies": "their Allow, Deny and Pass rules are left out of the answer",
    "baselineadminnetworkpolicies": "the baseline tier is left out of the answer",
    "clusternetworkpolicies": "their Accept, Deny and Pass rules are left out of the answer",
    "nodes": "`nodes` peers of cluster-wide policies match no address",
}
# The cluster-wide tiers (kubernetes-sigs/network-policy-api), in the version the sync
# mirrors (API discovery: client.discover_cluster_policies), and the nodes their `nodes`
# peers select. A cluster without the CRDs serves none: nothing to read. A role that may
# not list them gets a note, since an answer without them can be wrong.


def _slim_extra(kind: str, api_version: str) -> Any:
    def slim(obj: dict[str, Any]) -> dict[str, Any]:
        meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in ("managedFields", "selfLink")}
        out: dict[str, Any] = {"apiVersion": obj.get("apiVersion") or api_version, "kind": kind, "metadata": meta}
        if kind == "Node":  # addresses only: images, conditions and capacity are not ours
            out["status"] = {"addresses": (obj.get("status") or {}).get("addresses") or []}
        else:
            out["spec"] = obj.get("spec") or {}
        return out

    return slim


class LiveReadError(Exception):
    """The cluster could not be read; the message names the context and what to fix."""


@dataclass
class LiveSnapshot:
    """What one read found: objects in the Kubernetes JSON shape, and notes for stderr."""

    context: str
    server: str
    objects: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def current_context(kubeconfig: str = "") -> str:
    """kubectl's current context: `current-context` of --kubeconfig, else of $KUBECONFIG
    (several files merged, as kubectl does), else of ~/.kube/config."""
    try:
        _contexts, active = k8s_config.list_kube_config_contexts(config_file=kubeconfig or None)
    except (ConfigException, OSError) as exc:
        where = kubeconfig or "$KUBECONFIG or ~/.kube/config"
        raise LiveReadError(f"no kubeconfig to read the current context from ({where}): {exc}") from exc
    name = (active or {}).get("name") if isinstance(active, dict) else None
    if not name:
        raise LiveReadError("the kubeconfig has no current context: pass --context")
    return str(name)


def read_cluster(
    context: str,
    *,
    kubeconfig: str = "",
    namespaces: tuple[str, ...] = (),
    options: SyncOptions | None = None,
) -> LiveSnapshot:
    """Namespaces, workloads, pods and NetworkPolicies of `context` (of `namespaces` only,
    if given), then the cluster-wide policies and nodes the engine also reads."""
    options = options or SyncOptions()
    settings = ConnectionSettings(source="kubeconfig", kubeconfig_path=kubeconfig, context=context)
    try:
        api_client = build_api_client(settings)
    except ConnectionSettingsError as exc:
        raise LiveReadError(f"context {context}: {exc}") from exc
    snapshot = LiveSnapshot(context=context, server=server_url(api_client))
    try:
        for resource in RESOURCES:
            try:
                snapshot.objects.extend(_read(api_client, resource, namespaces, options, snapshot))
            except LiveReadError:
                raise
            except Exception as exc:  # every client failure becomes one sentence, never a traceback
                failure = describe_failure(exc, resource=resource, server=snapshot.server)
                raise LiveReadError(f"context {context}: {failure.message}") from exc
        served = _discover(api_client, snapshot)
        for resource in _cluster_policies(api_client, served, snapshot):
            snapshot.objects.extend(_read_optional(api_client, resource, options, snapshot))
        snapshot.objects.extend(_read_optional(api_client, NODES, options, snapshot))
        snapshot.objects.extend(_read_cni(api_client, served, namespaces, options, snapshot))
    finally:
        api_client.close()
    return snapshot


def _discover(api_client: k8s.ApiClient, snapshot: LiveSnapshot) -> dict[str, list[str]]:
    """The API groups the cluster serves; none, with a note, when discovery fails."""
    try:
        return served_groups(api_client)
    except Exception as exc:  # every client failure becomes one sentence, never a traceback
        failure = describe_failure(exc, resource=None, server=snapshot.server)
        snapshot.notes.append(
            f"API discovery failed: {failure.message}; cluster-wide policies and CNI resources are left out of the answer."
        )
        return {}


def _cluster_policies(
    api_client: k8s.ApiClient, served: dict[str, list[str]], snapshot: LiveSnapshot
) -> list[Resource]:
    try:
        return discover_cluster_policies(api_client, served)
    except Exception as exc:  # every client failure becomes one sentence, never a traceback
        failure = describe_failure(exc, resource=None, server=snapshot.server)
        snapshot.notes.append(f"cluster-wide policies cannot be discovered: {failure.message}; they are left out of the answer.")
        return []


def _read_cni(
    api_client: k8s.ApiClient,
    served: dict[str, list[str]],
    namespaces: tuple[str, ...],
    options: SyncOptions,
    snapshot: LiveSnapshot,
) -> list[dict[str, Any]]:
    """The Calico, Cilium and Antrea resources the cluster serves (API discovery says
    which), and ServiceAccounts with Calico's. With --namespace, the namespaced kinds of
    those namespaces and every cluster-scoped one (global policies apply there too).
    A kind the role may not list is a note: the answer leaves its rules out."""
    try:
        found = discover_cni(api_client, served)
    except Exception as exc:  # every client failure becomes one sentence, never a traceback
        failure = describe_failure(exc, resource=None, server=snapshot.server)
        snapshot.notes.append(f"CNI resources cannot be discovered: {failure.message}; they are left out of the answer.")
        return []
    if any(r.cni == "calico" for r in found):
        found.append(SERVICE_ACCOUNTS)
    out: list[dict[str, Any]] = []
    for resource in found:
        try:
            if namespaces and resource.namespaced:
                for namespace in namespaces:
                    lister = _namespaced_custom_lister(api_client, resource, namespace)
                    out += list_resource(lister, resource, options)[0]
            else:
                out += list_resource(resource.lister(api_client), resource, options)[0]
        except ApiException as exc:
            if exc.status == 404:
                continue
            failure = describe_failure(exc, resource=resource, server=snapshot.server)
            if exc.status == 403:
                snapshot.notes.append(f"{resource.key}: {failure.message} Without them their rules are left out of the answer.")
                continue
            raise LiveReadError(f"context {snapshot.context}: {failure.message}") from exc
        except Exception as exc:
            failure = describe_failure(exc, resource=resource, server=snapshot.server)
            raise LiveReadError(f"context {snapshot.context}: {failure.message}") from exc
    return out


def _namespaced_custom_lister(api_client: k8s.ApiClient, resource: Resource, namespace: str) -> Any:
    if not resource.cni:
        return resource.namespaced_lister(api_client, namespace)
    custom = k8s.CustomObjectsApi(api_client)
    group, version, plural = resource.group, resource.version, resource.plural
    return lambda **kwargs: custom.list_namespaced_custom_object(group, version, namespace, plural, **kwargs)


def _read_optional(
    api_client: k8s.ApiClient, resource: Resource, options: SyncOptions, snapshot: LiveSnapshot
) -> list[dict[str, Any]]:
    """The objects of a kind the answer can do without: none when the cluster does not
    serve it, none and a note when the role may not list it."""
    try:
        items, _version = list_resource(
            resource.lister(api_client), resource, options, slim=_slim_extra(resource.kind, resource.api_version)
        )
    except ApiException as exc:
        if exc.status == 404:
            return []
        failure = describe_failure(exc, resource=resource, server=snapshot.server)
        if exc.status == 403:
            snapshot.notes.append(f"{resource.plural}: {failure.message} Without them {_MISSING_WITHOUT[resource.plural]}.")
            return []
        raise LiveReadError(f"context {snapshot.context}: {failure.message}") from exc
    except Exception as exc:  # every client failure becomes one sentence, never a traceback
        failure = describe_failure(exc, resource=resource, server=snapshot.server)
        raise LiveReadError(f"context {snapshot.context}: {failure.message}") from exc
    return items


def _read(
    api_client: k8s.ApiClient,
    resource: Resource,
    namespaces: tuple[str, ...],
    options: SyncOptions,
    snapshot: LiveSnapshot,
) -> list[dict[str, Any]]:
    if not namespaces:
        items, _version = list_resource(resource.lister(api_client), resource, options)
        return items
    if resource.namespaced:
        return [
            item
            for namespace in namespaces
            for item in list_resource(resource.namespaced_lister(api_client, namespace), resource, options)[0]
        ]
    return [
        obj for name in namespaces if (obj := _read_namespace(api_client, name, snapshot)) is not None
    ]


def _read_namespace(
    api_client: k8s.ApiClient, name: str, snapshot: LiveSnapshot
) -> dict[str, Any] | None:
    api = k8s.CoreV1Api(api_client)
    try:
        raw = api.read_namespace(name, _preload_content=False)
    except ApiException as exc:
        if exc.status == 404:
            raise LiveReadError(
                f"context {snapshot.context}: namespace {name} does not exist on {snapshot.server}"
            ) from exc
        if exc.status == 403:
            # A namespace-scoped role may not read its Namespace object: without it only
            # the kubernetes.io/metadata.name label is known, which the engine adds itself.
            snapshot.notes.append(
                f"namespace {name}: its labels cannot be read (403 Forbidden); "
                "namespaceSelectors see only kubernetes.io/metadata.name"
            )
            return None
        raise
    return slim_object("Namespace", json.loads(raw.data))
