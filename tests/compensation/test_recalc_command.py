"""`manage.py recalc --period`: a malformed name and a period that does not exist get different
answers, and the second says which periods there are and how to create the missing one."""

from __future__ import annotations

import datetime

import pytest
import time_machine
from django.core.management import CommandError, call_command

from compensation.management.commands.recalc import find_period, parse_period_key
from spm.org.services import periods_generate
from spm.tenancy.context import tenant_context

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

NOW = datetime.datetime(2026, 5, 10, 12, tzinfo=datetime.UTC)  # in FY2026 (January start)


def recalc(tenant, period: str) -> None:
    call_command("recalc", "--tenant", tenant.slug, "--period", period)


@pytest.mark.parametrize("key", ["2026-13", "March", "FY26-Q", "FY2026-Q5", "FY", "2026/03", ""])
def test_a_malformed_period_name_is_called_that_and_shows_the_formats(tenant_a, key):
    with pytest.raises(CommandError, match="is not a period name: use a month such as 2026-03"):
        recalc(tenant_a, key)


@time_machine.travel(NOW, tick=False)
def test_a_tenant_without_periods_is_told_so_and_where_to_create_them(tenant_a):
    with pytest.raises(CommandError) as raised:
        recalc(tenant_a, "FY2026")

    message = str(raised.value)
    assert "No period 'FY2026' in acme" in message
    assert "acme has no fiscal periods yet" in message
    assert "/t/acme/setup/" in message
    assert "not a period name" not in message


@time_machine.travel(NOW, tick=False)
def test_a_past_year_without_periods_names_the_years_there_and_the_history_to_add(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026, 2027])

    with pytest.raises(CommandError) as raised:
        recalc(tenant_a, "FY2024-Q3")

    message = str(raised.value)
    assert "acme has periods from FY2026 to FY2027" in message
    assert '"Years of history" to 2 on the workspace setup page /t/acme/setup/' in message
    assert "--past-years 2" in message


@time_machine.travel(NOW, tick=False)
def test_a_month_far_ahead_is_explained_by_the_rolling_calendar(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026, 2027])

    with pytest.raises(CommandError, match=r"kept up to the next fiscal year \(FY2027\)"):
        recalc(tenant_a, "2030-01")


def test_period_names_parse_to_their_lookups_whatever_the_case():
    assert parse_period_key(" fy2026-q2 ") == {"kind": "quarter", "fiscal_year": 2026, "number": 2}
    assert parse_period_key("FY2026") == {"kind": "year", "fiscal_year": 2026}
    assert parse_period_key("2026-03") == {"kind": "month", "start_date": datetime.date(2026, 3, 1)}


def test_find_period_still_finds_a_period_and_answers_none_for_a_bad_name(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])

        assert find_period("FY2026-Q1").label == "FY2026 Q1"
        assert find_period("2026-03").label == "FY2026 M03 (Mar 2026)"
        assert find_period("nonsense") is None
        assert find_period("FY2030") is None
