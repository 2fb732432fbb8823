"""A fast reader for the plain block YAML that kubectl, Helm and `yaml.dump` write.

``load_block_yaml(text)`` returns the documents of a stream as plain dicts, lists and
scalars, exactly as libyaml's safe loader gives them, or None when the text uses
anything outside a small subset: the caller then takes the full path (the hostile-input
checks of safe_input.py, then libyaml). None is never wrong, only slower.

Why: libyaml itself parses the 1,000-workload benchmark cluster (7 MB) in about 0.2 s,
but PyYAML's composer builds a Python node (and two marks) for each of its 650,000
values and calls back into Python for each tag: composing and converting took about
1.5 s. Manifests are nearly always the same few line shapes, which one regular
expression reads at C speed and one loop assembles.

The subset, line by line (a line not of these shapes, anywhere, gives None):

- ``---`` alone (a document separator), blank lines and comment-only lines;
- ``KEY:`` or ``KEY: VALUE``, optionally after ``- `` (a sequence item), and ``- VALUE``
  or a bare ``-``. KEY is a plain word of letters, digits, ``_./-`` and inner colons
  that resolves to a string; VALUE is one line: a plain scalar, a single-quoted string,
  a double-quoted string without escapes, ``{}`` or ``[]``.

Nothing else: no anchors, aliases, tags, flow collections with content, block or
multi-line scalars, explicit keys, directives, tabs or unusual characters (control
characters, NEL and the Unicode line separators, a byte-order mark). So an accepted
text has no alias to expand, and its nesting is capped here at MAX_NESTING: the
protections of safe_input.py have nothing to refuse in it. Block structure follows
YAML's indentation rules, and where the subset's reading could differ from libyaml's
(a scalar continued on a more indented line, an entry at an unexpected column) the
answer is None. tests/engine/test_block_yaml.py compares it with libyaml on generated
and hand-written documents.

Every value that comes out can be stored as it is (no number beyond 64 bits, infinite or
NaN, no NUL character), so the caller need not walk them again. Only plain objects come out: a semantic error's line is found later by composing the
text again with marks (manifests._Lines), and documents are numbered as libyaml numbers
them (an empty explicit document is a None), so that works the same.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from .safe_input import MAX_NESTING, storable_number

_STR = "tag:yaml.org,2002:str"
_IMPLICIT = yaml.SafeLoader.yaml_implicit_resolvers
_WILDCARD = _IMPLICIT.get(None, [])

# Characters YAML does not read as printable (controls, surrogates, U+FFFE/U+FFFF), and
# printable ones with a meaning of their own: the tab, carriage return, NEL (U+0085) and
# U+2028/U+2029 (line breaks to YAML), the byte-order mark. A line with one gives None.
_UNUSUAL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]")

# libyaml refuses a key longer than 1,024 characters ("could not find expected ':'").
_KEY_MAX = 1000
_KEY = r"[A-Za-z0-9_][A-Za-z0-9_./-]*(?::[A-Za-z0-9_./-]+)*"
# A one-line plain scalar in block context, as libyaml scans it: it does not start with
# an indicator (`-`, `?` and `:` only when followed by a space or the end), holds no
# `: ` and no ` #`, does not end with `:`; trailing spaces are left to the line pattern.
_PLAIN = (
    r"(?:[^-?:,\[\]{}#&*!|>'\"%@` \n]|[-?:](?=[^ \n]))"
    r"(?:[^ :\n]++|:(?=[^ \n])| ++(?=[^ :#\n]|:[^ \n]))*+"
)
# The quantifiers are possessive (`++`, `*+`): a run of characters is taken whole, never
# split again. With plain ones a line that is not a plain scalar (`a: xxx... #`) was tried
# every way of cutting its runs: twice the time for each further character, a 40-character
# value beyond any patience. The scalar ends the line, so the longest reading is the only
# one that can match.
# A line, trailing spaces removed: (indent, comment, dash, key, plain, single, double, flow).
_LINE = re.compile(
    r"( *)(?:(#.*)|(- +|-$)?(?:(" + _KEY + r"):(?: +|$))?"
    r"(?:(" + _PLAIN + r")|('(?:[^'\n]|'')*')|(\"[^\"\\\n]*\")|(\{\}|\[\]))?)"
)


def implicit_tag(value: str) -> str:
    """The tag the safe loader resolves a plain scalar to (`true` bool, `8080` int...)."""
    for tag, regexp in _IMPLICIT.get(value[0] if value else "", ()):
        if regexp.match(value):
            return str(tag)
    for tag, regexp in _WILDCARD:
        if regexp.match(value):
            return str(tag)
    return _STR


class _Outside(Exception):
    """The text leaves the subset: the caller reads it the full way."""


# A line as the loop reads it: (code, column, inner column, key, value kind, value).
# code: 0 blank or comment, 1 `---`, 2 `key...`, 3 `- ...`, 4 `key: value` (a scalar
# value: a `key...` the loop takes a shortcut for); the inner column is the
# key's after a dash; value kind: 0 none (the value is on the next lines), 1 `value`,
# 2 `{}`, 3 `[]` (a new container for each line).
_Line = tuple[int, int, int, str, int, Any]
_BLANK: _Line = (0, 0, 0, "", 0, None)
_SEPARATOR: _Line = (1, 0, 0, "", 0, None)


# About 4,200 decimal digits: Python refuses to print an int of more than 4,300
# (sys.int_info.default_max_str_digits), so any message naming it would fail.
MAX_INT_BITS = 14_000


class SafeConstructor(yaml.constructor.SafeConstructor):
    """The safe constructor, refusing integers too long to print. int() refuses such a
    decimal number by itself, but a hexadecimal, octal or binary one (`port: 0xfff...`)
    was built, and the first message naming it (`... must be between 1 and 65535`)
    raised a ValueError: a 500 for a pasted port."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        value: int = super().construct_yaml_int(node)
        if value.bit_length() > MAX_INT_BITS:
            raise yaml.constructor.ConstructorError(
                None, None, "a value cannot be read (a number of more than 4,000 digits)", node.start_mark
            )
        return value

    yaml_constructors = {
        **yaml.constructor.SafeConstructor.yaml_constructors,
        "tag:yaml.org,2002:int": construct_yaml_int,
    }


