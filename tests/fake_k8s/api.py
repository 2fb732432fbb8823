"""What the API server does with each verb, on top of the Store: defaulting, validation,
optimistic concurrency, generation, managedFields, cascading deletion, paged lists.

Both the HTTP layer and the test control API (`FakeKubeApiServer.put` etc.) go through here,
so objects planted by a test look exactly like objects written through the API.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from datetime import UTC, datetime
from typing import Any

import yaml

from . import managed_fields
from .patching import json_merge_patch, json_patch, strategic_merge_patch
from .resources import RESOURCES, Resource, resource_for
from .selectors import make_filter
from .status import (
    STALE,
    ApiError,
    already_exists,
    bad_request,
    conflict,
    expired,
    namespace_not_found,
    not_found,
    options_invalid,
    status_body,
)
from .store import CONTINUE_EXPIRED, Store, decode_continue, encode_continue, object_key
from .validation import apply_defaults, validate

CONTROL_MANAGER = "fake-k8s"
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
    "application/apply-patch+yaml",
)
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"  # k8s.io/apimachinery/pkg/util/rand
# Kinds that own other served kinds (Pods and NetworkPolicies own nothing here): deleting
# anything else skips the scan for dependents, which keeps 10,000-object tests fast.
_OWNERS = {"Namespace", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"}


def now_rfc3339() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def random_suffix(length: int = 5) -> str:
    return "".join(random.choice(_NAME_CHARS) for _ in range(length))


def _without_type(obj: dict[str, Any]) -> dict[str, Any]:
    # Real list responses omit kind/apiVersion on items; only the list carries them.
    return {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}


def _comparable(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = {k: v for k, v in obj.get("metadata", {}).items() if k != "resourceVersion"}
    if "managedFields" in metadata:
        metadata["managedFields"] = [{k: v for k, v in e.items() if k != "time"}
                                     for e in metadata["managedFields"]]
    return {**obj, "metadata": metadata}


def _spec_of(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k not in ("metadata", "status", "apiVersion", "kind")}


class Api:
    def __init__(self, store: Store) -> None:
        self.store = store

    # --- reads ---------------------------------------------------------------------------

    def key(self, resource: Resource, namespace: str | None, name: str) -> str:
        return f"{namespace}/{name}" if resource.namespaced else name

    def get(self, resource: Resource, namespace: str | None, name: str) -> dict[str, Any]:
        obj = self.store.get(resource, self.key(resource, namespace, name))
        if obj is None:
            raise not_found(resource, name)
        return obj

    def list(self, resource: Resource, namespace: str | None, query: dict[str, str],
             ) -> dict[str, Any]:
        keep = make_filter(query.get("labelSelector"), query.get("fieldSelector"),
                           resource.plural)
        has_selector = bool(query.get("labelSelector") or query.get("fieldSelector"))
        limit = _int_param(query, "limit") or 0
        rv_param = query.get("resourceVersion") or ""
        rv_match = query.get("resourceVersionMatch") or ""
        _check_list_options(rv_param, rv_match, query.get("continue"))
        start = ""
        with self.store.lock:
            if query.get("continue"):
                list_rv, start = decode_continue(query["continue"])
                if list_rv < self.store.compacted_rv:
                    raise expired(CONTINUE_EXPIRED,
                                  encode_continue(self.store.rv, start.rstrip("\x00")))
                state = self.store.snapshot(resource, list_rv)
            elif rv_param and rv_param != "0":
                wanted = _parse_rv(rv_param)
                if wanted > self.store.rv:
                    raise ApiError(504, f"Too large resource version: {wanted}, current: "
                                        f"{self.store.rv}", "Timeout",
                                   {"causes": [{"reason": "ResourceVersionTooLarge",
                                                "message": "Too large resource version"}],
                                    "retryAfterSeconds": 1})
                if rv_match == "Exact":
                    list_rv, state = wanted, self.store.snapshot(resource, wanted)
                else:
                    list_rv, state = self.store.rv, self.store.snapshot(resource)
            else:
                list_rv, state = self.store.rv, self.store.snapshot(resource)
        prefix = f"{namespace}/" if resource.namespaced and namespace else ""
        keys = sorted(k for k in state if k.startswith(prefix) and k >= start)
        items: list[dict[str, Any]] = []
        token = None
        remaining = 0
        for index, key in enumerate(keys):
            if limit and len(items) == limit:
                token = encode_continue(list_rv, object_key(items[-1]))
                remaining = len(keys) - index
                break
            if keep(state[key]):
                items.append(state[key])
        metadata: dict[str, Any] = {"resourceVersion": str(list_rv)}
        if token:
            metadata["continue"] = token
            if not has_selector:
                metadata["remainingItemCount"] = remaining
        return {"kind": resource.list_kind, "apiVersion": resource.api_version,
                "metadata": metadata, "items": [_without_type(o) for o in items]}

    # --- writes --------------------------------------------------------------------------

    def create(self, resource: Resource, namespace: str | None, body: Any, *, manager: str,
               dry_run: bool = False, control: bool = False,
               keep_managed: bool = False) -> dict[str, Any]:
        obj = self._typed(resource, body)
        metadata = obj["metadata"]
        if resource.namespaced:
            if namespace and metadata.get("namespace") not in (None, "", namespace):
                raise bad_request("the namespace of the provided object does not match the "
                                  "namespace sent on the request")
            metadata["namespace"] = namespace or metadata.get("namespace") or "default"
        else:
            metadata.pop("namespace", None)
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = metadata["generateName"] + random_suffix()
        if not control and metadata.get("resourceVersion"):
            raise bad_request("resourceVersion should not be set on objects to be created")
        if not control or not metadata.get("uid"):
            metadata["uid"] = str(uuid.uuid4())
        if not control or not metadata.get("creationTimestamp"):
            metadata["creationTimestamp"] = now_rfc3339()
        metadata.pop("resourceVersion", None)
        for transient in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
            metadata.pop(transient, None)
        if resource.has_generation:
            metadata["generation"] = 1 if not control else metadata.get("generation") or 1
        else:
            metadata.pop("generation", None)
        if resource.has_status and not control:
            obj["status"] = {"phase": "Pending", "qosClass": "BestEffort"} \
                if resource.kind == "Pod" else {}
        apply_defaults(resource, obj)
        if not control:
            validate(resource, obj)
        if not keep_managed and not (control and metadata.get("managedFields")):
            managed_fields.record_update(None, obj, manager, resource.api_version, now_rfc3339())
        with self.store.lock:
            if (resource.namespaced and not control and self.store.get(
                    resource_for("namespaces"), metadata["namespace"]) is None):
                raise namespace_not_found(metadata["namespace"])
            if self.store.get(resource, object_key(obj)) is not None:
                raise already_exists(resource, metadata["name"])
            if dry_run:
                return obj
            return self.store.commit(resource, obj)

    def replace(self, resource: Resource, namespace: str | None, name: str, body: Any, *,
                manager: str, dry_run: bool = False, subresource: str | None = None,
                ) -> dict[str, Any]:
        obj = self._typed(resource, body)
        metadata = obj["metadata"]
        if metadata.get("name") and metadata["name"] != name:
            raise bad_request(f"the name of the object ({metadata['name']}) does not match the "
                              f"name on the URL ({name})")
        if resource.namespaced and metadata.get("namespace") not in (None, "", namespace):
            raise bad_request("the namespace of the provided object does not match the "
                              "namespace sent on the request")
        with self.store.lock:
            existing = self.get(resource, namespace, name)
            wanted_rv = metadata.get("resourceVersion")
            if wanted_rv and wanted_rv != existing["metadata"]["resourceVersion"]:
                raise conflict(resource, name, STALE)
            return self._update(resource, existing, obj, manager=manager, dry_run=dry_run,
                                subresource=subresource)

    def patch(self, resource: Resource, namespace: str | None, name: str, raw: bytes,
              content_type: str, *, manager: str | None, force: bool | None,
              dry_run: bool = False, subresource: str | None = None,
              ) -> tuple[dict[str, Any], bool]:
        """Returns (object, created); created is True only for an apply that created it."""
        content_type = content_type.split(";")[0].strip().lower()
        if content_type not in PATCH_TYPES:
            raise ApiError(415, "the body of the request was in an unknown format - accepted "
                                "media types include: " + ", ".join(PATCH_TYPES),
                           "UnsupportedMediaType")
        apply = content_type == "application/apply-patch+yaml"
        if apply and not manager:
            raise options_invalid("PatchOptions", [{
                "reason": "FieldValueRequired", "field": "fieldManager",
                "message": "Required value: is required for apply patch"}])
        if not apply and force is not None:
            raise options_invalid("PatchOptions", [{
                "reason": "FieldValueForbidden", "field": "force",
                "message": "Forbidden: may not be specified for non-apply patch"}])
        manager = manager or "unknown"
        if apply:
            return self._apply(resource, namespace, name, raw, manager=manager,
                               force=bool(force), dry_run=dry_run, subresource=subresource)
        try:
            document = json.loads(raw or b"null")
        except ValueError as exc:
            raise bad_request(f"error decoding patch: {exc}") from None
        with self.store.lock:
            existing = self.get(resource, namespace, name)
            if content_type == "application/json-patch+json":
                patched = json_patch(existing, document)
            elif content_type == "application/merge-patch+json":
                patched = json_merge_patch(existing, document)
            else:
                patched = strategic_merge_patch(existing, document)
            if not isinstance(patched, dict):
                raise bad_request("the patched object is not a JSON object")
            patched_rv = (patched.get("metadata") or {}).get("resourceVersion")
            if patched_rv and patched_rv != existing["metadata"]["resourceVersion"]:
                raise conflict(resource, name, STALE)
            return self._update(resource, existing, patched, manager=manager, dry_run=dry_run,
                                subresource=subresource), False

    def _apply(self, resource: Resource, namespace: str | None, name: str, raw: bytes, *,
               manager: str, force: bool, dry_run: bool, subresource: str | None,
               ) -> tuple[dict[str, Any], bool]:
        try:
            config = yaml.safe_load(raw or b"")
        except yaml.YAMLError as exc:
            raise bad_request(f"error decoding YAML: {exc}") from None
        if not isinstance(config, dict):
            raise bad_request("the body of an apply patch must be an object")
        if not config.get("kind"):
            raise bad_request(f"Object 'Kind' is missing in '{raw.decode(errors='replace')}'")
        if config.get("apiVersion") != resource.api_version or config["kind"] != resource.kind:
            raise bad_request(f"the API version in the data ({config.get('apiVersion')}) does "
                              f"not match the expected API version ({resource.api_version})"
                              if config.get("apiVersion") != resource.api_version else
                              f"the kind in the data ({config['kind']}) does not match the "
                              f"expected kind ({resource.kind})")
        metadata = config.setdefault("metadata", {})
        if metadata.get("name") != name:
            raise bad_request(f"the name of the object ({metadata.get('name')}) does not match "
                              f"the name on the URL ({name})")
        if resource.namespaced and metadata.get("namespace") not in (None, "", namespace):
            raise bad_request("the namespace of the provided object does not match the "
                              "namespace sent on the request")
        if metadata.get("managedFields") is not None:
            raise bad_request("metadata.managedFields must be nil")
        if resource.has_status and subresource != "status":
            config.pop("status", None)
        now = now_rfc3339()
        with self.store.lock:
            existing = self.store.get(resource, self.key(resource, namespace, name))
            if existing is None:
                if subresource:
                    raise not_found(resource, name)
                applied = managed_fields.server_side_apply(None, config, manager, force,
                                                           resource.api_version, now)
                return self.create(resource, namespace, applied, manager=manager,
                                   dry_run=dry_run, keep_managed=True), True
            wanted_rv = metadata.get("resourceVersion")
            if wanted_rv and wanted_rv != existing["metadata"]["resourceVersion"]:
                raise conflict(resource, name, STALE)
            applied = managed_fields.server_side_apply(existing, config, manager, force,
                                                       resource.api_version, now)
            return self._update(resource, existing, applied, manager=manager, dry_run=dry_run,
                                subresource=subresource, keep_managed=True), False

    def _update(self, resource: Resource, existing: dict[str, Any], obj: dict[str, Any], *,
                manager: str, dry_run: bool, subresource: str | None = None,
                keep_managed: bool = False, control: bool = False) -> dict[str, Any]:
        new = copy.deepcopy(obj)
        new["apiVersion"], new["kind"] = resource.api_version, resource.kind
        metadata = new.setdefault("metadata", {})
        old_metadata = existing["metadata"]
        for fixed in ("name", "namespace", "uid", "creationTimestamp"):
            if fixed in old_metadata:
                metadata[fixed] = old_metadata[fixed]
        metadata.pop("resourceVersion", None)
        if not keep_managed:
            metadata["managedFields"] = copy.deepcopy(old_metadata.get("managedFields", []))
        if subresource == "status":
            status = new.get("status")
            new = copy.deepcopy({k: v for k, v in existing.items() if k != "status"})
            if status is not None:
                new["status"] = status
            if keep_managed:
                new["metadata"]["managedFields"] = metadata.get("managedFields", [])
            metadata = new["metadata"]
            metadata.pop("resourceVersion", None)
        elif resource.has_status and not control:
            if "status" in existing:
                new["status"] = copy.deepcopy(existing["status"])
            else:
                new.pop("status", None)
        if resource.has_generation:
            generation = old_metadata.get("generation", 1)
            metadata["generation"] = (generation + 1
                                      if _spec_of(new) != _spec_of(existing) else generation)
        apply_defaults(resource, new)
        if not control:
            validate(resource, new)
        if not keep_managed:
            managed_fields.record_update(existing, new, manager, resource.api_version,
                                         now_rfc3339(), subresource)
        if _comparable(new) == _comparable(existing):
            return existing  # etcd skips a write that changes nothing: no new resourceVersion
        if dry_run:
            metadata["resourceVersion"] = old_metadata["resourceVersion"]
            return new
        return self.store.commit(resource, new)

    def delete(self, resource: Resource, namespace: str | None, name: str, options: Any, *,
               dry_run: bool = False) -> dict[str, Any]:
        options = options if isinstance(options, dict) else {}
        preconditions = options.get("preconditions") or {}
        with self.store.lock:
            existing = self.get(resource, namespace, name)
            uid = preconditions.get("uid")
            if uid and uid != existing["metadata"].get("uid"):
                raise conflict(resource, name, f"Precondition failed: UID in precondition: {uid}, "
                                               f"UID in object meta: {existing['metadata'].get('uid')}")
            rv = preconditions.get("resourceVersion")
            if rv and rv != existing["metadata"]["resourceVersion"]:
                raise conflict(resource, name, f"Precondition failed: the ResourceVersion in the "
                                               f"precondition ({rv}) does not match the "
                                               f"ResourceVersion in record "
                                               f"({existing['metadata']['resourceVersion']}). The "
                                               f"object might have been modified")
            final = existing if dry_run else self.remove(
                resource, namespace, name, orphan=options.get("propagationPolicy") == "Orphan")
            assert final is not None
        if resource.kind == "Namespace":
            terminating = copy.deepcopy(final)
            terminating["metadata"]["deletionTimestamp"] = now_rfc3339()
            terminating.setdefault("status", {})["phase"] = "Terminating"
            return terminating
        if resource.kind == "Pod":
            return final
        details = {"name": name, "kind": resource.plural, "uid": final["metadata"].get("uid")}
        if resource.group:
            details["group"] = resource.group
        return status_body(200, details=details)

    def delete_collection(self, resource: Resource, namespace: str | None,
                          query: dict[str, str], *, dry_run: bool = False) -> dict[str, Any]:
        with self.store.lock:
            listed = self.list(resource, namespace, {
                k: v for k, v in query.items() if k in ("labelSelector", "fieldSelector")})
            for item in listed["items"]:
                if not dry_run:
                    self.remove(resource, item["metadata"].get("namespace"),
                                item["metadata"]["name"])
        return listed

    # --- without HTTP: deletion with garbage collection, and the control API --------------

    def remove(self, resource: Resource, namespace: str | None, name: str, *,
               orphan: bool = False, cascade: bool = True) -> dict[str, Any] | None:
        """Deletes now (no grace period); dependents follow as the garbage collector would:
        objects whose ownerReferences name it, everything in a deleted namespace."""
        with self.store.lock:
            final = self.store.remove(resource, self.key(resource, namespace, name))
            if final is None or not cascade or resource.kind not in _OWNERS:
                return final
            uid = final["metadata"].get("uid")
            for plural, obj in self.store.all_objects():
                dependent = resource_for(plural)
                meta = obj["metadata"]
                if resource.kind == "Namespace" and meta.get("namespace") == name:
                    self.remove(dependent, meta.get("namespace"), meta["name"])
                    continue
                owners = meta.get("ownerReferences") or []
                if not any(o.get("uid") == uid for o in owners):
                    continue
                if orphan:
                    kept = [o for o in owners if o.get("uid") != uid]
                    orphaned = {**obj, "metadata": {**meta, "ownerReferences": kept}}
                    if not kept:
                        del orphaned["metadata"]["ownerReferences"]
                    self.store.commit(dependent, orphaned)
                else:
                    self.remove(dependent, meta.get("namespace"), meta["name"])
            return final

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Creates or replaces obj as stored state, bypassing validation and status rules."""
        from .resources import resource_for_object

        resource = resource_for_object(obj)
        body = copy.deepcopy(obj)
        metadata = body.setdefault("metadata", {})
        if resource.namespaced:
            metadata.setdefault("namespace", "default")
        with self.store.lock:
            existing = self.store.get(resource, object_key(body))
            if existing is not None and metadata.get("uid") not in (
                    None, existing["metadata"].get("uid")):
                self.remove(resource, metadata.get("namespace"), metadata["name"], cascade=False)
                existing = None
            if existing is None:
                return self.create(resource, metadata.get("namespace"), body,
                                   manager=CONTROL_MANAGER, control=True)
            return self._update(resource, existing, body, manager=CONTROL_MANAGER,
                                dry_run=False, control=True)

    def _typed(self, resource: Resource, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request(f"the body of the request must be a {resource.kind} object")
        obj = copy.deepcopy(body)
        if obj.get("apiVersion") not in (None, "", resource.api_version):
            raise bad_request(f"the API version in the data ({obj['apiVersion']}) does not "
                              f"match the expected API version ({resource.api_version})")
        if obj.get("kind") not in (None, "", resource.kind):
            raise bad_request(f"the kind in the data ({obj['kind']}) does not match the "
                              f"expected kind ({resource.kind})")
        obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
        if not isinstance(obj.get("metadata"), dict):
            obj["metadata"] = {}
        return obj


def _int_param(query: dict[str, str], name: str) -> int | None:
    value = query.get(name)
    if value in (None, ""):
        return None
    try:
        return int(value)  # type: ignore[arg-type]
    except ValueError:
        raise bad_request(f"invalid {name}: {value!r}") from None


def _parse_rv(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise bad_request(f'invalid resource version "{value}"') from None


def _check_list_options(rv: str, rv_match: str, continue_token: str | None) -> None:
    if rv_match and rv_match not in ("Exact", "NotOlderThan"):
        raise options_invalid("ListOptions", [{
            "reason": "FieldValueNotSupported", "field": "resourceVersionMatch",
            "message": f'Unsupported value: "{rv_match}": supported values: "Exact", '
                       f'"NotOlderThan", ""'}])
    if rv_match and not rv:
        raise options_invalid("ListOptions", [{
            "reason": "FieldValueForbidden", "field": "resourceVersionMatch",
            "message": "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is "
                       "provided"}])
    if rv_match and continue_token:
        raise options_invalid("ListOptions", [{
            "reason": "FieldValueForbidden", "field": "resourceVersionMatch",
            "message": "Forbidden: resourceVersionMatch is forbidden when continue is provided"}])


__all__ = ["RESOURCES", "Api", "now_rfc3339"]
