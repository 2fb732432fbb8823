"""Drift review: the policies a team intends, compared with the policies the cluster runs.

- Desired state (``read_desired_state``): the union of a cluster's enabled
  ``DesiredSource`` rows -- approved drafts, a directory of manifests, a Git repository
  (cloned and fetched with the git command line into ``settings.NETPOLUI_GIT_DIR``) or
  an uploaded multi-document YAML file. A bad source is reported, never fatal: a source
  that cannot be read at all (unreachable URL, missing branch or directory, unparsable
  upload) stops the comparison, since its policies would otherwise all look "extra";
  a broken file or a policy the API server would reject is recorded with file and line
  and left out (the live policy of that name is then not reported either).
- Comparison (``compare``): per policy (namespace/name) missing in the cluster, extra in
  the cluster, or changed. "Changed" is semantic: ``engine.normalize_policy`` applies
  the API server's defaults and compares peers, ports and rules as sets, so a reordered
  or re-defaulted policy is not drift.
- Reachability (``reachability_effects``): what the live cluster allows that the desired
  state does not ("live_only") and the reverse ("desired_only"), by workload and port,
  in all and per difference, from the engine's Analyzer and diff_reachability; and the
  coverage findings of the desired state.
- Reports (``compute_drift``): stored with a timestamp; a difference keeps the time it
  first appeared while it persists. A run that finds what the latest report holds only
  updates its ``checked_at``, so the history lists changes.
- Exports: ``reconcile_yaml`` makes the cluster match the desired state; ``adopt_yaml``
  takes the live policies into the desired state.
"""

from __future__ import annotations

import contextlib
import difflib
import fcntl
import hashlib
import ipaddress
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import audit, engine
from ..choices import SEVERITY_RANK
from ..models import (
    Cluster,
    DesiredSource,
    DriftItem,
    DriftReport,
    NetworkPolicy,
    PolicyDraft,
)
from ..redaction import redact_credentials
from ..roles import ADMIN, has_role
from . import analysis

log = logging.getLogger(__name__)

# Caps that keep a report's JSON bounded on big clusters; counts always give the totals.
CONNECTION_LIMIT = 500
ITEM_CONNECTION_LIMIT = 200
EFFECT_ITEM_LIMIT = 200
FINDING_LIMIT = 500
KIND_ORDER = {DriftItem.Kind.MISSING: 0, DriftItem.Kind.CHANGED: 1, DriftItem.Kind.EXTRA: 2}
COVERAGE_CODES = ("namespace-without-policy", "ingress-not-isolated", "egress-not-isolated")


def git_timeout() -> int:
    return int(getattr(settings, "NETPOLUI_GIT_TIMEOUT", 120))


def keep_reports() -> int:
    return int(getattr(settings, "NETPOLUI_DRIFT_KEEP_REPORTS", 1000))


# --- reading the desired state -------------------------------------------------------------------


class SourceUnreadable(Exception):
    """The source could not be read at all; the message says why, in words."""


@dataclass(frozen=True)
class SourceProblem:
    """Something wrong in one source: `file:line: message` when a file is known."""

    source_id: int | None
    source_label: str
    message: str
    file: str = ""
    line: int = 0
    fatal: bool = False

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.file and self.line else self.file
        return f"{where}: {self.message}" if where else self.message

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source_id,
            "source_label": self.source_label,
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "fatal": self.fatal,
            "text": str(self),
        }


@dataclass(frozen=True)
class DesiredPolicy:
    obj: dict[str, Any]
    origin: str
    source_id: int | None = None


@dataclass
class SourceRead:
    """What one source gave: valid policies, keys it defines invalidly, problems."""

    policies: list[DesiredPolicy] = field(default_factory=list)
    invalid_keys: set[str] = field(default_factory=set)
    problems: list[SourceProblem] = field(default_factory=list)
    revision: str = ""
    skipped: int = 0
    # key -> where it was defined, across every file of the source
    seen: dict[str, str] = field(default_factory=dict)


@dataclass
class DesiredState:
    policies: dict[str, DesiredPolicy] = field(default_factory=dict)
    # Namespaces the sources speak for; None: every namespace.
    scope: frozenset[str] | None = None
    # Keys defined by a source but invalid there: left out of the comparison.
    ignored: set[str] = field(default_factory=set)
    problems: list[SourceProblem] = field(default_factory=list)
    sources: list[dict[str, Any]] = field(default_factory=list)

    @property
    def fatal(self) -> bool:
        return any(p.fatal for p in self.problems)

    def covers(self, namespace: str) -> bool:
        return self.scope is None or namespace in self.scope


