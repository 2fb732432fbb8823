"""The live mirror of each cluster, plus what people author and review in netpolui.

Mirrored objects (Namespace, Workload, Pod, NetworkPolicy) are keyed by (cluster, uid), as
the Kubernetes API keys them, so every sync write is an idempotent upsert. Each keeps a
slim copy of the object in the Kubernetes JSON shape (`obj`): that is what the engine
reads; the other columns exist for the queries and filters of the pages and the API.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Cluster(models.Model):
    class Source(models.TextChoices):
        KUBECONFIG = "kubeconfig", "kubeconfig context"
        IN_CLUSTER = "in_cluster", "in-cluster service account"
        TOKEN = "token", "server URL and bearer token"
        MANIFESTS = "manifests", "manifests directory"

    class Status(models.TextChoices):
        PENDING = "pending", "not synced yet"
        SYNCING = "syncing", "listing"
        LIVE = "live", "live"
        LAGGING = "lagging", "lagging"
        FAILING = "failing", "failing"
        SNAPSHOT = "snapshot", "static snapshot"

    name = models.SlugField(max_length=63, unique=True)
    description = models.CharField(max_length=200, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices)
    # How to reach it. Paths only: the contents (tokens, keys) stay in their files.
    kubeconfig_path = models.CharField(max_length=500, blank=True)
    context = models.CharField(max_length=200, blank=True)
    server_url = models.CharField(max_length=500, blank=True)
    token_file = models.CharField(max_length=500, blank=True)
    ca_file = models.CharField(max_length=500, blank=True)
    insecure_skip_tls_verify = models.BooleanField(default=False)
    manifests_dir = models.CharField(max_length=500, blank=True)

    class Cni(models.TextChoices):
        AUTO = "auto", "detect it"
        NONE = "none", "none of Calico, Cilium, Antrea"
        CALICO = "calico", "Calico"
        CILIUM = "cilium", "Cilium"
        ANTREA = "antrea", "Antrea"

    # Which CNI enforces policies here: its own resources take part in the answers,
    # those of other CNIs are listed but flagged "not enforced here".
    cni = models.CharField(max_length=8, choices=Cni.choices, default=Cni.AUTO)

    # Sync state shown on the clusters page.
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    last_list_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every change to the mirrored objects; caches key on it.
    state_version = models.PositiveBigIntegerField(default=0)
    # Bumped only when something other than a NetworkPolicy changes (pods, workloads,
    # namespaces): while it stands still, reachability can be derived incrementally.
    topology_version = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def bump_state_version(self, *, topology: bool = True) -> None:
        update = {"state_version": F("state_version") + 1}
        if topology:
            update["topology_version"] = F("topology_version") + 1
        Cluster.objects.filter(pk=self.pk).update(**update)
        self.refresh_from_db(fields=["state_version", "topology_version"])


class SyncState(models.Model):
    """Where the watch of one resource of one cluster stands."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="sync_states")
    resource = models.CharField(max_length=100)
    resource_version = models.CharField(max_length=64, blank=True)
    last_list_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(null=True, blank=True)
    object_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "resource"], name="syncstate_unique")
        ]
        ordering = ["cluster", "resource"]

    def __str__(self) -> str:
        return f"{self.cluster.name}/{self.resource}@{self.resource_version}"


class MirroredObject(models.Model):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="+")
    uid = models.CharField(max_length=64)
    name = models.CharField(max_length=253)
    resource_version = models.CharField(max_length=64, blank=True)
    labels = models.JSONField(default=dict, blank=True)
    obj = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def label_items(self) -> list[tuple[str, str]]:
        return sorted(self.labels.items())


