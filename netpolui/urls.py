from django.contrib import admin
from django.urls import include, path

from policies.signin import RateLimitedAdminAuthenticationForm

# The admin's sign-in counts failures like the login page.
admin.site.login_form = RateLimitedAdminAuthenticationForm

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("policies.api.urls")),
    path("", include("policies.dashboard.urls")),
]

# Errors under /api/ are JSON; pages keep Django's pages.
handler400 = "policies.errors.bad_request"
handler403 = "policies.errors.permission_denied"
handler404 = "policies.errors.page_not_found"
handler500 = "policies.errors.server_error"
