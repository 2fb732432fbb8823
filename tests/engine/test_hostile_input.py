"""Hostile and careless input to the manifest reader and the CLI: alias and merge-key
bombs, recursive aliases, deep nesting, huge or non-UTF-8 files, links leaving a
directory, devices and FIFOs. Each is refused with one sentence (exit 2), fast and small."""

from __future__ import annotations

import os
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import yaml

from policies.engine import ManifestError, load_paths, load_yaml_text
from policies.engine.safe_input import ReadLimits
from tests.hostile import HOSTILE_TEXT, NON_UTF8, deep_flow, many_excepts, within_seconds

from .builders import netpol, pod


@pytest.mark.parametrize("name", list(HOSTILE_TEXT))
def test_hostile_yaml_text_is_refused_with_one_sentence_and_little_memory(name: str) -> None:
    text, words = HOSTILE_TEXT[name]
    tracemalloc.start()
    try:
        with pytest.raises(ManifestError) as info:
            load_yaml_text(text, "paste")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    (error,) = info.value.errors
    assert words in error.message
    assert "\n" not in str(error)
    assert peak < 50 * 1024 * 1024


def test_aliases_that_expand_moderately_are_still_read() -> None:
    text = (
        "kind: List\nitems:\n"
        "- {kind: Pod, metadata: {name: a, labels: &l {app: web, tier: front}}}\n"
        "- {kind: Pod, metadata: {name: b, labels: *l}}\n"
        "- kind: Pod\n  metadata:\n    name: c\n    labels:\n      <<: *l\n      extra: 'yes'\n"
    )
    objs = load_yaml_text(text)
    assert [o["metadata"]["labels"] for o in objs] == [
        {"app": "web", "tier": "front"},
        {"app": "web", "tier": "front"},
        {"app": "web", "tier": "front", "extra": "yes"},
    ]


def test_nesting_up_to_the_limit_is_read_and_one_more_level_is_refused() -> None:
    # 3 levels of the object itself + the nested lists under spec
    ok = "kind: Pod\nmetadata: {name: a}\nspec: " + "[" * 99 + "]" * 99 + "\n"
    assert load_yaml_text(ok)[0]["kind"] == "Pod"
    with pytest.raises(ManifestError, match="nesting deeper than 100 levels"):
        load_yaml_text(deep_flow(100))


def test_big_json_documents_are_read_without_a_yaml_event_scan() -> None:
    # Many flow collections: the quick bound cannot settle the depth, JSON does.
    docs = [pod("a", f"p{i}", {"app": f"x{i}"}) for i in range(300)]
    import json

    text = json.dumps({"apiVersion": "v1", "kind": "List", "items": docs})
    assert len(load_yaml_text(text)) == 300


def test_anchors_in_quoted_strings_do_not_confuse_the_scan() -> None:
    text = "kind: Pod\nmetadata: {name: a, annotations: {note: 'R&D & ops'}}\n"
    assert load_yaml_text(text)[0]["metadata"]["annotations"]["note"] == "R&D & ops"


def write(path: Path, docs: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(docs))
    return path


def test_a_file_over_the_cap_is_an_error_naming_the_cap(tmp_path: Path) -> None:
    f = write(tmp_path / "big.yaml", [pod("a", f"p{i}") for i in range(200)])
    with pytest.raises(ManifestError) as info:
        load_paths([f], ReadLimits(file_bytes=1000))
    (error,) = info.value.errors
    assert error.file == str(f)
    assert "larger than the 1000 bytes limit for one file" in error.message


def test_files_adding_up_over_the_source_cap_stop_the_read(tmp_path: Path) -> None:
    for i in range(5):
        write(tmp_path / f"f{i}.yaml", [pod("a", f"p{i}-{j}") for j in range(10)])
    size = (tmp_path / "f0.yaml").stat().st_size
    with pytest.raises(ManifestError) as info:
        load_paths([tmp_path], ReadLimits(source_bytes=size * 3))
    assert [e.message for e in info.value.errors] == [
        f"the files read add up to more than the {size * 3} bytes limit for one source"
    ]


def test_non_utf8_file_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "latin1.yaml"
    f.write_bytes(NON_UTF8)
    with pytest.raises(ManifestError, match="not UTF-8 text"):
        load_paths([f])


def test_links_leaving_the_directory_and_devices_are_skipped_with_notes(tmp_path: Path) -> None:
    outside = write(tmp_path / "secret" / "leak.yaml", [netpol("a", "leaked")])
    root = tmp_path / "repo"
    write(root / "good.yaml", [netpol("a", "kept")])
    (root / "leak.yaml").symlink_to(outside)
    (root / "z.yaml").symlink_to("/dev/zero")
    (root / "escape").symlink_to(outside.parent, target_is_directory=True)
    (root / "inside.yaml").symlink_to(root / "good.yaml")
    (root / "loop").symlink_to(root, target_is_directory=True)
    os.mkfifo(root / "pipe.yaml")
    inv = load_paths([root])
    names = sorted(o["metadata"]["name"] for o in inv.objects)
    assert names == ["kept", "kept"]  # good.yaml and the link to it inside the directory
    notes = "\n".join(inv.notes)
    for skipped in ("leak.yaml", "z.yaml", "escape"):
        assert f"{root / skipped}: a link to outside the source; not followed" in notes
    assert f"{root / 'pipe.yaml'}: not a regular file" in notes