def policy_key(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    return f"{meta.get('namespace') or 'default'}/{meta.get('name')}"


def _with_namespace(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The policy with its namespace spelled out: `kubectl apply` of a manifest without
    one would put it in the namespace of whoever applies it, not in `default`."""
    out = dict(obj)
    meta = dict(out.get("metadata") or {})
    meta.setdefault("namespace", "default")
    if not meta["namespace"]:
        meta["namespace"] = "default"
    out["metadata"] = meta
    return out


def _policies_from_inventory(
    source: DesiredSource,
    inventory: engine.Inventory,
    relative: Callable[[str], str],
    out: SourceRead,
) -> None:
    seen = out.seen
    for obj, loc in zip(inventory.objects, inventory.locations, strict=True):
        if obj.get("kind") != "NetworkPolicy":
            out.skipped += 1
            continue
        file = relative(loc.file)
        key = policy_key(obj)
        errors = engine.validate_network_policy(obj)
        if errors:
            out.invalid_keys.add(key)
            for e in errors:
                out.problems.append(
                    SourceProblem(source.pk, source.label, str(e), file, loc.line_of(e.path))
                )
            continue
        where = f"{file}:{loc.line}" if loc.line else file
        if key in seen:
            out.problems.append(
                SourceProblem(
                    source.pk,
                    source.label,
                    f"NetworkPolicy {key} is defined twice ({seen[key]} and {where}); the later one is used",
                    file,
                    loc.line,
                )
            )
            out.policies = [p for p in out.policies if policy_key(p.obj) != key]
        seen[key] = where
        out.policies.append(DesiredPolicy(_with_namespace(obj), where, source.pk))


def read_limits() -> engine.ReadLimits:
    """Caps on reading one directory or Git source (settings NETPOLUI_SOURCE_*)."""
    mib = 1024 * 1024
    return engine.ReadLimits(
        file_bytes=int(getattr(settings, "NETPOLUI_SOURCE_FILE_MB", 5) * mib),
        source_bytes=int(getattr(settings, "NETPOLUI_SOURCE_TOTAL_MB", 50) * mib),
        seconds=float(getattr(settings, "NETPOLUI_SOURCE_READ_SECONDS", 60)),
    )


def read_manifest_dir(source: DesiredSource, root: Path, display_root: Path | None = None) -> SourceRead:
    """Every NetworkPolicy under `root`, file by file, so one broken file does not hide
    the others; file names in messages are relative to `display_root`.

    Links are followed only inside `display_root` (the checkout, or the directory);
    links leaving it, broken links and special files are skipped and reported. Each
    file, the whole source and the time spent are capped (read_limits); a source over
    its size or time cap cannot be read at all."""
    out = SourceRead()
    base = display_root or root
    base_real = Path(os.path.realpath(base))

    def relative(name: str) -> str:
        for start in (base, base_real):
            try:
                return str(Path(name).relative_to(start))
            except ValueError:
                continue
        return Path(name).name  # never a server path

    budget = engine.ReadBudget(read_limits())
    try:
        files, skipped = engine.walk_manifest_files(root, boundary=base, budget=budget)
    except engine.UnsafeInput as exc:
        raise SourceUnreadable(exc.message) from None
    for left_out in skipped:
        out.problems.append(SourceProblem(source.pk, source.label, left_out.reason, relative(left_out.path)))
    for path in files:
        try:
            text = engine.read_manifest_file(path, budget, regular_only=True)
            inventory = engine.load_text(text, str(path), skip_without_objects=True)
        except engine.UnsafeInput as exc:
            if exc.whole_read:
                raise SourceUnreadable(exc.message) from None
            out.problems.append(
                SourceProblem(
                    source.pk, source.label, f"{exc.message}; the policies of this file are left out", relative(str(path))
                )
            )
            continue
        except OSError as exc:
            out.problems.append(
                SourceProblem(source.pk, source.label, f"cannot read: {exc.strerror or 'input/output error'}", relative(str(path)))
            )
            continue
        except engine.ManifestError as exc:
            for e in exc.errors:
                out.problems.append(
                    SourceProblem(
                        source.pk,
                        source.label,
                        f"{e.message}; the policies of this file are left out",
                        relative(e.file),
                        e.line,
                    )
                )
            continue
        _policies_from_inventory(source, inventory, relative, out)
    return out


def read_upload(source: DesiredSource) -> SourceRead:
    out = SourceRead()
    name = source.file_name or "uploaded YAML"
    if not source.yaml_text.strip():
        raise SourceUnreadable(f"{name} is empty")
    try:
        objs = engine.load_yaml_text(source.yaml_text, source=name)
    except engine.ManifestError as exc:
        raise SourceUnreadable("; ".join(str(e) for e in exc.errors)) from None
    inventory = engine.Inventory()
    for i, obj in enumerate(objs):
        # Documents are counted as people count them: the first is document 1.
        inventory.add(obj, engine.Location(f"{name}, document {i + 1}"))
    _policies_from_inventory(source, inventory, lambda f: f, out)
    return out


def read_drafts(source: DesiredSource) -> SourceRead:
    out = SourceRead()
    # An approved deletion draft wants its policy gone: it defines no desired policy.
    drafts = PolicyDraft.objects.filter(
        cluster_id=source.cluster_id, status=PolicyDraft.Status.APPROVED
    ).exclude(action=PolicyDraft.Action.DELETE)
    for draft in drafts.order_by("namespace", "name"):
        obj = dict(draft.obj)
        meta = dict(obj.get("metadata") or {})
        meta.setdefault("name", draft.name)
        meta.setdefault("namespace", draft.namespace)
        obj["metadata"] = meta
        key = policy_key(obj)
        origin = f"approved draft {key} (revision {draft.revision})"
        errors = engine.validate_network_policy(obj)
        if errors:
            out.invalid_keys.add(key)
            out.problems.extend(SourceProblem(source.pk, source.label, str(e), origin) for e in errors)
            continue
        out.policies.append(DesiredPolicy(_with_namespace(obj), origin, source.pk))
    return out


def _subdirectory(base: Path, subdirectory: str) -> Path:
    """`subdirectory` of `base`, which must stay inside `base` once links are resolved."""
    sub = subdirectory.strip("/")
    if not sub:
        return base
    root = base / sub
    if not engine.is_inside(os.path.realpath(root), os.path.realpath(base)):
        raise SourceUnreadable(f"sub-directory {sub!r} leads outside the source (through a link); it is not read")
    return root


def read_directory(source: DesiredSource) -> SourceRead:
    # Messages never name the directory: its location is shown to admins only.
    base = Path(source.location).expanduser()
    if not base.is_dir():
        raise SourceUnreadable("the directory does not exist" if not base.exists() else "the location is not a directory")
    root = _subdirectory(base, source.subdirectory)
    if not root.exists():
        raise SourceUnreadable(f"sub-directory {source.subdirectory.strip('/')!r} does not exist")
    if not root.is_dir():
        raise SourceUnreadable(f"sub-directory {source.subdirectory.strip('/')!r} is not a directory")
    return read_manifest_dir(source, root, display_root=base)


def read_git(source: DesiredSource) -> SourceRead:
    checkout, revision = git_checkout(source)
    root = _subdirectory(checkout, source.subdirectory)
    if not root.is_dir():
        raise SourceUnreadable(
            f"sub-directory {source.subdirectory.strip('/')!r} does not exist in "
            f"{shown_location(source)} at commit {revision[:12]}"
        )
    out = read_manifest_dir(source, root, display_root=checkout)
    out.revision = revision
    return out


READERS: dict[str, Callable[[DesiredSource], SourceRead]] = {
    DesiredSource.Kind.DRAFTS: read_drafts,
    DesiredSource.Kind.DIRECTORY: read_directory,
    DesiredSource.Kind.GIT: read_git,
    DesiredSource.Kind.UPLOAD: read_upload,
}


def read_source(source: DesiredSource) -> SourceRead:
    """Read one source; a source that cannot be read gives one fatal problem."""
    try:
        result = READERS[source.kind](source)
    except SourceUnreadable as exc:
        result = SourceRead(problems=[SourceProblem(source.pk, source.label, str(exc), fatal=True)])
    except OSError as exc:
        # strerror only: the exception's text names server paths.
        result = SourceRead(
            problems=[SourceProblem(source.pk, source.label, f"cannot read: {exc.strerror or 'input/output error'}", fatal=True)]
        )
    wanted = set(source.namespace_list)
    if wanted:
        kept = [p for p in result.policies if policy_key(p.obj).split("/", 1)[0] in wanted]
        result.skipped += len(result.policies) - len(kept)
        result.policies = kept
        result.invalid_keys = {k for k in result.invalid_keys if k.split("/", 1)[0] in wanted}
    if source.pk is None:  # given on the command line, not stored
        return result
    DesiredSource.objects.filter(pk=source.pk).update(
        last_fetched_at=timezone.now(),
        revision=result.revision or (source.revision if source.kind == DesiredSource.Kind.GIT else ""),
        last_error="\n".join(str(p) for p in result.problems),
    )
    return result


def read_desired_state(cluster: Cluster, sources: Iterable[DesiredSource] | None = None) -> DesiredState:
    """The union of the cluster's enabled sources (the first source defining a policy wins)."""
    if sources is None:
        sources = DesiredSource.objects.filter(cluster=cluster, enabled=True).order_by("pk")
    state = DesiredState()
    scope: set[str] = set()
    everywhere = False
    owner: dict[str, DesiredSource] = {}
    for source in sources:
        result = read_source(source)
        state.problems.extend(result.problems)
        if source.namespace_list:
            scope.update(source.namespace_list)
        else:
            everywhere = True
        for policy in result.policies:
            key = policy_key(policy.obj)
            if key in state.policies:
                first = owner[key]
                state.problems.append(
                    SourceProblem(
                        source.pk,
                        source.label,
                        f"NetworkPolicy {key} is also defined by {first.label}; that definition is used",
                        policy.origin,
                    )
                )
                continue
            state.policies[key] = policy
            owner[key] = source
        state.ignored |= {k for k in result.invalid_keys if k not in state.policies}
        state.sources.append(
            {
                "id": source.pk,
                "kind": source.kind,
                "label": source.label,
                "revision": result.revision,
                "namespaces": source.namespace_list,
                "policies": len(result.policies),
                "skipped": result.skipped,
                "problems": len(result.problems),
            }
        )
    state.scope = None if everywhere else frozenset(scope)
    return state


# --- Git -------------------------------------------------------------------------------------------

_SCP_LIKE = re.compile(r"^[\w.-]+@[\w.-]+:")
GIT_SCHEMES = ("https://", "http://", "ssh://", "git://", "file://")


def redact(text: str) -> str:
    """Hide user:password in URLs (tokens in clone URLs must never reach a page)."""
    return redact_credentials(text)


def is_local_git_location(location: str) -> bool:
    return location.startswith(("/", "~", "file://", "."))


def git_location_error(location: str) -> str | None:
    """Why `location` is not a Git URL or repository path we will clone, or None."""
    location = location.strip()
    if not location:
        return "give the repository URL or path"
    if location.startswith("-"):
        return "must not start with '-'"
    if location.startswith(GIT_SCHEMES) or _SCP_LIKE.match(location) or location.startswith(("/", "~")):
        return None
    return "must be an https://, ssh://, git:// or file:// URL, user@host:path, or an absolute path"


def _git_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            # Never wait for a password or a host-key answer: fail and say so.
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": "true",
            "SSH_ASKPASS": "true",
            "GIT_SSH_COMMAND": env.get("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o ConnectTimeout=20"),
            "LC_ALL": "C",
        }
    )
    return env


