"""bench.generate's old ReplicaSets: the rollout history a real Deployment keeps."""

from __future__ import annotations

from collections import Counter

from bench.generate import generate_cluster


def test_old_replicasets_add_history_without_changing_the_rest_of_the_cluster():
    plain = generate_cluster(pods=300, workloads=40, namespaces=8, policies=60, seed=7)
    history = generate_cluster(pods=300, workloads=40, namespaces=8, policies=60, seed=7, old_replicasets=3)
    old = [o for o in history if o["kind"] == "ReplicaSet" and o["spec"].get("replicas") == 0]
    # the same seed is the same cluster, plus the old ReplicaSets
    assert [o for o in history if o not in old] == plain
    deployments = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in plain if o["kind"] == "Deployment"]
    assert deployments
    owners = Counter((o["metadata"]["namespace"], o["metadata"]["ownerReferences"][0]["name"]) for o in old)
    assert owners == Counter(dict.fromkeys(deployments, 3))
    assert all(o["metadata"]["ownerReferences"][0]["kind"] == "Deployment" for o in old)
    # names are unique in their namespace, and no pod is owned by an old ReplicaSet
    names = [(o["metadata"]["namespace"], o["metadata"]["name"]) for o in history if o["kind"] == "ReplicaSet"]
    assert len(names) == len(set(names))
    old_names = {(o["metadata"]["namespace"], o["metadata"]["name"]) for o in old}
    pod_owners = {
        (p["metadata"]["namespace"], p["metadata"]["ownerReferences"][0]["name"]) for p in history if p["kind"] == "Pod"
    }
    assert not pod_owners & old_names
