"""The fast block-YAML reader: whatever it reads, it reads as libyaml's safe loader does,
and whatever could be hostile (aliases, tags, deep nesting, odd characters) it leaves
to the checked libyaml path, which refuses it as before."""

from __future__ import annotations

import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.engine import ManifestError, load_yaml_text
from policies.engine.block_yaml import load_block_yaml
from policies.engine.manifests import load_text

from .builders import netpol, pod


def libyaml(text: str) -> list[object]:
    return list(yaml.load_all(text, Loader=yaml.CSafeLoader))


def same_as_libyaml(text: str) -> list[object] | None:
    """The fast reader's documents, checked against libyaml's when it reads the text."""
    fast = load_block_yaml(text)
    if fast is not None:
        assert fast == libyaml(text), text
        assert [type(d) for d in fast] == [type(d) for d in libyaml(text)]
    return fast


READ = {
    "kubectl style": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    app: web\n"
    "spec:\n  containers:\n  - name: c\n    image: nginx:1.25\n    ports:\n    - containerPort: 80\n"
    "      protocol: TCP\n      name: http\n",
    "indented sequences": "a:\n  - x\n  -  y\n  - k: 1\n    j: 2\nb: c\n",
    "nested sequences": "a:\n-\n  - 1\n  - 2\n-\n  k: v\n",
    "empty values": "a:\nb:\n  c:\nd: {}\ne: []\nf: ''\ng: \"\"\nh:\n-\n- ~\n",
    "scalars the resolver types": "a: 8080\nb: 'true'\nc: true\nd: null\ne: 1.5\nf: 0o17\ng: 0x1F\n"
    "h: 2001-12-14\ni: 1_000\nj: yes\nk: Off\nn: 012\no: +12\np: 1e3\nq: 9223372036854775807\n",
    "strings with indicators inside": "a: R&D & ops\nb: a:b\nc: x#y\nd: -x\ne: ?y\nf: :z\ng: a - b\n"
    "h: 10.0.0.0/8\ni: 2001:db8::/32\nj: 'it''s # here: &x *y'\nk: \"a: b # c\"\nl: a,b[0]{x}\nm: ---\n"
    "n: ...\no: a  b\np: '  '\n",
    "comments and blank lines": "# Source: chart/templates/a.yaml\n\n---\n# c\na: 1\n  # indented\n\nb:\n"
    "# between\n  c: 2   \n",
    "documents": "---\na: 1\n---\n---\nb: 2\n--- \n",
    "leading content": "a: 1\n---\nb: 2\n---\n",
    "only comments": "# nothing\n\n",
    "empty": "",
    "root sequence": "- a\n- b: 1\n  c: 2\n-\n",
    "indented root": "  a: 1\n  b:\n  - x\n",
    "keys with colons and dots": "f:metadata: {}\napp.kubernetes.io/name: x\n_k-1: v\n",
    "duplicate keys": "a: 1\nb: 2\na:\n  c: 3\n",
    "unicode": "a: café ☕ 𝄞\nb: 'ü'\n",
    "trailing spaces": "a: b   \nc:   \nd: 'x'  \ne:\n-   \n",
    "a long key": "k" * 1000 + ": v\n",
    "item mappings at deeper columns": "- a: 1\n  b:\n  - c\n  d: 2\n-   e: 3\n    f: 4\n",
}

NOT_READ = {
    "anchor and alias": "a: &x 1\nb: *x\n",
    "anchor on a mapping": "a: &x\n  b: 1\nc: *x\n",
    "merge key": "a: {x: 1}\nb:\n  <<: {y: 2}\n",
    "tag": "a: !!str 1\n",
    "local tag": "a: !foo bar\n",
    "flow with content": "a: [1, 2]\n",
    "flow mapping": "a: {b: c}\n",
    "literal block": "a: |\n  x\n  y\n",
    "folded block": "a: >-\n  x\n",
    "multi-line plain": "a: b\n  c\n",
    "multi-line quoted": "a: 'b\n  c'\n",
    "continuation that is a mapping": "a: b\n  c: d\n",
    "escape": 'a: "x\\ty"\n',
    "tab": "a:\tb\n",
    "carriage return": "a: b\r\nc: d\r\n",
    "NEL": "a: b\x85c\n",
    "line separator": "a: b\u2028c\n",
    "control character": "a: b\x01\n",
    "byte-order mark": "\ufeffa: b\n",
    "directive": "%YAML 1.1\n---\na: b\n",
    "document end": "a: b\n...\n",
    "explicit key": "? a\n: b\n",
    "quoted key": "'a': b\n",
    "key with space": "a b: c\n",
    "int key": "1: a\n",
    "bool key": "on: a\n",
    "null key": "null: a\n",
    "comment after a value": "a: b # c\n",
    "comment after a key": "a: # c\n",
    "compact nested sequence": "- - a\n",
    "root scalar": "a\n",
    "value alone on a line": "a:\n  b\n",
    "item among keys": "a: 1\n- b\n",
    "key among items": "- a\nb: 1\n",
    "bad indentation": "a:\n    b: 1\n  c: 2\n",
    "content after root": "  a: 1\nb: 2\n",
    "separator with content": "--- a: 1\n",
    "alias as a value": "a: *x\n",
    "mapping value in a value": "a: b: c\n",
    "invalid timestamp": "a: 2001-13-45\n",
    "value merge": "a: =\n",
    "a key over libyaml's 1,024 characters": "- " + "k" * 1025 + ": v\n",
}


