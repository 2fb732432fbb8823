"""The answer to "can A reach B?" in one plain sentence, before the details."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from ..services.analysis import ALL_CONNECTIONS
from .netpolui import endpoint_text

register = template.Library()


def _short(key: str) -> str:
    """`shop/backend[Deployment]` -> `shop/backend`: the sentence names, the badge types."""
    text = endpoint_text(key)
    return text.rsplit(" (", 1)[0] if text.endswith(")") and "/" in text else text


def _tier_rule(m: Mapping[str, Any]) -> str:
    kind, _, name = str(m["policy"]).partition("/")
    named = f' "{m["rule_name"]}"' if m.get("rule_name") else ""
    return f"{m['tier']} tier {kind} {name} {m['direction']} rule #{m['rule_index']}{named} ({m['action']})"


def _tier_reasons(side: Mapping[str, Any], actions: tuple[str, ...]) -> list[str]:
    seen: list[str] = []
    for m in side.get("tier_matches") or []:
        text = _tier_rule(m)
        if m.get("action") in actions and text not in seen:
            seen.append(text)
    return seen


def _why_allowed(side: Mapping[str, Any]) -> list[str]:
    tiers = _tier_reasons(side, ("Accept", "Allow"))
    if not side.get("isolated"):
        return tiers
    seen: list[str] = tiers
    for m in side.get("matches") or []:
        text = f"{m['policy']} {m['direction']} rule #{m['rule_index']}"
        if text not in seen:
            seen.append(text)
    return seen


@register.filter
def answer_sentence(ex: Mapping[str, Any]) -> str:
    """"shop/backend → shop/database: TCP 5432, allowed by shop/database-policy ingress
    rule #0 and shop/backend-egress egress rule #1." or why it is denied."""
    head = f"{_short(ex['src'])} → {_short(ex['dst'])}"
    asked = ""
    if ex.get("port") not in (None, ""):
        asked = f"{ex.get('protocol') or 'TCP'} {ex['port']}"
    if ex.get("allowed"):
        conns = ex.get("conns_text") or ""
        what = (asked or "every connection") if conns in ("", ALL_CONNECTIONS) else conns
        reasons = _why_allowed(ex["ingress"]) + _why_allowed(ex["egress"])
        open_sides = [
            f"{side} is not isolated"
            for side in ("egress", "ingress")
            if not ex[side].get("isolated") and not ex[side].get("tier_matches")
        ]
        open_sides += [
            f"{side}: " + " and ".join(_tier_reasons(ex[side], ("Pass",))) + " passed it on and nothing else decided, so it is allowed by default"
            for side in ("egress", "ingress")
            if not ex[side].get("isolated") and _tier_reasons(ex[side], ("Pass",)) and not _tier_reasons(ex[side], ("Accept", "Allow"))
        ]
        why = " and ".join(reasons)
        if open_sides:
            why = (why + "; " if why else "") + ", ".join(open_sides)
        return f"{head}: {what}, allowed" + (f" by {why}" if reasons else f" ({why})" if why else "") + "."
    blocked = []
    for side in ("egress", "ingress"):
        v = ex[side]
        if not v.get("allowed"):
            where = "from " + _short(ex["src"]) if side == "egress" else "to " + _short(ex["dst"])
            denials = _tier_reasons(v, ("Deny",))
            if denials:
                blocked.append(f"{side} {where} is denied by the " + " and the ".join(denials))
                continue
            policies = ", ".join(v.get("policies") or [])
            blocked.append(f"{side} {where} is isolated by {policies} and no rule matches")
    return f"{head}: {asked or 'no connection'}, denied: " + "; ".join(blocked) + "."


@register.filter
def restricted(rows: Any) -> list[Any]:
    """Connection rows that allow less than everything (the ones worth listing on a
    non-isolated endpoint's page, whose other rows all read "all connections")."""
    return [r for r in rows or [] if r.get("conns") != "all"]


@register.filter
def unrestricted_count(rows: Any) -> int:
    return sum(1 for r in rows or [] if r.get("conns") == "all")


@register.filter
def reach_sentence(details: Mapping[str, Any], limit: int = 6) -> str:
    """"shop: tier=backend on TCP 5432; monitoring/prometheus (Deployment) on TCP 9090."
    — who may reach a node, in one line, before the rule-by-rule list."""
    rows = list(details.get("inbound") or [])
    if not rows:
        return "Nothing may connect to it."
    parts = []
    for row in rows[:limit]:
        label = row.get("label") or ""
        what = "every connection" if label in ("", ALL_CONNECTIONS) else label
        parts.append(f"{endpoint_text(row['peer'])} on {what}")
    more = len(rows) - limit
    return (
        f"{len(rows)} source{'s' if len(rows) != 1 else ''} may connect: "
        + "; ".join(parts)
        + (f"; and {more} more." if more > 0 else ".")
    )
