"""Calico's label selector language: a parser and evaluator.

Grammar (after projectcalico/calico ``libcalico-go/lib/selector/parser``)::

    expr    := and ( "||" and )*
    and     := unary ( "&&" unary )*
    unary   := "!" unary | "(" expr ")" | term
    term    := "all()" | "global()" | "has(" key ")"
             | key ( "==" | "!=" ) string
             | key ( "in" | "not in" ) "{" [ string ( "," string )* ] "}"
             | key ( "contains" | "starts with" | "ends with" ) string

Strings are single- or double-quoted (no escapes); a key is made of letters, digits and
``_ . / -``. The empty selector (only whitespace) is ``all()``.

Semantics of each term on a label map: ``k == 'v'`` needs the label with that value;
``k != 'v'`` matches when the label is absent or has another value; ``k in {...}``
needs the label with one of the values; ``k not in {...}`` matches when the label is
absent or has none of them; ``contains``/``starts with``/``ends with`` need the label;
``has(k)`` needs the label; ``all()`` matches everything; ``global()`` matches only
what is not namespaced (used as a ``namespaceSelector``: global network sets and host
endpoints, never pods).

``parse(text)`` raises ``SelectorError`` (with the 0-based character position) on bad
input; ``Selector.matches(labels, namespaced=True)`` evaluates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_KEY_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")
MAX_LENGTH = 16_384
MAX_DEPTH = 100


class SelectorError(ValueError):
    """A selector Calico would refuse: ``position`` is the 0-based character index."""

    def __init__(self, message: str, position: int, text: str) -> None:
        self.message = message
        self.position = position
        self.text = text
        super().__init__(f"{message} at position {position}")


@dataclass(frozen=True, slots=True)
class Node:
    """One node of a parsed selector: ``op`` and its operands."""

    op: str  # all global has eq ne in notin contains starts ends not and or
    key: str = ""
    values: tuple[str, ...] = ()
    children: tuple[Node, ...] = ()

    def matches(self, labels: Mapping[str, str], namespaced: bool) -> bool:
        op = self.op
        if op == "and":
            return all(c.matches(labels, namespaced) for c in self.children)
        if op == "or":
            return any(c.matches(labels, namespaced) for c in self.children)
        if op == "not":
            return not self.children[0].matches(labels, namespaced)
        if op == "all":
            return True
        if op == "global":
            return not namespaced
        value = labels.get(self.key)
        if op == "has":
            return value is not None
        if op == "ne":
            return value is None or value != self.values[0]
        if op == "notin":
            return value is None or value not in self.values
        if value is None:
            return False
        if op == "eq":
            return value == self.values[0]
        if op == "in":
            return value in self.values
        if op == "contains":
            return self.values[0] in value
        if op == "starts":
            return value.startswith(self.values[0])
        return value.endswith(self.values[0])  # ends

    def __str__(self) -> str:
        op = self.op
        if op == "and":
            return " && ".join(_wrap(c, "and") for c in self.children)
        if op == "or":
            return " || ".join(str(c) for c in self.children)
        if op == "not":
            return f"!{_wrap(self.children[0], 'not')}"
        if op in ("all", "global"):
            return f"{op}()"
        if op == "has":
            return f"has({self.key})"
        if op in ("in", "notin"):
            word = "in" if op == "in" else "not in"
            return f"{self.key} {word} {{{', '.join(_quote(v) for v in self.values)}}}"
        word = {"eq": "==", "ne": "!=", "contains": "contains", "starts": "starts with",
                "ends": "ends with"}[op]
        return f"{self.key} {word} {_quote(self.values[0])}"


def _quote(v: str) -> str:
    return f'"{v}"' if "'" in v else f"'{v}'"


def _wrap(node: Node, parent: str) -> str:
    if node.op == "or" or (parent == "not" and node.op == "and"):
        return f"({node})"
    return str(node)


@dataclass(frozen=True, slots=True)
class Selector:
    """A parsed selector; ``text`` as written."""

    text: str
    root: Node

    def matches(self, labels: Mapping[str, str], namespaced: bool = True) -> bool:
        return self.root.matches(labels, namespaced)

    @property
    def selects_all(self) -> bool:
        return self.root.op == "all"

    def __str__(self) -> str:
        return str(self.root)


ALL = Selector("all()", Node("all"))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0

    def error(self, message: str, pos: int | None = None) -> SelectorError:
        return SelectorError(message, self.pos if pos is None else pos, self.text)

    def skip(self) -> None:
        t = self.text
        while self.pos < len(t) and t[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self, literal: str) -> bool:
        self.skip()
        return self.text.startswith(literal, self.pos)

    def peek_word(self, word: str) -> bool:
        """`word` followed by something that is not a key character."""
        self.skip()
        end = self.pos + len(word)
        return self.text.startswith(word, self.pos) and (
            end >= len(self.text) or self.text[end] not in _KEY_CHARS
        )

    def expect(self, literal: str, what: str) -> None:
        if not self.peek(literal):
            raise self.error(f"expected {what}{self._found()}")
        self.pos += len(literal)

    def _found(self) -> str:
        self.skip()
        if self.pos >= len(self.text):
            return ", found the end of the selector"
        return f", found {self.text[self.pos:self.pos + 12]!r}"

    def parse(self) -> Node:
        self.skip()
        if self.pos >= len(self.text):
            return Node("all")
        node = self.parse_or()
        self.skip()
        if self.pos < len(self.text):
            raise self.error(f"unexpected {self.text[self.pos:self.pos + 12]!r}")
        return node

    def parse_or(self) -> Node:
        parts = [self.parse_and()]
        while self.peek("||"):
            self.pos += 2
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Node("or", children=tuple(parts))

    def parse_and(self) -> Node:
        parts = [self.parse_unary()]
        while self.peek("&&"):
            self.pos += 2
            parts.append(self.parse_unary())
        return parts[0] if len(parts) == 1 else Node("and", children=tuple(parts))

    def parse_unary(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error("selector nested too deeply")
        try:
            if self.peek("!") and not self.peek("!="):
                self.pos += 1
                return Node("not", children=(self.parse_unary(),))
            if self.peek("("):
                self.pos += 1
                node = self.parse_or()
                self.expect(")", "')'")
                return node
            return self.parse_term()
        finally:
            self.depth -= 1

    def key(self) -> str:
        self.skip()
        start = self.pos
        t = self.text
        while self.pos < len(t) and t[self.pos] in _KEY_CHARS:
            self.pos += 1
        if self.pos == start:
            raise self.error(f"expected a label key{self._found()}")
        return t[start:self.pos]

    def string(self) -> str:
        self.skip()
        t = self.text
        if self.pos >= len(t) or t[self.pos] not in "'\"":
            raise self.error(f"expected a quoted string{self._found()}")
        quote = t[self.pos]
        end = t.find(quote, self.pos + 1)
        if end < 0:
            raise self.error("unterminated string")
        value = t[self.pos + 1:end]
        self.pos = end + 1
        return value

    def parse_term(self) -> Node:
        self.skip()
        for fn in ("all", "global"):
            if self.peek_word(fn):
                save = self.pos
                self.pos += len(fn)
                if self.peek("("):
                    self.pos += 1
                    self.expect(")", "')'")
                    return Node(fn)
                self.pos = save  # a label named "all"
        if self.peek_word("has"):
            save = self.pos
            self.pos += 3
            if self.peek("("):
                self.pos += 1
                key = self.key()
                self.expect(")", "')'")
                return Node("has", key)
            self.pos = save  # a label named "has"
        if self.pos >= len(self.text):
            raise self.error("expected an expression, found the end of the selector")
        key = self.key()
        if self.peek("=="):
            self.pos += 2
            return Node("eq", key, (self.string(),))
        if self.peek("!="):
            self.pos += 2
            return Node("ne", key, (self.string(),))
        if self.peek_word("in"):
            self.pos += 2
            return Node("in", key, self.string_set())
        if self.peek_word("not"):
            self.pos += 3
            if not self.peek_word("in"):
                raise self.error(f"expected 'in' after 'not'{self._found()}")
            self.pos += 2
            return Node("notin", key, self.string_set())
        if self.peek_word("contains"):
            self.pos += len("contains")
            return Node("contains", key, (self.string(),))
        for word, op in (("starts", "starts"), ("ends", "ends")):
            if self.peek_word(word):
                self.pos += len(word)
                if not self.peek_word("with"):
                    raise self.error(f"expected 'with' after '{word}'{self._found()}")
                self.pos += 4
                return Node(op, key, (self.string(),))
        raise self.error(
            "expected an operator (==, !=, in, not in, contains, starts with, ends with) "
            f"after label key {key!r}{self._found()}"
        )

    def string_set(self) -> tuple[str, ...]:
        self.expect("{", "'{'")
        values: list[str] = []
        if self.peek("}"):
            self.pos += 1
            return ()
        while True:
            values.append(self.string())
            if self.peek(","):
                self.pos += 1
                continue
            self.expect("}", "',' or '}'")
            return tuple(sorted(set(values)))


def parse(text: str) -> Selector:
    """Parse a Calico selector; SelectorError with the position on bad input."""
    if not isinstance(text, str):
        raise SelectorError("a selector must be a string", 0, str(text))
    if len(text) > MAX_LENGTH:
        raise SelectorError(f"selector longer than {MAX_LENGTH} characters", MAX_LENGTH, text[:40])
    return Selector(text, _Parser(text).parse())
