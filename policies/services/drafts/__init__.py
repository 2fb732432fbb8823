"""Policy drafts: what the editor pages and the drafts API call.

One package, one module per step; import from here (``from policies.services import drafts``):

- ``form``: form data <-> policy (``policy_to_form``, ``form_to_policy``, ``compact_policy``),
  Django-free and type-checked.
- ``preview``: reading and checking (``parse_yaml``, ``validate``, ``stored_form`` -- the
  policy as drafts keep it --, ``preview`` with the ``three_zone_picture``).
- ``checks``: the warnings -- mistakes the API server accepts but people rarely mean
  (``common_mistakes``, ``more_mistakes``).
- ``what_if``: the reachability change if the policies were applied.
- ``suggestions``: label keys/values and namespace names the editor offers.
- ``lifecycle``: create, change, status, delete, restore, history, export, clone.
- ``apply``: server-side apply (admins, off unless NETPOLUI_ALLOW_APPLY), dry run first.
- ``errors``: the exceptions (``DraftError`` and its kinds) and field errors.
"""

from __future__ import annotations

from .apply import (
    DRY_RUN_VALID_SECONDS,
    apply_draft,
    apply_enabled,
    can_apply_to,
    last_dry_run,
)
from .checks import (
    common_mistakes,
    known_namespaces,
    more_mistakes,
)
from .errors import (
    ApplyFailed,
    ApplyRefused,
    DraftConflict,
    DraftError,
    DraftInvalid,
    FieldError,
    error_dicts,
)
from .form import (
    API_VERSION,
    KIND,
    PEER_KINDS,
    blank_form,
    compact_policy,
    empty_selector,
    form_to_policy,
    policy_to_form,
)
from .lifecycle import (
    change_summary,
    clone_live,
    create_draft,
    create_drafts,
    delete_draft,
    drafts_for_export,
    existing_draft,
    export_filename,
    export_yaml,
    record_export,
    restore_revision,
    set_status,
    update_draft,
)
from .preview import (
    ZONE_LIMIT,
    ParsedDocument,
    YamlUnreadable,
    canonical_yaml,
    parse_yaml,
    preview,
    round_trip_losses,
    stored_form,
    three_zone_picture,
    validate,
)
from .suggestions import (
    SUGGESTION_LIMIT,
    label_suggestions,
    namespace_names,
)
from .what_if import (
    WHAT_IF_LIMIT,
    what_if,
    what_if_context,
)

__all__ = [
    "API_VERSION",
    "ApplyFailed",
    "ApplyRefused",
    "DRY_RUN_VALID_SECONDS",
    "DraftConflict",
    "DraftError",
    "DraftInvalid",
    "FieldError",
    "KIND",
    "PEER_KINDS",
    "ParsedDocument",
    "SUGGESTION_LIMIT",
    "WHAT_IF_LIMIT",
    "YamlUnreadable",
    "ZONE_LIMIT",
    "apply_draft",
    "apply_enabled",
    "blank_form",
    "can_apply_to",
    "canonical_yaml",
    "change_summary",
    "clone_live",
    "common_mistakes",
    "compact_policy",
    "create_draft",
    "create_drafts",
    "delete_draft",
    "drafts_for_export",
    "empty_selector",
    "error_dicts",
    "existing_draft",
    "export_filename",
    "export_yaml",
    "form_to_policy",
    "known_namespaces",
    "label_suggestions",
    "last_dry_run",
    "more_mistakes",
    "namespace_names",
    "parse_yaml",
    "policy_to_form",
    "preview",
    "record_export",
    "restore_revision",
    "round_trip_losses",
    "set_status",
    "stored_form",
    "three_zone_picture",
    "update_draft",
    "validate",
    "what_if",
    "what_if_context",
]
