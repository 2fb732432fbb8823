"""CLI benchmark: `netpolui analyze` end to end on a generated cluster written as one
JSON List file (what `kubectl get -o json` gives), as a user runs it: a child process
reading the file, building the model, analysing and writing the txt connection list to
a file. Wall time and the child's peak resident memory (targets: the
1,000-workload cluster under 1 s; the 5,000-workload / 1,000-namespace / 10,000-policy
cluster under 10 s and 1 GiB, with `--size large`). The same objects as one
multi-document YAML file (what `helm template` gives) and as a directory of one YAML
file per object (a dump of `kubectl get -o yaml`, a GitOps repository) are timed
against the same time target: plain block YAML is read by the engine's line reader
(policies/engine/block_yaml.py), the rest by libyaml.

The same run in process, phase by phase (read, model, analysis and writing), says
where the time goes. Run this part alone with `python -m bench.cli [--size large]`.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench import Figure
from bench.generate import generate_cluster
from policies.engine import Analyzer, build_cluster, load_paths
from policies.engine.formats import write
from policies.engine.pairs import PairTable
from policies.engine.safe_input import ReadLimits

SIZES = {
    "default": {"pods": 10_000, "workloads": 1_000, "namespaces": 200, "policies": 2_000},
    "large": {"pods": 50_000, "workloads": 5_000, "namespaces": 1_000, "policies": 10_000},
}
TARGETS = {"default": (1.0, None), "large": (10.0, 1024.0)}
# The generated files are larger than the reader's default caps (5 MiB a file).
CAPS = ("--max-file-size", "1G", "--max-total-size", "1G")


def _compile_package() -> None:
    """Bytecode for the package, as an installed netpolui has (pip compiles on install):
    with PYTHONDONTWRITEBYTECODE set and no __pycache__, every child would compile the
    engine again (about 80 ms a run) and the figure would measure that."""
    import policies

    compileall.compile_dir(str(Path(policies.__file__).parent), quiet=1)


# The child runs the CLI as the `netpolui` console script does (policies.cli: main, then
# exit_now), then reports its own memory high-water mark (VmHWM): the
# kernel's ru_maxrss of a child started by vfork also counts the parent's pages shared
# until exec, so a benchmark process holding a big cluster would inflate it.
_CHILD = """
import sys
from policies.cli import exit_now, main
try:
    code = main(sys.argv[1:])
finally:
    try:
        with open("/proc/self/status") as status:
            hwm = next((line.split()[1] for line in status if line.startswith("VmHWM:")), "")
    except OSError:
        hwm = ""
    sys.stderr.write(f"\\nVmHWM {hwm}\\n")
exit_now(code)  # as the console script ends
"""


def _child_run(path: Path, out: Path) -> tuple[float, float, float]:
    """(wall seconds, peak RSS in MiB, CPU seconds) of one `netpolui analyze` child.

    The CPU time (user + system) barely moves with the machine's load, where the wall
    time of a busy shared machine may be several times the run's own."""
    t0 = time.perf_counter()
    with open(out, "w") as stdout:
        proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, "analyze", str(path), *CAPS],
            stdout=stdout,
            stderr=subprocess.PIPE,
        )
        assert proc.stderr is not None
        err = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"netpolui analyze exited {proc.returncode}: {err[-500:]}")
    hwm = [
        line.split()[1]
        for line in err.splitlines()
        if line.startswith("VmHWM ") and len(line.split()) == 2
    ]
    peak = int(hwm[-1]) / 1024 if hwm else usage.ru_maxrss / 1024  # kB -> MiB
    return elapsed, peak, usage.ru_utime + usage.ru_stime


class _NoAliases(yaml.CSafeDumper):
    """Writes shared objects out in full, as kubectl and Helm do (no anchors)."""

    def ignore_aliases(self, data: object) -> bool:
        return True


