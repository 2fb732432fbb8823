"""Kubernetes API access: one client per cluster, the resources netpolui mirrors, and
errors translated into words a platform engineer can act on."""

from __future__ import annotations

import functools
import json
import logging
import os
import socket
import ssl
import stat
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from ..engine.cni.kinds import CALICO, CALICO_CRD_GROUP, CALICO_GROUP, CNI_KINDS, CniKind
from .objects import slim_cni_object, slim_object

log = logging.getLogger(__name__)

# A token, a CA bundle or a kubeconfig is small; anything bigger is the wrong file.
SECRET_FILE_LIMIT = 1024 * 1024


class ConnectionSettingsError(Exception):
    """The cluster's connection settings cannot be used (missing file, bad kubeconfig).

    ``str()`` names the file (for the admin registering the cluster); ``public`` says
    the same without server paths, for what a sync stores and every viewer sees. Neither
    ever quotes the file's contents."""

    def __init__(self, message: str, *, public: str | None = None) -> None:
        super().__init__(message)
        self.public = public or message


@dataclass(frozen=True)
class Resource:
    """One mirrored resource: its plural, kind, API group and how to list it."""

    plural: str
    kind: str
    group: str  # "" for the core group
    api: type[Any]
    list_all: str  # the cluster-wide list/watch method of `api`
    namespaced: bool = True
    version: str = ""  # for custom resources (CustomObjectsApi), the served version
    cni: str = ""  # calico | cilium | antrea for a CNI's own resources

    @property
    def key(self) -> str:
        """The resource's name in sync state and logs. Several CNIs reuse a built-in
        plural (Calico's and Antrea's `networkpolicies`), so theirs carry the group."""
        return f"{self.plural}.{self.group}" if self.cni else self.plural

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else (self.version or "v1")

    def slim(self, obj: dict[str, Any]) -> dict[str, Any]:
        """The part of `obj` netpolui keeps (see objects.py)."""
        if self.cni:
            return slim_cni_object(self.api_version, self.kind, obj)
        return slim_object(self.kind, obj, self.api_version if self.version else "")

    def lister(self, api_client: k8s.ApiClient) -> Callable[..., Any]:
        method = getattr(self.api(api_client), self.list_all)
        if self.api is k8s.CustomObjectsApi:
            return functools.partial(method, self.group, self.version, self.plural)
        return method  # type: ignore[no-any-return]

    def namespaced_lister(self, api_client: k8s.ApiClient, namespace: str) -> Callable[..., Any]:
        """The list method for one namespace (`list_namespaced_pod`), bound to it."""
        method = "list_namespaced_" + self.list_all.removeprefix("list_").removesuffix(
            "_for_all_namespaces"
        )
        bound = getattr(self.api(api_client), method)
        return lambda **kwargs: bound(namespace, **kwargs)


# Order matters for the first list: namespaces and owners before pods, policies last.
RESOURCES: tuple[Resource, ...] = (
    Resource("namespaces", "Namespace", "", k8s.CoreV1Api, "list_namespace", namespaced=False),
    Resource("deployments", "Deployment", "apps", k8s.AppsV1Api, "list_deployment_for_all_namespaces"),
    Resource("replicasets", "ReplicaSet", "apps", k8s.AppsV1Api, "list_replica_set_for_all_namespaces"),
    Resource("statefulsets", "StatefulSet", "apps", k8s.AppsV1Api, "list_stateful_set_for_all_namespaces"),
    Resource("daemonsets", "DaemonSet", "apps", k8s.AppsV1Api, "list_daemon_set_for_all_namespaces"),
    Resource("cronjobs", "CronJob", "batch", k8s.BatchV1Api, "list_cron_job_for_all_namespaces"),
    Resource("jobs", "Job", "batch", k8s.BatchV1Api, "list_job_for_all_namespaces"),
    Resource("pods", "Pod", "", k8s.CoreV1Api, "list_pod_for_all_namespaces"),
    Resource(
        "networkpolicies",
        "NetworkPolicy",
        "networking.k8s.io",
        k8s.NetworkingV1Api,
        "list_network_policy_for_all_namespaces",
    ),
)