@pytest.mark.parametrize("name", list(READ))
def test_common_block_yaml_is_read_as_libyaml_reads_it(name: str) -> None:
    assert same_as_libyaml(READ[name]) is not None


@pytest.mark.parametrize("name", list(NOT_READ))
def test_anything_else_is_left_to_libyaml(name: str) -> None:
    assert load_block_yaml(NOT_READ[name]) is None


def test_containers_are_new_objects_for_each_line() -> None:
    docs = load_block_yaml("a: {}\nb: {}\nc: []\nd: []\n")
    assert docs is not None
    (doc,) = docs
    assert doc["a"] is not doc["b"]
    assert doc["c"] is not doc["d"]


def test_a_dumped_cluster_is_read_as_libyaml_reads_it() -> None:
    objs = [pod("shop", f"web-{i}", {"app": "web", "tier": str(i)}) for i in range(20)] + [
        netpol("shop", "deny", ingress=[]),
    ]
    for style in ({}, {"explicit_start": True}, {"indent": 4}, {"sort_keys": False}):
        text = yaml.safe_dump_all(objs, **style)
        assert same_as_libyaml(text) == objs


# -- generated input -----------------------------------------------------------------------

_TEXT = st.text(
    alphabet=st.sampled_from(
        list(string.ascii_letters[:6] + string.digits[:4] + " -:#'\"&*!|>.,[]{}?%@`~/_é\\")
    ),
    max_size=8,
)
_SCALARS = st.one_of(
    _TEXT,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.sampled_from(
        ["yes", "No", "~", "null", "1.5", "0x1F", "2001-12-14", "8080", "-1", ".inf", "1e3"]
    ),
)
_KEYS = st.one_of(_TEXT, st.sampled_from(["a", "b", "app.kubernetes.io/name", "f:spec", "on", "1"]))
_TREES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    docs=st.lists(_TREES, min_size=1, max_size=3),
    indent=st.sampled_from([2, 3, 4]),
    start=st.booleans(),
)
def test_dumped_documents_are_read_as_libyaml_reads_them(
    docs: list[object], indent: int, start: bool
) -> None:
    text = yaml.safe_dump_all(docs, indent=indent, explicit_start=start, default_flow_style=False)
    same_as_libyaml(text)


_LINES = st.lists(
    st.tuples(
        st.sampled_from(["", " ", "  ", "    ", "      "]),
        st.sampled_from(["", "- ", "-", "-  "]),
        st.sampled_from(["", "a:", "b: ", "a:  ", "f:x: ", "1: ", "#", "---", "..."]),
        st.one_of(_TEXT, st.sampled_from(["", "{}", "[]", "''", "'x'", '"y"', "&a", "*a", "x #c"])),
    ),
    max_size=12,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=_LINES)
def test_generated_lines_are_read_as_libyaml_reads_them_or_left_to_it(
    lines: list[tuple[str, ...]],
) -> None:
    text = "\n".join("".join(parts) for parts in lines) + "\n"
    try:
        expected = libyaml(text)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError):
        assert load_block_yaml(text) is None, text
        return
    fast = load_block_yaml(text)
    if fast is not None:
        assert fast == expected, text


# -- the hostile-input protections still hold ----------------------------------------------

BOMB_LEVELS = "abcdefghi"


def _bomb(first: str, line: str) -> str:
    lines = [first]
    for prev, name in zip(BOMB_LEVELS, BOMB_LEVELS[1:], strict=False):
        lines.append(line.format(name=name, aliases=", ".join(f"*{prev}" for _ in range(9))))
    return "kind: Pod\nmetadata:\n  name: p\n" + "\n".join(lines) + "\n"


BOMBS = {
    "anchors in flow mappings": _bomb(
        "a: {x: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]}", "{name}: {{x: &{name} [{aliases}]}}"
    ),
    "anchors after quoted keys": _bomb(
        "'a': &a [1, 2, 3, 4, 5, 6, 7, 8, 9]", "'{name}': &{name} [{aliases}]"
    ),
    "anchors in block sequences": _bomb(
        "a: &a\n- 1\n- 2\n- 3\n- 4\n- 5\n- 6\n- 7\n- 8\n- 9", "{name}: &{name}\n- [{aliases}]"
    ),
    "aliases behind a comment line": _bomb(
        "# x\na: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]", "# &{name}\n{name}: &{name} [{aliases}]"
    ),
    "anchors in a quoted-looking line": _bomb(
        "a: &a ['#', 2, 3, 4, 5, 6, 7, 8, 9]", "{name}: &{name} ['x' , {aliases}]"
    ),
    "anchors after a document separator": "---\n"
    + _bomb("a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]", "{name}: &{name} [{aliases}]"),
    "merge keys in block mappings": _bomb(
        "a: &a {x0: 1, x1: 1, x2: 1, x3: 1, x4: 1, x5: 1, x6: 1, x7: 1, x8: 1, x9: 1}",
        "{name}: &{name}\n  - <<: *a\n  - [{aliases}]",
    ),
}


