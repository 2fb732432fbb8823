"""The policy editor's pages (included from policies/dashboard/urls.py)."""

from django.urls import path

from . import cnp_views as cnp
from . import views as v

urlpatterns = [
    path("clusters/<int:cluster_id>/cluster-drafts/new/", cnp.cnp_new, name="cnp-new"),
    path("clusters/<int:cluster_id>/cluster-drafts/check/", cnp.cnp_check, name="cnp-check"),
    path("clusters/<int:cluster_id>/cluster-drafts/<int:pk>/", cnp.cnp_edit, name="cnp-edit"),
    path("clusters/<int:cluster_id>/cluster-drafts/<int:pk>/export/", cnp.cnp_export, name="cnp-export"),
    path("clusters/<int:cluster_id>/cluster-drafts/<int:pk>/delete/", cnp.cnp_delete, name="cnp-delete"),
    path("clusters/<int:cluster_id>/drafts/", v.draft_list, name="draft-list"),
    path("clusters/<int:cluster_id>/drafts/new/", v.draft_new, name="draft-new"),
    path(
        "clusters/<int:cluster_id>/drafts/new/deletion/",
        v.draft_new_deletion,
        name="draft-new-deletion",
    ),
    path("clusters/<int:cluster_id>/drafts/import/", v.draft_import, name="draft-import"),
    path(
        "clusters/<int:cluster_id>/drafts/import/confirm/",
        v.draft_import_confirm,
        name="draft-import-confirm",
    ),
    path("clusters/<int:cluster_id>/drafts/export/", v.draft_export_many, name="draft-export-many"),
    path("clusters/<int:cluster_id>/drafts/what-if/", v.draft_what_if_many, name="draft-what-if"),
    path("clusters/<int:cluster_id>/drafts/<int:pk>/", v.draft_edit, name="draft-edit"),
    path("clusters/<int:cluster_id>/drafts/<int:pk>/status/", v.draft_status, name="draft-status"),
    path("clusters/<int:cluster_id>/drafts/<int:pk>/delete/", v.draft_delete, name="draft-delete"),
    path("clusters/<int:cluster_id>/drafts/<int:pk>/export/", v.draft_export, name="draft-export"),
    path("clusters/<int:cluster_id>/drafts/<int:pk>/apply/", v.draft_apply, name="draft-apply"),
    path(
        "clusters/<int:cluster_id>/drafts/<int:pk>/revisions/<int:number>/",
        v.draft_revision,
        name="draft-revision",
    ),
    path(
        "clusters/<int:cluster_id>/drafts/<int:pk>/revisions/<int:number>/restore/",
        v.draft_restore,
        name="draft-restore",
    ),
]
