"""Limits on manifest input: what a hostile or careless file cannot do to the reader.

Small pieces the manifest reader calls (any YAML loader can call them the same way):

- ``check_yaml_text(text)``: before composing, refuse YAML whose aliases would expand
  beyond a bound proportional to the input (alias and merge-key bombs), an alias inside
  the node it names (a recursive alias), and nesting deeper than ``MAX_NESTING``. Cheap
  on ordinary input: a text without ``&`` has no anchors, so no aliases, and a quick
  upper bound of its nesting usually settles the depth; only the rest is scanned as
  YAML events (linear, nothing expanded).
- ``ReadLimits`` and ``ReadBudget``: a size cap per file, a size cap per source (all the
  files of one read) and a time cap for the whole read.
- ``read_manifest_file(path, budget)``: a file's text within the caps, UTF-8 only.
- ``walk_manifest_files(root, boundary, budget)``: the manifest files under a directory;
  links are followed only while they stay inside ``boundary`` (the checkout or the
  directory source's root), and links leaving it, broken links and special files
  (devices, FIFOs, sockets) are skipped and reported.

Every refusal is an ``UnsafeInput`` with a sentence and, when known, a line.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

MiB = 1024 * 1024

MAX_NESTING = 100
"""Deepest nesting of mappings and sequences accepted (Kubernetes objects need ~20)."""

ALIAS_EXPANSION_FACTOR = 4
ALIAS_EXPANSION_MIN = 10_000
"""Aliases may expand a stream to at most max(MIN, FACTOR x the nodes written)."""

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

# libyaml composes recursively in C: fast up to about a thousand levels, quadratic
# beyond, and it crashes the process near 100,000. Deeper input never reaches it.
_COMPOSE_SAFE_DEPTH = 1000
_FLOW_OPENS_QUICK = 390
_LINE_PREFIX_QUICK = 300
# A literal newline first lets the regex engine skip ahead quickly; the first line is
# matched on its own.
_LONG_LINE_PREFIX = re.compile(rf"\n[ \t?:-]{{{_LINE_PREFIX_QUICK}}}")
_LONG_FIRST_LINE_PREFIX = re.compile(rf"[ \t?:-]{{{_LINE_PREFIX_QUICK}}}")

try:  # the C parser when PyYAML has libyaml, as the reader uses
    _Loader: type[yaml.SafeLoader] = yaml.CSafeLoader  # type: ignore[assignment,unused-ignore]
except AttributeError:  # pragma: no cover - PyYAML without libyaml
    _Loader = yaml.SafeLoader


class UnsafeInput(ValueError):
    """Input refused by a limit; ``line`` is 1-based, 0 when not known. ``whole_read``:
    a cap of the whole read (source size, time) was reached, so reading stops."""

    def __init__(self, message: str, line: int = 0, *, whole_read: bool = False) -> None:
        self.message = message
        self.line = line
        self.whole_read = whole_read
        super().__init__(message)


def _megabytes(n: int) -> str:
    return f"{n / MiB:g} MB" if n >= MiB else f"{n} bytes"


# -- YAML pre-checks --------------------------------------------------------------------


def check_yaml_text(text: str) -> None:
    """Raise UnsafeInput for YAML the loader must not compose or expand."""
    has_anchors = "&" in text
    if not has_anchors and (
        _nesting_upper_bound(text) <= _COMPOSE_SAFE_DEPTH or _json_is_shallow(text)
    ):
        return
    _scan_events(text)


def _nesting_upper_bound(text: str) -> int:
    """An upper bound of the nesting depth, from counts only (never below the truth).

    Flow nesting needs one `[` or `{` per level. Block nesting needs more indentation or
    one more compact indicator (`- `, `? `, `: `, two characters each) at the start of
    a line per level, except a sequence directly in a mapping, which may keep the
    indentation but then needs a `- ` for the next level: so a line prefix of L spaces
    and indicators allows at most 2 x L + 2 levels.

    Flow collections end at a `---` that starts a line (libyaml stops there), so the
    opening brackets are counted per document; `{}` and `[]` nest nothing, so all of
    them together add one level at most."""
    opens = _flow_opens(text)
    if opens > _FLOW_OPENS_QUICK:
        opens = max(_flow_opens(chunk) for chunk in text.split("\n---"))
        if opens > _FLOW_OPENS_QUICK:
            return sys.maxsize
    if _LONG_FIRST_LINE_PREFIX.match(text) or _LONG_LINE_PREFIX.search(text):
        return sys.maxsize
    return opens + 2 * _LINE_PREFIX_QUICK + 2


def _flow_opens(chunk: str) -> int:
    empty = chunk.count("{}") + chunk.count("[]")
    return chunk.count("[") + chunk.count("{") - empty + (1 if empty else 0)


def _json_is_shallow(text: str) -> bool:
    """JSON parses within the interpreter's recursion limit, hence under the safe depth."""
    return load_json_text(text) is not None


