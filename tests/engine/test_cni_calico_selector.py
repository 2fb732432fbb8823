"""Calico's selector language: parser, errors with positions, and a property test of the
evaluator against a naive one written from the documentation.

Calico docs, "Selectors" (reference/resources/networkpolicy, Selectors section):
  "all()  Match all resources. / k == 'v' Matches any resource with the label 'k' and
  value 'v'. / k != 'v' Matches any resource with the label 'k' and value that is not
  'v' [the implementation, LabelNeValueNode, also matches when the label is absent]. /
  has(k) Matches any resource with label 'k', independent of value. / !has(k) Matches
  any resource that does not have label 'k' / k in { 'v1', 'v2' } Matches any resource
  with label 'k' and value in the given set / k not in { 'v1', 'v2' } Matches any
  resource without label 'k' or with label 'k' and value not in the given set /
  k contains 's' / k starts with 's' / k ends with 's' Matches any resource with label
  'k' and value containing/starting with/ending with the substring 's'"; "Each of the
  primitive expressions can be combined using the logical operator && and ||"; "!" and
  parentheses. global(): "matches only non-namespaced resources".
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.engine.cni.calico_selector import SelectorError, parse

LABELS = {"app": "web", "tier": "frontend", "env": "prod-eu", "team": "a/b"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("all()", True),
        ("app == 'web'", True),
        ('app == "web"', True),
        ("app == 'db'", False),
        ("app != 'db'", True),
        ("missing != 'x'", True),  # absent label: != matches
        ("app != 'web'", False),
        ("has(app)", True),
        ("!has(app)", False),
        ("!has(missing)", True),
        ("has(missing)", False),
        ("app in {'web', 'db'}", True),
        ("app in {'db'}", False),
        ("app in {}", False),
        ("missing in {'x'}", False),
        ("app not in {'db'}", True),
        ("app not in {'web'}", False),
        ("missing not in {'x'}", True),
        ("env starts with 'prod'", True),
        ("env starts with 'dev'", False),
        ("env ends with '-eu'", True),
        ("env ends with '-us'", False),
        ("env contains 'od-e'", True),
        ("missing contains ''", False),
        ("app == 'web' && tier == 'frontend'", True),
        ("app == 'web' && tier == 'backend'", False),
        ("app == 'db' || tier == 'frontend'", True),
        ("app == 'db' || tier == 'backend' && has(app)", False),
        ("app == 'web' || tier == 'backend' && has(missing)", True),  # && binds tighter
        ("(app == 'web' || tier == 'backend') && has(missing)", False),
        ("!(app == 'web')", False),
        ("!!has(app)", True),
        ("!(app == 'db' || has(missing))", True),
        ("team == 'a/b'", True),
        ("global()", False),
        ("!global()", True),
        ("  app   ==   'web'  ", True),
        ("has(app)&&app=='web'", True),
    ],
)
def test_evaluates_as_documented(text: str, expected: bool) -> None:
    assert parse(text).matches(LABELS) is expected


def test_global_matches_non_namespaced_only() -> None:
    assert parse("global()").matches({}, namespaced=False)
    assert not parse("global()").matches({}, namespaced=True)


def test_a_label_named_like_a_keyword() -> None:
    assert parse("has == 'x'").matches({"has": "x"})
    assert parse("in in {'a'}").matches({"in": "a"})
    assert parse("all == 'x'").matches({"all": "x"})


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("app ==", 6, "quoted string"),
        ("app = 'web'", 4, "operator"),
        ("app == web", 7, "quoted string"),
        ("app == 'web", 7, "unterminated"),
        ("(app == 'web'", 13, "')'"),
        ("app == 'web')", 12, "unexpected"),
        ("app in {'a' 'b'}", 12, "',' or '}'"),
        ("app in 'a'", 7, "'{'"),
        ("app not 'a'", 8, "'in'"),
        ("app starts 'a'", 11, "'with'"),
        ("has(app", 7, "')'"),
        ("has()", 4, "label key"),
        ("&& app == 'a'", 0, "label key"),
        ("app == 'a' &&", 13, "end of the selector"),
        ("app == 'a' || || b == 'c'", 14, "label key"),
        ("!", 1, "end of the selector"),
        ("all(", 4, "')'"),
        ("app == 'a' & b == 'c'", 11, "unexpected"),
    ],
)
def test_errors_name_the_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(SelectorError) as err:
        parse(text)
    assert err.value.position == position, str(err.value)
    assert fragment in str(err.value)


def test_deep_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(SelectorError):
        parse("(" * 5000 + "all()" + ")" * 5000)
    with pytest.raises(SelectorError):
        parse("!" * 5000 + "all()")


def test_round_trip_of_the_canonical_text() -> None:
    for text in ["a == 'b' && (c != 'd' || !has(e))", "x in {'b', 'a'} || y not in {}",
                 "!(a starts with 'x' && b ends with \"'\")"]:
        first = parse(text)
        assert parse(str(first)).root == first.root


# -- property: the parser and evaluator against a naive evaluator over a generated AST --------

KEYS = ["app", "tier", "k8s-app", "a.b/c", "x_y"]
VALUES = ["", "web", "db", "we", "b", "prod-eu"]


def _leaf() -> st.SearchStrategy[tuple]:
    key = st.sampled_from(KEYS)
    val = st.sampled_from(VALUES)
    return st.one_of(
        st.just(("all",)),
        st.tuples(st.just("has"), key),
        st.tuples(st.sampled_from(["==", "!=", "contains", "starts with", "ends with"]), key, val),
        st.tuples(st.sampled_from(["in", "not in"]), key, st.lists(val, max_size=3)),
    )


AST = st.recursive(
    _leaf(),
    lambda inner: st.one_of(
        st.tuples(st.just("!"), inner),
        st.tuples(st.sampled_from(["&&", "||"]), inner, inner),
    ),
    max_leaves=8,
)


def _q(v: str, double: bool) -> str:
    return f'"{v}"' if double else f"'{v}'"


def render(ast: tuple, double: bool, space: str) -> str:
    """Fully parenthesised text: the naive evaluator needs no precedence."""
    op = ast[0]
    if op == "all":
        return "all()"
    if op == "has":
        return f"has({ast[1]})"
    if op == "!":
        return f"!({render(ast[1], double, space)})"
    if op in ("&&", "||"):
        return f"({render(ast[1], double, space)}){space}{op}{space}({render(ast[2], double, space)})"
    if op in ("in", "not in"):
        vals = ",".join(_q(v, double) for v in ast[2])
        return f"{ast[1]} {op} {{{vals}}}"
    return f"{ast[1]}{space or ' '}{op}{space or ' '}{_q(ast[2], double)}"


def naive(ast: tuple, labels: dict[str, str]) -> bool:
    op = ast[0]
    if op == "all":
        return True
    if op == "has":
        return ast[1] in labels
    if op == "!":
        return not naive(ast[1], labels)
    if op == "&&":
        return naive(ast[1], labels) and naive(ast[2], labels)
    if op == "||":
        return naive(ast[1], labels) or naive(ast[2], labels)
    key = ast[1]
    present = key in labels
    value = labels.get(key, "")
    if op == "==":
        return present and value == ast[2]
    if op == "!=":
        return not present or value != ast[2]
    if op == "in":
        return present and value in ast[2]
    if op == "not in":
        return not present or value not in ast[2]
    if op == "contains":
        return present and ast[2] in value
    if op == "starts with":
        return present and value.startswith(ast[2])
    return present and value.endswith(ast[2])


@settings(max_examples=300, deadline=None)
@given(
    AST,
    st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=4),
    st.booleans(),
    st.sampled_from(["", " ", "  "]),
)
def test_property_matches_naive_evaluator(ast: tuple, labels: dict[str, str], double: bool, space: str) -> None:
    text = render(ast, double and not any('"' in v for v in VALUES), space)
    sel = parse(text)
    assert sel.matches(labels) == naive(ast, labels), text
    # The canonical text means the same.
    assert parse(str(sel)).matches(labels) == naive(ast, labels), str(sel)