class Namespace(MirroredObject):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="namespaces")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "uid"], name="namespace_unique_uid")
        ]
        indexes = [models.Index(fields=["cluster", "name"], name="namespace_name_idx")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Workload(MirroredObject):
    class Kind(models.TextChoices):
        DEPLOYMENT = "Deployment"
        STATEFULSET = "StatefulSet"
        DAEMONSET = "DaemonSet"
        REPLICASET = "ReplicaSet"
        REPLICATIONCONTROLLER = "ReplicationController"
        JOB = "Job"
        CRONJOB = "CronJob"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="workloads")
    namespace = models.CharField(max_length=63)
    kind = models.CharField(max_length=32, choices=Kind.choices)
    # The pod template's labels: the pods this workload makes carry them.
    template_labels = models.JSONField(default=dict, blank=True)
    # The direct controller (a ReplicaSet's Deployment, a Job's CronJob) ...
    owner_kind = models.CharField(max_length=32, blank=True)
    owner_name = models.CharField(max_length=253, blank=True)
    # ... and the top-most one found in the mirror (itself when it has no owner).
    top_kind = models.CharField(max_length=32, blank=True)
    top_name = models.CharField(max_length=253, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "uid"], name="workload_unique_uid")
        ]
        indexes = [
            models.Index(fields=["cluster", "namespace", "name"], name="workload_ns_name_idx"),
            models.Index(fields=["cluster", "kind"], name="workload_kind_idx"),
        ]
        ordering = ["namespace", "name", "kind"]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}[{self.kind}]"

    @property
    def is_top(self) -> bool:
        return not self.owner_kind or (self.top_kind, self.top_name) == (self.kind, self.name)


# What the pages and the API count and list as workloads: the top-most owners (a
# Deployment, not its ReplicaSets), the condition of Workload.is_top as a query.
TOP_LEVEL_WORKLOAD = Q(owner_kind="") | (Q(top_kind=F("kind")) & Q(top_name=F("name")))


class Pod(MirroredObject):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="pods")
    namespace = models.CharField(max_length=63)
    ips = models.JSONField(default=list, blank=True)
    # [{"name": "http", "containerPort": 8080, "protocol": "TCP"}, ...]
    ports = models.JSONField(default=list, blank=True)
    host_network = models.BooleanField(default=False)
    node_name = models.CharField(max_length=253, blank=True)
    phase = models.CharField(max_length=32, blank=True)
    owner_kind = models.CharField(max_length=32, blank=True)
    owner_name = models.CharField(max_length=253, blank=True)
    # The top-most owner found in the mirror, as the engine names it (Pod when bare).
    top_kind = models.CharField(max_length=32, blank=True)
    top_name = models.CharField(max_length=253, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "uid"], name="pod_unique_uid")]
        indexes = [
            models.Index(fields=["cluster", "namespace", "name"], name="pod_ns_name_idx"),
            models.Index(
                fields=["cluster", "namespace", "top_kind", "top_name"], name="pod_top_owner_idx"
            ),
        ]
        ordering = ["namespace", "name"]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class NetworkPolicy(MirroredObject):
    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="policies")
    namespace = models.CharField(max_length=63)
    generation = models.PositiveBigIntegerField(default=0)
    policy_types = models.JSONField(default=list, blank=True)
    # policyTypes after the API server's defaulting: which directions it isolates.
    affects_ingress = models.BooleanField(default=True)
    affects_egress = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "uid"], name="networkpolicy_unique_uid")
        ]
        indexes = [
            models.Index(fields=["cluster", "namespace", "name"], name="policy_ns_name_idx")
        ]
        ordering = ["namespace", "name"]
        verbose_name_plural = "network policies"

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.obj.get("spec") or {}
        return spec if isinstance(spec, dict) else {}