@pytest.mark.parametrize("name", list(BOMBS))
def test_bombs_the_fast_reader_cannot_read_are_still_refused(name: str) -> None:
    text = BOMBS[name]
    assert load_block_yaml(text) is None
    with pytest.raises(ManifestError, match="alias or merge-key bomb"):
        load_yaml_text(text, "paste")


def _deep_block(depth: int) -> str:
    """`depth` nested mappings in plain block lines the fast reader knows."""
    return (
        "kind: Pod\nmetadata:\n  name: p\n"
        + "".join(" " * i + "x:\n" for i in range(depth - 1))
        + " " * (depth - 1)
        + "y: 1\n"
    )


def test_deep_block_nesting_in_plain_lines_is_still_refused_with_its_line() -> None:
    assert load_block_yaml(_deep_block(100)) is not None
    assert load_yaml_text(_deep_block(100))[0]["kind"] == "Pod"
    assert load_block_yaml(_deep_block(101)) is None
    with pytest.raises(ManifestError, match="nesting deeper than 100 levels") as info:
        load_yaml_text(_deep_block(101), "paste")
    assert info.value.errors[0].line > 0
    items = (
        "kind: Pod\nmetadata:\n  name: p\nspec:\n"
        + "".join(" " * i + "-\n" for i in range(150))
        + " " * 150
        + "- 1\n"
    )
    assert load_block_yaml(items) is None
    with pytest.raises(ManifestError, match="nesting deeper than 100 levels"):
        load_yaml_text(items, "paste")


def test_errors_in_fast_read_documents_name_file_and_line() -> None:
    text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n---\n# c\napiVersion: v1\nkind: Pod\nmetadata:\n  namespace: x\n"
    assert load_block_yaml(text) is not None
    with pytest.raises(ManifestError) as info:
        load_text(text, "pods.yaml")
    (error,) = info.value.errors
    assert str(error) == "pods.yaml:10: Pod: metadata.name is required"
    bad = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  namespace: x\nspec:\n  replicas: 99999999999999999999\n"
    with pytest.raises(ManifestError) as info:
        load_text(bad, "pod.yaml")
    assert str(info.value.errors[0]).startswith("pod.yaml:7: Pod: spec.replicas")


BOUNDARY_CHARACTERS = [
    *map(chr, range(0x00, 0x21)),
    *map(chr, range(0x7E, 0xA2)),
    *"\u2027\u2028\u2029\u202a\ud7ff\ud800\udfff\ue000\ufefe\ufeff\uff00\ufffd\ufffe\uffff\U00010000\U0010ffff",
]


@pytest.mark.parametrize("char", BOUNDARY_CHARACTERS, ids=lambda c: f"U+{ord(c):04X}")
def test_characters_are_read_only_where_libyaml_reads_them_the_same(char: str) -> None:
    text = f"a: x{char}y\nb: '{char}'\n"
    fast = load_block_yaml(text)
    if fast is not None:
        assert fast == libyaml(text)
    if char in "\t\r\x85\u2028\u2029\ufeff" or not ("\x20" <= char <= "\x7e" or char >= "\xa0"):
        assert fast is None


# Lines that are not plain scalars but start like one: the line pattern used to try every
# way of cutting their runs of characters (twice the time for each further character; the
# editor's round-trip test spent four minutes on 30-character annotations). A viewer could
# pin a worker with one such line in a paste. A timer stops the run if the reading hangs.
BACKTRACKING = [
    "a: " + "x" * 5000 + " #",
    "a: " + "x y" * 5000 + " #",
    "a: " + "x:y " * 5000 + ":",
    "- " + "x" * 5000 + " # comment",
    "a: " + "x" * 5000 + " &anchor",
    "a:" * 5000 + " x #",
]


@pytest.mark.parametrize("line", BACKTRACKING, ids=range(len(BACKTRACKING)))
def test_long_lines_that_are_not_plain_scalars_are_read_in_linear_time(line):
    import signal

    def stop(signum, frame):
        raise AssertionError("the line reader backtracks: over 5 s on one line")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(5)
    try:
        text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n" + line + "\n"
        try:
            expected = libyaml(text)
        except yaml.YAMLError:
            expected = None
        fast = same_as_libyaml(text)
        if expected is None:
            assert fast is None  # left to the checked path, which reports the error
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize(
    "value", [".nan", "-.inf", ".Inf", "1.0e+999", "9223372036854775808", "-9223372036854775809", "0x1_0000_0000_0000_0000"]
)
def test_numbers_the_api_server_refuses_are_left_to_the_checked_path(value):
    # What the fast reader returns is stored without a second look at every value, so a
    # number beyond 64 bits, infinite or NaN is not its to read: the full path names it.
    text = f"apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  n: {value}\n"
    assert load_block_yaml(text) is None
    with pytest.raises(ManifestError) as raised:
        load_text(text)
    assert "spec.n" in str(raised.value)