class GitFailed(SourceUnreadable):
    def __init__(self, what: str, reason: str) -> None:
        self.what = what
        self.reason = reason
        super().__init__(f"{what} failed: {reason}")


def _run_git(args: Sequence[str], cwd: Path, what: str, *, restricted: bool = False) -> str:
    command = ["git", "-c", "protocol.ext.allow=never", "-c", "core.hooksPath=/dev/null"]
    if restricted:
        # No redirect to another host, and no protocol but the ones allowed.
        command += ["-c", "http.followRedirects=false", "-c", "protocol.allow=never", "-c", "protocol.https.allow=always"]
        if getattr(settings, "NETPOLUI_GIT_SSH", False):
            command += ["-c", "protocol.ssh.allow=always"]
    command += list(args)
    try:
        # A session of its own, so a timeout ends git's helpers (ssh, remote-https) too.
        process = subprocess.Popen(
            command,
            cwd=cwd,
            env=_git_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise GitFailed(what, "the git command is not installed on the netpolui server") from None
    try:
        stdout, stderr = process.communicate(timeout=git_timeout())
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise GitFailed(what, f"timed out after {git_timeout()} s") from None
    if process.returncode != 0:
        raise GitFailed(what, _git_reason(stderr))
    return stdout


def _git_reason(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    fatal = [line.removeprefix("fatal:").strip() for line in lines if line.startswith(("fatal:", "error:"))]
    chosen = fatal[-1] if fatal else (lines[-1] if lines else "no message from git")
    return redact(chosen)


def shown_location(source: DesiredSource) -> str:
    """The location as pages show it: credentials hidden, a server path shortened to its
    last part (the full path is for admins, in the source's settings)."""
    location = source.location.strip()
    if is_local_git_location(location):
        return "…/" + (location.rstrip("/").rsplit("/", 1)[-1] or "/")
    return redact(location)


def _explain_git_failure(source: DesiredSource, exc: GitFailed) -> str:
    """One sentence for every failure to fetch: telling "no such branch" from "connection
    refused" from "timed out" would let whoever adds a source map the server's network.
    The reason goes to the server log (credentials hidden) for the admin."""
    url = shown_location(source)
    log.warning("desired-state source %s: %s failed: %s", source.pk or redact(source.location), exc.what, exc.reason)
    branch = f" (branch {source.branch!r})" if source.branch else ""
    if exc.what.startswith(("git clone", "git fetch")):
        return (
            f"cannot fetch the Git repository {url}{branch}: the address, branch or credentials are wrong, "
            "or the host cannot be reached; the server log has the details"
        )
    return f"Git repository {url}: {exc.what} failed; the server log has the details"


# --- which Git locations non-admins may fetch (no requests into the server's own network) ---


def _git_host(location: str) -> tuple[str, str] | None:
    """(scheme, host) of a remote Git location, or None for a local one."""
    location = location.strip()
    if location.startswith(("https://", "http://", "ssh://", "git://")):
        parts = urlsplit(location)
        return parts.scheme.lower(), (parts.hostname or "")
    if _SCP_LIKE.match(location):
        return "ssh", location.split("@", 1)[1].split(":", 1)[0].strip("[]")
    return None


def _host_allowed_by_admin(host: str, addresses: Sequence[ipaddress.IPv4Address | ipaddress.IPv6Address]) -> bool:
    for entry in getattr(settings, "NETPOLUI_GIT_ALLOWED_HOSTS", []):
        entry = entry.strip().lower()
        if "/" in entry:
            with contextlib.suppress(ValueError):
                network = ipaddress.ip_network(entry, strict=False)
                if addresses and all(a in network for a in addresses):
                    return True
        elif entry == host.lower():
            return True
    return False


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    found = []
    for info in infos:
        with contextlib.suppress(ValueError):
            found.append(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]))
    return found


