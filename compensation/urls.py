"""Compensation pages of a tenant: statements, plans and their acceptance, calculation runs,
pay cycles and payroll exports, adjustments, holds and disputes, MBO scores and the plan
assignment import."""

from django.urls import path

from . import views, views_import, views_ops, views_pay, views_plans

app_name = "compensation"

urlpatterns = [
    path("statements/", views.statement_list, name="statement-list"),
    path("statements/<int:person_id>/<int:period_id>/", views.statement_detail,
         name="statement"),
    path("statements/<int:person_id>/<int:period_id>/csv/", views.statement_csv,
         name="statement-csv"),
    path("statements/<int:person_id>/<int:period_id>/dispute/", views_ops.dispute_new,
         name="dispute-new"),
    path("adjustments/", views_ops.adjustment_list, name="adjustment-list"),
    path("adjustments/<int:adjustment_id>/decide/", views_ops.adjustment_decide,
         name="adjustment-decide"),
    path("holds/", views_ops.hold_list, name="hold-list"),
    path("holds/line/<int:line_id>/", views_ops.hold_line, name="hold-line"),
    path("holds/<int:hold_id>/release/", views_ops.hold_release_view, name="hold-release"),
    path("disputes/", views_ops.dispute_list, name="dispute-list"),
    path("disputes/<int:dispute_id>/", views_ops.dispute_detail, name="dispute-detail"),
    path("notifications/", views_ops.notification_list, name="notification-list"),
    path("notifications/badge/", views_ops.notification_badge, name="notification-badge"),
    path("my-plan/", views_plans.my_plan, name="my-plan"),
    path("plans/", views_plans.plan_list, name="plan-list"),
    path("plans/acceptance/", views_plans.acceptance_status, name="plan-acceptance"),
    path("plans/acceptance/remind/", views_plans.acceptance_remind, name="plan-remind"),
    path("plans/<int:person_id>/", views_plans.person_plan, name="plan-person"),
    path("plans/<int:person_id>/accept/", views_plans.plan_accept, name="plan-accept"),
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
