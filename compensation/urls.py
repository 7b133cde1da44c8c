"""Compensation pages of a tenant: statements, calculation runs, pay cycles and payroll
exports, MBO scores and the plan assignment import."""

from django.urls import path

from . import views, views_import, views_pay

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
    path("pay/", views_pay.pay_cycle_list, name="pay-cycle-list"),
    path("pay/layout/", views_pay.payroll_layout, name="payroll-layout"),
    path("pay/<int:period_id>/", views_pay.pay_cycle_detail, name="pay-cycle"),
    path("pay/<int:period_id>/action/", views_pay.pay_cycle_action, name="pay-cycle-action"),
    path("pay/<int:period_id>/export/", views_pay.pay_cycle_export, name="pay-cycle-export"),
    path("mbo/", views.mbo_list, name="mbo-list"),
    path("mbo/<int:period_id>/<int:person_id>/", views.mbo_person, name="mbo-person"),
    path("assignments/import/", views_import.assignment_import, name="assignment-import"),
    path("assignments/import/<int:batch_id>/", views_import.assignment_import_batch,
         name="assignment-import-batch"),
    path("assignments/import/<int:batch_id>/apply/", views_import.assignment_import_apply,
         name="assignment-import-apply"),
    path("assignments/import/<int:batch_id>/errors.csv",
         views_import.assignment_import_errors_csv, name="assignment-import-errors"),
]