def _phases(path: Path) -> list[tuple[str, float]]:
    # As in the CLI, the garbage collector rests while the input is read and modelled.
    gc.disable()
    try:
        t0 = time.perf_counter()
        inventory = load_paths([path], ReadLimits(file_bytes=2**30, source_bytes=2**30))
        t1 = time.perf_counter()
        cluster = build_cluster(inventory)
        t2 = time.perf_counter()
    finally:
        gc.freeze()
        gc.enable()
    with open(os.devnull, "w") as sink:
        write(PairTable(Analyzer(cluster)), "txt", sink)
    t3 = time.perf_counter()
    gc.unfreeze()
    return [
        ("read the file", t1 - t0),
        ("build the model", t2 - t1),
        ("analyse and write", t3 - t2),
    ]


def run(
    size: str = "default", repeat: int | None = None, *, sizes: dict[str, int] | None = None
) -> list[Figure]:
    sizes = sizes or SIZES[size]
    t_target, mem_target = TARGETS[size]
    repeat = repeat or (3 if size == "default" else 1)
    label = f"{sizes['workloads']:,}-workload cluster"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "cluster.json"
        objects = generate_cluster(**sizes)
        path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
        yaml_path = Path(tmp) / "cluster.yaml"
        with open(yaml_path, "w") as f:
            yaml.dump_all(objects, f, Dumper=_NoAliases)
        yaml_dir = Path(tmp) / "manifests"
        yaml_dir.mkdir()
        for i, obj in enumerate(objects):
            name = f"{i:05d}-{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"
            with open(yaml_dir / name, "w") as f:
                yaml.dump(obj, f, Dumper=_NoAliases)
        out = Path(tmp) / "connections.txt"
        _compile_package()
        yaml_runs = [_child_run(yaml_path, out) for _ in range(repeat)]
        dir_runs = [_child_run(yaml_dir, out) for _ in range(repeat)]
        runs = [_child_run(path, out) for _ in range(repeat)]
        with open(out) as f:
            lines = sum(1 for _ in f)
        print(
            f"netpolui analyze on the {label} ({path.stat().st_size / 2**20:.0f} MiB of JSON): "
            f"{lines:,} lines, {out.stat().st_size / 2**20:.0f} MiB of txt"
        )
        phases = _phases(path)
    elapsed = sorted(t for t, _, _ in runs)[len(runs) // 2]
    cpu = sorted(c for _, _, c in runs)[len(runs) // 2]
    yaml_elapsed = sorted(t for t, _, _ in yaml_runs)[len(yaml_runs) // 2]
    yaml_cpu = sorted(c for _, _, c in yaml_runs)[len(yaml_runs) // 2]
    dir_elapsed = sorted(t for t, _, _ in dir_runs)[len(dir_runs) // 2]
    dir_cpu = sorted(c for _, _, c in dir_runs)[len(dir_runs) // 2]
    files = f"{len(objects):,} files"
    rss = max(m for _, m, _ in runs)
    how = f"median of {repeat}" if repeat > 1 else "one run"
    return [
        Figure("cli", f"analyze, {label}, end to end ({how})", elapsed, "s", t_target),
        Figure("cli", f"analyze, {label}, CPU time of the run ({how})", cpu, "s"),
        Figure("cli", f"analyze, {label}, peak RSS", rss, "MiB", mem_target),
        Figure(
            "cli",
            f"analyze, {label} as multi-document YAML, end to end ({how})",
            yaml_elapsed,
            "s",
            t_target,
        ),
        Figure("cli", f"analyze, {label} as multi-document YAML, CPU time ({how})", yaml_cpu, "s"),
        Figure(
            "cli",
            f"analyze, {label} as a YAML directory ({files}), end to end ({how})",
            dir_elapsed,
            "s",
            t_target,
        ),
        Figure("cli", f"analyze, {label} as a YAML directory, CPU time ({how})", dir_cpu, "s"),
        *(Figure("cli", f"  in process: {name}", t, "s") for name, t in phases),
        Figure("cli", f"analyze, {label}, connections listed", float(lines), ""),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", choices=sorted(SIZES), default="default")
    args = parser.parse_args()
    from bench.__main__ import print_table

    print_table(run(args.size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
