"""Builders for realistic manifests: namespaces, workloads with their ReplicaSets, Jobs and
Pods (ownerReferences with controller: true, pod IPs, named container ports), NetworkPolicies.

Objects that own others get a uid here, so the owned objects can reference it; the fake's
put() keeps a given uid, as objects written by controllers carry the uid of their owner.

    fake.put_all(deployment_stack("shop", "web", {"app": "web"}, ports=[("http", 8080, "TCP")],
                                  replicas=2))
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from typing import Any

Port = tuple[str, int, str]  # (name, containerPort, protocol)
Obj = dict[str, Any]

_ips = itertools.count(10)
_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def next_pod_ip() -> str:
    """10.244.0.10, 10.244.0.11, ... unique within the test process."""
    n = next(_ips)
    return f"10.244.{n // 250}.{n % 250 + 2}"


def _suffix(seed: str, length: int) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return "".join(_NAME_CHARS[b % len(_NAME_CHARS)] for b in digest[:length])


def _meta(name: str, namespace: str | None = None, labels: dict[str, str] | None = None,
          **extra: Any) -> Obj:
    metadata: Obj = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    metadata.update({k: v for k, v in extra.items() if v is not None})
    return metadata


def owner_reference(owner: Obj, controller: bool = True) -> Obj:
    ref = {"apiVersion": owner["apiVersion"], "kind": owner["kind"],
           "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"]}
    if controller:
        ref.update({"controller": True, "blockOwnerDeletion": True})
    return ref


def containers(name: str, ports: list[Port] | tuple[Port, ...] = (),
               image: str = "registry.example/app:1.0") -> list[Obj]:
    container: Obj = {"name": name, "image": image}
    if ports:
        container["ports"] = [{"name": port_name, "containerPort": number, "protocol": protocol}
                              for port_name, number, protocol in ports]
    return [container]


def namespace(name: str, labels: dict[str, str] | None = None) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(name, labels=labels)}


def pod(namespace: str, name: str, labels: dict[str, str] | None = None, *,
        ports: list[Port] | tuple[Port, ...] = (), ip: str | None = None,
        owner: Obj | None = None, node: str = "node-1", host_network: bool = False,
        phase: str = "Running", image: str = "registry.example/app:1.0") -> Obj:
    """A scheduled, running Pod; ip=None allocates the next pod IP (the node IP with
    host_network)."""
    pod_ip = ("192.168.1.10" if host_network else next_pod_ip()) if ip is None else ip
    spec: Obj = {"containers": containers(name.split("-")[0] or name, ports, image),
                 "nodeName": node}
    if host_network:
        spec["hostNetwork"] = True
    status: Obj = {"phase": phase, "hostIP": "192.168.1.10"}
    if phase in ("Running", "Succeeded", "Failed") and pod_ip:
        status.update({"podIP": pod_ip, "podIPs": [{"ip": pod_ip}]})
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(name, namespace, labels, uid=str(uuid.uuid4()),
                          ownerReferences=[owner_reference(owner)] if owner else None),
        "spec": spec,
        "status": status,
    }


def _template(labels: dict[str, str], name: str, ports: list[Port] | tuple[Port, ...],
              image: str, restart_policy: str | None = None) -> Obj:
    spec: Obj = {"containers": containers(name, ports, image)}
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    return {"metadata": {"labels": dict(labels)}, "spec": spec}


def deployment(namespace: str, name: str, labels: dict[str, str] | None = None, *,
               ports: list[Port] | tuple[Port, ...] = (), replicas: int = 1,
               image: str = "registry.example/app:1.0") -> Obj:
    labels = labels or {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, namespace, labels, uid=str(uuid.uuid4())),
        "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                 "template": _template(labels, name, ports, image)},
        "status": {"replicas": replicas, "readyReplicas": replicas,
                   "availableReplicas": replicas, "observedGeneration": 1},
    }


def replicaset_for(deploy: Obj) -> Obj:
    """The Deployment's current ReplicaSet, named `<deployment>-<pod-template-hash>`."""
    name = deploy["metadata"]["name"]
    namespace_name = deploy["metadata"]["namespace"]
    template_hash = _suffix(f"{namespace_name}/{name}", 10)
    template = {**deploy["spec"]["template"]}
    labels = {**template["metadata"].get("labels", {}), "pod-template-hash": template_hash}
    template["metadata"] = {**template["metadata"], "labels": labels}
    replicas = deploy["spec"].get("replicas", 1)
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": _meta(f"{name}-{template_hash}", namespace_name, labels,
                          uid=str(uuid.uuid4()), ownerReferences=[owner_reference(deploy)],
                          annotations={"deployment.kubernetes.io/revision": "1"}),
        "spec": {"replicas": replicas,
                 "selector": {"matchLabels": {**deploy["spec"]["selector"]["matchLabels"],
                                              "pod-template-hash": template_hash}},
                 "template": template},
        "status": {"replicas": replicas, "readyReplicas": replicas,
                   "availableReplicas": replicas, "observedGeneration": 1},
    }


