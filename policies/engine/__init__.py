"""netpolui's reachability engine: pure Python, no Django, DRF, Celery or kubernetes.

It reads Kubernetes objects (plain dicts or manifest files), applies the exact
NetworkPolicy (networking.k8s.io/v1) semantics and answers who can reach whom, why,
and what changed. The CLI (``netpolui``), the REST API, the editor and drift review all
call these names; they are the stable public API:

Reading input
    load_paths(paths, limits) -> Inventory; load_documents(docs, source) -> Inventory;
    load_yaml_text(text, source) -> list[dict]; load_text(text, source) -> Inventory;
    Inventory; ManifestError; InputError
Input limits (alias bombs, nesting, sizes, links, time)
    ReadLimits; ReadBudget; UnsafeInput; read_manifest_file(path, budget);
    walk_manifest_files(root, boundary, budget) -> (files, skipped)
Model
    build_cluster(objects, *, strict=True, cni=None) -> Cluster; Cluster; Pod; Workload;
    NetworkPolicy; validate_network_policy(obj) -> list[FieldError]; FieldError;
    effective_policy_types(spec)
Cluster-wide tiers (tiers.py)
    ClusterPolicy (ClusterNetworkPolicy v1alpha2, AdminNetworkPolicy and
    BaselineAdminNetworkPolicy v1alpha1, keys "Kind/name"), TierRule, TierPeer, Tier,
    TIERS, ClusterNode; validate_cluster_policy(obj) -> list[FieldError];
    parse_cluster_policy(obj); normalize_cluster_policy(obj) (rule order kept);
    CLUSTER_POLICY_KINDS; to_cluster_network_policy(obj) -> Conversion (a v1alpha1
    AdminNetworkPolicy / BaselineAdminNetworkPolicy written as a v1alpha2
    ClusterNetworkPolicy, with notes on what was left out)
CNI policies (cni/): Calico, Cilium, Antrea objects identified by API group and kind
    CNI_KINDS; cni_kind(obj); cni_object_key(obj) (their one name everywhere);
    canonical_cni_object(obj) (with the defaults their API server or webhook fills in);
    CNI_CHOICES ("calico", "cilium", "antrea", "none"); detect_cni; CniPolicyInfo
    (cluster.cni_policies: every CNI policy, enforced or not, its rules and
    problems); CniRuleInfo; CniTierPolicy (compiled into the tier model); PlanTier
    (cluster.tier_plan: the tiers every analysis walks); parse_calico_selector;
    CalicoSelectorError (with the position); cni_to_network_policy(obj) ->
    CniTranslation (the v1 NetworkPolicy where the translation is exact, else why not)
Reachability
    analyze(cluster, *, level, direction) -> Reachability; Analyzer (incremental:
    replace_policy(obj), remove_policy(namespace, name), and
    with_policies_changed(upserts, removals) for several changes at once);
    Reachability; Endpoint; Connection; ConnSet; group_reachability(reach, group_of);
    conns_text(conns_or_json) / conns_parts: the one text of a connection set;
    object_key / external_key build endpoint keys, parse_object_key / external_range read them
    PairTable(analyzer, level, direction): the connection list kept implicit (pages of
    sources, edges of one endpoint, counts, degrees, aggregation from cells)
Explaining, comparing, reviewing
    explain(cluster, src, dst, *, port, protocol) -> Explanation; UnknownEndpoint;
    diff_reachability(old, new) -> ReachabilityDiff (netpol-analyzer's diff format);
    diff_clusters(old, new, *, level) -> ReachabilityDiff;
    on_common_families(old_analyzer, new_analyzer); findings(cluster) -> list[Finding];
    CHECKS, FINDING_CODES, SEVERITIES (one check per code); rule_allows_dns(rule)
Policies as YAML
    normalize_policy(obj); clean_policy(obj); dump_yaml(objs)
Output
    render(reach, fmt, *, explain=None) with fmt in txt, json, csv, md, dot;
    render_dot(reach, *, labels, boxes, caption): the dot output as a caller draws it;
    write(reach_or_table, fmt, out, *, focus=None) streams the same text row by row
    render_picture(reach, fmt, *, title) with fmt in svg, png, html (Graphviz's dot);
    graphviz(dot, fmt, *, timeout) -> bytes; GraphvizUnavailable
"""

