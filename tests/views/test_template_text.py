"""No template syntax reaches a page as text: Django comments `{# … #}` end on their own
line (a comment over two lines is printed, as base.html's once was on every page)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from policies.models import NetworkPolicy, Workload

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted([*ROOT.glob("frontend/templates/**/*.html"), *ROOT.glob("policies/**/templates/**/*.html")])
# What a browser shows: the page without scripts and without the YAML/JSON it quotes.
QUOTED = re.compile(r"<(script|textarea|pre|code)\b.*?</\1>", re.S)
SYNTAX = re.compile(r"\{#|#\}|\{%|%\}|\{\{|\}\}")


def test_the_templates_are_found():
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_comment_tag_closes_on_its_line(path):
    for number, line in enumerate(path.read_text().splitlines(), 1):
        opened = line.find("{#")
        assert opened < 0 or "#}" in line[opened:], f"{path.name}:{number}: use {{% comment %}} for a comment over lines"


def test_pages_show_no_template_syntax(client_for, demo_cluster):
    client = client_for("editor")
    cid = demo_cluster.pk
    policy = NetworkPolicy.objects.filter(cluster=demo_cluster).first()
    workload = Workload.objects.filter(cluster=demo_cluster).first()
    pages = [
        "/", "/accounts/login/", f"/clusters/{cid}/", f"/clusters/{cid}/graph/", f"/clusters/{cid}/matrix/",
        f"/clusters/{cid}/truth-table/", f"/clusters/{cid}/policies/", f"/clusters/{cid}/cluster-policies/",
        f"/clusters/{cid}/cni-policies/", f"/clusters/{cid}/drafts/", f"/clusters/{cid}/drafts/new/",
        f"/clusters/{cid}/drift/", f"/clusters/{cid}/drift/sources/", f"/policies/{policy.pk}/",
        f"/workloads/{workload.pk}/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        shown = QUOTED.sub("", response.content.decode())
        leaked = SYNTAX.search(shown)
        assert leaked is None, f"{url}: {shown[max(0, leaked.start() - 80) : leaked.end() + 80]!r}"
