"""Quota pages of a tenant: my quota, the team view, plans, the allocation workspace, letters."""

from django.urls import path

from . import views

app_name = "quotas"

urlpatterns = [
    path("", views.my_quota, name="my"),
    path("team/", views.team_view, name="team"),
    path("plans/", views.plan_list, name="plan-list"),
    path("plans/new/", views.plan_create, name="plan-create"),
    path("plans/<int:pk>/", views.workspace, name="workspace"),
    path("plans/<int:pk>/allocate/", views.allocate, name="allocate"),
    path("plans/<int:pk>/seasonality/", views.seasonality, name="seasonality"),
    path("plans/<int:pk>/apply/", views.apply, name="apply"),
    path("plans/<int:pk>/letter/", views.letter, name="letter"),
    path("plans/<int:pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("allocations/<int:pk>/override/", views.override, name="override"),
    path("allocations/<int:pk>/change/", views.change, name="change"),
]