def git_remote_error(location: str) -> str | None:
    """Why a non-admin may not fetch from `location`, or None.

    https:// only (ssh:// and user@host:path too with NETPOLUI_GIT_SSH), to a host whose
    every address is public: loopback, link-local, private and other special ranges
    are refused unless NETPOLUI_GIT_ALLOWED_HOSTS lists the host or its network."""
    ssh = bool(getattr(settings, "NETPOLUI_GIT_SSH", False))
    found = _git_host(location)
    schemes = ("https", "ssh") if ssh else ("https",)
    if found is None or found[0] not in schemes:
        kinds = "an https:// URL, ssh:// URL or user@host:path" if ssh else "an https:// URL"
        return f"must be {kinds} (other locations are for admins)"
    host = found[1]
    if not host:
        return "has no host name"
    addresses = _addresses(host)
    if _host_allowed_by_admin(host, addresses):
        return None
    # A name that does not resolve reaches nothing; the fetch checks again.
    if any(not a.is_global or a.is_multicast for a in addresses):
        return (
            f"host {host!r} is on a loopback, link-local or private network; "
            "an admin can allow it with NETPOLUI_GIT_ALLOWED_HOSTS"
        )
    return None


def _restricted(source: DesiredSource) -> bool:
    """Sources added by non-admins fetch under git_remote_error's rules, checked again
    at every fetch (a name may resolve elsewhere by then), without redirects."""
    # Sources without a creator come from operators (the drift command, the admin site).
    creator = source.created_by if source.pk is not None else None
    return creator is not None and not has_role(creator, ADMIN)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One fetch per checkout at a time, across processes (workers, beat, the command)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def checkout_name(source: DesiredSource) -> str:
    """The checkout's directory under NETPOLUI_GIT_DIR: per stored source, or per
    location for a source given on the command line."""
    if source.pk:
        return f"source-{source.pk}"
    return "adhoc-" + hashlib.sha256(source.location.strip().encode()).hexdigest()[:16]


def git_checkout(source: DesiredSource) -> tuple[Path, str]:
    """Clone (first time) or fetch and reset the source's checkout; (path, commit)."""
    error = git_location_error(source.location)
    if error:
        raise SourceUnreadable(f"Git location {redact(source.location)!r} {error}")
    restricted = _restricted(source)
    if restricted and (error := git_remote_error(source.location)):
        raise SourceUnreadable(f"Git location {redact(source.location)!r} {error}")
    root = Path(settings.NETPOLUI_GIT_DIR)
    name = checkout_name(source)
    target = root / name
    location = os.path.expanduser(source.location.strip())
    with _locked(root / f"{name}.lock"):
        try:
            if not (target / ".git").is_dir():
                shutil.rmtree(target, ignore_errors=True)
                partial = root / f"{name}.partial"
                shutil.rmtree(partial, ignore_errors=True)
                branch = ["--branch", source.branch] if source.branch else []
                _run_git(
                    ["clone", "--quiet", "--no-tags", "--single-branch", "--depth", "1", *branch, "--", location, str(partial)],
                    root,
                    f"git clone of {redact(source.location)}",
                    restricted=restricted,
                )
                partial.rename(target)
            else:
                _run_git(["remote", "set-url", "origin", location], target, "git remote set-url")
                _run_git(
                    ["fetch", "--quiet", "--no-tags", "--depth", "1", "origin", source.branch or "HEAD"],
                    target,
                    f"git fetch of {redact(source.location)}",
                    restricted=restricted,
                )
                _run_git(["reset", "--quiet", "--hard", "FETCH_HEAD"], target, "git reset")
                _run_git(["clean", "--quiet", "-ffdx"], target, "git clean")
            revision = _run_git(["rev-parse", "HEAD"], target, "git rev-parse").strip()
        except GitFailed as exc:
            raise SourceUnreadable(_explain_git_failure(source, exc)) from None
    return target, revision


def forget_checkout(source_id: int) -> None:
    """Remove a deleted source's checkout."""
    root = Path(settings.NETPOLUI_GIT_DIR)
    shutil.rmtree(root / f"source-{source_id}", ignore_errors=True)
    with contextlib.suppress(OSError):
        (root / f"source-{source_id}.lock").unlink()


# --- comparison ----------------------------------------------------------------------------------


@dataclass
class Difference:
    kind: str
    namespace: str
    name: str
    desired: dict[str, Any] = field(default_factory=dict)
    live: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    effect: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"


def semantically_equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal after the API server's defaults, with peers, ports and rules as sets."""
    try:
        return engine.normalize_policy(a) == engine.normalize_policy(b)
    except (TypeError, ValueError, AttributeError, KeyError):
        return engine.clean_policy(a) == engine.clean_policy(b)