from .cluster import Cluster, Isolation, build_cluster
from .cni import CNI_KINDS, CniKind, cni_kind, cni_object_key, is_cni_object
from .cni.build import CNI_CHOICES
from .cni.build import detect as detect_cni
from .cni.calico_selector import SelectorError as CalicoSelectorError
from .cni.calico_selector import parse as parse_calico_selector
from .cni.canonical import canonical_cni_object
from .cni.common import CniPolicyInfo, CniRuleInfo, CniTierPolicy, PlanTier
from .cni.translate import Translation as CniTranslation
from .cni.translate import to_network_policy as cni_to_network_policy
from .diff import (
    DIFF_FORMATS,
    ChangedConnection,
    DiffLine,
    ReachabilityDiff,
    address_families,
    diff_clusters,
    diff_reachability,
    on_common_families,
)
from .endpoint_keys import external_key, external_range, object_key, parse_object_key
from .explain import (
    DirectionVerdict,
    Explanation,
    RuleMatch,
    TierMatch,
    UnknownEndpoint,
    explain,
)
from .finding import SEVERITIES, Finding
from .formats import FORMATS, render, render_dot, write
from .lint import CHECKS, FINDING_CODES, Check, findings, rule_allows_dns
from .manifests import (
    InputError,
    Inventory,
    Location,
    ManifestError,
    load_documents,
    load_paths,
    load_text,
    load_yaml_text,
)
from .model import (
    IPBlock,
    NetworkPolicy,
    Peer,
    Pod,
    PolicyPort,
    Rule,
    Workload,
    effective_policy_types,
)
from .normalize import clean_policy, dump_yaml, normalize_policy
from .pairs import PairTable
from .pictures import PICTURE_FORMATS, GraphvizUnavailable, graphviz, render_picture
from .ports import ALL_CONNECTIONS, PROTOCOLS, ConnSet, conns_parts, conns_text
from .reachability import Analyzer, Connection, Endpoint, Reachability, analyze, group_reachability
from .safe_input import (
    ReadBudget,
    ReadLimits,
    Skipped,
    UnsafeInput,
    is_inside,
    read_manifest_file,
    walk_manifest_files,
)
from .selectors import LabelSelector, Requirement
from .tier_convert import Conversion, to_cluster_network_policy
from .tier_normalize import normalize_cluster_policy
from .tier_validation import validate_cluster_policy
from .tiers import (
    CLUSTER_POLICY_KINDS,
    TIERS,
    ClusterPolicy,
    Tier,
    TierPeer,
    TierRule,
    UnknownPeer,
    parse_cluster_policy,
    unknown_peers,
)
from .tiers import Node as ClusterNode
from .validation import FieldError, validate_network_policy

__all__ = [
    "ALL_CONNECTIONS",
    "CLUSTER_POLICY_KINDS",
    "CNI_CHOICES",
    "CNI_KINDS",
    "CalicoSelectorError",
    "CniKind",
    "CniPolicyInfo",
    "CniRuleInfo",
    "CniTierPolicy",
    "CniTranslation",
    "canonical_cni_object",
    "cni_to_network_policy",
    "PlanTier",
    "cni_kind",
    "cni_object_key",
    "detect_cni",
    "is_cni_object",
    "parse_calico_selector",
    "CHECKS",
    "DIFF_FORMATS",
    "FINDING_CODES",
    "FORMATS",
    "PICTURE_FORMATS",
    "PROTOCOLS",
    "TIERS",
    "SEVERITIES",
    "Analyzer",
    "ClusterNode",
    "ClusterPolicy",
    "ChangedConnection",
    "Check",
    "Cluster",
    "ConnSet",
    "conns_parts",
    "conns_text",
    "external_key",
    "external_range",
    "object_key",
    "parse_object_key",
    "Connection",
    "Conversion",
    "DiffLine",
    "DirectionVerdict",
    "Endpoint",
    "Explanation",
    "FieldError",
    "GraphvizUnavailable",
    "Finding",
    "IPBlock",
    "InputError",
    "Inventory",
    "Isolation",
    "LabelSelector",
    "Location",
    "ManifestError",
    "NetworkPolicy",
    "PairTable",
    "Peer",
    "Pod",
    "PolicyPort",
    "Reachability",
    "ReachabilityDiff",
    "ReadBudget",
    "ReadLimits",
    "Requirement",
    "Rule",
    "RuleMatch",
    "Tier",
    "TierMatch",
    "TierPeer",
    "TierRule",
    "UnknownPeer",
    "Skipped",
    "UnknownEndpoint",
    "UnsafeInput",
    "Workload",
    "address_families",
    "analyze",
    "build_cluster",
    "clean_policy",
    "diff_clusters",
    "diff_reachability",
    "dump_yaml",
    "effective_policy_types",
    "explain",
    "findings",
    "graphviz",
    "group_reachability",
    "is_inside",
    "load_documents",
    "load_paths",
    "load_text",
    "load_yaml_text",
    "normalize_cluster_policy",
    "normalize_policy",
    "parse_cluster_policy",
    "on_common_families",
    "read_manifest_file",
    "render",
    "render_dot",
    "render_picture",
    "to_cluster_network_policy",
    "unknown_peers",
    "validate_cluster_policy",
    "rule_allows_dns",
    "validate_network_policy",
    "write",
    "walk_manifest_files",
]
