"""Kubernetes API access: one client per cluster, the resources netpolui mirrors, and
errors translated into words a platform engineer can act on."""

from __future__ import annotations

import json
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client as k8s
from kubernetes import config as k8s_config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException


class ConnectionSettingsError(Exception):
    """The cluster's connection settings cannot be used (missing file, bad kubeconfig)."""


@dataclass(frozen=True)
class Resource:
    """One mirrored resource: its plural, kind, API group and how to list it."""

    plural: str
    kind: str
    group: str  # "" for the core group
    api: type[Any]
    list_all: str  # the cluster-wide list/watch method of `api`
    namespaced: bool = True

    def lister(self, api_client: k8s.ApiClient) -> Callable[..., Any]:
        return getattr(self.api(api_client), self.list_all)  # type: ignore[no-any-return]

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
RESOURCES_BY_PLURAL = {r.plural: r for r in RESOURCES}
RESOURCES_BY_KIND = {r.kind: r for r in RESOURCES}


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
            if path and not Path(path).is_file():
                raise ConnectionSettingsError(f"kubeconfig {path} does not exist")
            k8s_config.load_kube_config(
                config_file=path,
                context=settings.context or None,
                client_configuration=configuration,
                persist_config=False,
            )
        elif settings.source == "in_cluster":
            k8s_config.load_incluster_config(client_configuration=configuration)
        elif settings.source == "token":
            if not settings.server_url:
                raise ConnectionSettingsError("a server URL is required")
            configuration.host = settings.server_url.rstrip("/")
            token = _read_secret_file(settings.token_file, "token file")
            configuration.api_key = {"authorization": f"Bearer {token}"}
            if settings.insecure_skip_tls_verify:
                configuration.verify_ssl = False
            elif settings.ca_file:
                _read_secret_file(settings.ca_file, "CA file")
                configuration.ssl_ca_cert = settings.ca_file
        else:
            raise ConnectionSettingsError(f"source {settings.source!r} has no API server")
    except ConfigException as exc:
        raise ConnectionSettingsError(f"kubeconfig cannot be used: {exc}") from exc
    # We retry with our own backoff; urllib3's silent retries would hide failures.
    configuration.retries = False
    return k8s.ApiClient(configuration)


def _read_secret_file(path: str, what: str) -> str:
    if not path:
        raise ConnectionSettingsError(f"a {what} is required")
    try:
        return Path(path).read_text().strip()
    except OSError as exc:
        raise ConnectionSettingsError(f"{what} {path} cannot be read: {exc.strerror}") from exc


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
        return SyncFailure("server", f"{server} sent a response that is not JSON: {exc}")
    return SyncFailure("other", f"{type(exc).__name__}: {exc}")


def _root_cause(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        return _root_cause(reason)
    text = str(exc)
    if "Connection refused" in text:
        return "connection refused"
    if "Name or service not known" in text or "nodename nor servname" in text:
        return "unknown host name"
    if "certificate verify failed" in text.lower():
        detail = text.split("certificate verify failed:")[-1].split("(")[0].strip(" )'\"")
        return f"certificate verify failed ({detail})" if detail else "certificate verify failed"
    return text


def _status_message(exc: ApiException) -> str:
    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if body:
        try:
            status = json.loads(body)
        except (TypeError, ValueError):
            return str(body)[:300]
        if isinstance(status, dict) and status.get("message"):
            return str(status["message"])
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
        return SyncFailure("unreachable", f"cannot reach {server}: {text.strip()}")
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
