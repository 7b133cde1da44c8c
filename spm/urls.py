"""Platform URLs. Tenant pages live in spm/urls_tenant.py under /t/<slug>/ (see tenancy.urls)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from spm import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # Own template names: registration/password_change_form.html would also restyle the admin's.
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(template_name="registration/password_change.html"),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(
            template_name="registration/password_changed.html"
        ),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    # REST API for CRMs (/api/v1/), its OpenAPI schema (/api/schema/) and docs (/api/docs/).
    path("api/", include("spm.api.urls")),
]

handler404 = "spm.errors.not_found"
handler403 = "spm.errors.forbidden"
handler500 = "spm.errors.server_error"
