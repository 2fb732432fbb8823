"""What the HTML pages and the API share: counting rows per parent in one query."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, IntegerField, Q, Subquery
from django.db.models.functions import Coalesce


def count_of(model: type[Any], *conditions: Q, **match: Any) -> Coalesce:
    """A correlated COUNT(*) subquery, `match` naming the outer row (`cluster=OuterRef("pk")`):
    one SQL statement for a whole page of rows."""
    rows = (
        model.objects.filter(*conditions, **match)
        .order_by()
        .values(*match)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)