def compare(
    desired: Mapping[str, DesiredPolicy],
    live: Mapping[str, Mapping[str, Any]],
    *,
    covers: Callable[[str], bool] = lambda namespace: True,
    ignored: Iterable[str] = (),
) -> tuple[list[Difference], int]:
    """(differences, number of policies in sync). Keys are "namespace/name"."""
    skip = set(ignored)
    diffs: list[Difference] = []
    in_sync = 0
    for key in sorted(set(desired) | set(live)):
        if key in skip:
            continue
        namespace, name = key.split("/", 1)
        want = desired.get(key)
        have = live.get(key)
        if want is None:
            assert have is not None
            if covers(namespace):
                diffs.append(Difference(DriftItem.Kind.EXTRA, namespace, name, live=engine.clean_policy(have)))
            continue
        if have is None:
            diffs.append(
                Difference(DriftItem.Kind.MISSING, namespace, name, desired=engine.clean_policy(want.obj), origin=want.origin)
            )
        elif semantically_equal(want.obj, have):
            in_sync += 1
        else:
            diffs.append(
                Difference(
                    DriftItem.Kind.CHANGED,
                    namespace,
                    name,
                    desired=engine.clean_policy(want.obj),
                    live=engine.clean_policy(have),
                    origin=want.origin,
                )
            )
    diffs.sort(key=lambda d: (KIND_ORDER[d.kind], d.namespace, d.name))
    return diffs, in_sync


def live_policies(cluster: Cluster) -> dict[str, dict[str, Any]]:
    rows = NetworkPolicy.objects.filter(cluster=cluster).values_list("namespace", "name", "obj")
    return {f"{ns}/{name}": obj for ns, name, obj in rows}


# --- reachability ----------------------------------------------------------------------------------


def _row(src: str, dst: str, conns: engine.ConnSet) -> dict[str, Any]:
    return {"src": src, "dst": dst, "conns": conns.to_json(), "label": str(conns)}


def connection_delta(
    live: engine.Reachability, desired: engine.Reachability, limit: int = CONNECTION_LIMIT
) -> dict[str, Any]:
    """What the live cluster allows that the desired state does not, and the reverse,
    per workload pair and port (a pair both allow shows only the ports that differ)."""
    diff = engine.diff_reachability(live, desired)
    live_only = [_row(c.src.key, c.dst.key, c.conns) for c in diff.removed]
    desired_only = [_row(c.src.key, c.dst.key, c.conns) for c in diff.added]
    for c in diff.changed:
        if not (lost := c.old_conns - c.new_conns).is_empty:
            live_only.append(_row(c.src, c.dst, lost))
        if not (gained := c.new_conns - c.old_conns).is_empty:
            desired_only.append(_row(c.src, c.dst, gained))
    live_only.sort(key=lambda r: (r["src"], r["dst"]))
    desired_only.sort(key=lambda r: (r["src"], r["dst"]))
    return {
        "live_only": live_only[:limit],
        "desired_only": desired_only[:limit],
        "counts": {"live_only": len(live_only), "desired_only": len(desired_only)},
        "truncated": len(live_only) > limit or len(desired_only) > limit,
    }


def _reconcile_one(base: engine.Analyzer, diff: Difference) -> engine.Analyzer:
    if diff.kind == DriftItem.Kind.EXTRA:
        return base.remove_policy(diff.namespace, diff.name)
    return base.replace_policy(diff.desired)


def reachability_effects(
    cluster: Cluster, diffs: Sequence[Difference]
) -> tuple[dict[str, Any], engine.Cluster]:
    """Fill each difference's `effect` (what reconciling that one policy would change)
    and return (the delta of the whole desired state, the desired engine cluster)."""
    base = analysis.analyzer(cluster)
    live = analysis.base_reachability(cluster, "workload", "combined")
    desired = base
    for i, diff in enumerate(diffs):
        try:
            desired = _reconcile_one(desired, diff)
        except KeyError:
            diff.effect = {"error": "the live policy is not valid, so the analysis leaves it out already"}
            continue
        except ValueError as exc:
            diff.effect = {"error": str(exc)}
            continue
        if i < EFFECT_ITEM_LIMIT:
            before, one = engine.on_common_families(base, _reconcile_one(base, diff))
            now = live if before is base else before.analyze(level="workload")
            diff.effect = connection_delta(now, one.analyze(level="workload"), ITEM_CONNECTION_LIMIT)
        else:
            diff.effect = {"error": f"not computed: only the first {EFFECT_ITEM_LIMIT} differences get one"}
    before, desired = engine.on_common_families(base, desired)
    now = live if before is base else before.analyze(level="workload")
    delta = connection_delta(now, desired.analyze(level="workload"))
    return delta, desired.cluster


def coverage_findings(cluster: Cluster, desired_cluster: engine.Cluster) -> dict[str, Any]:
    """The desired state's findings (each marked whether the live cluster has it too)
    and the live findings the desired state would resolve."""

    def ident(f: Any) -> tuple[str, str, str, str]:
        return (f.code, f.namespace, f.object_kind, f.object_name)

    live = {ident(f): f for f in analysis.findings(cluster)}
    wanted = engine.findings(desired_cluster)
    desired_ids = {ident(f) for f in wanted}
    rows = [{**f.to_dict(), "in_live": ident(f) in live} for f in wanted]
    rows.sort(key=lambda r: (r["code"] not in COVERAGE_CODES, SEVERITY_RANK.get(r["severity"], 3)))
    resolved = [
        {k: v for k, v in f.to_dict().items() if k in ("code", "severity", "namespace", "object_kind", "object_name", "message")}
        for key, f in live.items()
        if key not in desired_ids
    ]
    return {
        "desired": rows[:FINDING_LIMIT],
        "resolved": resolved[:FINDING_LIMIT],
        "counts": {"desired": len(rows), "resolved": len(resolved)},
    }


# --- a whole run ---------------------------------------------------------------------------------


class NoSources(Exception):
    """The cluster has no enabled desired-state source."""


