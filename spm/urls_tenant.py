"""Pages of one tenant, mounted under /t/<slug>/ by spm.tenancy.urls."""

from django.urls import include, path

from spm import views
from spm.tenancy import views_apikeys
from spm.tenancy.admin_site import tenant_admin_site

urlpatterns = [
    path("", views.tenant_home, name="tenant-home"),
    path("admin/", tenant_admin_site.urls),
    path("settings/api-keys/", views_apikeys.apikey_list, name="apikey-list"),
    path(
        "settings/api-keys/<int:pk>/revoke/", views_apikeys.apikey_revoke, name="apikey-revoke"
    ),
    path("", include("spm.org.urls")),
    path("", include("spm.crm.urls")),
    path("territories/", include("territories.urls")),
    path("import/", include("spm.crm.urls_import")),
    path("planning/", include("planning.urls")),
    path("quotas/", include("quotas.urls")),
    path("comp/", include("compensation.urls")),
    path("setup/", include("spm.onboarding.urls")),
]
