"""Page-number pagination for every API list: `?page=N&page_size=M` (at most 1,000)."""

from __future__ import annotations

from rest_framework.pagination import PageNumberPagination


class StandardPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000
