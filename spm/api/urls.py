"""Routes under /api/: version 1 of the REST API, its OpenAPI schema and its docs page."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import attainment, views

router = SimpleRouter()
router.register("people", views.PersonViewSet, basename="person")
router.register("accounts", views.AccountViewSet, basename="account")
router.register("deals", views.DealViewSet, basename="deal")
router.register("leads", views.LeadViewSet, basename="lead")
router.register("activities", views.ActivityViewSet, basename="activity")
router.register("attainment", attainment.AttainmentViewSet, basename="attainment")

app_name = "api"
urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    # Last: any other path under /api/ gets a JSON 404, never an HTML page.
    re_path(r"^(?P<path>.*)$", views.not_found, name="not-found"),
]