class LineCache:
    """Lines already read, and what they hold: manifests repeat most of their lines, and
    the files of one directory each other's. One cache serves one read (its size is
    bounded by what that read may take in)."""

    def __init__(self) -> None:
        self._constructor = SafeConstructor()
        self.lines: dict[str, _Line] = {}

    def value(self, text: str) -> Any:
        tag = implicit_tag(text)
        if tag == _STR:
            return text
        if tag.endswith((":merge", ":value")):
            raise _Outside
        c = self._constructor
        try:
            value = c.construct_object(yaml.ScalarNode(tag, text), deep=True)
        except Exception:  # whatever it is, libyaml's path reports it
            raise _Outside from None
        finally:
            c.constructed_objects.clear()
        # What this reader returns is storable as it is: a number the API server would
        # refuse (beyond 64 bits, infinite, NaN) is left to the full path, which checks
        # every value and names the field. (Strings hold no NUL: the line shapes allow none.)
        if not storable_number(value):
            raise _Outside
        return value

    def line(self, line: str) -> _Line:
        # ASCII's printable characters are YAML's; tabs and carriage returns are not
        # printable to Python either.
        if not line.isprintable() if line.isascii() else _UNUSUAL.search(line):
            raise _Outside
        s = line.rstrip(" ")
        if not s:
            return _BLANK
        if s == "---":
            return _SEPARATOR
        m = _LINE.fullmatch(s)
        if m is None:
            raise _Outside
        indent, comment, dash, key, plain, single, double, flow = m.groups()
        if comment is not None:
            return _BLANK
        if dash is None and key is None:
            raise _Outside  # a value alone on its line: a root or multi-line scalar
        if key is not None and (len(key) > _KEY_MAX or implicit_tag(key) != _STR):
            raise _Outside  # a key libyaml refuses as too long, or not a string (`1:`)
        value: Any = None
        kind = 1
        if plain is not None:
            value = self.value(plain)
        elif single is not None:
            value = single[1:-1].replace("''", "'")
        elif double is not None:
            value = double[1:-1]
        elif flow is not None:
            kind = 2 if flow == "{}" else 3
        else:
            kind = 0
        col = len(indent)
        if dash is None:
            return (4 if kind == 1 else 2, col, col, key, kind, value)
        return (3, col, col + len(dash), key or "", kind, value)


