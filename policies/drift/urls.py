"""Drift review pages, included from policies/dashboard/urls.py."""

from django.urls import path

from . import views as drift_views

urlpatterns = [
    path("clusters/<int:cluster_id>/drift/", drift_views.drift_summary, name="drift-summary"),
    path("clusters/<int:cluster_id>/drift/check/", drift_views.drift_check, name="drift-check"),
    path("clusters/<int:cluster_id>/drift/history/", drift_views.drift_history, name="drift-history"),
    path("clusters/<int:cluster_id>/drift/reports/<int:report_id>/", drift_views.drift_report, name="drift-report"),
    path(
        "clusters/<int:cluster_id>/drift/policies/<str:namespace>/<str:name>/",
        drift_views.drift_item,
        name="drift-item",
    ),
    # A cluster-scoped object (a Calico GlobalNetworkPolicy, a Cilium clusterwide policy).
    path(
        "clusters/<int:cluster_id>/drift/cluster-objects/<str:name>/",
        drift_views.drift_item,
        {"namespace": ""},
        name="drift-item-cluster-scoped",
    ),
    path("clusters/<int:cluster_id>/drift/export/<str:which>/", drift_views.drift_export, name="drift-export"),
    path("clusters/<int:cluster_id>/drift/sources/", drift_views.drift_sources, name="drift-sources"),
    path("clusters/<int:cluster_id>/drift/sources/<int:pk>/", drift_views.drift_source_edit, name="drift-source-edit"),
]
