"""Drift review: the policies a team intends, compared with the policies the cluster runs.

One package, one module per step; import from here (``from policies.services import drift``):

- ``sources``: the desired state (``read_desired_state``), the union of a cluster's enabled
  ``DesiredSource`` rows -- approved drafts, a directory of manifests, a Git repository or an
  uploaded multi-document YAML file; and the source settings the form and the API check and
  save (``check_source``, ``save_source``, ``delete_source``).
- ``git``: cloning and fetching Git sources, and which locations non-admins may fetch.
- ``compare``: per policy missing, extra or semantically changed (``compare``), and the
  reachability each difference makes (``reachability_effects``), coverage findings.
- ``reports``: a whole run (``run_drift``, ``compute_drift``), stored reports with their
  history, diffs of one item.
- ``exports``: ``reconcile_yaml``, ``adopt_yaml``, the command's text report.
- ``errors``: ``SourceUnreadable``, ``SourceInvalid``, ``NoSources``.
"""

from __future__ import annotations

from .compare import (
    CONNECTION_LIMIT,
    COVERAGE_CODES,
    EFFECT_ITEM_LIMIT,
    FINDING_LIMIT,
    ITEM_CONNECTION_LIMIT,
    KIND_ORDER,
    Difference,
    compare,
    connection_delta,
    coverage_findings,
    live_policies,
    reachability_effects,
    semantically_equal,
)
from .errors import (
    NoSources,
    SourceInvalid,
    SourceUnreadable,
)
from .exports import (
    EXPORTS,
    adopt_yaml,
    delete_command,
    delete_commands,
    export_filename,
    reconcile_yaml,
    render_text,
)
from .git import (
    GIT_SCHEMES,
    GitFailed,
    checkout_name,
    forget_checkout,
    git_checkout,
    git_location_error,
    git_remote_error,
    git_timeout,
    is_local_git_location,
    redact,
    shown_location,
)
from .keys import is_cluster_scoped, key_namespace, policy_key, policy_words
from .reports import (
    DriftResult,
    build_report,
    clusters_with_sources,
    compute_drift,
    grouped_items,
    history,
    item_diff,
    item_history,
    item_yaml,
    keep_reports,
    latest_report,
    normalized_yaml,
    run_drift,
    side_by_side,
    store_report,
    unified_diff,
)
from .sources import (
    READERS,
    UPLOAD_LIMIT_BYTES,
    DesiredPolicy,
    DesiredState,
    SourceProblem,
    SourceRead,
    check_source,
    delete_source,
    needs_admin,
    read_desired_state,
    read_directory,
    read_drafts,
    read_file_text,
    read_git,
    read_limits,
    read_manifest_dir,
    read_source,
    read_upload,
    save_source,
)

__all__ = [
    "is_cluster_scoped",
    "key_namespace",
    "policy_words",
    "UPLOAD_LIMIT_BYTES",
    "CONNECTION_LIMIT",
    "COVERAGE_CODES",
    "DesiredPolicy",
    "DesiredState",
    "Difference",
    "DriftResult",
    "EFFECT_ITEM_LIMIT",
    "EXPORTS",
    "FINDING_LIMIT",
    "GIT_SCHEMES",
    "GitFailed",
    "ITEM_CONNECTION_LIMIT",
    "KIND_ORDER",
    "NoSources",
    "READERS",
    "SourceInvalid",
    "SourceProblem",
    "SourceRead",
    "SourceUnreadable",
    "adopt_yaml",
    "build_report",
    "check_source",
    "checkout_name",
    "clusters_with_sources",
    "compare",
    "compute_drift",
    "connection_delta",
    "coverage_findings",
    "delete_command",
    "delete_commands",
    "delete_source",
    "export_filename",
    "forget_checkout",
    "git_checkout",
    "git_location_error",
    "git_remote_error",
    "git_timeout",
    "grouped_items",
    "history",
    "is_local_git_location",
    "item_diff",
    "item_history",
    "item_yaml",
    "keep_reports",
    "latest_report",
    "live_policies",
    "needs_admin",
    "normalized_yaml",
    "policy_key",
    "reachability_effects",
    "read_desired_state",
    "read_directory",
    "read_drafts",
    "read_file_text",
    "read_git",
    "read_limits",
    "read_manifest_dir",
    "read_source",
    "read_upload",
    "reconcile_yaml",
    "redact",
    "render_text",
    "run_drift",
    "save_source",
    "semantically_equal",
    "shown_location",
    "side_by_side",
    "store_report",
    "unified_diff",
]