class ClusterPolicy(MirroredObject):
    """A cluster-wide policy: ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2),
    AdminNetworkPolicy or BaselineAdminNetworkPolicy (v1alpha1). Cluster-scoped."""

    class Kind(models.TextChoices):
        CLUSTER_NETWORK_POLICY = "ClusterNetworkPolicy"
        ADMIN_NETWORK_POLICY = "AdminNetworkPolicy"
        BASELINE_ADMIN_NETWORK_POLICY = "BaselineAdminNetworkPolicy"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="cluster_policies")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    api_version = models.CharField(max_length=64, blank=True)
    tier = models.CharField(max_length=16, blank=True)  # Admin | Baseline
    priority = models.IntegerField(null=True, blank=True)  # none for the BANP
    generation = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "uid"], name="clusterpolicy_unique_uid")
        ]
        indexes = [models.Index(fields=["cluster", "kind", "name"], name="clusterpolicy_kind_name_idx")]
        ordering = ["tier", "priority", "kind", "name"]
        verbose_name_plural = "cluster policies"

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.obj.get("spec") or {}
        return spec if isinstance(spec, dict) else {}


class CniObject(MirroredObject):
    """A CNI's own resource (Calico, Cilium, Antrea): a policy, a tier, a network set or
    a group, kept whole. Identified by API group and kind together; `key` is the name
    the engine, the pages and drift use (`calico:GlobalNetworkPolicy:deny-all`)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="cni_objects")
    cni = models.CharField(max_length=8)
    api_version = models.CharField(max_length=64)
    kind = models.CharField(max_length=48)
    namespace = models.CharField(max_length=63, blank=True)  # blank when cluster-scoped
    policy = models.BooleanField(default=True)  # holds rules (not a tier or a set)
    tier = models.CharField(max_length=253, blank=True)
    order = models.FloatField(null=True, blank=True)  # Calico order, Antrea priority
    generation = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "uid"], name="cniobject_unique_uid")]
        indexes = [
            models.Index(fields=["cluster", "cni", "kind"], name="cniobject_kind_idx"),
            models.Index(fields=["cluster", "namespace", "name"], name="cniobject_ns_name_idx"),
        ]
        ordering = ["cni", "kind", "namespace", "name"]
        verbose_name = "CNI object"

    def __str__(self) -> str:
        return self.key

    @property
    def api_group(self) -> str:
        return self.api_version.split("/", 1)[0] if "/" in self.api_version else ""

    @property
    def key(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.cni}:{self.kind}:{where}"

    @property
    def spec(self) -> dict[str, Any]:
        spec = self.obj.get("spec") or {}
        return spec if isinstance(spec, dict) else {}


class ServiceAccount(MirroredObject):
    """A ServiceAccount's labels: Calico rules select pods by them (`serviceAccounts`)."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="service_accounts")
    namespace = models.CharField(max_length=63)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "uid"], name="serviceaccount_unique_uid")]
        ordering = ["namespace", "name"]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


class Node(MirroredObject):
    """A Node: its labels and addresses, what `nodes` peers of cluster-wide policies
    select."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="nodes")
    addresses = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["cluster", "uid"], name="node_unique_uid")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AuditEvent(models.Model):
    """Who did what to which object, and when. Written by services, never edited."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    cluster = models.ForeignKey(Cluster, null=True, blank=True, on_delete=models.SET_NULL)
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.summary}"


