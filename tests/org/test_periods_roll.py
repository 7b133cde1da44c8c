"""Periods around today (history, this year, next year), kept one year ahead by a daily task, and
replaced only while nothing refers to them."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import ValidationError

from spm.org.models import Period, PeriodStatus
from spm.org.selectors import periods_holding_data
from spm.org.services import (
    period_set_status,
    periods_delete_all,
    periods_generate,
    periods_generate_around,
)
from spm.org.tasks import periods_roll
from spm.tenancy.context import tenant_context
from tests.factories import QuotaFactory, QuotaPlanFactory

pytestmark = pytest.mark.django_db

D = datetime.date


def fiscal_years() -> list[int]:
    return list(
        Period.objects.filter(kind="year").order_by("fiscal_year").values_list(
            "fiscal_year", flat=True
        )
    )


@pytest.mark.smoke
def test_periods_around_today_cover_the_past_years_this_year_and_the_next(tenant_a):
    tenant_a.fiscal_year_start_month = 4
    tenant_a.save()
    with tenant_context(tenant_a):
        # 10 May 2026 is in FY2027 (April 2026 to March 2027).
        periods = periods_generate_around(today=D(2026, 5, 10), past_years=2)

        assert fiscal_years() == [2025, 2026, 2027, 2028]
        assert len(periods) == 4 * 17
        first = Period.objects.get(kind="year", fiscal_year=2025)
        assert first.start_date == D(2024, 4, 1)
        last = Period.objects.get(kind="year", fiscal_year=2028)
        assert last.end_date == D(2028, 4, 1)


def test_periods_around_today_with_no_history_are_this_year_and_the_next(tenant_a):
    with tenant_context(tenant_a):
        periods_generate_around(today=D(2026, 12, 31))

        assert fiscal_years() == [2026, 2027]


def test_a_negative_history_is_refused(tenant_a):
    with tenant_context(tenant_a), pytest.raises(ValidationError, match="negative"):
        periods_generate_around(today=D(2026, 1, 1), past_years=-1)


def test_the_roll_task_adds_the_next_year_when_the_fiscal_year_turns(eager_tasks, tenant_a):
    with time_machine.travel(datetime.datetime(2026, 12, 31, 12, tzinfo=datetime.UTC)):
        periods_roll.delay(tenant_id=tenant_a.pk).get()
        with tenant_context(tenant_a):
            assert fiscal_years() == [2026, 2027]

    with time_machine.travel(datetime.datetime(2027, 1, 1, 12, tzinfo=datetime.UTC)):
        periods_roll.delay(tenant_id=tenant_a.pk).get()
        with tenant_context(tenant_a):
            assert fiscal_years() == [2026, 2027, 2028]
            assert Period.objects.count() == 3 * 17


def test_the_roll_task_goes_by_the_tenants_own_day(eager_tasks, tenant_a):
    tenant_a.timezone = "Pacific/Auckland"
    tenant_a.save()
    # 31 December 11:30 UTC is already 1 January in Auckland: its FY2027 has begun.
    with time_machine.travel(datetime.datetime(2026, 12, 31, 11, 30, tzinfo=datetime.UTC)):
        periods_roll.delay(tenant_id=tenant_a.pk).get()

    with tenant_context(tenant_a):
        assert fiscal_years() == [2027, 2028]


def test_rolling_again_keeps_the_periods_and_their_status(eager_tasks, tenant_a):
    with time_machine.travel(datetime.datetime(2026, 6, 1, tzinfo=datetime.UTC)):
        periods_roll.delay(tenant_id=tenant_a.pk).get()
        with tenant_context(tenant_a):
            january = Period.objects.get(kind="month", fiscal_year=2026, number=1)
            period_set_status(period=january, status=PeriodStatus.LOCKED)
            ids = set(Period.objects.values_list("pk", flat=True))

        periods_roll.delay(tenant_id=tenant_a.pk).get()

        with tenant_context(tenant_a):
            assert set(Period.objects.values_list("pk", flat=True)) == ids
            january.refresh_from_db()
            assert january.is_locked


def test_beat_sends_the_roll_to_every_tenant_every_day():
    entry = settings.CELERY_BEAT_SCHEDULE["roll-fiscal-periods"]

    assert entry["task"] == "spm.tasks.fan_out_to_tenants"
    assert entry["args"] == ["spm.org.periods_roll"]
    assert entry["schedule"].hour == {1}
    assert len(entry["schedule"].day_of_week) == 7


def test_the_roll_reaches_every_active_tenant_through_the_fan_out(
    eager_tasks, tenant_a, tenant_b
):
    from spm.tasks import fan_out_to_tenants

    with time_machine.travel(datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)):
        assert fan_out_to_tenants.delay("spm.org.periods_roll").get() == 2

    for tenant in (tenant_a, tenant_b):
        with tenant_context(tenant):
            assert fiscal_years() == [2026, 2027]


def test_periods_nobody_refers_to_hold_no_data_and_can_be_deleted(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])

        assert periods_holding_data() == []
        assert periods_delete_all() == 17
        assert not Period.objects.exists()


def test_periods_with_quotas_are_kept_and_the_refusal_says_why(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])
        QuotaFactory(plan=QuotaPlanFactory(fiscal_year=2026))

        assert periods_holding_data() == ["quotas"]
        with pytest.raises(ValidationError, match="already hold quotas"):
            periods_delete_all()
        assert Period.objects.count() == 17


def test_a_locked_period_counts_as_data(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])
        period_set_status(period=Period.objects.get(kind="year"), status=PeriodStatus.LOCKED)

        assert periods_holding_data() == ["locked periods"]
        with pytest.raises(ValidationError, match="locked periods"):
            periods_delete_all()


def test_another_tenants_data_does_not_pin_this_tenants_periods(tenant_a, tenant_b):
    with tenant_context(tenant_b):
        periods_generate(fiscal_years=[2026])
        QuotaFactory(plan=QuotaPlanFactory(fiscal_year=2026))
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])

        assert periods_holding_data() == []