def test_a_fifo_named_on_the_command_line_is_read(tmp_path: Path) -> None:
    fifo = tmp_path / "in.yaml"
    os.mkfifo(fifo)
    text = yaml.safe_dump(pod("a", "p"))
    writer = subprocess.Popen([sys.executable, "-c", f"open({str(fifo)!r}, 'w').write({text!r})"])
    try:
        inv = load_paths([fifo])
    finally:
        writer.wait(timeout=30)
    assert [o["metadata"]["name"] for o in inv.objects] == ["p"]


def run_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policies.engine.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("name", list(HOSTILE_TEXT))
def test_cli_exits_2_with_one_line_on_hostile_yaml(tmp_path: Path, name: str) -> None:
    text, words = HOSTILE_TEXT[name]
    f = tmp_path / "in.yaml"
    f.write_text(text)
    res = run_cli("analyze", f)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    (line,) = res.stderr.splitlines()
    assert line.startswith(f"{f}:")
    assert words in line


def test_cli_size_caps_are_flags(tmp_path: Path) -> None:
    f = write(tmp_path / "p.yaml", [pod("a", f"p{i}") for i in range(50)])
    res = run_cli("analyze", f, "--max-file-size", "1k")
    assert res.returncode == 2
    assert res.stderr.strip() == f"{f}: file is larger than the 1024 bytes limit for one file (see --max-file-size)"
    assert run_cli("analyze", f, "--max-file-size", "1M").returncode == 0
    res = run_cli("analyze", f, "--max-file-size", "lots")
    assert res.returncode == 2
    assert "'lots' is not a size" in res.stderr


def test_cli_refuses_dev_zero_named_directly(tmp_path: Path) -> None:
    res = run_cli("lint", "/dev/zero", "--max-file-size", "1M")
    assert res.returncode == 2
    assert res.stderr.strip() == "/dev/zero: file is larger than the 1 MB limit for one file (see --max-file-size)"


@pytest.mark.parametrize("name", [*HOSTILE_TEXT, "non-UTF-8"])
def test_every_cli_command_exits_2_with_one_line_on_hostile_yaml(tmp_path: Path, name: str) -> None:
    """lint, explain and diff (either side), and a file read from standard input."""
    f = tmp_path / "in.yaml"
    if name == "non-UTF-8":
        f.write_bytes(NON_UTF8)
        words = "not UTF-8"
    else:
        text, words = HOSTILE_TEXT[name]
        f.write_text(text)
    ok = write(tmp_path / "ok.yaml", [pod("a", "p")])
    for args in (["lint", f], ["explain", "--src", "a/p", "--dst", "a/p", f], ["diff", ok, f], ["diff", f, ok]):
        res = run_cli(*args)
        assert res.returncode == 2, args
        (line,) = res.stderr.splitlines()
        assert line.startswith(f"{f}:")
        assert words in line
    with f.open("rb") as stdin:
        res = subprocess.run([sys.executable, "-m", "policies.engine.cli", "analyze", "/dev/stdin"],
                             stdin=stdin, capture_output=True, text=True, timeout=60, check=False)
    assert res.returncode == 2
    (line,) = res.stderr.splitlines()
    assert line.startswith("/dev/stdin:")
    assert words in line


def test_an_ip_block_with_ten_thousand_excepts_is_read_in_linear_time() -> None:
    """Each except was cut out of every range the earlier ones left: 8 s for 10,000."""
    from policies.engine import build_cluster

    excepts = many_excepts(10_000)
    policy = netpol("shop", "p", ingress=[{"from": [{"ipBlock": {"cidr": "10.0.0.0/8", "except": excepts}}]}])
    with within_seconds(3, "an ipBlock's excepts are not read in linear time"):
        built = build_cluster([policy])
    (peer,) = built.policies[0].ingress[0].peers
    assert peer.ip_block is not None
    assert len(peer.ip_block.ranges) == 10_000  # the address between each two, and the rest



@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        # int() refuses more than 4,300 digits: a ValueError got past the YAML errors (a 500)
        ("kind: ConfigMap\ndata:\n  port: " + "1" * 5000 + "\n", 3, "4300 digits"),
        ("kind: ConfigMap\ndata:\n  ports: [80, " + "1_" * 5000 + "1]\n", 3, "4300 digits"),
        ('{"kind": "ConfigMap", "data": {"port": ' + "1" * 5000 + "}}", 1, "4300 digits"),
        ("kind: ConfigMap\ndata:\n  day: 2001-13-45\n", 3, "month must be in 1..12"),  # a date by its look
        # int() takes these, but no message can print the number (a 500 at the first one)
        ("kind: ConfigMap\ndata:\n  port: 0x" + "f" * 5000 + "\n", 3, "more than 4,000 digits"),
        ("kind: ConfigMap\ndata:\n  port: 0b" + "1" * 20_000 + "\n", 3, "more than 4,000 digits"),
        ("a: &a {b: 1}\nc: {<<: *a, d: -0x" + "f" * 5000 + "}\n", 2, "more than 4,000 digits"),
    ],
    ids=["5,000 digits", "in a flow list", "in JSON", "a date that is none", "hexadecimal", "binary", "with a merge key"],
)
def test_a_value_the_constructor_cannot_build_is_an_error_with_its_line(text: str, line: int, words: str) -> None:
    with pytest.raises(ManifestError) as info:
        load_yaml_text(text, "paste")
    (error,) = info.value.errors
    assert words in error.message
    assert error.line == line
