"""Desired state (``read_desired_state``): the union of a cluster's enabled
``DesiredSource`` rows -- approved drafts, a directory of manifests, a Git repository or
an uploaded multi-document YAML file. A bad source is reported, never fatal: a source
that cannot be read at all (unreachable URL, missing branch or directory, unparsable
upload) stops the comparison, since its policies would otherwise all look "extra"; a
broken file or a policy the API server would reject is recorded with file and line and
left out (the live policy of that name is then not reported either).

Also what the source form and the API call: ``check_source``, ``save_source``,
``delete_source``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ... import audit, engine
from ...engine.cni.kinds import api_group, cni_kind
from ...models import Cluster, DesiredSource, PolicyDraft
from .. import drift_tiers
from .errors import SourceUnreadable
from .git import (
    forget_checkout,
    git_checkout,
    git_location_error,
    git_remote_error,
    is_local_git_location,
    redact,
    shown_location,
)
from .keys import is_cluster_scoped, key_namespace, policy_key, policy_words

# An uploaded desired-state file (page form and API alike).
UPLOAD_LIMIT_BYTES = 5 * 1024 * 1024


# --- reading the desired state -------------------------------------------------------------------



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


def _keyed_copy(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A desired object as compared: namespaced kinds with their namespace spelled out."""
    found = cni_kind(obj)
    if found is not None and not found.namespaced:
        return dict(obj)
    if found is None and is_cluster_scoped(obj):
        return dict(obj)
    return _with_namespace(obj)


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
        found = cni_kind(obj)
        cluster_scoped = is_cluster_scoped(obj)
        v1 = obj.get("kind") == "NetworkPolicy" and api_group(obj) in ("", "networking.k8s.io")
        if found is None and not v1 and not cluster_scoped:
            out.skipped += 1
            continue
        file = relative(loc.file)
        key = policy_key(obj)
        if found is not None:
            errors = []  # a CNI object's problems are the engine's to report (its page lists them)
        elif cluster_scoped:
            errors = drift_tiers.validate(obj)
        else:
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
                    f"{policy_words(key)} is defined twice ({seen[key]} and {where}); the later one is used",
                    file,
                    loc.line,
                )
            )
            out.policies = [p for p in out.policies if policy_key(p.obj) != key]
        seen[key] = where
        out.policies.append(DesiredPolicy(_keyed_copy(obj), where, source.pk))


def read_limits() -> engine.ReadLimits:
    """Caps on reading one directory or Git source (settings NETPOLUI_SOURCE_*)."""
    mib = 1024 * 1024
    return engine.ReadLimits(
        file_bytes=int(getattr(settings, "NETPOLUI_SOURCE_FILE_MB", 5) * mib),
        source_bytes=int(getattr(settings, "NETPOLUI_SOURCE_TOTAL_MB", 50) * mib),
        seconds=float(getattr(settings, "NETPOLUI_SOURCE_READ_SECONDS", 60)),
    )


def read_file_text(path: str) -> str:
    """A YAML file named on the command line (`drift --file`), within the caps of one
    source's file; SourceUnreadable says why not (too large, not UTF-8, unreadable)."""
    try:
        return engine.read_manifest_file(Path(path), engine.ReadBudget(read_limits()))
    except engine.UnsafeInput as exc:
        raise SourceUnreadable(f"{path}: {exc.message}") from None
    except OSError as exc:
        raise SourceUnreadable(f"{path}: {exc.strerror or 'cannot be read'}") from None


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
        kept = [p for p in result.policies if key_namespace(policy_key(p.obj)) in wanted]
        result.skipped += len(result.policies) - len(kept)
        result.policies = kept
        result.invalid_keys = {k for k in result.invalid_keys if key_namespace(k) in wanted}
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
                        f"{policy_words(key)} is also defined by {first.label}; that definition is used",
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



# --- sources: what the form and the API call --------------------------------------------------------



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
