"""The first-run settings page of a tenant, under /t/<slug>/setup/."""

from django.urls import path

from . import views

app_name = "onboarding"

urlpatterns = [
    path("", views.setup, name="setup"),
]
