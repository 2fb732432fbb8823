"""Credentials in Git URLs are hidden everywhere, parsed rather than pattern-matched:
everything up to the last `@` of the authority."""

from __future__ import annotations

import pytest

from policies.models import DesiredSource
from policies.redaction import redact_credentials
from tests.hostile import within_seconds


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://user:p@ss@host/x.git", "https://***@host/x.git"),
        ("https://user:p@ss@word@git.example:8443/x.git", "https://***@git.example:8443/x.git"),
        ("https://ghp_token123@github.com/o/r.git", "https://***@github.com/o/r.git"),
        ("HTTPS://u:p@[2001:db8::1]:443/r", "HTTPS://***@[2001:db8::1]:443/r"),
        ("ssh://git@host:22/r.git", "ssh://***@host:22/r.git"),
        ("https://u%40x:p%2Fq@host/r", "https://***@host/r"),
        ("https://@host/r", "https://***@host/r"),
        # a password with an unescaped '/' or '#': where it ends is unknowable, hide it all
        ("https://user:pa/ss@host/r.git", "https://***"),
        ("https://user:pa#ss@host/r.git", "https://***"),
        ("https://user:pa?ss@host/r.git", "https://***"),
        # no credentials: untouched, also with '@' in the path, query or a branch
        ("https://host/x.git@main", "https://host/x.git@main"),
        ("https://host:8443/x?ref=a@b", "https://host:8443/x?ref=a@b"),
        ("git@github.com:o/r.git", "git@github.com:o/r.git"),
        ("/srv/repos/r.git", "/srv/repos/r.git"),
        # in a sentence, quoted, and several
        (
            "fatal: unable to access 'https://u:pw@h.example/r.git/': 403 and https://a:b@c/d",
            "fatal: unable to access 'https://***@h.example/r.git/': 403 and https://***@c/d",
        ),
        ("https://user:pa'ss@host/r", "https://***@host/r"),
        # a URL inside another's path or query, IPv6 with a zone, a port out of range
        ("https://u:pw@h/r?mirror=https://a:b@c/d", "https://***@h/r?mirror=https://***@c/d"),
        ("https://h/r?mirror=https://a:b@c/d", "https://h/r?mirror=https://***@c/d"),
        ("ssh://u:pw@[fe80::1%25eth0]:22/r", "ssh://***@[fe80::1%25eth0]:22/r"),
        ("https://u:pw@host:99999/r", "https://***@host:99999/r"),
        ("git+https://u:pw@h/x", "git+https://***@h/x"),
    ],
)
def test_credentials_are_hidden(text, shown):
    assert redact_credentials(text) == shown


def test_a_source_label_hides_the_password_with_an_at_sign():
    source = DesiredSource(kind="git", location="https://user:p@ss@host/x.git", branch="main")
    assert source.label == "https://***@host/x.git@main"


def test_a_directory_label_shows_no_server_path():
    source = DesiredSource(kind="directory", location="/srv/secret/place/policies")
    assert source.label == "directory …/policies"


@pytest.mark.parametrize(
    "text",
    [
        "a+" * 50_000 + "!://",  # every `a` starts a word: the old pattern tried each to the run's end
        "x:// " + "a." * 50_000,
        "https://h/" + "?m=https://h/" * 8_000,  # nested URLs: a RecursionError
        "a://x:y/" * 12_000,  # nested, each authority a user:password without '@'
    ],
    ids=["scheme run", "scheme run after a URL", "nested URLs", "nested user:password"],
)
def test_long_hostile_text_is_redacted_in_linear_time(text):
    with within_seconds(3, "redact_credentials is not linear"):
        shown = redact_credentials(text)
    assert len(shown) <= len(text)


def test_urls_nested_a_thousand_deep_are_all_redacted():
    text = "https://u:pw@h/" + "?m=https://u:pw@h/" * 2000
    assert redact_credentials(text) == "https://***@h/" + "?m=https://***@h/" * 2000
