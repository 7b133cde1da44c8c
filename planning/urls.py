"""Sales planning pages of a tenant: the plans and each plan's capacity scenarios."""

from django.urls import path

from . import views

app_name = "planning"

urlpatterns = [
    path("", views.plan_list, name="plan-list"),
    path("<int:pk>/", views.plan_detail, name="plan-detail"),
]
