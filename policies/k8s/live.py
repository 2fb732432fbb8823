"""One read of a live cluster for the command line: no database, nothing written.

The same client factory, resource list, paged list calls and error words as the sync
(`client.py`, `sync.list_resource`); only list and get verbs are used, so the read-only
RBAC of the in-cluster deployment (or a namespace-scoped role with `--namespace`) is
enough.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
from dataclasses import dataclass, field
from typing import Any

import yaml
from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from .client import (
    NODES,
    RESOURCES,
    SECRET_FILE_LIMIT,
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


def resolve_context(context: str | None, kubeconfig: str = "") -> str:
    """The context to read, checked against the kubeconfig first so that every bad file or
    name is one sentence in our words: `context` or the current context of --kubeconfig,
    else of $KUBECONFIG (several files merged, as kubectl does), else of ~/.kube/config."""
    configs = _kubeconfigs(kubeconfig)
    where = ", ".join(path for path, _config in configs)
    names = list(dict.fromkeys(name for _path, config in configs for name in _context_names(config)))
    listed = f"(contexts: {', '.join(names)})" if names else "(it has no contexts)"
    if not context:
        context = next((str(c["current-context"]) for _p, c in configs if c.get("current-context")), "")
        if not context:
            raise LiveReadError(f"kubeconfig {where} has no current context: pass --context {listed}")
    if context not in names:
        raise LiveReadError(f"context {context!r} is not in kubeconfig {where} {listed}")
    _check_credential_plugin(context, [config for _path, config in configs])
    return context


def _check_credential_plugin(context: str, configs: list[dict[str, Any]]) -> None:
    """A user whose exec plugin is not installed: the client would only log it and go on
    without credentials, and the answer would be a misleading 401."""
    context_entry = _named(configs, "contexts", context)
    user_name = _entry_body(context_entry, "context").get("user")
    user = _entry_body(_named(configs, "users", user_name), "user")
    command = str(_entry_body(user, "exec").get("command") or "")
    relative_to_the_file = os.sep in command and not os.path.isabs(command)
    if command and not relative_to_the_file and not shutil.which(command):
        raise LiveReadError(
            f"context {context}: user {user_name} signs in with the credential plugin {command}, "
            "which is not installed (not found on PATH)"
        )


def _named(configs: list[dict[str, Any]], section: str, name: Any) -> dict[str, Any]:
    """The first entry called `name` in `section` of the merged kubeconfigs, as kubectl picks."""
    return next((entry for config in configs for entry in _entries(config, section) if entry.get("name") == name), {})


def _entries(config: dict[str, Any], section: str) -> list[dict[str, Any]]:
    return [entry for entry in config.get(section) or [] if isinstance(entry, dict)]


def _entry_body(entry: dict[str, Any], key: str) -> dict[str, Any]:
    body = entry.get(key)
    return body if isinstance(body, dict) else {}


def _kubeconfigs(kubeconfig: str) -> list[tuple[str, dict[str, Any]]]:
    if kubeconfig:
        return [(kubeconfig, _read_kubeconfig(kubeconfig))]
    listed = [path for path in os.environ.get("KUBECONFIG", "").split(os.pathsep) if path]
    paths = [path for path in listed if os.path.exists(path)] if listed else [os.path.expanduser("~/.kube/config")]
    if not paths:
        raise LiveReadError(f"$KUBECONFIG names no file that exists ({', '.join(listed)})")
    return [(path, _read_kubeconfig(path)) for path in paths]


def _read_kubeconfig(path: str) -> dict[str, Any]:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise LiveReadError(f"kubeconfig {path} does not exist") from None
    except OSError as exc:
        raise LiveReadError(f"kubeconfig {path} cannot be read: {exc.strerror}") from None
    if stat.S_ISDIR(info.st_mode):
        raise LiveReadError(f"kubeconfig {path} is a directory, not a kubeconfig file")
    if not stat.S_ISREG(info.st_mode):
        raise LiveReadError(f"kubeconfig {path} is not a regular file")
    if info.st_size == 0:
        raise LiveReadError(f"kubeconfig {path} is empty")
    if info.st_size > SECRET_FILE_LIMIT:
        raise LiveReadError(f"kubeconfig {path} is larger than 1 MB; is it the right file?")
    try:
        with open(path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle)
    except OSError as exc:
        raise LiveReadError(f"kubeconfig {path} cannot be read: {exc.strerror}") from None
    except (UnicodeDecodeError, yaml.YAMLError):
        config = None
    if not isinstance(config, dict) or not isinstance(config.get("contexts") or [], list):
        raise LiveReadError(f"kubeconfig {path} is not a kubeconfig file (YAML with clusters, users and contexts)")
    return config


def _context_names(config: dict[str, Any]) -> list[str]:
    return [str(entry["name"]) for entry in _entries(config, "contexts") if entry.get("name")]


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