@dataclass
class DriftResult:
    cluster: Cluster
    status: str
    differences: list[Difference]
    in_sync: int
    desired_count: int
    live_count: int
    problems: list[SourceProblem]
    sources: list[dict[str, Any]]
    reachability: dict[str, Any]
    findings: dict[str, Any]
    state_version: int

    def counts(self) -> dict[str, int]:
        out = {kind.value: 0 for kind in DriftItem.Kind}
        for d in self.differences:
            out[d.kind] += 1
        return out

    def fingerprint(self) -> str:
        data = {
            "status": self.status,
            "items": [(d.kind, d.key, d.desired, d.live, d.origin, d.effect) for d in self.differences],
            "problems": [p.to_dict() for p in self.problems],
            "reachability": self.reachability,
            "findings": self.findings,
            "in_sync": self.in_sync,
            "desired": self.desired_count,
            "live": self.live_count,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def run_drift(cluster: Cluster, sources: Iterable[DesiredSource] | None = None) -> DriftResult:
    """Read the desired state and compare it with the mirror; nothing is stored."""
    if sources is None:
        sources = list(DesiredSource.objects.filter(cluster=cluster, enabled=True).order_by("pk"))
    sources = list(sources)
    if not sources:
        raise NoSources(f"cluster {cluster.name} has no desired-state source")
    cluster.refresh_from_db(fields=["state_version"])
    state = read_desired_state(cluster, sources)
    live = live_policies(cluster)
    if state.fatal:
        return DriftResult(
            cluster, DriftReport.Status.ERROR, [], 0, len(state.policies), len(live), state.problems,
            state.sources, {}, {}, cluster.state_version,
        )
    diffs, in_sync = compare(state.policies, live, covers=state.covers, ignored=state.ignored)
    delta, desired_cluster = reachability_effects(cluster, diffs)
    status = DriftReport.Status.PARTIAL if state.problems else DriftReport.Status.OK
    return DriftResult(
        cluster,
        status,
        diffs,
        in_sync,
        len(state.policies),
        len(live),
        state.problems,
        state.sources,
        delta,
        coverage_findings(cluster, desired_cluster),
        cluster.state_version,
    )


def build_report(
    result: DriftResult, *, now: datetime, seen: Mapping[tuple[str, str, str], datetime] | None = None
) -> tuple[DriftReport, list[DriftItem]]:
    """The (unsaved) report and items of a result; `seen` gives earlier first-seen times."""
    seen = seen or {}
    counts = result.counts()
    report = DriftReport(
        cluster=result.cluster,
        computed_at=now,
        checked_at=now,
        status=result.status,
        missing_count=counts[DriftItem.Kind.MISSING],
        extra_count=counts[DriftItem.Kind.EXTRA],
        changed_count=counts[DriftItem.Kind.CHANGED],
        in_sync_count=result.in_sync,
        desired_count=result.desired_count,
        live_count=result.live_count,
        errors=[p.to_dict() for p in result.problems],
        sources=result.sources,
        reachability=result.reachability,
        findings=result.findings,
        state_version=result.state_version,
        fingerprint=result.fingerprint(),
    )
    items = [
        DriftItem(
            report=report,
            kind=d.kind,
            namespace=d.namespace,
            name=d.name,
            desired=d.desired,
            live=d.live,
            origin=d.origin[:500],
            first_seen_at=seen.get((d.kind, d.namespace, d.name), now),
            effect=d.effect,
        )
        for d in result.differences
    ]
    return report, items


def store_report(result: DriftResult, *, now: datetime | None = None) -> DriftReport:
    """Store the result: a new report, or the latest one re-confirmed when identical.
    A difference keeps `first_seen_at` from the latest compared report while it persists."""
    now = now or timezone.now()
    fingerprint = result.fingerprint()
    with transaction.atomic():
        # One writer per cluster at a time, so two runs cannot both start a history.
        Cluster.objects.select_for_update().filter(pk=result.cluster.pk).first()
        latest = DriftReport.objects.filter(cluster=result.cluster).order_by("-computed_at", "-pk").first()
        if latest is not None and latest.fingerprint == fingerprint:
            latest.checked_at = now
            latest.runs += 1
            latest.sources = result.sources
            latest.state_version = result.state_version
            latest.save(update_fields=["checked_at", "runs", "sources", "state_version"])
            return latest
        previous = (
            DriftReport.objects.filter(cluster=result.cluster)
            .exclude(status=DriftReport.Status.ERROR)
            .order_by("-computed_at", "-pk")
            .first()
        )
        seen: dict[tuple[str, str, str], datetime] = {}
        if previous is not None:
            seen = {
                (kind, ns, name): at
                for kind, ns, name, at in previous.items.values_list("kind", "namespace", "name", "first_seen_at")
            }
        report, items = build_report(result, now=now, seen=seen)
        report.save()
        DriftItem.objects.bulk_create(items)
        _prune(result.cluster)
    return report


def _prune(cluster: Cluster) -> None:
    stale = list(
        DriftReport.objects.filter(cluster=cluster)
        .order_by("-computed_at", "-pk")
        .values_list("pk", flat=True)[keep_reports() :]
    )
    if stale:
        DriftReport.objects.filter(pk__in=stale).delete()


def compute_drift(cluster: Cluster) -> DriftReport | None:
    """Compare and store a report; None when the cluster has no enabled source."""
    try:
        result = run_drift(cluster)
    except NoSources:
        return None
    return store_report(result)


def clusters_with_sources() -> list[int]:
    return sorted(set(DesiredSource.objects.filter(enabled=True).values_list("cluster_id", flat=True)))


# --- reading reports -----------------------------------------------------------------------------


def latest_report(cluster: Cluster) -> DriftReport | None:
    return DriftReport.objects.filter(cluster=cluster).order_by("-computed_at", "-pk").first()


def history(cluster: Cluster, limit: int = 30) -> list[DriftReport]:
    """The latest `limit` reports, oldest first (for a trend)."""
    rows = list(DriftReport.objects.filter(cluster=cluster).order_by("-computed_at", "-pk")[:limit])
    rows.reverse()
    return rows


def grouped_items(report: DriftReport) -> dict[str, list[DriftItem]]:
    groups: dict[str, list[DriftItem]] = {kind.value: [] for kind in DriftItem.Kind}
    for item in report.items.order_by("namespace", "name"):
        groups[item.kind].append(item)
    return {kind: groups[kind] for kind in ("missing", "changed", "extra")}


def item_yaml(obj: Mapping[str, Any]) -> str:
    return engine.dump_yaml([engine.clean_policy(obj)]) if obj else ""


def normalized_yaml(obj: Mapping[str, Any]) -> str:
    return engine.dump_yaml([engine.normalize_policy(obj)]) if obj else ""


def side_by_side(left: str, right: str) -> list[dict[str, Any]]:
    """Rows of a two-column diff: tag (equal, replace, delete, insert) and each side's
    line number and text (None where a side has no line)."""
    a = left.splitlines()
    b = right.splitlines()
    rows: list[dict[str, Any]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        span = max(i2 - i1, j2 - j1)
        for k in range(span):
            li, rj = i1 + k, j1 + k
            has_left, has_right = li < i2, rj < j2
            rows.append(
                {
                    "tag": tag if has_left and has_right else ("delete" if has_left else "insert"),
                    "left_no": li + 1 if has_left else None,
                    "left": a[li] if has_left else None,
                    "right_no": rj + 1 if has_right else None,
                    "right": b[rj] if has_right else None,
                }
            )
    return rows


def unified_diff(item: DriftItem, *, normalized: bool = False) -> str:
    render = normalized_yaml if normalized else item_yaml
    return "".join(
        difflib.unified_diff(
            render(item.desired).splitlines(keepends=True),
            render(item.live).splitlines(keepends=True),
            fromfile=f"desired/{item.key}",
            tofile=f"live/{item.key}",
        )
    )


def item_diff(item: DriftItem, *, normalized: bool = False) -> dict[str, Any]:
    render = normalized_yaml if normalized else item_yaml
    desired, live = render(item.desired), render(item.live)
    return {
        "desired_yaml": desired,
        "live_yaml": live,
        "rows": side_by_side(desired, live),
        "unified": unified_diff(item, normalized=normalized),
    }


def item_history(cluster: Cluster, namespace: str, name: str, limit: int = 20) -> list[dict[str, Any]]:
    """The recent reports and what each said about this policy (None: no difference)."""
    reports = list(
        DriftReport.objects.filter(cluster=cluster).order_by("-computed_at", "-pk")[:limit]
    )
    kinds = dict(
        DriftItem.objects.filter(report__in=reports, namespace=namespace, name=name).values_list("report_id", "kind")
    )
    return [{"report": r, "kind": kinds.get(r.pk)} for r in reports]


# --- exports -------------------------------------------------------------------------------------


def _header(report: DriftReport, title: str) -> list[str]:
    return [
        f"# {title}",
        f"# cluster {report.cluster.name}, drift report {report.pk} computed "
        f"{report.computed_at:%Y-%m-%d %H:%M:%S} UTC, last checked {report.checked_at:%Y-%m-%d %H:%M:%S} UTC",
        f"# {report.missing_count} missing, {report.changed_count} changed, {report.extra_count} extra",
    ]


def delete_commands(report: DriftReport) -> list[str]:
    """kubectl commands that remove the extra policies (apply cannot delete)."""
    return [
        f"kubectl delete networkpolicy -n {item.namespace} {item.name}"
        for item in report.items.filter(kind=DriftItem.Kind.EXTRA).order_by("namespace", "name")
    ]


def reconcile_yaml(report: DriftReport) -> str:
    """YAML that makes the cluster match the desired state: the desired objects of the
    missing and changed policies, for `kubectl apply -f`, preceded by the commented
    `kubectl delete` commands for the extra policies, which apply cannot remove."""
    lines = _header(report, "netpolui drift: make the cluster match the desired state")
    deletes = delete_commands(report)
    lines.append("#")
    if deletes:
        lines += [
            f"# STEP 1 -- DELETE {len(deletes)} EXTRA POLIC{'Y' if len(deletes) == 1 else 'IES'}.",
            "# They run in the cluster but are not in the desired state; `kubectl apply`",
            "# cannot delete anything, so run these commands yourself:",
            "#",
            *(f"#   {cmd}" for cmd in deletes),
            "#",
            "# STEP 2 -- APPLY the policies below: kubectl apply -f THIS-FILE.yaml",
        ]
    else:
        lines.append("# No extra policies: nothing to delete. Apply with: kubectl apply -f THIS-FILE.yaml")
    items = report.items.exclude(kind=DriftItem.Kind.EXTRA).order_by("namespace", "name")
    objs = [engine.clean_policy(item.desired) for item in items]
    if not objs:
        lines.append("# Nothing to apply: no policy is missing or changed.")
        return "\n".join(lines) + "\n"
    return "\n".join(lines) + "\n" + engine.dump_yaml(objs)


def adopt_yaml(report: DriftReport) -> str:
    """The live policies (cleaned) of the extra and changed differences, to commit into
    the desired state so that it matches the cluster."""
    lines = _header(report, "netpolui drift: adopt the cluster's policies into the desired state")
    lines += [
        "#",
        "# The live versions of the extra and changed policies, without server-managed fields.",
        "# Add them to the desired state (your Git repository or the editor's drafts).",
    ]
    missing = report.items.filter(kind=DriftItem.Kind.MISSING).order_by("namespace", "name")
    if missing:
        lines += [
            "#",
            "# Also REMOVE these from the desired state: they are not in the cluster:",
            *(f"#   {item.key}  ({item.origin})" if item.origin else f"#   {item.key}" for item in missing),
        ]
    items = report.items.exclude(kind=DriftItem.Kind.MISSING).order_by("namespace", "name")
    objs = [engine.clean_policy(item.live) for item in items]
    if not objs:
        lines.append("# Nothing to adopt: no policy is extra or changed.")
        return "\n".join(lines) + "\n"
    return "\n".join(lines) + "\n" + engine.dump_yaml(objs)


EXPORTS: dict[str, tuple[Callable[[DriftReport], str], str]] = {
    "reconcile": (reconcile_yaml, "reconcile"),
    "adopt": (adopt_yaml, "adopt-live"),
}


def export_filename(report: DriftReport, which: str) -> str:
    return f"{report.cluster.name}-drift-{EXPORTS[which][1]}-{report.computed_at:%Y%m%d-%H%M%S}.yaml"


# --- text report (the command) --------------------------------------------------------------------


def render_text(report: DriftReport, items: Sequence[DriftItem] | None = None, *, effects: bool = True) -> str:
    """The report as the `drift` command prints it (items: for an unsaved report)."""
    if items is None:
        items = list(report.items.all())
    lines = [
        f"drift of cluster {report.cluster.name}: {report.get_status_display()}",
        f"computed {report.computed_at:%Y-%m-%d %H:%M:%S} UTC"
        + (f", last checked {report.checked_at:%Y-%m-%d %H:%M:%S} UTC" if report.checked_at != report.computed_at else "")
        + f"; {report.desired_count} desired, {report.live_count} live, {report.in_sync_count} in sync",
    ]
    for source in report.sources:
        revision = f" at {source['revision'][:12]}" if source.get("revision") else ""
        lines.append(f"source: {source['label']}{revision} ({source['policies']} policies)")
    for problem in report.errors:
        lines.append(f"error: [{problem['source_label']}] {problem['text']}")
    if not report.compared:
        lines.append("not compared: fix the source errors above")
        return "\n".join(lines) + "\n"
    lines.append(f"{report.missing_count} missing, {report.changed_count} changed, {report.extra_count} extra")
    symbols = {"missing": "+", "changed": "~", "extra": "-"}
    for item in sorted(items, key=lambda i: (KIND_ORDER[i.kind], i.namespace, i.name)):
        origin = f"  ({item.origin})" if item.origin else ""
        lines.append(f"{symbols[item.kind]} {item.kind:<8} {item.key}{origin}")
        if item.kind == DriftItem.Kind.CHANGED:
            lines += ["    " + line for line in unified_diff(item, normalized=True).splitlines()]
    if effects and report.reachability:
        counts = report.reachability.get("counts", {})
        lines.append(
            f"reachability: {counts.get('live_only', 0)} allowed live but not desired, "
            f"{counts.get('desired_only', 0)} desired but blocked live"
        )
        for row in report.reachability.get("live_only", []):
            lines.append(f"  live only:    {row['src']} => {row['dst']} : {row['label']}")
        for row in report.reachability.get("desired_only", []):
            lines.append(f"  desired only: {row['src']} => {row['dst']} : {row['label']}")
        if report.reachability.get("truncated"):
            lines.append(f"  (the first {CONNECTION_LIMIT} of each are listed)")
    return "\n".join(lines) + "\n"


# --- sources: what the form and the API call --------------------------------------------------------


class SourceInvalid(ValueError):
    """A source's settings cannot be used; `errors` maps field names to sentences."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


def needs_admin(kind: str, location: str) -> bool:
    """Sources that read the server's own file system are for admins only."""
    return kind == DesiredSource.Kind.DIRECTORY or (
        kind == DesiredSource.Kind.GIT and is_local_git_location(location.strip())
    )


def check_source(
    *, cluster: Cluster, kind: str, location: str = "", branch: str = "", subdirectory: str = "",
    yaml_text: str = "", namespaces: str = "", is_admin: bool = False, exclude_pk: int | None = None,
) -> dict[str, str]:
    """Field -> why the settings cannot be used (empty when they can)."""
    errors: dict[str, str] = {}
    location = location.strip()
    if kind not in DesiredSource.Kind.values:
        return {"kind": f"must be one of {', '.join(DesiredSource.Kind.values)}"}
    if kind in (DesiredSource.Kind.GIT, DesiredSource.Kind.DIRECTORY) and not location:
        errors["location"] = "give the repository URL or path" if kind == DesiredSource.Kind.GIT else "give the directory"
    elif kind == DesiredSource.Kind.GIT and (problem := git_location_error(location)):
        errors["location"] = problem
    elif kind == DesiredSource.Kind.DIRECTORY and not Path(location).expanduser().is_absolute():
        errors["location"] = "must be an absolute path on the netpolui server"
    if needs_admin(kind, location) and not is_admin and "location" not in errors:
        errors["location"] = "only an admin may read directories or repositories on the netpolui server"
    elif (
        kind == DesiredSource.Kind.GIT and not is_admin and "location" not in errors
        and (problem := git_remote_error(location))
    ):
        errors["location"] = problem
    if branch and (branch.startswith("-") or any(c in branch for c in " ~^:?*[\\") or ".." in branch):
        errors["branch"] = "is not a valid branch name"
    if subdirectory and (Path(subdirectory).is_absolute() or ".." in Path(subdirectory).parts):
        errors["subdirectory"] = "must be a relative path inside the repository or directory"
    if kind == DesiredSource.Kind.UPLOAD:
        if not yaml_text.strip():
            errors["yaml_text"] = "upload a YAML file or paste its content"
        else:
            try:
                engine.load_yaml_text(yaml_text, source="the upload")
            except engine.ManifestError as exc:
                errors["yaml_text"] = "; ".join(f"line {e.line}: {e.message}" if e.line else e.message for e in exc.errors)
    for ns in (n.strip() for n in namespaces.split(",")):
        if ns and (problem := _dns_label_error(ns)):
            errors["namespaces"] = f"{ns!r} {problem}"
            break
    if kind == DesiredSource.Kind.DRAFTS:
        others = DesiredSource.objects.filter(cluster=cluster, kind=kind)
        if exclude_pk:
            others = others.exclude(pk=exclude_pk)
        if others.exists():
            errors["kind"] = "this cluster already has an approved-drafts source"
    return errors


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _dns_label_error(name: str) -> str | None:
    if len(name) > 63 or not _DNS_LABEL.match(name):
        return "is not a namespace name (lower-case letters, digits and '-', at most 63)"
    return None


def _audit(actor: Any, source: DesiredSource, action: audit.Action, summary: str) -> None:
    audit.record(
        action,
        actor=actor,
        cluster=source.cluster,
        object_type="desired_source",
        object_id=source.pk,
        summary=summary,
        details={"kind": source.kind, "location": redact(source.location), "branch": source.branch},
    )


def save_source(source: DesiredSource, *, actor: Any = None) -> DesiredSource:
    """Create or update a source (already checked) and record who did it."""
    creating = source.pk is None
    if creating and getattr(actor, "pk", None):
        source.created_by = actor
    source.location = source.location.strip()
    source.subdirectory = source.subdirectory.strip().strip("/")
    source.namespaces = ",".join(sorted({n.strip() for n in source.namespaces.split(",") if n.strip()}))
    with transaction.atomic():
        source.save()
        _audit(
            actor,
            source,
            audit.Action.DRIFT_SOURCE_CREATED if creating else audit.Action.DRIFT_SOURCE_UPDATED,
            f"{source.cluster.name}: desired state from {source.get_kind_display()} {redact(source.label)}",
        )
    return source


def delete_source(source: DesiredSource, *, actor: Any = None) -> None:
    pk = source.pk
    with transaction.atomic():
        _audit(actor, source, audit.Action.DRIFT_SOURCE_DELETED, f"{source.cluster.name}: removed {redact(source.label)}")
        source.delete()
    forget_checkout(pk)
