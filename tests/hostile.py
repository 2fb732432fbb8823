"""Hostile manifests shared by the engine, CLI and API tests: each must be refused with a
sentence (ManifestError, exit 2, 400), quickly and without growing the process."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def within_seconds(seconds: int, what: str) -> Iterator[None]:
    """Fail, instead of hanging the suite, when the block runs longer than `seconds`
    (a regular expression that backtracks, a loop quadratic in the input)."""

    def stop(signum: int, frame: object) -> None:
        raise AssertionError(f"{what}: over {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def many_excepts(count: int = 10_000) -> list[str]:
    """`count` /32 holes in 10.0.0.0/8, every other address."""
    return [f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}/32" for i in range(0, 2 * count, 2)]


def alias_bomb() -> str:
    """Billion laughs: nine levels of nine aliases, 9**9 values once expanded."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    names = "abcdefghi"
    for prev, name in zip(names, names[1:], strict=False):
        lines.append(f"{name}: &{name} [" + ",".join(f"*{prev}" for _ in range(9)) + "]")
    return "\n".join(lines) + "\n"


def merge_key_bomb() -> str:
    """The same growth through `<<` merge keys, which look innocent per line."""
    lines = ["a: &a {" + ", ".join(f"x{i}: 1" for i in range(10)) + "}"]
    prev = "a"
    for name in "bcdefghij":
        lines.append(f"{name}: &{name} [" + ", ".join(f"{{<<: *{prev}, k{i}: 1}}" for i in range(10)) + "]")
        prev = name
    return "\n".join(lines) + "\n"


RECURSIVE_ALIAS = (
    "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\n"
    "spec: &a {podSelector: {}, x: *a}\n"
)


def deep_flow(depth: int = 900) -> str:
    return "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: " + "[" * depth + "]" * depth + "\n"


def deep_block(depth: int = 900) -> str:
    return "kind: Pod\nspec:\n" + "".join(" " * i + "x:\n" for i in range(1, depth)) + " " * depth + "y\n"


HOSTILE_TEXT = {
    "alias bomb": (alias_bomb(), "alias or merge-key bomb"),
    "merge-key bomb": (merge_key_bomb(), "alias or merge-key bomb"),
    "recursive alias": (RECURSIVE_ALIAS, "recursive alias"),
    "900-deep flow nesting": (deep_flow(), "nesting deeper than 100 levels"),
    "900-deep block nesting": (deep_block(), "nesting deeper than 100 levels"),
    "a million levels of nesting": (deep_flow(1_000_000), "nesting deeper than 100 levels"),
    # int() refuses the first, and no message can print the second: each was a 500
    "a number of 5,000 digits": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  n: " + "1" * 5000 + "\n", "4300 digits"
    ),
    "a hexadecimal number of 5,000 digits": (
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n  n: 0x" + "f" * 5000 + "\n",
        "more than 4,000 digits",
    ),
    "50 MB": ("kind: Pod\nmetadata: {name: " + "x" * (50 * 1024 * 1024) + "}\n", "larger than the 5 MB limit"),
}
"""name -> (YAML text, words of the refusal)."""

NON_UTF8 = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: caf\xe9\n"