POLICY_GROUP = "policy.networking.k8s.io"
# Cluster-wide policies, mirrored when the cluster serves them (API discovery says so),
# and Nodes with them: `nodes` peers select node addresses. Absent is not an error.
CLUSTER_POLICY_RESOURCES: tuple[Resource, ...] = (
    Resource(
        "clusternetworkpolicies",
        "ClusterNetworkPolicy",
        POLICY_GROUP,
        k8s.CustomObjectsApi,
        "list_cluster_custom_object",
        namespaced=False,
        version="v1beta1",
    ),
    Resource(
        "adminnetworkpolicies",
        "AdminNetworkPolicy",
        POLICY_GROUP,
        k8s.CustomObjectsApi,
        "list_cluster_custom_object",
        namespaced=False,
        version="v1alpha1",
    ),
    Resource(
        "baselineadminnetworkpolicies",
        "BaselineAdminNetworkPolicy",
        POLICY_GROUP,
        k8s.CustomObjectsApi,
        "list_cluster_custom_object",
        namespaced=False,
        version="v1alpha1",
    ),
)
CLUSTER_POLICY_VERSIONS: dict[str, tuple[str, ...]] = {
    "clusternetworkpolicies": ("v1beta1", "v1alpha2"),
    "adminnetworkpolicies": ("v1alpha1",),
    "baselineadminnetworkpolicies": ("v1alpha1",),
}
"""Each cluster-wide policy kind's versions netpolui reads, the preferred first:
ClusterNetworkPolicy v1beta1 has v1alpha2's final schema (engine.tiers.READ_VERSIONS)."""
NODES = Resource("nodes", "Node", "", k8s.CoreV1Api, "list_node", namespaced=False)
POLICY_KINDS = frozenset({"NetworkPolicy", *(r.kind for r in CLUSTER_POLICY_RESOURCES)})
"""Kinds whose changes leave the topology (pods, namespaces, nodes) as it was."""

SERVICE_ACCOUNTS = Resource(
    "serviceaccounts", "ServiceAccount", "", k8s.CoreV1Api, "list_service_account_for_all_namespaces"
)
"""Mirrored when Calico is served: its rules select pods by their ServiceAccount's labels."""


def cni_resource(kind: CniKind, version: str) -> Resource:
    """The Resource of one CNI kind in one served version."""
    return Resource(
        kind.plural,
        kind.kind,
        kind.group,
        k8s.CustomObjectsApi,
        "list_cluster_custom_object",
        namespaced=kind.namespaced,
        version=version,
        cni=kind.cni,
    )


# Every CNI kind in its preferred version: what a manifests cluster stores them as.
CNI_RESOURCES: tuple[Resource, ...] = tuple(cni_resource(k, k.versions[0]) for k in CNI_KINDS)
CNI_POLICY_KINDS = frozenset((k.group, k.kind) for k in CNI_KINDS if k.policy)

ALL_RESOURCES = (*RESOURCES, NODES, *CLUSTER_POLICY_RESOURCES)
RESOURCES_BY_PLURAL = {r.plural: r for r in ALL_RESOURCES}
RESOURCES_BY_KIND = {r.kind: r for r in ALL_RESOURCES}
"""The built-in and cluster-wide kinds by kind. Never look a CNI object up here: Calico's
and Antrea's kinds share names with these; use `resource_for_object`."""
_CNI_BY_GROUP_KIND = {(r.group, r.kind): r for r in CNI_RESOURCES}


def api_group_of(obj: dict[str, Any]) -> str:
    api_version = obj.get("apiVersion")
    if not isinstance(api_version, str) or "/" not in api_version:
        return ""
    return api_version.split("/", 1)[0]


def resource_for_object(obj: dict[str, Any]) -> Resource | None:
    """The Resource an object is, by API group and kind (a Calico NetworkPolicy is not a
    networking.k8s.io one); None for kinds netpolui does not mirror."""
    kind = obj.get("kind")
    if not isinstance(kind, str):
        return None
    group = api_group_of(obj)
    cni = _CNI_BY_GROUP_KIND.get((group, kind))
    if cni is not None:
        return cni
    if kind == "ServiceAccount" and group == "":
        return SERVICE_ACCOUNTS
    resource = RESOURCES_BY_KIND.get(kind)
    if resource is None:
        return None
    # A kind of another group (an unknown CRD called NetworkPolicy) is not ours.
    if "apiVersion" in obj and group != resource.group:
        return None
    return resource


def served_groups(api_client: k8s.ApiClient) -> dict[str, list[str]]:
    """API discovery: each named API group the cluster serves and its versions; none
    when the server has no named groups at all (404); a failure is raised."""
    try:
        groups = k8s.ApisApi(api_client).get_api_versions()
    except ApiException as exc:
        if exc.status == 404:
            return {}
        raise
    return {g.name: [v.version for v in g.versions or ()] for g in groups.groups or ()}


