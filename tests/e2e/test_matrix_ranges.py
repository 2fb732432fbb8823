"""Browser: the matrix names an address range as policies write it, a CIDR, when the range
is exactly one (10.0.0.0/8, never 10.0.0.0-10.255.255.255); other ranges by their ends."""

from __future__ import annotations

import ipaddress

import pytest

from tests.e2e.test_dashboard import load_generated, wait_for_matrix

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def expected(name: str) -> str:
    first, last = (ipaddress.ip_address(a) for a in name.split("-"))
    if int(first) == 0 and int(last) == 2**32 - 1:
        return "any address (outside)"
    nets = list(ipaddress.summarize_address_range(first, last))
    return (str(nets[0]) if len(nets) == 1 else f"{first} – {last}") + " (outside)"


def test_address_ranges_are_named_by_their_cidr(page, users, sign_in):
    cluster = load_generated("g80r", pods=240, workloads=80, namespaces=16, policies=160, seed=7)
    sign_in("viewer", "pw-viewer")
    page.goto(f"{page.base_url}/clusters/{cluster.pk}/matrix/")
    wait_for_matrix(page)
    nodes = {n["id"]: n for n in page.evaluate("window.netpoluiMatrix.data.nodes")}
    seen = []
    for ids, labels in (("rowIds", "rowLabels"), ("columnIds", "columnLabels")):
        for node_id, label in zip(
            page.evaluate(f"window.netpoluiMatrix.{ids}()"), page.evaluate(f"window.netpoluiMatrix.{labels}()"), strict=True
        ):
            if nodes[node_id]["external"]:
                assert label == expected(nodes[node_id]["name"]), nodes[node_id]["name"]
                seen.append(label)
    # the cluster has both kinds, and IPv6 ranges too
    assert any("/" in s for s in seen)
    assert any("–" in s for s in seen)
    assert any(":" in s for s in seen)