def load_block_yaml(text: str, cache: LineCache | None = None) -> list[Any] | None:
    """The documents of `text` as libyaml's safe loader reads them, or None when the text
    is outside the subset this module reads (see the module's docstring). A `cache`
    shared by the files of one read saves reading their common lines again."""
    try:
        return _documents(text.split("\n"), cache or LineCache())
    except _Outside:
        return None


def _documents(lines: list[str], scalars: LineCache) -> list[Any]:  # noqa: C901 - one loop, for speed
    cache = scalars.lines
    cached = cache.get
    docs: list[Any] = []
    in_doc = False
    root: Any = None
    # The innermost open collection (`top`, its column, a mapping or a sequence, a
    # sequence at its mapping's column) and the ones enclosing it.
    top: Any = None
    top_col = -1
    is_map = False
    indentless = False
    stack: list[tuple[int, Any, bool, bool]] = []
    # What waits for its value on the next lines: 0 nothing, 1 the key `pend_key` of
    # `top`, 2 an item of `top`, 3 the document's root.
    pending = 0
    pend_col = -1
    pend_key = ""
    for line in lines:
        p = cached(line)
        if p is None:
            p = cache[line] = scalars.line(line)
        code, col, inner, key, kind, value = p
        if code == 4 and col == top_col and is_map and not pending:
            top[key] = value  # the common line: `key: value` in the open mapping
            continue
        if code < 2:
            if code == 1:
                if in_doc:
                    _close(top, pending, pend_key)
                    docs.append(root)
                in_doc, root, pending, pend_col = True, None, 3, -1
                top, top_col, stack = None, -1, []
            continue
        if not in_doc:
            in_doc, root, pending, pend_col = True, None, 3, -1
            top, top_col, stack = None, -1, []
        if kind > 1:
            value = {} if kind == 2 else []
        if pending:  # this line opens the value that waits, or that value is null
            if col > pend_col or (pending == 1 and code == 3 and col == pend_col):
                new: Any = [] if code == 3 else {}
                if pending == 1:
                    top[pend_key] = new
                elif pending == 2:
                    top.append(new)
                else:
                    root = new
                if pending != 3:
                    stack.append((top_col, top, is_map, indentless))
                    if len(stack) >= MAX_NESTING:
                        raise _Outside  # the full path says where
                indentless = pending == 1 and col == pend_col
                top, top_col, is_map = new, col, code != 3
                pending = 0
            else:
                _close(top, pending, pend_key)
                pending = 0
        while top_col > col:  # close what this line's indentation ends
            if not stack:
                raise _Outside  # content after the document's root
            top_col, top, is_map, indentless = stack.pop()
        if top_col != col:
            raise _Outside  # indented more than anything open allows
        if code == 3:
            if is_map:
                raise _Outside  # an item among a mapping's keys
            if not key:
                if kind:
                    top.append(value)
                else:
                    pending, pend_col = 2, col
                continue
            # `- key: ...`: a mapping opens at the key's column.
            new = {}
            top.append(new)
            stack.append((top_col, top, is_map, indentless))
            if len(stack) >= MAX_NESTING:
                raise _Outside
            top, top_col, is_map, indentless = new, inner, True, False
            col = inner
        elif not is_map:
            if not indentless:
                raise _Outside  # a key among a sequence's items
            top_col, top, is_map, indentless = stack.pop()  # the indentless sequence ends
        if kind:
            top[key] = value
        else:
            pending, pend_col, pend_key = 1, col, key
    if in_doc:
        _close(top, pending, pend_key)
        docs.append(root)
    return docs


def _close(top: Any, pending: int, pend_key: str) -> None:
    """A value still waiting when the next line cannot open it is null."""
    if pending == 1:
        top[pend_key] = None
    elif pending == 2:
        top.append(None)
