"""Quota services: allocation by method, overrides, validation, applying to effective-dated
monthly quotas, mid-year changes, seasonality and acknowledgements."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from planning.capacity import split_cents
from quotas.models import Quota, QuotaAllocation, QuotaPlan
from quotas.seasonality import flat_weights
from quotas.selectors import quota_letter
from quotas.services import (
    plan_problems,
    quota_acknowledge,
    quota_allocate,
    quota_allocation_clear_override,
    quota_allocation_override,
    quota_change,
    quota_plan_apply,
    quota_seasonality_learn,
    quota_seasonality_set,
)
from spm.org.models import Person
from spm.tenancy.context import tenant_context

pytestmark = pytest.mark.django_db

# Hired in April: 0, 25, 50, 75% then five full months, under the flat month weights.
NEWBIE_RAMP = [0, 0, 0, 0, Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), 1, 1, 1, 1, 1]
NEWBIE_RAMP[3:] = [0, Decimal("0.25"), Decimal("0.5"), Decimal("0.75"), 1, 1, 1, 1, 1]
NEWBIE_CAPACITY = sum(w * r for w, r in zip(flat_weights(), NEWBIE_RAMP, strict=True)) / 100


def amounts(plan) -> dict[str, Decimal]:
    return {row.label: row.amount for row in QuotaAllocation.objects.filter(plan=plan)
            .select_related("team", "person")}


def in_force(person, on: datetime.date) -> list[Decimal]:
    rows = Quota.objects.filter(person=person, valid_from__lte=on).exclude(
        valid_to__lte=on).order_by("period__start_date")
    return [row.amount for row in rows]


def test_historical_share_weighs_last_years_bookings_and_ramps_new_hires(world, admin_a):
    with tenant_context(world.tenant):
        result = quota_allocate(plan=world.plan, actor=admin_a)
        got = amounts(world.plan)

    assert result.problems == []
    org = world.org
    # The newbie has no year behind them: weighed as the average seller (200k), times capacity.
    weights = {"Ray Rep": Decimal(300000), "Colin Colleague": Decimal(100000),
               "Nia Newhire": Decimal(200000) * NEWBIE_CAPACITY, "Erin East": Decimal(200000)}
    west = sum(weights[n] for n in ("Ray Rep", "Colin Colleague", "Nia Newhire"))
    expected_west = Decimal(1000000) * west / sum(weights.values())
    assert abs(got[org.west.name] - expected_west) <= Decimal("0.01")
    assert got[org.west.name] + got[org.east.name] == got["Sales"] == Decimal("1000000.00")
    assert got["Ray Rep"] == pytest.approx(3 * got["Colin Colleague"], abs=Decimal("0.02"))
    assert got["Erin East"] == (got[org.east.name] * Decimal("1.1")).quantize(Decimal("0.01"))
    west_people = got["Ray Rep"] + got["Colin Colleague"] + got["Nia Newhire"]
    assert west_people == (got[org.west.name] * Decimal("1.1")).quantize(Decimal("0.01"))


@pytest.mark.smoke
def test_equal_method_gives_full_year_sellers_the_same_quota(world, admin_a):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, method="equal", actor=admin_a)
        got = amounts(world.plan)
        world.plan.refresh_from_db()

    assert world.plan.method == "equal"
    assert abs(got["Ray Rep"] - got["Erin East"]) <= Decimal("0.01")
    assert abs(got["Nia Newhire"] - got["Ray Rep"] * NEWBIE_CAPACITY) <= Decimal("0.02")


def test_territory_method_uses_territory_potential(world, admin_a, monkeypatch):
    from territories import selectors as territory_selectors

    org = world.org
    potential = {org.rep.pk: Decimal(1), org.colleague.pk: Decimal(1),
                 org.east_rep.pk: Decimal(2)}
    monkeypatch.setattr(territory_selectors, "potential_by_owner_on", lambda on: potential)
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, method="territory", actor=admin_a)
        got = amounts(world.plan)

    assert got["Nia Newhire"] == 0  # owns no territory
    assert got[org.west.name] == got[org.east.name] == Decimal("500000.00")


def test_an_override_keeps_its_amount_and_reason_and_siblings_share_the_rest(world, admin_a):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, actor=admin_a)
        east = QuotaAllocation.objects.get(plan=world.plan, team=world.org.east)
        result = quota_allocation_override(node=east, amount=Decimal("300000"),
                                           reason="New enterprise territory", actor=admin_a)
        got = amounts(world.plan)
        east.refresh_from_db()
        again = quota_allocate(plan=world.plan, method="equal", actor=admin_a)

        assert amounts(world.plan)[world.org.east.name] == Decimal("300000.00")
        quota_allocation_clear_override(node=east, actor=admin_a)
        assert amounts(world.plan)[world.org.east.name] != Decimal("300000.00")

    assert result.problems == again.problems == []
    assert (east.is_override, east.override_reason) == (True, "New enterprise territory")
    assert got[world.org.west.name] == Decimal("700000.00")
    assert got["Erin East"] == Decimal("330000.00")


@pytest.mark.parametrize(
    ("amount", "reason", "field", "message"),
    [
        (Decimal("-1"), "x", "amount", "cannot be negative"),
        (None, "x", "amount", "Enter the quota"),
        (Decimal("1.001"), "x", "amount", "two decimals"),
        (Decimal("100"), "  ", "reason", "Say why"),
    ],
)
def test_bad_overrides_are_refused_with_the_field_named(world, admin_a, amount, reason, field,
                                                        message):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, actor=admin_a)
        node = QuotaAllocation.objects.get(plan=world.plan, person=world.org.rep)
        with pytest.raises(ValidationError) as caught:
            quota_allocation_override(node=node, amount=amount, reason=reason, actor=admin_a)

    assert message in " ".join(caught.value.message_dict[field])


def test_the_company_node_cannot_be_overridden(world, admin_a):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, actor=admin_a)
        root = QuotaAllocation.objects.get(plan=world.plan, team=None, person=None)
        with pytest.raises(ValidationError, match="change the target"):
            quota_allocation_override(node=root, amount=Decimal(1), reason="x", actor=admin_a)


def test_children_that_do_not_add_up_block_the_apply_with_a_named_problem(world, admin_a):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, actor=admin_a)
        QuotaAllocation.objects.filter(plan=world.plan, person=world.org.east_rep).update(
            amount=Decimal("1.00"))
        problems = plan_problems(world.plan)
        with pytest.raises(ValidationError) as caught:
            quota_plan_apply(plan=world.plan, actor=admin_a)
        assert not Quota.objects.exists()

    assert [p.key for p in problems] == [f"team:{world.org.east.pk}"]
    assert "The people in East add up to USD 1.00; they must add up to" in problems[0].message
    assert problems[0].message in caught.value.messages


@pytest.mark.smoke
def test_applying_writes_monthly_quotas_that_add_up_to_each_annual_quota(world, admin_a):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, actor=admin_a)
        result = quota_plan_apply(plan=world.plan, actor=admin_a)
        got = amounts(world.plan)
        world.plan.refresh_from_db()
        org = world.org
        months = {p: in_force(p, datetime.date(2025, 1, 1))
                  for p in (org.rep, world.newbie, org.manager, org.vp)}

    assert world.plan.is_published
    assert world.plan.applied_at is not None
    assert result.effective == datetime.date(2025, 1, 1)
    assert len(months[org.rep]) == 12
    assert sum(months[org.rep]) == got["Ray Rep"]
    # Flat seasonality: rounding cents go to the first months, deterministically.
    cents = split_cents(int(got["Ray Rep"] * 100), flat_weights())
    assert [int(m * 100) for m in months[org.rep]] == cents
    # The new hire's months follow their ramp from April.
    newbie = months[world.newbie]
    assert newbie[:4] == [0, 0, 0, 0]
    assert newbie[4] * 4 == pytest.approx(newbie[8], abs=Decimal("0.04"))
    assert sum(newbie) == got["Nia Newhire"]
    # Managers carry their team's quota: the VP leads Sales (East sits inside it).
    assert sum(months[org.manager]) == got[org.west.name]
    assert sum(months[org.vp]) == got["Sales"]


def test_quota_rows_and_the_plan_are_audited_with_the_user(world, admin_a):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, actor=admin_a)
        quota_plan_apply(plan=world.plan, actor=admin_a)
        quota = Quota.objects.filter(person=world.org.rep).first()
        plan_history = list(world.plan.history.order_by("history_date"))

        assert quota.history.get().history_user == admin_a
        assert plan_history[-1].status == "published"
        assert plan_history[-1].history_user == admin_a


def test_a_mid_year_reallocation_keeps_closed_months_and_dates_the_change(world, admin_a):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, actor=admin_a)
        quota_plan_apply(plan=world.plan, actor=admin_a)
        before = in_force(world.org.rep, datetime.date(2025, 1, 1))
        rep_node = QuotaAllocation.objects.get(plan=world.plan, person=world.org.rep)
        colleague = QuotaAllocation.objects.get(plan=world.plan, person=world.org.colleague)
        # Move 50,000 of the colleague's quota to the rep from mid-July.
        quota_allocation_override(node=rep_node, amount=rep_node.amount + 50000,
                                  reason="Took over accounts", actor=admin_a)
        quota_allocation_override(node=colleague, amount=colleague.amount - 50000,
                                  reason="Gave up accounts", actor=admin_a)
        result = quota_plan_apply(plan=world.plan, effective=datetime.date(2025, 7, 15),
                                  actor=admin_a)
        after = in_force(world.org.rep, datetime.date(2025, 7, 15))
        still_before = in_force(world.org.rep, datetime.date(2025, 7, 14))
        closed = Quota.objects.filter(person=world.org.rep, valid_to=datetime.date(2025, 7, 15))

        assert result.effective == datetime.date(2025, 7, 15)
        assert after[:6] == before[:6]
        assert sum(after) == rep_node.amount + 50000
        assert still_before == before
        assert closed.count() == 6
        assert set(closed.values_list("period__number", flat=True)) == set(range(7, 13))
        assert result.closed == result.created


def test_reapplying_an_unchanged_plan_changes_nothing(world, admin_a):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, actor=admin_a)
        quota_plan_apply(plan=world.plan, actor=admin_a)
        count = Quota.objects.count()
        result = quota_plan_apply(plan=world.plan, effective=datetime.date(2025, 5, 1),
                                  actor=admin_a)

        assert (result.created, result.changed, result.closed) == (0, 0, 0)
        assert Quota.objects.count() == count


def test_apply_is_all_or_nothing(world, admin_a):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, actor=admin_a)
        # Someone allocated a quota who, it turns out, left before the year began.
        Person.objects.filter(pk=world.org.east_rep.pk).update(
            termination_date=datetime.date(2024, 12, 31))
        with pytest.raises(ValidationError, match="Erin East: The person is not employed"):
            quota_plan_apply(plan=world.plan, actor=admin_a)
        world.plan.refresh_from_db()

        assert not Quota.objects.exists()
        assert not world.plan.is_published


def test_a_single_quota_change_is_effective_dated_with_its_reason(world, admin_a):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, actor=admin_a)
        quota_plan_apply(plan=world.plan, actor=admin_a)
        quota_change(plan=world.plan, person=world.org.rep, annual_amount=Decimal("500000"),
                     effective=datetime.date(2025, 10, 1), reason="Promotion", actor=admin_a)
        months = in_force(world.org.rep, datetime.date(2025, 10, 1))
        reasons = set(Quota.objects.filter(person=world.org.rep, valid_from="2025-10-01")
                      .values_list("reason", flat=True))
        allocation = QuotaAllocation.objects.get(plan=world.plan, person=world.org.rep).amount

    assert sum(months) == Decimal("500000.00")
    assert sum(months[9:]) == Decimal("500000.00") - sum(months[:9])
    assert reasons == {"Promotion"}
    assert allocation != Decimal("500000.00")  # the plan records what was planned


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"annual_amount": Decimal("-5")}, "annual_amount"),
        ({"reason": ""}, "reason"),
        ({"effective": datetime.date(2026, 1, 1)}, "effective"),
    ],
)
def test_bad_quota_changes_name_the_field(world, admin_a, changes, field):
    arguments = {"annual_amount": Decimal(1), "reason": "x",
                 "effective": datetime.date(2025, 3, 1), **changes}
    with tenant_context(world.tenant), pytest.raises(ValidationError) as caught:
        quota_change(plan=world.plan, person=world.org.rep, actor=admin_a, **arguments)

    assert field in caught.value.message_dict


def test_seasonality_learned_from_history_phases_the_months(world, admin_a):
    with tenant_context(world.tenant):
        # FY2024's only bookings closed in June: June takes every weight.
        quota_seasonality_learn(plan=world.plan, years=1, actor=admin_a)
        world.plan.refresh_from_db()
        quota_allocate(plan=world.plan, method="equal", actor=admin_a)
        quota_plan_apply(plan=world.plan, actor=admin_a)
        months = in_force(world.org.rep, datetime.date(2025, 1, 1))

    assert world.plan.seasonality_percent == "0, 0, 0, 0, 0, 100, 0, 0, 0, 0, 0, 0"
    assert months[5] == sum(months)
    assert months[5] > 0


def test_hand_set_seasonality_must_have_twelve_weights_adding_to_100(world, admin_a):
    with tenant_context(world.tenant):
        with pytest.raises(ValidationError, match="exactly 12"):
            quota_seasonality_set(plan=world.plan, seasonality_percent="50, 50", actor=admin_a)
        with pytest.raises(ValidationError, match="add up to 100"):
            quota_seasonality_set(plan=world.plan, seasonality_percent="10, " * 11 + "5",
                                  actor=admin_a)
        quota_seasonality_set(plan=world.plan, seasonality_percent="5, " * 8 + "15, 15, 15, 15",
                              actor=admin_a)
        world.plan.refresh_from_db()

    assert world.plan.seasonality_percent.endswith("15, 15, 15, 15")


def test_a_rep_acknowledges_the_quota_they_see_and_again_after_a_change(world, admin_a):
    rep_user = world.org.users["rep"]
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, actor=admin_a)
        with pytest.raises(ValidationError, match="not published"):
            quota_acknowledge(plan=world.plan, person=world.org.rep, user=rep_user)
        quota_plan_apply(plan=world.plan, actor=admin_a)
        plan = QuotaPlan.objects.get(pk=world.plan.pk)
        allocated = QuotaAllocation.objects.get(plan=plan, person=world.org.rep).amount
        first = quota_acknowledge(plan=plan, person=world.org.rep, user=rep_user)
        twice = quota_acknowledge(plan=plan, person=world.org.rep, user=rep_user)
        quota_change(plan=plan, person=world.org.rep, annual_amount=Decimal("1"),
                     effective=datetime.date(2025, 1, 1), reason="Cut", actor=admin_a)
        letter = quota_letter(plan=plan, person=world.org.rep, on=datetime.date(2025, 1, 2))

    assert first.pk == twice.pk
    assert first.acknowledged_by == rep_user
    assert first.annual_amount == allocated
    assert letter.annual == Decimal("1.00")
    assert letter.acknowledgement == first
    assert not letter.acknowledged  # the amount changed since


def test_someone_without_a_quota_cannot_acknowledge(world, admin_a):
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, actor=admin_a)
        quota_plan_apply(plan=world.plan, actor=admin_a)
        plan = QuotaPlan.objects.get(pk=world.plan.pk)
        with pytest.raises(ValidationError, match="no quota"):
            quota_acknowledge(plan=plan, person=world.org.leaver, user=None)
