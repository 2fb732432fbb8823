"""One validator per input, used by the page and the API alike (policies/web.py)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from policies.dashboard.forms import ReachabilityForm
from policies.web import explain_port_rule, reachability_query, read_uploaded_text


@pytest.mark.parametrize(
    ("port", "protocol", "expected"),
    [
        (80, None, (80, "TCP")),
        (80, "", (80, "TCP")),
        ("http", "UDP", ("http", "UDP")),
        (None, None, (None, None)),
        (None, "", (None, None)),
        (None, "SCTP", (None, "SCTP")),
    ],
)
def test_explain_port_rule(port, protocol, expected):
    assert explain_port_rule(port, protocol) == expected


def test_reachability_query_puts_equal_questions_the_same_way():
    a = reachability_query(level="tier", group_by=" app ", namespaces=["web", "shop", "web"])
    b = reachability_query(level="tier", group_by="app", namespaces=("shop", "web"))
    assert a == b
    assert a.namespaces == ("shop", "web")
    assert a.group_by == "app"
    # group_by only groups the tier level
    assert reachability_query(level="workload", group_by="app").group_by == ""
    with pytest.raises(ValueError, match="level must be one of"):
        reachability_query(level="planet")


def test_the_page_form_asks_what_the_api_asks():
    form = ReachabilityForm(
        {"level": "workload", "group_by": "app", "namespace": ["web", "shop"], "port": "443", "protocol": "TCP"},
        namespaces=["shop", "web"],
    )
    assert form.query() == reachability_query(
        level="workload", namespaces=["shop", "web"], port=443, protocol="TCP"
    )


def test_read_uploaded_text_limits_and_encoding():
    assert read_uploaded_text(SimpleUploadedFile("a.yaml", b"kind: Pod\n"), 1024 * 1024) == "kind: Pod\n"
    with pytest.raises(ValueError, match="^is larger than 1 MB$"):
        read_uploaded_text(SimpleUploadedFile("a.yaml", b"x" * (1024 * 1024 + 1)), 1024 * 1024)
    with pytest.raises(ValueError, match="^is not UTF-8 text$"):
        read_uploaded_text(SimpleUploadedFile("a.yaml", b"\xff\xfe\x00"), 1024)
