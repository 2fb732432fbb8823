"""CNI policy resources (Calico, Cilium, Antrea): what they are and how they compile
into the tiered rule model of ``policies.engine.tiers``."""

from .kinds import (
    ANTREA,
    CALICO,
    CILIUM,
    CNI_KINDS,
    CNIS,
    CniKind,
    api_group,
    cni_kind,
    cni_object_key,
    is_cni_object,
)

__all__ = ["ANTREA", "CALICO", "CILIUM", "CNIS", "CNI_KINDS", "CniKind", "api_group", "cni_kind",
    "cni_object_key", "is_cni_object"]