def pods_for(owner: Obj, count: int | None = None) -> list[Obj]:
    """The Pods a ReplicaSet, StatefulSet, DaemonSet or Job runs, from its pod template."""
    meta = owner["metadata"]
    template = owner["spec"]["template"]
    labels = dict(template["metadata"].get("labels", {}))
    ports = [(p.get("name", ""), p["containerPort"], p.get("protocol", "TCP"))
             for c in template["spec"]["containers"][:1] for p in c.get("ports", [])]
    image = template["spec"]["containers"][0].get("image", "registry.example/app:1.0")
    kind = owner["kind"]
    if count is None:
        count = owner["spec"].get("replicas", owner["spec"].get("parallelism", 1))
    out = []
    owner_name, owner_namespace = meta["name"], meta["namespace"]
    for i in range(count):
        if kind == "StatefulSet":
            name = f"{meta['name']}-{i}"
            pod_labels = {**labels, "statefulset.kubernetes.io/pod-name": name,
                          "apps.kubernetes.io/pod-index": str(i),
                          "controller-revision-hash": f"{meta['name']}-{_suffix(meta['name'], 10)}"}
        elif kind == "Job":
            name = f"{owner_name}-{_suffix(f'{owner_name}/{i}', 5)}"
            pod_labels = {**labels, "batch.kubernetes.io/job-name": meta["name"],
                          "job-name": meta["name"],
                          "batch.kubernetes.io/controller-uid": meta["uid"],
                          "controller-uid": meta["uid"]}
        else:
            name = f"{owner_name}-{_suffix(f'{owner_namespace}/{owner_name}/{i}', 5)}"
            pod_labels = labels
        phase = "Succeeded" if kind == "Job" else "Running"
        item = pod(meta["namespace"], name, pod_labels, ports=ports, owner=owner,
                   node=f"node-{i % 3 + 1}", phase=phase, image=image)
        item["spec"]["containers"][0]["name"] = template["spec"]["containers"][0]["name"]
        out.append(item)
    return out


def deployment_stack(namespace: str, name: str, labels: dict[str, str] | None = None, *,
                     ports: list[Port] | tuple[Port, ...] = (), replicas: int = 1,
                     image: str = "registry.example/app:1.0") -> list[Obj]:
    """[Deployment, its ReplicaSet, its Pods], ready for fake.put_all()."""
    deploy = deployment(namespace, name, labels, ports=ports, replicas=replicas, image=image)
    replica_set = replicaset_for(deploy)
    return [deploy, replica_set, *pods_for(replica_set)]


def statefulset(namespace: str, name: str, labels: dict[str, str] | None = None, *,
                ports: list[Port] | tuple[Port, ...] = (), replicas: int = 1,
                image: str = "registry.example/db:1.0") -> Obj:
    labels = labels or {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": _meta(name, namespace, labels, uid=str(uuid.uuid4())),
        "spec": {"replicas": replicas, "serviceName": name,
                 "selector": {"matchLabels": dict(labels)},
                 "template": _template(labels, name, ports, image)},
        "status": {"replicas": replicas, "readyReplicas": replicas, "observedGeneration": 1},
    }


