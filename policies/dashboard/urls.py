"""HTML pages."""

from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path

from ..signin import RateLimitedAuthenticationForm
from . import cluster_policies, cni, sync_now, truth_table, views

urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="login.html", authentication_form=RateLimitedAuthenticationForm),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.clusters, name="clusters"),
    path("", include("policies.editor.urls")),
    path("", include("policies.drift.urls")),
    path("clusters/<int:cluster_id>/", views.cluster_overview, name="cluster-overview"),
    path("clusters/<int:cluster_id>/sync-now/", sync_now.cluster_sync_now, name="cluster-sync-now"),
    path("clusters/<int:cluster_id>/graph/", views.graph, name="graph"),
    re_path(
        r"^clusters/(?P<cluster_id>[0-9]+)/graph\.(?P<fmt>svg|png)$", views.graph_picture, name="graph-picture"
    ),
    path("clusters/<int:cluster_id>/matrix/", views.matrix, name="matrix"),
    path("clusters/<int:cluster_id>/truth-table/", truth_table.truth_table_page, name="truth-table"),
    path("clusters/<int:cluster_id>/explain/", views.explain, name="explain"),
    path("clusters/<int:cluster_id>/node/", views.node, name="node"),
    path("clusters/<int:cluster_id>/policies/", views.policy_list, name="policy-list"),
    path("clusters/<int:cluster_id>/export/", views.cluster_export, name="cluster-export"),
    path(
        "clusters/<int:cluster_id>/cluster-policies/",
        cluster_policies.cluster_policy_list,
        name="cluster-policy-list",
    ),
    path("cluster-policies/<int:pk>/", cluster_policies.cluster_policy_detail, name="cluster-policy-detail"),
    path("cluster-policies/<int:pk>/yaml/", cluster_policies.cluster_policy_yaml, name="cluster-policy-yaml"),
    path("clusters/<int:cluster_id>/cni-policies/", cni.cni_policy_list, name="cni-policy-list"),
    path("clusters/<int:cluster_id>/cni/", cni.cni_setting, name="cni-setting"),
    path("cni-policies/<int:pk>/", cni.cni_policy_detail, name="cni-policy-detail"),
    path("cni-policies/<int:pk>/yaml/", cni.cni_policy_yaml, name="cni-policy-yaml"),
    path("policies/<int:pk>/", views.policy_detail, name="policy-detail"),
    path("policies/<int:pk>/yaml/", views.policy_yaml, name="policy-yaml"),
    path("workloads/<int:pk>/", views.workload_detail, name="workload-detail"),
    path("pods/<int:pk>/", views.pod_detail, name="pod-detail"),
    path("namespaces/<int:pk>/", views.namespace_detail, name="namespace-detail"),
]
