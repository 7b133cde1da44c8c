"""Periods generated from the tenant's fiscal calendar, found by date, locked by finance."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from spm.org.models import Period, PeriodStatus
from spm.org.selectors import period_next, period_of_date, period_previous, periods_within
from spm.org.services import period_set_status, periods_generate, periods_generate_covering
from spm.tenancy.context import tenant_context

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

D = datetime.date


@pytest.fixture
def feb_tenant(tenant_a):
    tenant_a.fiscal_year_start_month = 2
    tenant_a.save()
    return tenant_a


def test_a_february_fiscal_year_generates_its_year_quarters_and_months(feb_tenant):
    with tenant_context(feb_tenant):
        periods = periods_generate(fiscal_years=[2027])
        assert len(periods) == 17
        year = Period.objects.get(kind="year", fiscal_year=2027)
        assert (year.start_date, year.end_date) == (D(2026, 2, 1), D(2027, 2, 1))
        labels = list(
            Period.objects.filter(kind="quarter").order_by("number").values_list("label", flat=True)
        )
        assert labels == ["FY2027 Q1", "FY2027 Q2", "FY2027 Q3", "FY2027 Q4"]
        third = Period.objects.get(kind="month", number=3)
        assert third.label == "FY2027 M03 (Apr 2026)"
        assert third.last_day == D(2026, 4, 30)


def test_generating_again_keeps_existing_periods_and_their_status(feb_tenant):
    with tenant_context(feb_tenant):
        periods_generate(fiscal_years=[2027])
        q1 = Period.objects.get(kind="quarter", fiscal_year=2027, number=1)
        period_set_status(period=q1, status=PeriodStatus.LOCKED)
        periods_generate(fiscal_years=[2027, 2028])
        assert Period.objects.count() == 34
        q1.refresh_from_db()
        assert q1.is_locked


def test_the_period_of_a_date_and_its_neighbours_cross_the_fiscal_year(feb_tenant):
    with tenant_context(feb_tenant):
        periods_generate_covering(first=D(2026, 6, 1), last=D(2027, 3, 1))
        january = period_of_date(day=D(2027, 1, 31), kind="month")
        assert (january.fiscal_year, january.number) == (2027, 12)
        february = period_next(period=january)
        assert (february.fiscal_year, february.number) == (2028, 1)
        assert february.start_date == D(2027, 2, 1)
        assert period_previous(period=february) == january
        assert period_of_date(day=D(2027, 2, 1), kind="quarter").label == "FY2028 Q1"


def test_neighbours_and_dates_outside_the_generated_years_are_none(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])
        december = period_of_date(day=D(2026, 12, 31), kind="month")
        assert period_next(period=december) is None
        assert period_of_date(day=D(2027, 1, 1), kind="month") is None
        assert period_of_date(day=D(2024, 2, 29), kind="year") is None


def test_a_leap_february_period_ends_on_the_first_of_march(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2024])
        february = period_of_date(day=D(2024, 2, 29), kind="month")
        assert (february.start_date, february.end_date) == (D(2024, 2, 1), D(2024, 3, 1))


def test_a_quarter_holds_its_three_months(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])
        q2 = period_of_date(day=D(2026, 5, 5), kind="quarter")
        months = periods_within(period=q2, kind="month")
        assert [m.start_date.month for m in months] == [4, 5, 6]


def test_periods_of_another_calendar_are_refused_not_doubled(feb_tenant):
    with tenant_context(feb_tenant):
        periods_generate(fiscal_years=[2027])
    feb_tenant.fiscal_year_start_month = 1
    feb_tenant.save()
    with tenant_context(feb_tenant):
        with pytest.raises(ValidationError, match="does not match a fiscal year starting in"):
            periods_generate(fiscal_years=[2027])
        assert Period.objects.count() == 17


def test_locking_a_period_is_kept_in_its_history(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])
        march = period_of_date(day=D(2026, 3, 3), kind="month")
        period_set_status(period=march, status=PeriodStatus.LOCKED)
        assert [h.status for h in march.history.order_by("history_id")][-1] == "locked"
        with pytest.raises(ValidationError):
            period_set_status(period=march, status="paid")


def test_a_period_cannot_end_before_it_starts_or_repeat(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])
        with pytest.raises(IntegrityError), transaction.atomic():
            Period.objects.create(
                kind="month", fiscal_year=2030, number=1, start_date=D(2030, 2, 1),
                end_date=D(2030, 1, 1), label="bad",
            )
        with pytest.raises(IntegrityError), transaction.atomic():
            Period.objects.create(
                kind="month", fiscal_year=2026, number=1, start_date=D(2026, 1, 1),
                end_date=D(2026, 2, 1), label="again",
            )


def test_another_tenant_sees_none_of_the_periods(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])
    with tenant_context(tenant_b):
        assert Period.objects.count() == 0
        assert period_of_date(day=D(2026, 5, 5), kind="month") is None
