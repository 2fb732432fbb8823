"""Page-number pagination for every API list: `?page=N&page_size=M` (at most 1,000).

A page that is not a number (nor `last`) is a 400 naming `page`; a page past the end is
DRF's 404 ("Invalid page."); a page size that is not a positive number falls back to the
default, as DRF does. `page_lists` pages several lists of one answer in step (a
workload's inbound and outbound connections) with the same parameters and links.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from django.core.paginator import Paginator
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request

PAGE_NUMBER = re.compile(r"\A[0-9]{1,18}\Z")


class StandardPagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 1000

    def get_page_number(self, request: Request, paginator: Paginator) -> Any:
        number = request.query_params.get(self.page_query_param) or "1"
        if number in self.last_page_strings:
            return paginator.num_pages
        if not PAGE_NUMBER.match(number) or int(number) < 1:
            raise ValidationError({self.page_query_param: [f"{number[:40]!r} is not a page number (1, 2, ... or last)"]})
        return int(number)


def page_lists(request: Request, lists: dict[str, Sequence[Any]]) -> dict[str, Any]:
    """One page of each of `lists`, in step: page N holds items (N-1)*size ... N*size - 1
    of every list. `count` is the length of the longest list (so the pages are
    ceil(count / page_size), as for any list), `<name>_count` each list's length, and
    `next`/`previous` the links to the neighbouring pages, null at either end."""
    pagination = StandardPagination()
    longest = max((len(items) for items in lists.values()), default=0)
    if pagination.paginate_queryset(range(longest), request) is None:  # paging turned off
        start, end, links = 0, longest, {"next": None, "previous": None}
    else:
        page = pagination.page
        start, end = (page.start_index() - 1 if longest else 0), page.end_index()
        links = {"next": pagination.get_next_link(), "previous": pagination.get_previous_link()}
    return {
        "count": longest,
        **links,
        **{f"{name}_count": len(items) for name, items in lists.items()},
        **{name: list(items[start:end]) for name, items in lists.items()},
    }
