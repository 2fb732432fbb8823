"""The page scripts' shared module prints connection sets as the server does."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from policies import engine

COMMON_JS = Path(__file__).resolve().parents[2] / "frontend" / "static" / "js" / "common.js"

SAMPLES = [
    "all",
    {},
    {"TCP": [[80, 80], [8080, 8090]]},
    {"UDP": [[53, 53]], "TCP": [[80, 80]], "SCTP": [[9003, 9003]]},
    {"UDP": [[1, 1023], [5353, 5353]]},
]


def run_common(script: str) -> object:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed")
    program = (
        "global.window = {}; global.document = {cookie: ''};\n"
        + COMMON_JS.read_text()
        + "\nconst N = window.Netpolui;\n"
        + script
    )
    out = subprocess.run([node, "-e", program], capture_output=True, text=True, timeout=30, check=True)
    return json.loads(out.stdout)


def test_js_connection_text_and_parts_match_the_engine():
    got = run_common(
        f"const samples = {json.dumps(SAMPLES)};\n"
        "console.log(JSON.stringify(samples.map(c => [N.connsText(c), N.connsParts(c)])));"
    )
    expected = [
        [engine.conns_text(c), [{"proto": p, "text": t} for p, t in engine.conns_parts(c)]] for c in SAMPLES
    ]
    assert got == expected


def test_js_escaping_and_protocol_order():
    got = run_common(
        "console.log(JSON.stringify([N.escapeHtml(`<a href=\"x\">'&'</a>`), N.PROTOCOLS, "
        "N.query({a: 1, b: '', c: null, d: 'x y'})]));"
    )
    assert got == ["&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;", list(engine.PROTOCOLS), "a=1&d=x+y"]


def test_js_parent_path_walks_up_a_field_path():
    got = run_common(
        "const out = []; let p = 'spec.ingress[0].from[1].ipBlock.except[0]';\n"
        "while (p) { out.push(p); p = N.parentPath(p); }\n"
        "console.log(JSON.stringify(out));"
    )
    assert got == [
        "spec.ingress[0].from[1].ipBlock.except[0]",
        "spec.ingress[0].from[1].ipBlock.except",
        "spec.ingress[0].from[1].ipBlock",
        "spec.ingress[0].from[1]",
        "spec.ingress[0].from",
        "spec.ingress[0]",
        "spec.ingress",
        "spec",
    ]
