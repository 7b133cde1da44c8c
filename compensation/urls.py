"""Compensation pages of a tenant: statements, calculation runs and MBO scores."""

from django.urls import path

from . import views

app_name = "compensation"

urlpatterns = [
    path("statements/", views.statement_list, name="statement-list"),
    path("statements/<int:person_id>/<int:period_id>/", views.statement_detail,
         name="statement"),
    path("statements/<int:person_id>/<int:period_id>/csv/", views.statement_csv,
         name="statement-csv"),
    path("runs/", views.run_list, name="run-list"),
    path("runs/recalculate/", views.run_recalculate, name="run-recalculate"),
    path("runs/<int:run_id>/", views.run_detail, name="run-detail"),
    path("mbo/", views.mbo_list, name="mbo-list"),
    path("mbo/<int:period_id>/<int:person_id>/", views.mbo_person, name="mbo-person"),
]