class PolicyDraft(models.Model):
    """A NetworkPolicy someone is authoring for a cluster: the wanted version of one policy.

    `obj` is the policy in the Kubernetes JSON shape, always valid (the editor refuses
    to store what the API server would reject). `revision` counts saved changes, so a
    save based on an older revision can be refused instead of silently overwriting.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        APPROVED = "approved", "approved"

    class Action(models.TextChoices):
        APPLY = "apply", "create or replace the policy"
        DELETE = "delete", "delete the live policy"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="drafts")
    namespace = models.CharField(max_length=63)
    name = models.CharField(max_length=253)
    obj = models.JSONField(default=dict)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    # A deletion draft proposes removing the live policy `obj` (as it was when the draft
    # was made); it is reviewed and approved like any draft, and never edited.
    action = models.CharField(max_length=16, choices=Action.choices, default=Action.APPLY)
    revision = models.PositiveIntegerField(default=1)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["cluster", "namespace", "name"], name="policydraft_unique_name"
            )
        ]
        ordering = ["namespace", "name"]

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name} ({self.status})"


class DraftRevision(models.Model):
    """One saved state of a draft: who changed what, and when."""

    draft = models.ForeignKey(PolicyDraft, on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    obj = models.JSONField(default=dict)
    status = models.CharField(max_length=16, default=PolicyDraft.Status.DRAFT)
    summary = models.CharField(max_length=1000, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["draft", "number"], name="draftrevision_unique_number")
        ]
        ordering = ["draft", "-number"]

    def __str__(self) -> str:
        return f"{self.draft} r{self.number}"


class ClusterPolicyDraft(models.Model):
    """A ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2) someone is authoring for
    a cluster. Kept apart from the NetworkPolicy drafts: it is cluster-scoped, has its own
    form, and nothing that reads NetworkPolicy drafts (what-if of many, apply, drift)
    should mistake it for one. `obj` is always valid; `revision` refuses a save based on
    an older state."""

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="cluster_policy_drafts")
    name = models.CharField(max_length=253)
    obj = models.JSONField(default=dict)
    revision = models.PositiveIntegerField(default=1)
    origin = models.CharField(max_length=300, blank=True)  # "AdminNetworkPolicy/x", a template name
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["cluster", "name"], name="clusterpolicydraft_unique_name")
        ]
        ordering = ["name"]

    def __str__(self) -> str:
        return f"ClusterNetworkPolicy/{self.name} (draft)"


# --- drift review: the policies a team intends, compared with what the cluster runs ---------


class DesiredSource(models.Model):
    """Where the intended policies of a cluster come from.

    A cluster may have several sources; together they form its desired state. A source
    with `namespaces` speaks only for those namespaces (its policies elsewhere are left
    out); one without speaks for the whole cluster, so every live policy it does not
    define is "extra".
    """

    class Kind(models.TextChoices):
        DRAFTS = "drafts", "approved drafts"
        DIRECTORY = "directory", "directory of manifests"
        GIT = "git", "Git repository"
        UPLOAD = "upload", "uploaded YAML"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="desired_sources")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    name = models.CharField(max_length=100, blank=True)
    enabled = models.BooleanField(default=True)
    # directory: a path on the server; git: a URL or a local repository path.
    location = models.CharField(max_length=500, blank=True)
    branch = models.CharField(max_length=200, blank=True)
    subdirectory = models.CharField(max_length=500, blank=True)
    # upload: the multi-document YAML as uploaded, and the file's name.
    yaml_text = models.TextField(blank=True)
    file_name = models.CharField(max_length=255, blank=True)
    # Comma-separated namespaces this source speaks for; blank = every namespace.
    namespaces = models.CharField(max_length=1000, blank=True)
    # What the last read found: when, which commit (git), and what went wrong (in words).
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    revision = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["cluster", "pk"]

    def __str__(self) -> str:
        return f"{self.cluster.name}: {self.label}"

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.kind == self.Kind.DRAFTS:
            return "approved drafts"
        if self.kind == self.Kind.UPLOAD:
            return f"upload {self.file_name}" if self.file_name else "uploaded YAML"
        from .redaction import redact_credentials

        location = self.location.strip()
        if self.kind == self.Kind.DIRECTORY or location.startswith(("/", "~", "file://", ".")):
            # A path on the server is shown to admins only (in the source's settings).
            name = location.rstrip("/").rsplit("/", 1)[-1] or "/"
            where = f"{'directory' if self.kind == self.Kind.DIRECTORY else 'repository'} …/{name}"
        else:
            # A token in a clone URL (https://user:token@host/...) must never reach a page.
            where = redact_credentials(location)
        if self.kind == self.Kind.GIT and self.branch:
            where += f"@{self.branch}"
        if self.subdirectory:
            where += f" ({self.subdirectory.strip('/')}/)"
        return where

    @property
    def namespace_list(self) -> list[str]:
        return sorted({ns.strip() for ns in self.namespaces.split(",") if ns.strip()})


class DriftReport(models.Model):
    """One comparison of a cluster's desired state with its live policies.

    A run that finds exactly what the latest report holds updates that report's
    `checked_at` (and `runs`) instead of storing a copy, so the history lists changes.
    """

    class Status(models.TextChoices):
        OK = "ok", "compared"
        PARTIAL = "partial", "compared, with source errors"
        ERROR = "error", "not compared: a source could not be read"

    cluster = models.ForeignKey(Cluster, on_delete=models.CASCADE, related_name="drift_reports")
    computed_at = models.DateTimeField(db_index=True)
    checked_at = models.DateTimeField()
    runs = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices)
    missing_count = models.PositiveIntegerField(default=0)
    extra_count = models.PositiveIntegerField(default=0)
    changed_count = models.PositiveIntegerField(default=0)
    in_sync_count = models.PositiveIntegerField(default=0)
    desired_count = models.PositiveIntegerField(default=0)
    live_count = models.PositiveIntegerField(default=0)
    # [{"source": id, "source_label": str, "file": str, "line": int, "message": str}]
    errors = models.JSONField(default=list, blank=True)
    # [{"id", "kind", "label", "revision", "namespaces"}] as read for this report
    sources = models.JSONField(default=list, blank=True)
    # {"live_only": [...], "desired_only": [...], "counts": {...}, "truncated": bool}
    reachability = models.JSONField(default=dict, blank=True)
    # Coverage of the desired state: {"desired": [finding + "in_live"], "resolved": [...]}
    findings = models.JSONField(default=dict, blank=True)
    state_version = models.PositiveBigIntegerField(default=0)
    fingerprint = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["cluster", "-computed_at", "-pk"]
        indexes = [models.Index(fields=["cluster", "-computed_at"], name="driftreport_recent_idx")]

    def __str__(self) -> str:
        return f"{self.cluster.name} drift {self.computed_at:%Y-%m-%d %H:%M} ({self.status})"

    @property
    def compared(self) -> bool:
        return self.status != self.Status.ERROR

    @property
    def drift_count(self) -> int:
        return self.missing_count + self.extra_count + self.changed_count

    @property
    def has_drift(self) -> bool:
        return self.drift_count > 0


class DriftItem(models.Model):
    """One policy (namespace/name) where the desired state and the cluster differ."""

    class Kind(models.TextChoices):
        MISSING = "missing", "missing in the cluster"
        EXTRA = "extra", "extra in the cluster"
        CHANGED = "changed", "changed"

    report = models.ForeignKey(DriftReport, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    namespace = models.CharField(max_length=63)
    name = models.CharField(max_length=253)
    # Both sides cleaned of server-managed fields; {} where a side has no such policy.
    desired = models.JSONField(default=dict, blank=True)
    live = models.JSONField(default=dict, blank=True)
    # Where the desired object came from ("git …: shop/policies.yaml:12").
    origin = models.CharField(max_length=500, blank=True)
    # When this difference first appeared; carried over while it persists.
    first_seen_at = models.DateTimeField()
    # {"opens": [...], "closes": [...], "counts": {...}, "truncated": bool} or {"error": str}
    effect = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["report", "kind", "namespace", "name"]
        constraints = [
            models.UniqueConstraint(fields=["report", "namespace", "name"], name="driftitem_unique_policy")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def key(self) -> str:
        """ "namespace/name" of a NetworkPolicy; a CNI object's key (its name is stored
        as "cni:Kind:name", which a NetworkPolicy's name cannot be)."""
        if ":" in self.name:
            cni, kind, name = self.name.split(":", 2)
            return f"{cni}:{kind}:{self.namespace}/{name}" if self.namespace else self.name
        return f"{self.namespace}/{self.name}"