def discover_resources(api_client: k8s.ApiClient) -> tuple[Resource, ...]:
    """The resources to mirror from this cluster: the built-in ones, plus the
    cluster-wide policy kinds API discovery says are served (see
    discover_cluster_policies), plus Nodes when any of them is. A cluster without the
    policy API group (most clusters) gets the built-in ones alone; a discovery failure
    is raised."""
    served = served_groups(api_client)
    cni = discover_cni(api_client, served)
    found = discover_cluster_policies(api_client, served)
    extra: list[Resource] = [NODES, *found] if found else []
    if any(r.cni == CALICO for r in cni):
        extra.append(SERVICE_ACCOUNTS)
    return (*RESOURCES, *extra, *cni)


def discover_cluster_policies(api_client: k8s.ApiClient, served: dict[str, list[str]]) -> list[Resource]:
    """The cluster-wide policy kinds the cluster serves, each in the first of its
    CLUSTER_POLICY_VERSIONS (the newest netpolui reads) that the server lists: the one
    choice of version the sync and the live reads make."""
    names_of: dict[str, set[str]] = {}
    for version in served.get(POLICY_GROUP, ()):
        try:
            listing = k8s.CustomObjectsApi(api_client).get_api_resources(POLICY_GROUP, version)
        except ApiException as exc:
            if exc.status == 404:
                continue
            raise
        names_of[version] = {r.name for r in listing.resources or ()}
    found: list[Resource] = []
    for resource in CLUSTER_POLICY_RESOURCES:
        version = next(
            (v for v in CLUSTER_POLICY_VERSIONS[resource.plural] if resource.plural in names_of.get(v, ())), None
        )
        if version is not None:
            found.append(replace(resource, version=version))
    return found


def discover_cni(api_client: k8s.ApiClient, served: dict[str, list[str]]) -> list[Resource]:
    """The CNI kinds the cluster serves, each in the first of netpolui's versions (its
    preferred one) that the server lists. Calico's API server (projectcalico.org/v3)
    serves the same objects its CRD datastore keeps under crd.projectcalico.org/v1:
    when both are served, the v3 view alone is read."""
    resources_of: dict[tuple[str, str], set[str]] = {}
    found: list[Resource] = []
    groups_found: set[str] = set()
    for kind in CNI_KINDS:
        versions = served.get(kind.group)
        if not versions:
            continue
        for version in kind.versions:
            if version not in versions:
                continue
            if (kind.group, version) not in resources_of:
                try:
                    listing = k8s.CustomObjectsApi(api_client).get_api_resources(kind.group, version)
                    resources_of[(kind.group, version)] = {r.name for r in listing.resources or ()}
                except ApiException as exc:
                    if exc.status != 404:
                        raise
                    resources_of[(kind.group, version)] = set()
            if kind.plural in resources_of[(kind.group, version)]:
                found.append(cni_resource(kind, version))
                groups_found.add(kind.group)
                break
    if CALICO_GROUP in groups_found:
        found = [r for r in found if r.group != CALICO_CRD_GROUP]
    return found


@dataclass(frozen=True)
class ConnectionSettings:
    """How to reach one cluster. Only paths are kept: secrets stay in their files."""

    source: str  # kubeconfig | in_cluster | token
    kubeconfig_path: str = ""
    context: str = ""
    server_url: str = ""
    token_file: str = ""
    ca_file: str = ""
    insecure_skip_tls_verify: bool = False


def build_api_client(settings: ConnectionSettings) -> k8s.ApiClient:
    """An ApiClient for the cluster; raises ConnectionSettingsError with the reason."""
    configuration = k8s.Configuration()
    try:
        if settings.source == "kubeconfig":
            path = settings.kubeconfig_path or None
            if path:
                _check_small_file(path, "kubeconfig")
            try:
                k8s_config.load_kube_config(
                    config_file=path,
                    context=settings.context or None,
                    client_configuration=configuration,
                    persist_config=False,
                )
            except ConfigException:
                raise
            except Exception as exc:  # the file is YAML of some other shape, or not YAML
                log.warning("kubeconfig %s cannot be used: %s", path, type(exc).__name__)
                raise ConnectionSettingsError(
                    f"kubeconfig {path} is not a kubeconfig file (YAML with clusters, users and contexts)",
                    public="the kubeconfig file is not a kubeconfig (YAML with clusters, users and contexts)",
                ) from None
        elif settings.source == "in_cluster":
            k8s_config.load_incluster_config(client_configuration=configuration)
        elif settings.source == "token":
            if not settings.server_url:
                raise ConnectionSettingsError("a server URL is required")
            configuration.host = settings.server_url.rstrip("/")
            token = read_token_file(settings.token_file)
            configuration.api_key = {"authorization": f"Bearer {token}"}
            if settings.insecure_skip_tls_verify:
                configuration.verify_ssl = False
            elif settings.ca_file:
                _read_secret_file(settings.ca_file, "CA file")
                configuration.ssl_ca_cert = settings.ca_file
        else:
            raise ConnectionSettingsError(f"source {settings.source!r} has no API server")
    except ConfigException as exc:
        raise ConnectionSettingsError(
            f"kubeconfig cannot be used: {exc}",
            public="the kubeconfig cannot be used (no usable context, cluster or credentials in it)",
        ) from exc
    # We retry with our own backoff; urllib3's silent retries would hide failures.
    configuration.retries = False
    return k8s.ApiClient(configuration)


