"""The REST API under /api/: one resource per router line; schema and docs beside it.

Other modules register their viewsets here with one line each (drafts: the editor)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from .clusters import ClusterViewSet
from .drafts import DraftViewSet
from .drift import register_drift
from .permissions import RolePermission
from .resources import (
    ClusterPolicyViewSet,
    CniPolicyViewSet,
    NamespaceViewSet,
    NetworkPolicyViewSet,
    PodViewSet,
    WorkloadViewSet,
)


class JSONErrors:
    """Errors of a view that renders YAML or HTML (the schema, its docs) come back as JSON,
    as every other API error does."""

    def handle_exception(self, exc: Exception) -> Response:
        response: Response = super().handle_exception(exc)  # type: ignore[misc]
        self.request.accepted_renderer = JSONRenderer()  # type: ignore[attr-defined]
        self.request.accepted_media_type = JSONRenderer.media_type  # type: ignore[attr-defined]
        return response


class SchemaView(JSONErrors, SpectacularAPIView):
    pass


class DocsView(JSONErrors, SpectacularSwaggerSplitView):
    template_name = "api/swagger_ui.html"


router = DefaultRouter()
router.register("clusters", ClusterViewSet, basename="cluster")
router.register("namespaces", NamespaceViewSet, basename="namespace")
router.register("workloads", WorkloadViewSet, basename="workload")
router.register("pods", PodViewSet, basename="pod")
router.register("policies", NetworkPolicyViewSet, basename="policy")
router.register("cluster-policies", ClusterPolicyViewSet, basename="clusterpolicy")
router.register("cni-policies", CniPolicyViewSet, basename="cnipolicy")
router.register("drafts", DraftViewSet, basename="policydraft")
register_drift(router)

urlpatterns = [
    # Nothing is anonymous, the schema and its docs included.
    path("schema/", SchemaView.as_view(permission_classes=[RolePermission]), name="api-schema"),
    path(
        "docs/",
        # The split view serves its start-up script as a file: no inline script, as the CSP wants.
        DocsView.as_view(url_name="api-schema", permission_classes=[RolePermission]),
        name="api-docs",
    ),
    path("", include(router.urls)),
]
