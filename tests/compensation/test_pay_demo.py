"""The demo's pay steps: a tenant in the middle of its year, with periods paid, approved and in
review, adjustments, disputes and missing plan acceptances, all made through the services."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from compensation.demo import build_compensation
from compensation.demo_pay import build_adjustments, build_pay_cycles
from compensation.models import (
    Adjustment,
    AdjustmentStatus,
    Dispute,
    DisputeStatus,
    PayCycle,
    PayCycleStatus,
    PayCycleTransition,
    PayeePeriodResult,
    Payout,
    PayrollExport,
    PlanAcceptance,
    PlanAssignment,
)
from spm.demo import steps
from spm.demo.generate import DemoSpec
from spm.org.models import Person
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

AS_OF = datetime.date(2026, 5, 20)


@pytest.fixture
def demo(db) -> tuple[Tenant, dict]:
    tenant = steps.ensure_tenant(slug="acme")
    users = steps.ensure_users(tenant=tenant, password="demo")
    spec = DemoSpec(reps=6, years=1, deals=200, as_of=AS_OF, seed=3)
    ctx = steps.DemoContext(spec=spec, tenant=tenant, users=users, log=lambda _: None)
    wanted = [steps.wipe_tenant_data, steps.build_org, steps.link_demo_users,
              steps.build_periods, steps.build_stages, steps.build_accounts, steps.build_deals,
              steps.build_stage_history, steps.build_leads, steps.build_activities,
              build_compensation, build_adjustments, steps.run_calculations, build_pay_cycles]
    with tenant_context(tenant):
        steps.run_steps(ctx, wanted)
    return tenant, users


def test_the_last_three_months_are_paid_approved_and_in_review(demo):
    tenant, _ = demo
    with tenant_context(tenant):
        cycles = {f"{c.period.start_date:%Y-%m}": c.status
                  for c in PayCycle.objects.filter(period__kind="month").select_related("period")
                  if c.status not in (PayCycleStatus.OPEN, PayCycleStatus.CALCULATED)}
        assert cycles == {"2026-02": PayCycleStatus.PAID, "2026-03": PayCycleStatus.APPROVED,
                          "2026-04": PayCycleStatus.IN_REVIEW}
        paid = PayCycle.objects.get(status=PayCycleStatus.PAID)
        export = PayrollExport.objects.get(cycle=paid)
        assert export.file_format == "csv"
        assert export.content
        # One payout per payee with results, for exactly what their statement totals.
        totals = dict(PayeePeriodResult.objects.filter(period=paid.period)
                      .values_list("payee_id", "total"))
        payouts = dict(Payout.objects.filter(period=paid.period)
                       .values_list("payee_id", "amount"))
        assert payouts == totals
        assert not Payout.objects.exclude(period=paid.period).exists()
        # Finance did it, and the period page can say so.
        assert set(PayCycleTransition.objects.values_list("actor__username", flat=True)) >= {
            "acme-finance"}


def test_the_rep_has_an_approved_and_a_pending_adjustment_entered_and_approved_by_others(demo):
    tenant, users = demo
    with tenant_context(tenant):
        rep = Person.objects.get(user=users["rep"])
        adjustments = {a.status: a for a in Adjustment.objects.filter(payee=rep)}
        assert set(adjustments) == {AdjustmentStatus.APPROVED, AdjustmentStatus.PENDING}
        approved = adjustments[AdjustmentStatus.APPROVED]
        assert approved.amount == Decimal("500.00")
        assert approved.created_by == users["finance"]
        assert approved.approved_by == users["admin"]
        # Entered before the calculation, the approved one is on the in-review statement.
        result = PayeePeriodResult.objects.get(payee=rep, period=approved.period)
        assert result.adjustments == Decimal("500.00")


def test_the_rep_has_one_open_dispute_and_one_resolved_by_the_adjustment(demo):
    tenant, users = demo
    with tenant_context(tenant):
        rep = Person.objects.get(user=users["rep"])
        disputes = {d.status: d for d in Dispute.objects.filter(payee=rep)}
        assert set(disputes) == {DisputeStatus.OPEN, DisputeStatus.RESOLVED}
        resolved = disputes[DisputeStatus.RESOLVED]
        assert resolved.adjustment.status == AdjustmentStatus.APPROVED
        assert resolved.resolution
        assert disputes[DisputeStatus.OPEN].raised_by == users["rep"]


def test_the_rep_has_accepted_their_plan_and_most_people_have_not(demo):
    tenant, users = demo
    with tenant_context(tenant):
        rep = Person.objects.get(user=users["rep"])
        accepted = set(PlanAcceptance.objects.values_list("person_id", flat=True))
        assigned = set(PlanAssignment.objects.values_list("person_id", flat=True))
        assert accepted == {rep.pk}
        assert len(assigned - accepted) > 5
