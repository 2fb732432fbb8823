"""What the API's viewsets share: the role hook, query parameters validated by a
serializer, and the parameters the schema documents for every list."""

from __future__ import annotations

from typing import Any

from django.db.models import Model, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import mixins, viewsets
from rest_framework.request import Request

from . import params as p


def validated_params(serializer_class: type[Any], request: Request, *, lists: tuple[str, ...] = (), **context: Any) -> Any:
    """The query parameters validated by `serializer_class` (400 with field errors if not)."""
    serializer = serializer_class(data=p.query_data(request.query_params, lists=lists), context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return serializer


CLUSTER_ID = OpenApiParameter("cluster", OpenApiTypes.INT, description="only rows of this cluster (id); scopes namespace and name filters")
# The page parameters of an action that pages a list inside its answer (lists get them
# from the pagination class).
PAGE_PARAMETERS = [
    OpenApiParameter("page", OpenApiTypes.INT, description="a page number within the paginated result set"),
    OpenApiParameter("page_size", OpenApiTypes.INT, description="number of results to return per page (at most 1,000)"),
]
NAMESPACES = OpenApiParameter(
    "namespace", OpenApiTypes.STR, many=True, explode=True,
    description="namespace names: repeat the parameter or separate with commas",
)


class BaseViewSet(viewsets.GenericViewSet[Any]):
    # Per-view role (see permissions.RolePermission); actions may set their own.
    required_role: Any = None
    # Every row is named by its integer id: anything else in that place of the path is
    # no route (404) rather than a lookup that fails in the database.
    lookup_value_regex = "[0-9]+"


class ReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """List and retrieve of a mirrored resource in a stable order. Subclasses name the
    serializer, the filterset, the `model` and its `ordering`, and narrow `rows()` where
    they defer or annotate."""

    model: type[Model]
    ordering: tuple[Any, ...] = ("pk",)

    def rows(self) -> QuerySet[Any]:
        return self.model._default_manager.all()

    def get_queryset(self) -> QuerySet[Any]:
        return self.rows().order_by(*self.ordering)