def daemonset(namespace: str, name: str, labels: dict[str, str] | None = None, *,
              ports: list[Port] | tuple[Port, ...] = (),
              image: str = "registry.example/agent:1.0") -> Obj:
    labels = labels or {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": _meta(name, namespace, labels, uid=str(uuid.uuid4())),
        "spec": {"selector": {"matchLabels": dict(labels)},
                 "template": _template(labels, name, ports, image)},
        "status": {"desiredNumberScheduled": 3, "numberReady": 3, "observedGeneration": 1},
    }


def cronjob(namespace: str, name: str, labels: dict[str, str] | None = None, *,
            schedule: str = "*/5 * * * *", image: str = "registry.example/batch:1.0") -> Obj:
    labels = labels or {"app": name}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(name, namespace, labels, uid=str(uuid.uuid4())),
        "spec": {"schedule": schedule,
                 "jobTemplate": {"spec": {"template": _template(labels, name, (), image,
                                                                "OnFailure")}}},
    }


def job(namespace: str, name: str, labels: dict[str, str] | None = None, *,
        owner: Obj | None = None, image: str = "registry.example/batch:1.0") -> Obj:
    labels = labels or {"app": name}
    template = _template(labels, name, (), image, "Never")
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": _meta(name, namespace, labels, uid=str(uuid.uuid4()),
                          ownerReferences=[owner_reference(owner)] if owner else None),
        "spec": {"completions": 1, "parallelism": 1, "backoffLimit": 6, "template": template},
        "status": {"succeeded": 1},
    }


def job_for(cron: Obj, scheduled_minute: int = 29000000) -> Obj:
    """A Job the CronJob controller started, named `<cronjob>-<minutes since epoch>`."""
    meta = cron["metadata"]
    template = cron["spec"]["jobTemplate"]["spec"]["template"]
    created = job(meta["namespace"], f"{meta['name']}-{scheduled_minute}",
                  dict(template["metadata"].get("labels", {})), owner=cron,
                  image=template["spec"]["containers"][0]["image"])
    created["spec"]["template"] = template
    return created


def cronjob_stack(namespace: str, name: str, labels: dict[str, str] | None = None) -> list[Obj]:
    """[CronJob, one Job it started, that Job's Pod]."""
    cron = cronjob(namespace, name, labels)
    started = job_for(cron)
    return [cron, started, *pods_for(started, 1)]


def networkpolicy(namespace: str, name: str, spec: Obj | None = None, *,
                  pod_selector: Obj | None = None, ingress: list[Obj] | None = None,
                  egress: list[Obj] | None = None, policy_types: list[str] | None = None,
                  labels: dict[str, str] | None = None) -> Obj:
    """A NetworkPolicy from a full spec, or from its parts (unset parts are left out)."""
    if spec is None:
        spec = {"podSelector": pod_selector or {}}
        if ingress is not None:
            spec["ingress"] = ingress
        if egress is not None:
            spec["egress"] = egress
        if policy_types is not None:
            spec["policyTypes"] = policy_types
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": _meta(name, namespace, labels), "spec": spec}


def default_deny(namespace: str, name: str = "default-deny") -> Obj:
    return networkpolicy(namespace, name, {"podSelector": {},
                                           "policyTypes": ["Ingress", "Egress"]})


def allow_from(namespace: str, name: str, to_labels: dict[str, str],
               from_labels: dict[str, str], port: int | str, protocol: str = "TCP") -> Obj:
    """Ingress to pods with to_labels from pods with from_labels on one port."""
    return networkpolicy(namespace, name, {
        "podSelector": {"matchLabels": dict(to_labels)},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"podSelector": {"matchLabels": dict(from_labels)}}],
                     "ports": [{"protocol": protocol, "port": port}]}],
    })