def load_json_text(text: str, odd: list[str] | None = None) -> list[Any] | None:
    """A JSON text's one document, parsed by the json module, when that is safe; else None.

    Safe: the json module parses within the interpreter's recursion limit, so a text it
    parses nests no deeper than that limit; with the limit at or under the depth the YAML
    loader handles safely, the value needs no ``check_yaml_text`` (JSON has no aliases).
    Text that is not JSON, or a raised recursion limit, gives None: such text goes
    through ``check_yaml_text`` and the YAML loader.

    With `odd`, the numbers the Kubernetes API server would refuse (NaN, infinite, an
    integer beyond 64 bits) are noted there as the scanner meets them, and a NUL escape
    anywhere adds "NUL": an empty `odd` means every value of the text can be stored,
    which spares the caller a walk over every value."""
    if not text.lstrip().startswith(("{", "[")) or sys.getrecursionlimit() > _COMPOSE_SAFE_DEPTH:
        return None
    hooks: dict[str, Any] = {}
    if odd is not None:
        hooks = {"parse_int": _json_int(odd), "parse_float": _json_float(odd), "parse_constant": _json_constant(odd)}
        if "\\u0000" in text:
            odd.append("NUL")
    try:
        return [json.loads(text, **hooks)]
    except (ValueError, RecursionError):
        return None


INT64 = 2**63


def storable_number(value: object) -> bool:
    """False for a number the Kubernetes API server refuses: an integer beyond 64 bits,
    NaN or infinite; True for anything else (the readers and the value walk share it)."""
    if type(value) is int:
        return -INT64 <= value < INT64
    if type(value) is float:
        return value == value and value not in (math.inf, -math.inf)
    return True


def _json_int(odd: list[str]) -> Any:
    def parse(digits: str) -> int:
        value = int(digits)
        if not storable_number(value):
            odd.append(digits)
        return value

    return parse


def _json_float(odd: list[str]) -> Any:
    def parse(text: str) -> float:
        value = float(text)
        if not storable_number(value):
            odd.append(text)
        return value

    return parse


def _json_constant(odd: list[str]) -> Any:
    def parse(name: str) -> float:  # NaN, Infinity, -Infinity
        odd.append(name)
        return float(name)

    return parse


@dataclass
class _Open:
    anchor: str | None
    size: int = 1
    height: int = 0


def _scan_events(text: str) -> None:
    """Walk the YAML events once, sizing each anchored node without expanding it."""
    early_limit = max(ALIAS_EXPANSION_MIN, ALIAS_EXPANSION_FACTOR * len(text))
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (expanded nodes, height)
    stack: list[_Open] = []
    written = 0
    expanded = 0

    def add(size: int, height: int) -> None:
        nonlocal expanded
        if stack:
            stack[-1].size += size
            stack[-1].height = max(stack[-1].height, height)
        else:
            expanded += size

    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1 if event.start_mark else 0
            if isinstance(event, yaml.CollectionStartEvent):
                written += 1
                if len(stack) + 1 > MAX_NESTING:
                    raise UnsafeInput(f"nesting deeper than {MAX_NESTING} levels", line)
                stack.append(_Open(event.anchor))
            elif isinstance(event, yaml.CollectionEndEvent):
                done = stack.pop()
                if done.anchor is not None:
                    sizes[done.anchor] = (done.size, done.height + 1)
                add(done.size, done.height + 1)
            elif isinstance(event, yaml.ScalarEvent):
                written += 1
                if event.anchor is not None:
                    sizes[event.anchor] = (1, 0)
                add(1, 0)
            elif isinstance(event, yaml.AliasEvent):
                written += 1
                name = event.anchor
                if any(o.anchor == name for o in stack):
                    raise UnsafeInput(
                        f"alias *{name} is inside the node &{name} it refers to (a recursive alias)",
                        line,
                    )
                if name not in sizes:
                    continue  # the composer reports the undefined alias with its line
                size, height = sizes[name]
                if len(stack) + height > MAX_NESTING:
                    raise UnsafeInput(f"alias *{name} nests deeper than {MAX_NESTING} levels", line)
                add(size, height)
                if expanded + sum(o.size for o in stack) > early_limit:
                    raise UnsafeInput(_bomb_message(early_limit), line)
    except yaml.YAMLError as exc:
        if "nesting depth" in str(exc):  # libyaml >= 0.2.5 stops at 1000 levels itself
            mark = getattr(exc, "problem_mark", None)
            raise UnsafeInput(
                f"nesting deeper than {MAX_NESTING} levels", mark.line + 1 if mark else 0
            ) from None
        return  # broken YAML: the composer stops at the same place and says where
    limit = max(ALIAS_EXPANSION_MIN, ALIAS_EXPANSION_FACTOR * written)
    if expanded > limit:
        raise UnsafeInput(_bomb_message(limit))


def _bomb_message(limit: int) -> str:
    return (
        f"YAML aliases would expand the input to more than {limit:,} values "
        "(an alias or merge-key bomb); Kubernetes manifests do not need aliases"
    )


# -- reading files within limits --------------------------------------------------------


@dataclass(frozen=True)
class ReadLimits:
    """Caps on one read of manifests: each file, all files together, and time."""

    file_bytes: int = 5 * MiB
    source_bytes: int = 50 * MiB
    seconds: float = 60.0


