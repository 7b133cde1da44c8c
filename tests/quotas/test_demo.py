"""`seed_demo` builds a sales plan with scenarios and an allocated, applied quota plan that
adds up, with a mid-year change and letters acknowledged in part."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command

from planning.models import SalesPlan
from planning.selectors import plan_overview
from quotas.models import Quota, QuotaAcknowledgement, QuotaAllocation, QuotaPlan
from quotas.selectors import attainment_by_person
from quotas.services import plan_problems
from spm.org.models import Period, Person
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

AS_OF = datetime.date(2026, 5, 20)


@pytest.fixture
def acme():
    call_command("seed_demo", tenant="acme", reps=9, years=2, deals=900, seed=5, as_of=AS_OF,
                 stdout=io.StringIO())
    return Tenant.objects.get(slug="acme")


def test_the_demo_plans_this_year_and_next_with_scenarios(acme):
    with tenant_context(acme):
        plans = {p.fiscal_year: p for p in SalesPlan.objects.all()}
        overview = plan_overview(plan=plans[2026], today=AS_OF)

    assert set(plans) == {2026, 2027}
    assert plans[2027].bookings_target > plans[2026].bookings_target
    assert overview.growth_percent is not None
    assert overview.segment_share_total == 100
    assert [s.name for s in overview.scenarios] == ["Plan", "Conservative", "Stretch"]


def test_the_demo_quota_plan_adds_up_and_is_published_with_an_override(acme):
    with tenant_context(acme):
        plan = QuotaPlan.objects.get(fiscal_year=2026)
        problems = plan_problems(plan)
        overrides = list(QuotaAllocation.objects.filter(plan=plan, is_override=True))
        seasonality = plan.seasonality_percent

    assert plan.is_published
    assert problems == []
    assert len(overrides) == 1
    assert overrides[0].override_reason
    assert seasonality


def test_the_demo_has_a_dated_change_and_letters_acknowledged_in_part(acme):
    with tenant_context(acme):
        plan = QuotaPlan.objects.get(fiscal_year=2026)
        changed = Quota.objects.filter(plan=plan, reason="Moved to a smaller territory")
        sellers = Person.objects.filter(quotas__plan=plan, role="rep").distinct().count()
        acknowledged = QuotaAcknowledgement.objects.filter(plan=plan).count()
        demo_rep = Person.objects.get(user__username="acme-rep")

        assert changed.exists()
        assert changed.first().valid_from == datetime.date(2026, 4, 1)
        assert 0 < acknowledged < sellers
        assert not QuotaAcknowledgement.objects.filter(person=demo_rep).exists()


def test_the_demo_rep_has_attainment_to_look_at(acme):
    with tenant_context(acme):
        demo_rep = Person.objects.get(user__username="acme-rep")
        quarter = Period.objects.get(kind="quarter", start_date__lte=AS_OF, end_date__gt=AS_OF)
        rows = attainment_by_person(period=quarter, as_of=AS_OF, person_ids={demo_rep.pk})

    assert rows
    assert rows[0].quota > 0
    assert rows[0].ytd_credited > 0
