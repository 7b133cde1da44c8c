"""The seed_demo compensation step: plans per seller role, assignments for everyone who sells,
and credits that account for every won deal."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from compensation.demo import build_compensation
from compensation.engine import calculate
from compensation.models import Credit, CreditKind, PlanAssignment, PlanVersion, VersionStatus
from compensation.selectors import (
    assignments_frame,
    credits_frame,
    engine_calendar,
    engine_plans,
    versions_of_period,
)
from spm.crm.models import Deal
from spm.demo import steps
from spm.demo.generate import DemoSpec
from spm.org.models import Period, Person
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

AS_OF = datetime.date(2026, 5, 20)


@pytest.fixture
def demo(db) -> Tenant:
    """The demo's sales data, its compensation step and its calculation, which builds the
    credits (other apps' steps are theirs to test)."""
    tenant = steps.ensure_tenant(slug="acme")
    users = steps.ensure_users(tenant=tenant, password="demo")
    spec = DemoSpec(reps=9, years=2, deals=400, as_of=AS_OF, seed=3)
    ctx = steps.DemoContext(spec=spec, tenant=tenant, users=users, log=lambda _: None)
    wanted = [steps.wipe_tenant_data, steps.build_org, steps.link_demo_users,
              steps.build_periods, steps.build_stages, steps.build_accounts, steps.build_deals,
              steps.build_stage_history, steps.build_leads, steps.build_activities,
              build_compensation, steps.run_calculations]
    with tenant_context(tenant):
        steps.run_steps(ctx, wanted)
    return tenant


def test_the_demo_has_a_published_plan_per_seller_role_and_everyone_on_one(demo):
    with tenant_context(demo):
        published = set(PlanVersion.objects.filter(status=VersionStatus.PUBLISHED)
                        .values_list("plan__code", "number"))
        assert published == {("AE", 1), ("AE", 2), ("SDR", 1), ("MGR", 1)}
        on_plan = dict(PlanAssignment.objects.values_list("person__role", "plan__code")
                       .distinct())
        assert on_plan == {"rep": "AE", "manager": "MGR", "sdr": "SDR"}
        assert not Person.objects.exclude(plan_assignments__isnull=False).exclude(
            termination_date__lte=datetime.date(2025, 1, 1)).exists()


def test_the_demo_credits_every_won_deal_to_its_owner_and_sources_some_to_sdrs(demo):
    with tenant_context(demo):
        won = Deal.objects.filter(status="won", close_date__gte=datetime.date(2025, 1, 1),
                                  close_date__lte=AS_OF)
        owned = Credit.objects.filter(role__in=["owner", "split"], kind=CreditKind.CREDIT)
        assert owned.aggregate(total=Sum("amount"))["total"] == \
            won.aggregate(total=Sum("amount"))["total"]
        assert Credit.objects.filter(role="source", payee__role="sdr").exists()
        assert Credit.objects.filter(role="manager").exists()


def test_the_demo_year_runs_through_the_engine_to_paid_lines(demo):
    with tenant_context(demo):
        year = Period.objects.get(kind="year", fiscal_year=2026)
        versions = list(versions_of_period(period=year))
        result = calculate(plans=engine_plans(versions=versions),
                           credits=credits_frame(period=year),
                           quotas=_no_quotas(), assignments=assignments_frame(period=year),
                           calendar=engine_calendar(periods=[year]))
        paid = result.lines[result.lines["amount_cents"] != 0]
        assert {"ae-commission", "sdr-sourced", "mgr-override"} <= set(paid["component"])
        assert result.issues[result.issues["severity"] == "error"].empty
        assert int(result.totals["amount_cents"].sum()) == int(result.lines["amount_cents"]
                                                               .sum())
        assert Decimal(int(result.totals["amount_cents"].sum())) > 0


def _no_quotas():
    import pandas as pd

    return pd.DataFrame({"payee_id": pd.Series(dtype="int64"),
                         "period": pd.Series(dtype=object),
                         "quota_cents": pd.Series(dtype="int64")})
