"""Every parser of untrusted text, driven with the shapes that make a parser super-linear:
long runs of what a pattern's repeated groups accept followed by a character that makes
the match fail, deep nesting for recursive parsers, many `!`, `&&` and `||` for Calico,
many small items for the loops that handle a list. Each input is about 100,000
characters (or the parser's own cap); each parse must end under an alarm (a regular
expression that backtracks, a loop quadratic in its input, fails the test instead of
hanging the suite) with an answer or the parser's own error, never another exception.

Measured on the development machine: each text case under 0.4 s, the whole module
under 5 s. Before the fixes that came with it, the credential redaction took over 10 s
on `a+a+a+...` and raised RecursionError on nested URLs, and an ipBlock with 10,000
excepts took 8 s to build.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import pytest

from policies.engine import ManifestError, build_cluster, load_yaml_text
from policies.engine.block_yaml import load_block_yaml
from policies.engine.cli import size_argument
from policies.engine.cni.calico_selector import MAX_LENGTH, SelectorError
from policies.engine.cni.calico_selector import parse as parse_calico_selector
from policies.engine.endpoint_keys import parse_object_key
from policies.engine.ipranges import block_ranges, parse_address, parse_cidr
from policies.engine.safe_input import check_yaml_text
from policies.engine.selectors import (
    dns1123_label_error,
    dns1123_subdomain_error,
    label_key_error,
    label_value_error,
)
from policies.engine.validation import iana_svc_name_error
from policies.redaction import redact_credentials
from tests.hostile import many_excepts, within_seconds

N = 100_000
ANNOTATION = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  annotations:\n    a: "


def run(n: int, unit: str, tail: str = "") -> str:
    """`unit` repeated to about `n` characters, then `tail`."""
    return unit * (n // len(unit)) + tail


def _refusing(*errors: type[BaseException]) -> Callable[[Callable[[str], Any]], Callable[[str], Any]]:
    """The parser, its own refusals taken as answers (anything else still fails)."""

    def wrap(parse: Callable[[str], Any]) -> Callable[[str], Any]:
        def call(text: str) -> Any:
            try:
                return parse(text)
            except errors:
                return None

        return call

    return wrap


yaml_reader = _refusing(ManifestError)(lambda text: load_yaml_text(text, "paste"))
calico = _refusing(SelectorError)(parse_calico_selector)
size = _refusing(argparse.ArgumentTypeError, ValueError)(size_argument)
cidr = _refusing(ValueError)(parse_cidr)
address = _refusing(ValueError)(parse_address)
C = MAX_LENGTH  # Calico selectors are refused above this length, so its shapes stop there

CASES: list[tuple[str, Callable[[str], Any], str]] = [
    # the manifest reader: the line pattern, the hostile-input checks, libyaml
    ("yaml: plain run then ' #'", yaml_reader, ANNOTATION + run(N, "a", " #\n")),
    ("yaml: 'a: ' run", yaml_reader, ANNOTATION + run(N, "a: ", "\n")),
    ("yaml: 'a ' run then '#'", yaml_reader, ANNOTATION + run(N, "a ", "#\n")),
    ("yaml: ':a' run then ': '", yaml_reader, ANNOTATION + run(N, ":a", ": \n")),
    ("yaml: key 'a:' run", yaml_reader, ANNOTATION[:-7] + "    " + run(N, "a:", "x\n")),
    ("yaml: key 'a:a' run then ': #'", yaml_reader, ANNOTATION[:-7] + "    " + run(N, "a:a", ": #\n")),
    ("yaml: quotes doubled", yaml_reader, ANNOTATION + "'" + run(N, "''", "\n")),
    ("yaml: unterminated double quote", yaml_reader, ANNOTATION + '"' + run(N, "a", "\n")),
    ("yaml: '- ' run", yaml_reader, ANNOTATION + run(N, "- ", "x\n")),
    ("yaml: '? ' run", yaml_reader, ANNOTATION + run(N, "? ", "\n")),
    ("yaml: indentation run", yaml_reader, ANNOTATION[:-7] + run(N, " ", "x: y\n")),
    ("yaml: '[' run", yaml_reader, ANNOTATION + run(N, "[", "\n")),
    ("yaml: '{' run", yaml_reader, ANNOTATION + run(N, "{", "\n")),
    ("yaml: nested flow lists", yaml_reader, ANNOTATION + run(N // 2, "[") + run(N // 2, "]", "\n")),
    ("yaml: many aliases", yaml_reader, "a: &a [1, 2]\nb: [" + run(N, "*a, ", "]\n")),
    ("yaml: many anchors", yaml_reader, ANNOTATION + run(N, "&a ", "\n")),
    ("yaml: many documents", yaml_reader, run(N, "---\n")),
    ("yaml: many lines", yaml_reader, ANNOTATION[:-3] + "\n" + run(N, "    k: v\n")),
    ("yaml: long number", yaml_reader, ANNOTATION[:-3] + "\n    n: " + run(N, "1", "\n")),
    ("json: '[' run", yaml_reader, run(N, "[")),
    ("json: '{\"a\":' run", yaml_reader, run(N, '{"a":')),
    ("block yaml: plain run then ' #'", load_block_yaml, ANNOTATION + run(N, "a", " #\n")),
    ("block yaml: ': ' run", load_block_yaml, ANNOTATION + run(N, ": ", "\n")),
    ("yaml checks: '- ' line prefix", _refusing(Exception)(check_yaml_text), run(N, "- ", "x\n")),
    # Calico selectors (policies and the search box of the CNI pages)
    ("calico: '!' run", calico, run(C, "!")),
    ("calico: '(' run", calico, run(C, "(")),
    ("calico: '!(' run", calico, run(C, "!(")),
    ("calico: '&&' chain", calico, run(C - 20, "a == 'b' && ", "!")),
    ("calico: '||' chain", calico, run(C - 20, "a == 'b' || ", "(")),
    ("calico: '!=' and '!' chain", calico, run(C - 20, "a != 'x' && !", "b")),
    ("calico: a long set", calico, "a in {" + run(C - 20, "'x', ")),
    ("calico: 'has(' run", calico, run(C, "has(")),
    ("calico: whitespace run", calico, run(C - 10, " ", "a ==")),
    ("calico: a long key", calico, run(C, "a")),
    ("calico: over the length cap", calico, run(N, "!")),
    # Kubernetes names, label keys and values, port names
    ("label key: name run then '!'", label_key_error, run(N, "a", "!")),
    ("label key: '-.' run", label_key_error, run(N, "a-.", "!")),
    ("label key: 'a/' run", label_key_error, run(N, "a/", "!")),
    ("label key: prefix run", label_key_error, run(N, "a.", "/a")),
    ("label value: '-_.' run", label_value_error, run(N, "a-_.", "!")),
    ("dns label: '-' run", dns1123_label_error, run(N, "a-", "!")),
    ("dns subdomain: 'a-.' run", dns1123_subdomain_error, run(N, "a-.", "!")),
    ("port name", iana_svc_name_error, run(N, "a-", "!")),
    # CIDRs, addresses, endpoint keys, CLI sizes
    ("cidr: digits", cidr, run(N, "1", "/8")),
    ("cidr: ':' run", cidr, run(N, ":", "/64")),
    ("cidr: '.' run", cidr, run(N, "1.", "/8")),
    ("address: ':' run", address, run(N, "1:")),
    ("endpoint key: '[' run", parse_object_key, run(N, "a/[", "]")),
    ("cli size: digits then a letter", size, run(N, "1", "x")),
    ("cli size: spaces", size, "1" + run(N, " ", "x")),
    # credentials in URLs (every page, log line and audit entry)
    ("redaction: 'a+' run then '://'", redact_credentials, run(N, "a+", "!://")),
    ("redaction: '.' run after a URL", redact_credentials, "x:// " + run(N, "a.")),
    ("redaction: nested URLs", redact_credentials, "https://h/" + run(N, "?m=https://h/")),
    ("redaction: nested user:password", redact_credentials, run(N, "a://x:y/")),
    ("redaction: many '@'", redact_credentials, "https://" + run(N, "u@")),
]


def _web_cases() -> list[tuple[str, Callable[[str], Any], str]]:
    """The parsers of query parameters (label filters, ids, ports of the truth table)."""
    from django.core.exceptions import ValidationError

    from policies.filtersets import parse_label_filter
    from policies.query import BadParameter, parse_ids
    from policies.services.truth_table import TableError, parse_ports
    from policies.web import parse_port

    labels = _refusing(ValidationError)(parse_label_filter)
    ports = _refusing(TableError)(parse_ports)
    return [
        ("label filter: key run", labels, run(N, "a", "!")),
        ("label filter: '=' value run", labels, "a=" + run(N, "a-", "!")),
        ("label filter: many terms", labels, run(N, "a,")),
        ("label filter: commas", labels, run(N, ",")),
        ("ids: many", _refusing(BadParameter)(lambda text: parse_ids([text])), run(N, "1,")),
        ("ids: digits", _refusing(BadParameter)(lambda text: parse_ids([text])), run(N, "9")),
        ("explain port", _refusing(ValueError)(parse_port), run(N, "a-")),
        ("truth table ports: many", ports, run(N, "1 ")),
        ("truth table ports: 'TCP/' run", ports, run(N, "TCP/")),
        ("truth table ports: digits", ports, "TCP/" + run(N, "1")),
    ]


@pytest.mark.parametrize(("name", "parse", "text"), CASES, ids=[c[0] for c in CASES])
def test_each_parser_reads_hostile_text_in_linear_time(name: str, parse: Callable[[str], Any], text: str) -> None:
    with within_seconds(2, f"{name}: not linear"):
        parse(text)


def test_the_query_parameter_parsers_read_hostile_text_in_linear_time() -> None:
    for name, parse, text in _web_cases():
        with within_seconds(2, f"{name}: not linear"):
            parse(text)


def test_an_ip_block_with_many_excepts_is_cut_in_linear_time() -> None:
    excepts = many_excepts(20_000)
    with within_seconds(2, "block_ranges: not linear in the excepts"):
        ranges = block_ranges("10.0.0.0/8", excepts)
    assert len(ranges) == 20_000


def test_a_policy_with_many_peers_ports_and_excepts_builds_in_linear_time() -> None:
    peers = [{"ipBlock": {"cidr": "10.0.0.0/8", "except": many_excepts(2_000)}}] + [
        {"podSelector": {"matchLabels": {f"k{i}": "v"}}} for i in range(2_000)
    ]
    ports = [{"port": p, "protocol": "TCP"} for p in range(1, 2_001)]
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "a"},
        "spec": {"podSelector": {}, "ingress": [{"from": peers, "ports": ports}]},
    }
    with within_seconds(3, "a policy with many peers, ports and excepts: not linear"):
        build_cluster([policy])
