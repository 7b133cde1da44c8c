"""Pages of one tenant, mounted under /t/<slug>/ by spm.tenancy.urls."""

from django.urls import path

from spm import views
from spm.tenancy.admin_site import tenant_admin_site

urlpatterns = [
    path("", views.tenant_home, name="tenant-home"),
    path("admin/", tenant_admin_site.urls),
]
