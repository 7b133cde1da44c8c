"""The tenant admin for quotas names the problem: overlapping dates, negative or empty amounts,
allocations that do not add up, bad seasonality, an override without its reason."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages

from quotas.models import Quota, QuotaAllocation
from quotas.services import quota_allocate, quota_plan_apply
from spm.org.models import Period
from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def applied(world, admin_a):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, method="equal", actor=admin_a)
        quota_plan_apply(plan=world.plan, actor=admin_a)
    return world


def admin_url(world, model: str, action: str, *args) -> str:
    return tenant_reverse(world.tenant, f"tenant_admin:quotas_{model}_{action}", *args)


def quota_form(world, **changes) -> dict:
    with tenant_context(world.tenant):
        month = Period.objects.get(kind="month", fiscal_year=2025, number=3)
    data = {"plan": world.plan.pk, "person": world.org.rep.pk, "period": month.pk,
            "amount": "1000.00", "valid_from": "2025-03-10", "valid_to": "", "reason": "Fix"}
    data.update(changes)
    return data


def errors_of(response) -> dict:
    return response.context["adminform"].form.errors


def test_an_overlapping_quota_is_refused_with_the_dates_it_clashes_with(client, applied,
                                                                         admin_a):
    client.force_login(admin_a)

    response = client.post(admin_url(applied, "quota", "add"), quota_form(applied))

    assert response.status_code == 200
    message = " ".join(errors_of(response)["valid_from"])
    assert "Ray Rep already has a quota for FY2025 M03 (Mar 2025) from 2025-01-01 with no end" \
        in message
    assert "overlap" in message


@pytest.mark.parametrize(("changes", "field", "text"), [
    ({"amount": "-5"}, "amount", "greater than or equal to 0"),
    ({"amount": ""}, "amount", "required"),
    ({"valid_to": "2025-03-01"}, "valid_to", "after valid from"),
])
def test_bad_quota_amounts_and_dates_are_named_on_their_field(client, applied, admin_a,
                                                               changes, field, text):
    client.force_login(admin_a)

    # For someone with no quota yet, so no other row's dates get in the way.
    response = client.post(admin_url(applied, "quota", "add"),
                           quota_form(applied, person=applied.org.leaver.pk,
                                      **{"valid_from": "2025-03-10", **changes}))

    assert text in " ".join(errors_of(response)[field])


def test_a_quota_must_be_a_month_of_the_plans_year(client, applied, admin_a):
    with tenant_context(applied.tenant):
        quarter = Period.objects.get(kind="quarter", fiscal_year=2025, number=1)
        other_year = Period.objects.get(kind="month", fiscal_year=2024, number=1)
    client.force_login(admin_a)

    quarterly = client.post(admin_url(applied, "quota", "add"),
                            quota_form(applied, period=quarter.pk))
    last_year = client.post(admin_url(applied, "quota", "add"),
                            quota_form(applied, period=other_year.pk))

    assert "Quotas are set per month" in " ".join(errors_of(quarterly)["period"])
    assert "not in the plan's FY2025" in " ".join(errors_of(last_year)["period"])


def test_closing_a_quota_then_adding_the_next_version_is_accepted(client, applied, admin_a):
    with tenant_context(applied.tenant):
        current = Quota.objects.get(person=applied.org.rep, period__number=3,
                                    period__kind="month")
    client.force_login(admin_a)
    data = quota_form(applied, person=applied.org.rep.pk)
    change = {**data, "amount": str(current.amount), "valid_from": "2025-01-01",
              "valid_to": "2025-03-10"}

    closed = client.post(admin_url(applied, "quota", "change", current.pk), change)
    added = client.post(admin_url(applied, "quota", "add"), data)

    assert closed.status_code == added.status_code == 302
    with tenant_context(applied.tenant):
        versions = Quota.objects.filter(person=applied.org.rep, period=current.period)
        assert versions.count() == 2


def test_editing_an_allocation_by_hand_warns_where_the_sums_break(client, applied, admin_a):
    with tenant_context(applied.tenant):
        node = QuotaAllocation.objects.get(plan=applied.plan, person=applied.org.east_rep)
    client.force_login(admin_a)
    data = {"plan": applied.plan.pk, "parent": node.parent_id, "team": "",
            "person": node.person_id, "amount": "1.00", "is_override": "on",
            "override_reason": "Test", "note": ""}

    response = client.post(admin_url(applied, "quotaallocation", "change", node.pk), data,
                           follow=True)

    warnings = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("The people in East add up to USD 1.00" in w for w in warnings)


def test_an_override_without_a_reason_is_refused_in_the_admin(client, applied, admin_a):
    with tenant_context(applied.tenant):
        node = QuotaAllocation.objects.get(plan=applied.plan, person=applied.org.east_rep)
    client.force_login(admin_a)
    data = {"plan": applied.plan.pk, "parent": node.parent_id, "team": "",
            "person": node.person_id, "amount": "1.00", "is_override": "on",
            "override_reason": "", "note": ""}

    response = client.post(admin_url(applied, "quotaallocation", "change", node.pk), data)

    assert "Say why this amount is set by hand" in str(errors_of(response))


def test_the_plan_admin_lists_what_does_not_add_up_and_checks_seasonality(client, applied,
                                                                          admin_a):
    with tenant_context(applied.tenant):
        QuotaAllocation.objects.filter(plan=applied.plan, person=applied.org.rep).update(
            amount=Decimal("3.00"))
    client.force_login(admin_a)
    change = admin_url(applied, "quotaplan", "change", applied.plan.pk)

    page = client.get(change)
    data = {"fiscal_year": "2026", "name": "x", "target": "5", "over_assignment_percent": "90",
            "method": "equal", "seasonality_percent": "50, 50", "ramp_schedule": "",
            "org_as_of": "", "sales_plan": ""}
    posted = client.post(change, data)

    assert "The people in West add up to USD" in page.content.decode()
    errors = errors_of(posted)
    assert "Enter exactly 12 percentages" in " ".join(errors["seasonality_percent"])
    assert "greater than or equal to 100" in " ".join(errors["over_assignment_percent"])
    assert "the year can no longer change" in " ".join(errors["fiscal_year"])


def test_the_acknowledgement_list_shows_who_acknowledged_when(client, applied, admin_a):
    from quotas.services import quota_acknowledge

    with tenant_context(applied.tenant):
        quota_acknowledge(plan=applied.plan, person=applied.org.rep,
                          user=applied.org.users["rep"],
                          now=datetime.datetime(2025, 1, 9, 10, 30, tzinfo=datetime.UTC))
    client.force_login(admin_a)

    response = client.get(admin_url(applied, "quotaacknowledgement", "changelist"))

    body = response.content.decode()
    assert "Ray Rep" in body
    assert "Jan. 9, 2025" in body