def _check_small_file(path: str, what: str) -> None:
    try:
        info = os.stat(path)
    except OSError as exc:
        reason = "does not exist" if isinstance(exc, FileNotFoundError) else f"cannot be read: {exc.strerror}"
        raise ConnectionSettingsError(f"{what} {path} {reason}", public=f"the {what} {reason}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ConnectionSettingsError(f"{what} {path} is not a regular file", public=f"the {what} is not a regular file")
    if info.st_size > SECRET_FILE_LIMIT:
        raise ConnectionSettingsError(
            f"{what} {path} is larger than 1 MB; is it the right file?",
            public=f"the {what} is larger than 1 MB; is it the right file?",
        )


def _read_secret_file(path: str, what: str) -> str:
    if not path:
        raise ConnectionSettingsError(f"a {what} is required")
    _check_small_file(path, what)
    try:
        data = Path(path).read_bytes()[:SECRET_FILE_LIMIT]
    except OSError as exc:
        raise ConnectionSettingsError(
            f"{what} {path} cannot be read: {exc.strerror}", public=f"the {what} cannot be read: {exc.strerror}"
        ) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConnectionSettingsError(f"{what} {path} is not text", public=f"the {what} is not text") from None


def read_token_file(path: str) -> str:
    """The bearer token: the file's one line, surrounding whitespace stripped. A file of
    several lines (the wrong file, e.g. /etc/shadow) is refused without quoting it."""
    text = _read_secret_file(path, "token file").strip()
    if not text:
        raise ConnectionSettingsError(f"token file {path} is empty", public="the token file is empty")
    lines = len(text.splitlines())
    if lines > 1:
        raise ConnectionSettingsError(
            f"token file {path} has {lines} lines; it must hold the token alone",
            public=f"the token file has {lines} lines; it must hold the token alone",
        )
    if not all(33 <= ord(c) < 127 for c in text):
        raise ConnectionSettingsError(
            f"token file {path} holds characters a bearer token cannot have (spaces or non-ASCII); it must hold the token alone",
            public="the token file holds characters a bearer token cannot have (spaces or non-ASCII)",
        )
    return text


def server_url(api_client: k8s.ApiClient) -> str:
    return str(api_client.configuration.host)


# --- errors in words ------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncFailure:
    """A failure while talking to the API server, classified for retry and display."""

    kind: str  # unreachable | tls | unauthorized | forbidden | gone | throttled | server | timeout | other
    message: str
    retry_after: float | None = None

    @property
    def retryable_soon(self) -> bool:
        return self.kind in {"throttled", "server", "timeout", "unreachable"}


def describe_failure(exc: BaseException, *, resource: Resource | None, server: str) -> SyncFailure:
    """Turn an exception from the client into a sentence naming what to fix."""
    if isinstance(exc, ApiException):
        return _describe_api_exception(exc, resource=resource, server=server)
    if isinstance(exc, urllib3.exceptions.SSLError | ssl.SSLError) or "CERTIFICATE_VERIFY_FAILED" in str(exc):
        return SyncFailure("tls", f"TLS failure talking to {server}: {_root_cause(exc)}")
    if isinstance(exc, urllib3.exceptions.ReadTimeoutError | socket.timeout | TimeoutError):
        return SyncFailure("timeout", f"{server} stopped answering (read timeout)")
    if isinstance(
        exc,
        urllib3.exceptions.ProtocolError
        | urllib3.exceptions.IncompleteRead
        | urllib3.exceptions.NewConnectionError
        | urllib3.exceptions.MaxRetryError
        | ConnectionError,
    ):
        cause = _root_cause(exc)
        if "CERTIFICATE_VERIFY_FAILED" in cause or "SSL" in cause:
            return SyncFailure("tls", f"TLS failure talking to {server}: {cause}")
        if isinstance(exc, urllib3.exceptions.ProtocolError | urllib3.exceptions.IncompleteRead):
            return SyncFailure("unreachable", f"the connection to {server} broke: {cause}")
        return SyncFailure("unreachable", f"cannot reach {server}: {cause}")
    if isinstance(exc, json.JSONDecodeError):
        return SyncFailure("server", f"{server} sent a response that is not JSON")
    # Unknown: the text may quote anything (a header value, a file); it goes to the log only.
    log.warning("unexpected failure talking to %s", server, exc_info=exc)
    return SyncFailure(
        "other", f"unexpected {type(exc).__name__} while talking to {server}; the details are in the server log"
    )


_CAUSES = (
    ("Connection refused", "connection refused"),
    ("Name or service not known", "unknown host name"),
    ("nodename nor servname", "unknown host name"),
    ("Temporary failure in name resolution", "the host name cannot be resolved"),
    ("No route to host", "no route to host"),
    ("Network is unreachable", "network unreachable"),
    ("timed out", "connection timed out"),
    ("Connection reset", "connection reset by the server"),
    ("Connection aborted", "connection aborted"),
    ("RemoteDisconnected", "the server closed the connection"),
    ("IncompleteRead", "the server closed the connection mid-response"),
    ("WRONG_VERSION_NUMBER", "the server does not speak TLS on this port"),
    ("hostname mismatch", "the certificate is for another host name"),
    ("doesn't match", "the certificate is for another host name"),
    ("self-signed certificate", "self-signed certificate"),
    ("unable to get local issuer certificate", "the certificate's issuer is not trusted"),
    ("certificate has expired", "the certificate has expired"),
)


def _root_cause(exc: BaseException) -> str:
    """The cause in our words: the client's text is matched, never passed on."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        return _root_cause(reason)
    text = str(exc)
    cause = next((words for needle, words in _CAUSES if needle in text), None)
    if "certificate verify failed" in text.lower():
        return f"certificate verify failed ({cause})" if cause else "certificate verify failed"
    return cause or f"network error ({type(exc).__name__})"


def _status_message(exc: ApiException) -> str:
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if body:
        try:
            status = json.loads(body)
        except (TypeError, ValueError):
            return str(exc.reason or "")  # not a Status: a proxy's page, not ours to show
        if isinstance(status, dict) and status.get("message"):
            return str(status["message"])[:500]
    return str(exc.reason or "")


def _retry_after(exc: ApiException) -> float | None:
    headers = exc.headers or {}
    value = headers.get("Retry-After") or headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def rbac_rule(resource: Resource, verbs: tuple[str, ...] = ("get", "list", "watch")) -> str:
    group = json.dumps(resource.group)
    return f'apiGroups: [{group}], resources: ["{resource.plural}"], verbs: [{", ".join(json.dumps(v) for v in verbs)}]'


def _describe_api_exception(
    exc: ApiException, *, resource: Resource | None, server: str
) -> SyncFailure:
    status = int(exc.status or 0)
    message = _status_message(exc)
    if status == 0:
        text = str(exc.reason or "")
        if "SSL" in text or "certificate" in text.lower():
            return SyncFailure("tls", f"TLS failure talking to {server}: {_root_cause(exc)}")
        return SyncFailure("unreachable", f"cannot reach {server}: {_root_cause(exc)}")
    if status == 401:
        return SyncFailure(
            "unauthorized",
            f"{server} rejected the credentials (401 Unauthorized): the token or client "
            "certificate is missing, expired or wrong",
        )
    if status == 403:
        what = f" to {resource.plural}" if resource else ""
        rule = f" Missing RBAC rule: {rbac_rule(resource)}." if resource else ""
        return SyncFailure("forbidden", f"permission denied{what} (403 Forbidden): {message}.{rule}")
    if status == 410:
        return SyncFailure("gone", f"the watch expired (410 Gone): {message}")
    if status == 429:
        return SyncFailure(
            "throttled", f"{server} is throttling requests (429): {message}", _retry_after(exc)
        )
    if status >= 500:
        return SyncFailure(
            "server", f"{server} answered {status} {exc.reason or ''}: {message}".strip(), _retry_after(exc)
        )
    if status == 404 and resource:
        return SyncFailure(
            "other", f"{server} does not serve {resource.plural} (404): is the API group enabled?"
        )
    return SyncFailure("other", f"{server} answered {status}: {message}")
