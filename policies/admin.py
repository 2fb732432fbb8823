from django.contrib import admin

from .models import (
    AuditEvent,
    Cluster,
    DesiredSource,
    DriftItem,
    DriftReport,
    Namespace,
    NetworkPolicy,
    Pod,
    SyncState,
    Workload,
)


@admin.register(Cluster)
class ClusterAdmin(admin.ModelAdmin):
    list_display = ("name", "source", "status", "last_event_at", "heartbeat_at", "state_version")
    list_filter = ("source", "status")
    search_fields = ("name", "description")
    readonly_fields = (
        "status", "last_list_at", "last_event_at", "heartbeat_at", "last_error",
        "last_error_at", "state_version", "created_at",
    )


@admin.register(SyncState)
class SyncStateAdmin(admin.ModelAdmin):
    list_display = ("cluster", "resource", "resource_version", "object_count", "last_event_at")
    list_filter = ("cluster", "resource")


class MirroredAdmin(admin.ModelAdmin):
    list_filter = ("cluster",)
    search_fields = ("name", "uid")
    readonly_fields = ("uid", "resource_version", "obj", "updated_at")


@admin.register(Namespace)
class NamespaceAdmin(MirroredAdmin):
    list_display = ("name", "cluster", "resource_version")


@admin.register(Workload)
class WorkloadAdmin(MirroredAdmin):
    list_display = ("name", "namespace", "kind", "top_kind", "top_name", "cluster")
    list_filter = ("cluster", "kind")
    search_fields = ("name", "namespace", "uid")


@admin.register(Pod)
class PodAdmin(MirroredAdmin):
    list_display = ("name", "namespace", "top_kind", "top_name", "host_network", "cluster")
    list_filter = ("cluster", "host_network", "phase")
    search_fields = ("name", "namespace", "uid")


@admin.register(NetworkPolicy)
class NetworkPolicyAdmin(MirroredAdmin):
    list_display = ("name", "namespace", "generation", "cluster")
    search_fields = ("name", "namespace", "uid")


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("at", "actor", "action", "summary", "cluster")
    list_filter = ("action", "cluster")
    search_fields = ("summary",)
    readonly_fields = ("at", "actor", "cluster", "action", "object_type", "object_id", "summary", "details")

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(DesiredSource)
class DesiredSourceAdmin(admin.ModelAdmin):
    list_display = ("cluster", "kind", "location", "branch", "enabled", "last_fetched_at", "revision")
    list_filter = ("cluster", "kind", "enabled")
    search_fields = ("name", "location")
    readonly_fields = ("last_fetched_at", "revision", "last_error", "created_by", "created_at", "updated_at")


class DriftItemInline(admin.TabularInline):
    model = DriftItem
    extra = 0
    fields = ("kind", "namespace", "name", "origin", "first_seen_at")
    readonly_fields = fields
    can_delete = False


@admin.register(DriftReport)
class DriftReportAdmin(admin.ModelAdmin):
    list_display = ("cluster", "computed_at", "checked_at", "status", "missing_count", "changed_count", "extra_count")
    list_filter = ("cluster", "status")
    inlines = [DriftItemInline]
    readonly_fields = [f.name for f in DriftReport._meta.fields]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False
