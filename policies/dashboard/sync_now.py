""""Sync now" / "Load now": an admin asks for a cluster's mirror to be refreshed now,
instead of waiting for the next sync run (or running `sync_cluster --once` by hand)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .. import tasks
from ..models import Cluster
from ..roles import ADMIN
from ..web import role_required

# A live cluster's one-off run lists everything, then watches this long before it ends.
SYNC_NOW_SECONDS = 2.0


@require_POST
@role_required(ADMIN)
def cluster_sync_now(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = get_object_or_404(Cluster, pk=cluster_id)
    manifests = cluster.source == Cluster.Source.MANIFESTS
    tasks.sync_cluster.delay_on_commit(cluster.pk, SYNC_NOW_SECONDS)
    if manifests:
        messages.success(request, f"Cluster {cluster.name}: loading its manifests again was requested.")
    else:
        messages.success(request, f"Cluster {cluster.name}: a sync (list, then watch) was requested.")
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        back = reverse("cluster-overview", args=[cluster.pk])
    return HttpResponseRedirect(back)
