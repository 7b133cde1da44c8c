"""Sales plan reads and writes: last year's actuals, growth, segment mix, learned attrition,
tenures and scenarios side by side."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from planning.capacity import DEFAULT_ATTRITION
from planning.models import RampSchedule
from planning.selectors import (
    attrition_history,
    bookings_by_fiscal_year,
    bookings_by_segment,
    monthly_bookings,
    plan_overview,
    seller_tenures,
)
from planning.services import (
    ramp_schedule_save,
    sales_plan_create,
    scenario_save,
    segment_mix_set,
)
from spm.org.models import Person
from spm.tenancy.context import tenant_context
from tests.factories import AccountFactory, DealFactory, PersonFactory, StageFactory

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def history(tenant_a):
    """A February fiscal year: FY2025 runs from 1 Feb 2024 to 31 Jan 2025."""
    tenant_a.fiscal_year_start_month = 2
    tenant_a.save()
    with tenant_context(tenant_a):
        won = StageFactory(name="Won", is_won=True, forecast_category="closed")
        lost = StageFactory(name="Lost", is_lost=True, forecast_category="omitted")
        smb, ent = AccountFactory(segment="smb"), AccountFactory(segment="enterprise")
        rep = PersonFactory(hire_date=D(2020, 1, 1))
        for amount, close, stage, account in [
            ("100000", D(2024, 2, 1), won, smb),  # first day of FY2025
            ("300000", D(2025, 1, 31), won, ent),  # last day of FY2025
            ("50000", D(2025, 2, 1), won, smb),  # FY2026
            ("999999", D(2024, 6, 1), lost, ent),
        ]:
            DealFactory(owner=rep, amount=Decimal(amount), close_date=close, stage=stage,
                        account=account)
    return tenant_a


@pytest.mark.smoke
def test_bookings_follow_the_tenants_fiscal_year_and_count_won_deals_only(history):
    with tenant_context(history):
        by_year = bookings_by_fiscal_year(fiscal_years=[2025, 2026])
        by_segment = bookings_by_segment(fiscal_year=2025)
        by_month = monthly_bookings(fiscal_years=[2025])[2025]

    assert by_year == {2025: Decimal("400000.00"), 2026: Decimal("50000.00")}
    assert by_segment["smb"] == Decimal("100000.00")
    assert by_segment["enterprise"] == Decimal("300000.00")
    assert by_segment["mid_market"] == 0
    assert by_month[0] == Decimal("100000.00")  # February is the first fiscal month
    assert by_month[11] == Decimal("300000.00")


def test_attrition_is_leavers_over_average_headcount_of_the_last_twelve_months(tenant_a):
    with tenant_context(tenant_a):
        for _ in range(8):
            PersonFactory(hire_date=D(2020, 1, 1))
        PersonFactory(hire_date=D(2020, 1, 1), termination_date=D(2024, 7, 1))
        PersonFactory(hire_date=D(2020, 1, 1), termination_date=D(2024, 10, 1))
        PersonFactory(hire_date=D(2020, 1, 1), termination_date=D(2022, 1, 1))  # long gone
        PersonFactory(hire_date=D(2020, 1, 1), role="manager", termination_date=D(2024, 7, 1))
        history = attrition_history(until=D(2025, 1, 1))

    # Month starts Jan-Dec 2024: 10 heads through June, 9 through September, then 8.
    assert history.terminations == 2
    assert history.average_headcount == Decimal("9.25")
    assert history.rate == (Decimal(2) / Decimal("9.25")).quantize(Decimal("0.0001"))


def test_too_few_sellers_to_learn_attrition_from_leaves_the_default(tenant_a):
    with tenant_context(tenant_a):
        for _ in range(3):
            PersonFactory(hire_date=D(2020, 1, 1))
        history = attrition_history(until=D(2025, 1, 1))

    assert history.terminations == 0
    assert history.rate is None


def test_tenure_is_counted_in_months_at_the_start_of_the_year(tenant_a):
    with tenant_context(tenant_a):
        PersonFactory(hire_date=D(2024, 10, 15))
        PersonFactory(hire_date=D(2022, 1, 1))
        PersonFactory(hire_date=D(2022, 1, 1), termination_date=D(2024, 12, 1))
        PersonFactory(hire_date=D(2025, 3, 1))  # not there yet
        tenures = seller_tenures(fiscal_year=2025, today=D(2025, 6, 1))

    assert tenures == (3, 36)


@pytest.mark.smoke
def test_the_plan_overview_puts_scenarios_side_by_side(history, admin_a):
    with tenant_context(history):
        Person.objects.filter(user=admin_a).update(role="other")
        ramp_schedule_save(name="Fast", percent_by_month="50, 100", is_default=True)
        plan = sales_plan_create(fiscal_year=2026, name="FY2026", actor=admin_a,
                                 bookings_target=Decimal("500000"),
                                 full_quota=Decimal("100000"))
        segment_mix_set(plan=plan, shares={"smb": Decimal(60), "enterprise": Decimal(40)},
                        actor=admin_a)
        scenario_save(plan=plan, name="Conservative", expected_attainment_percent=Decimal(70),
                      attrition_percent=Decimal(40), actor=admin_a)
        scenario_save(plan=plan, name="Stretch", bookings_target=Decimal("800000"),
                      actor=admin_a)
        overview = plan_overview(plan=plan, today=D(2025, 1, 15))

    assert overview.last_year_actual == Decimal("400000.00")
    assert overview.growth_percent == Decimal("25.0")
    smb = next(s for s in overview.segments if s.segment == "smb")
    assert (smb.target, smb.last_year_percent) == (Decimal("300000.00"), Decimal("25.0"))
    assert overview.segment_share_total == 100
    names = [s.name for s in overview.scenarios]
    assert names == ["Plan", "Conservative", "Stretch"]
    base, conservative, stretch = (s.result for s in overview.scenarios)
    assert base.inputs.ramp == (Decimal("0.5"), Decimal(1))
    assert base.inputs.annual_attrition == DEFAULT_ATTRITION  # one seller: too few to learn
    assert overview.scenarios[0].attrition_source == "default"
    assert overview.scenarios[1].attrition_source == "set"
    assert conservative.reps_needed > base.reps_needed
    assert stretch.inputs.target == Decimal("800000")
    assert stretch.total_hires > base.total_hires
    assert base.current_heads == 1


def test_a_year_has_one_sales_plan(tenant_a):
    with tenant_context(tenant_a):
        sales_plan_create(fiscal_year=2026, name="A", bookings_target=Decimal(1),
                          full_quota=Decimal(1))
        with pytest.raises(ValidationError, match="already has a sales plan"):
            sales_plan_create(fiscal_year=2026, name="B", bookings_target=Decimal(1),
                              full_quota=Decimal(1))


def test_a_segment_mix_must_add_up_to_100(tenant_a):
    with tenant_context(tenant_a):
        plan = sales_plan_create(fiscal_year=2026, name="A", bookings_target=Decimal(1),
                                 full_quota=Decimal(1))
        with pytest.raises(ValidationError, match="add up to 90"):
            segment_mix_set(plan=plan, shares={"smb": Decimal(50), "enterprise": Decimal(40)})
        with pytest.raises(ValidationError, match="Unknown segment"):
            segment_mix_set(plan=plan, shares={"retail": Decimal(100)})
        segment_mix_set(plan=plan, shares={"smb": Decimal(100)})
        segment_mix_set(plan=plan, shares={"enterprise": Decimal(100)})

        assert [s.segment for s in plan.segments.all()] == ["enterprise"]


def test_only_one_ramp_schedule_is_the_default(tenant_a):
    with tenant_context(tenant_a):
        ramp_schedule_save(name="A", percent_by_month="0, 50, 100", is_default=True)
        ramp_schedule_save(name="B", percent_by_month="25, 100", is_default=True)

        assert list(RampSchedule.objects.filter(is_default=True).values_list("name", flat=True)) \
            == ["B"]
        with pytest.raises(ValidationError, match="between 0 and 100"):
            ramp_schedule_save(name="C", percent_by_month="0, 250")
