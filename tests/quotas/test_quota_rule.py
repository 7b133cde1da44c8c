"""The one rule for "the quota of a person for a month as known on a day", shared by the
attainment selectors and the compensation run: effective-dated changes count from their date,
a closed month keeps the quota it closed with, and a quota set late still counts."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quotas.models import Quota
from quotas.selectors import attainment_by_person, monthly_quotas
from quotas.services import quota_change
from spm.org.models import Period
from spm.org.services import periods_generate
from spm.tenancy.context import tenant_context
from tests.factories import PersonFactory, QuotaPlanFactory

pytestmark = pytest.mark.django_db

D = datetime.date
DAY = datetime.timedelta(days=1)


def month(number: int, fiscal_year: int = 2025) -> Period:
    return Period.objects.get(kind="month", fiscal_year=fiscal_year, number=number)


def version(person, plan, number: int, amount: str, valid_from: datetime.date,
            valid_to: datetime.date | None = None) -> Quota:
    return Quota.objects.create(plan=plan, person=person, period=month(number),
                                amount=Decimal(amount), valid_from=valid_from, valid_to=valid_to)


@pytest.fixture
def seller(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2025])
        person = PersonFactory(name="Sam Seller")
        plan = QuotaPlanFactory(fiscal_year=2025)
    return tenant_a, person, plan


def quota_of(person, number: int, known_on: datetime.date | None) -> Decimal | None:
    m = month(number)
    return monthly_quotas(months=[m], known_on=known_on, person_ids=[person.pk]).get(
        (person.pk, m.pk))


def test_a_change_counts_from_its_date_and_leaves_the_months_before_it(seller, admin_a):
    tenant, person, plan = seller
    with tenant_context(tenant):
        for number in range(1, 13):
            version(person, plan, number, "10000.00", D(2025, 1, 1))
        quota_change(plan=plan, person=person, annual_amount=Decimal("240000"),
                     effective=D(2025, 4, 15), reason="Promotion", actor=admin_a)
        new_april = Quota.objects.get(person=person, period=month(4), valid_to=None).amount

        assert quota_of(person, 4, D(2025, 4, 14)) == Decimal("10000.00")
        assert quota_of(person, 4, D(2025, 4, 15)) == new_april != Decimal("10000.00")
        assert quota_of(person, 3, D(2025, 12, 31)) == Decimal("10000.00")
        # A month ahead reads what is in force on the day, not what is planned to come.
        assert quota_of(person, 6, D(2025, 4, 1)) == Decimal("10000.00")


def test_a_closed_month_keeps_its_quota_when_a_version_is_dated_after_it(seller):
    tenant, person, plan = seller
    with tenant_context(tenant):
        version(person, plan, 3, "10000.00", D(2025, 1, 1), valid_to=D(2025, 5, 1))
        version(person, plan, 3, "99000.00", D(2025, 5, 1))

        assert quota_of(person, 3, D(2025, 3, 20)) == Decimal("10000.00")
        assert quota_of(person, 3, D(2025, 6, 30)) == Decimal("10000.00")
        assert quota_of(person, 3, None) == Decimal("10000.00")


def test_a_change_inside_the_month_is_the_months_quota_once_it_closes(seller):
    tenant, person, plan = seller
    with tenant_context(tenant):
        version(person, plan, 3, "10000.00", D(2025, 1, 1), valid_to=D(2025, 3, 20))
        version(person, plan, 3, "12000.00", D(2025, 3, 20))

        assert quota_of(person, 3, D(2025, 3, 19)) == Decimal("10000.00")
        assert quota_of(person, 3, D(2025, 4, 30)) == Decimal("12000.00")


def test_a_quota_set_after_its_month_counts_once_set_and_the_first_one_stays(seller):
    tenant, person, plan = seller
    with tenant_context(tenant):
        version(person, plan, 3, "7000.00", D(2025, 4, 10), valid_to=D(2025, 5, 10))
        version(person, plan, 3, "8000.00", D(2025, 5, 10))

        assert quota_of(person, 3, D(2025, 4, 9)) is None
        assert quota_of(person, 3, D(2025, 4, 10)) == Decimal("7000.00")
        assert quota_of(person, 3, D(2025, 9, 1)) == Decimal("7000.00")
        assert quota_of(person, 3, None) == Decimal("7000.00")


def test_a_plan_dated_from_its_years_first_day_shows_when_read_before_the_year(seller):
    tenant, person, plan = seller
    with tenant_context(tenant):
        version(person, plan, 6, "5000.00", D(2025, 1, 1))

        assert quota_of(person, 6, D(2024, 11, 30)) == Decimal("5000.00")


def test_the_attainment_selector_reads_quotas_by_the_same_rule(seller):
    tenant, person, plan = seller
    with tenant_context(tenant):
        version(person, plan, 1, "1000.00", D(2025, 1, 1), valid_to=D(2025, 3, 1))
        version(person, plan, 1, "9999.00", D(2025, 3, 1))  # after January: not January's
        version(person, plan, 2, "2000.00", D(2025, 3, 5))  # set late: counts
        version(person, plan, 3, "3000.00", D(2025, 1, 1))
        quarter = Period.objects.get(kind="quarter", fiscal_year=2025, number=1)
        row = attainment_by_person(period=quarter, as_of=D(2025, 4, 2))[0]

    assert row.quota == row.ytd_quota == Decimal("6000.00")
    assert row.expected == Decimal("6000.00")


def test_expected_on_a_months_last_day_counts_that_month_once(seller):
    tenant, person, plan = seller
    with tenant_context(tenant):
        for number in (1, 2):
            version(person, plan, number, "3000.00", D(2025, 1, 1))
        row = attainment_by_person(period=month(2), as_of=D(2025, 2, 28))[0]

    assert row.expected == Decimal("3000.00")
    assert row.ytd_expected == Decimal("6000.00")


# -- against a per-row reference -----------------------------------------------------------------


def reference_quota(versions, first: datetime.date, end: datetime.date,
                    known_on: datetime.date | None, year_start: datetime.date):
    """The rule, one version at a time: in force on the month's last day once the month is over
    by the day (the day itself before that), else the first version set after the month, by
    the day. A day before the fiscal year reads as its first day."""
    last = end - DAY
    day = None if known_on is None else max(known_on, year_start)
    on = last if day is None else min(day, last)
    for valid_from, valid_to, amount in versions:
        if valid_from <= on and (valid_to is None or valid_to > on):
            return amount
    late = sorted(v for v in versions if v[0] > last and (day is None or v[0] <= day))
    return late[0][2] if late else None


@st.composite
def month_versions(draw):
    """Up to three non-overlapping versions of one month's quota, dated around the year."""
    count = draw(st.integers(min_value=0, max_value=3))
    offsets = sorted(draw(st.lists(st.integers(min_value=-40, max_value=420),
                                   min_size=2 * count, max_size=2 * count, unique=True)))
    open_ended = draw(st.booleans())
    versions = []
    for i in range(count):
        valid_from = D(2024, 12, 1) + offsets[2 * i] * DAY
        valid_to = D(2024, 12, 1) + offsets[2 * i + 1] * DAY
        if open_ended and i == count - 1:
            valid_to = None
        amount = Decimal(draw(st.integers(min_value=0, max_value=10**8))) / 100
        versions.append((valid_from, valid_to, amount))
    return versions


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(by_month=st.lists(month_versions(), min_size=4, max_size=4),
       known_on=st.none() | st.dates(min_value=D(2024, 11, 1), max_value=D(2026, 3, 31)))
def test_quotas_match_the_rule_version_by_version(seller, by_month, known_on):
    tenant, person, plan = seller
    with tenant_context(tenant), transaction.atomic():
        months = [month(n) for n in (1, 2, 3, 4)]
        for m, versions in zip(months, by_month, strict=True):
            for valid_from, valid_to, amount in versions:
                Quota.objects.create(plan=plan, person=person, period=m, amount=amount,
                                     valid_from=valid_from, valid_to=valid_to)
        found = monthly_quotas(months=months, known_on=known_on)
        rows = []
        if known_on is not None:
            quarter = Period.objects.get(kind="quarter", fiscal_year=2025, number=1)
            rows = attainment_by_person(period=quarter, as_of=known_on)
        transaction.set_rollback(True)

    expected = {}
    for m, versions in zip(months, by_month, strict=True):
        amount = reference_quota(versions, m.start_date, m.end_date, known_on, D(2025, 1, 1))
        if amount is not None:
            expected[person.pk, m.pk] = amount
    assert found == expected
    if known_on is not None:
        q1 = sum((a for (_, m_id), a in expected.items() if m_id != months[3].pk), Decimal(0))
        assert (rows[0].quota if rows else Decimal(0)) == q1
