"""Per-user request rates for API clients, from settings (REST_FRAMEWORK
DEFAULT_THROTTLE_RATES["user"], set by NETPOLUI_API_THROTTLE).

DRF's throttles copy the rates when their module is imported; this one reads them on
every request, so a changed setting (an operator's override, a test) takes effect at
once. Counters live in Django's cache: Redis in production, shared by every worker."""

from __future__ import annotations

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class UserThrottle(UserRateThrottle):
    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)  # type: ignore[no-any-return]