DEFAULT_LIMITS = ReadLimits()


@dataclass
class ReadBudget:
    """What is left of a read's limits; one budget spans every file of a source."""

    limits: ReadLimits = DEFAULT_LIMITS
    used_bytes: int = 0
    started: float = field(default_factory=time.monotonic)

    def check_time(self) -> None:
        if time.monotonic() - self.started > self.limits.seconds:
            raise UnsafeInput(
                f"reading took longer than the {self.limits.seconds:g} s limit; stopped",
                whole_read=True,
            )

    def file_cap(self) -> int:
        return min(self.limits.file_bytes, max(0, self.limits.source_bytes - self.used_bytes))

    def charge(self, size: int) -> None:
        self.used_bytes += size


def check_text_size(text: str, limits: ReadLimits = DEFAULT_LIMITS) -> None:
    """Pasted or uploaded text is held to the per-file cap."""
    if len(text) > limits.file_bytes:
        raise UnsafeInput(
            f"the text is larger than the {_megabytes(limits.file_bytes)} limit for one file"
        )


def read_manifest_file(path: Path, budget: ReadBudget, *, regular_only: bool = False) -> str:
    """The file's text, at most the per-file cap and what is left of the source's cap.

    A file named on the command line may be a FIFO (`<(helm template ...)`) and is read
    up to the cap; files found by a walk must be regular files (`regular_only`)."""
    budget.check_time()
    flags = os.O_RDONLY | getattr(os, "O_NOCTTY", 0)
    if regular_only:
        flags |= getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        regular = stat.S_ISREG(st.st_mode)
        if regular_only and not regular:
            raise UnsafeInput("not a regular file; skipped")
        cap = budget.file_cap()
        chunks: list[bytes] = []
        size = 0
        while size <= cap:
            # A regular file in one read of its size (and one more to see its end): a
            # read allocates the bytes it asks for, and 1 MiB for each small file of a
            # big directory cost more than reading it. Pipes are read by the MiB.
            want = (st.st_size + 1 if not chunks else 64 * 1024) if regular else 1 * MiB
            chunk = os.read(fd, min(want, cap + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            budget.check_time()
            if regular and len(chunk) < want:
                break  # a regular file's short read is its end: no read of nothing to see it
    finally:
        os.close(fd)
    if size > cap:
        if cap < budget.limits.file_bytes:
            raise UnsafeInput(
                f"the files read add up to more than the {_megabytes(budget.limits.source_bytes)} limit for one source",
                whole_read=True,
            )
        raise UnsafeInput(
            f"file is larger than the {_megabytes(budget.limits.file_bytes)} limit for one file"
        )
    budget.charge(size)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnsafeInput(f"file is not UTF-8 text (byte {exc.start + 1})") from None


# -- walking a directory ----------------------------------------------------------------


@dataclass(frozen=True)
class Skipped:
    """A path a walk left out, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def is_inside(path: str, root: str) -> bool:
    """`path` is `root` or below it (both resolved)."""
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def walk_manifest_files(
    root: Path, boundary: Path | None = None, budget: ReadBudget | None = None
) -> tuple[list[Path], list[Skipped]]:
    """Manifest files under `root` in sorted order, hidden directories left out.

    Links are followed only while their target stays inside `boundary` (default `root`);
    each directory is visited once, so link loops end."""
    limit_root = os.path.realpath(boundary or root)
    found: list[Path] = []
    skipped: list[Skipped] = []
    visited: set[str] = set()
    pending = [Path(root)]
    while pending:
        directory = pending.pop()
        real_dir = os.path.realpath(directory)
        if real_dir in visited:
            continue
        visited.add(real_dir)
        if budget is not None:
            budget.check_time()
        try:
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError as exc:
            skipped.append(Skipped(str(directory), f"cannot list: {exc.strerror or exc}"))
            continue
        subdirs: list[Path] = []
        for entry in entries:
            path = Path(entry.path)
            try:
                if entry.is_symlink():
                    target = os.path.realpath(path)
                    if not is_inside(target, limit_root):
                        skipped.append(
                            Skipped(str(path), "a link to outside the source; not followed")
                        )
                        continue
                    mode = os.stat(path).st_mode
                elif entry.is_file(follow_symlinks=False):  # the type the listing gave,
                    mode = stat.S_IFREG  # no stat call (one per file of a big directory)
                else:
                    mode = entry.stat(follow_symlinks=False).st_mode
            except OSError:
                skipped.append(Skipped(str(path), "a broken link; skipped"))
                continue
            if stat.S_ISDIR(mode):
                if not entry.name.startswith("."):
                    subdirs.append(path)
            elif not entry.name.endswith(MANIFEST_SUFFIXES):
                continue
            elif stat.S_ISREG(mode):
                found.append(path)
            else:
                skipped.append(
                    Skipped(str(path), "not a regular file (a device, FIFO or socket); skipped")
                )
        pending.extend(reversed(subdirs))
    return found, skipped
