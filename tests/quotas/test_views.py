"""Quota pages seen by every role and by an outsider: my quota, the team view, plans, the
allocation workspace with its actions, and the quota letter with its acknowledgement."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.messages import get_messages

from quotas.models import Quota, QuotaAcknowledgement, QuotaAllocation, QuotaPlan
from quotas.services import quota_allocate, quota_plan_apply
from spm.org.services import person_assign_team
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

D = datetime.date
MID_FEBRUARY = datetime.datetime(2025, 2, 14, 12, tzinfo=datetime.UTC)


@pytest.fixture
def applied(world, admin_a):
    org = world.org
    with tenant_context(world.tenant):
        quota_allocate(plan=world.plan, method="equal", actor=admin_a)
        quota_plan_apply(plan=world.plan, actor=admin_a)
        world.deal(org.rep, "10000", D(2025, 1, 10))
        world.deal(org.colleague, "30000", D(2025, 2, 1))
        world.deal(org.east_rep, "1000", D(2025, 1, 31))
        world.plan.refresh_from_db()
    return world


def url(world, name: str, **kwargs) -> str:
    return tenant_reverse(world.tenant, name, **kwargs)


def as_role(client, world, role: str):
    client.force_login(world.org.users[role])
    return client


def texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# -- my quota ------------------------------------------------------------------------------------


@pytest.mark.smoke
@time_machine.travel(MID_FEBRUARY, tick=False)
def test_a_rep_sees_their_quarter_and_year_to_date_with_pace(client, applied):
    response = as_role(client, applied, Role.REP).get(url(applied, "quotas:my"))

    assert response.status_code == 200
    row = response.context["row"]
    assert row.name == "Ray Rep"
    assert row.credited == Decimal("10000.00")
    assert response.context["period"].label == "FY2025 Q1"
    body = response.content.decode()
    assert "FY2025 quota letter" in body
    assert "Colin" not in body
    assert len(response.context["months"]) == 12


def test_the_period_and_day_can_be_chosen_and_junk_falls_back(client, applied):
    as_role(client, applied, Role.REP)

    month = client.get(url(applied, "quotas:my"), {"kind": "month", "on": "2025-01-20"})
    junk = client.get(url(applied, "quotas:my"), {"kind": "decade", "on": "yesterday"})

    assert month.context["period"].label.startswith("FY2025 M01")
    assert month.context["row"].credited == Decimal("10000.00")
    assert junk.status_code == 200
    assert "not understood" in " ".join(texts(junk))


def test_someone_without_a_linked_person_gets_an_explanation(client, applied, make_member):
    user = make_member(applied.tenant, Role.REP, person=False)
    client.force_login(user)

    response = client.get(url(applied, "quotas:my"))

    assert response.status_code == 200
    assert b'data-empty="person"' in response.content


def test_an_outsider_gets_404_for_every_quota_page(client, applied, admin_b):
    client.force_login(admin_b)
    for name, kwargs in [("quotas:my", {}), ("quotas:team", {}), ("quotas:plan-list", {}),
                         ("quotas:workspace", {"pk": applied.plan.pk}),
                         ("quotas:letter", {"pk": applied.plan.pk})]:
        assert client.get(url(applied, name, **kwargs)).status_code == 404


# -- team view -----------------------------------------------------------------------------------


@time_machine.travel(MID_FEBRUARY, tick=False)
def test_a_manager_sees_their_team_and_nobody_else(client, applied):
    response = as_role(client, applied, Role.MANAGER).get(url(applied, "quotas:team"))

    assert response.status_code == 200
    names = {row.name for row in response.context["rows"]}
    assert names == {"Ray Rep", "Colin Colleague", "Mona Manager"}  # Nia joins in April
    assert "Erin East" not in response.content.decode()
    assert response.context["total"].credited == Decimal("40000.00")


@pytest.mark.smoke
@time_machine.travel(MID_FEBRUARY, tick=False)
def test_admin_sees_every_team_rolled_up(client, applied):
    response = as_role(client, applied, Role.ADMIN).get(url(applied, "quotas:team"))

    teams = {t.team.name: t for t in response.context["team_rows"]}
    assert set(teams) == {"Sales", "West", "East"}
    assert teams["Sales"].credited == teams["West"].credited + teams["East"].credited
    assert "Erin East" in response.content.decode()


@time_machine.travel(MID_FEBRUARY, tick=False)
def test_the_team_view_sorts_by_attainment_and_ignores_unknown_sorts(client, applied):
    as_role(client, applied, Role.ADMIN)

    ranked = client.get(url(applied, "quotas:team"), {"sort": "-attainment"})
    junk = client.get(url(applied, "quotas:team"), {"sort": "drop table", "team": "999999"})

    attainments = [r.attainment for r in ranked.context["rows"] if r.attainment is not None]
    assert attainments == sorted(attainments, reverse=True)
    assert junk.status_code == 200
    assert "not one you may see" in " ".join(texts(junk))


def test_a_rep_cannot_open_the_team_view(client, applied):
    assert as_role(client, applied, Role.REP).get(url(applied, "quotas:team")).status_code == 403


@pytest.mark.parametrize("extra", [0, 12])
@time_machine.travel(MID_FEBRUARY, tick=False)
def test_the_team_view_takes_a_constant_number_of_queries(client, applied, admin_a, extra,
                                                          django_assert_max_num_queries):
    with tenant_context(applied.tenant):
        for i in range(extra):
            person = PersonFactory(name=f"Extra {i}")
            person_assign_team(person=person, team=applied.org.west, valid_from=D(2024, 1, 1))
            applied.deal(person, "100", D(2025, 1, 5))
        quota_allocate(plan=applied.plan, method="equal", actor=admin_a)
        quota_plan_apply(plan=applied.plan, effective=D(2025, 1, 1), actor=admin_a)
    as_role(client, applied, Role.ADMIN)

    with django_assert_max_num_queries(20):
        response = client.get(url(applied, "quotas:team"))

    assert len(response.context["rows"]) == 6 + extra


# -- plans and the workspace ---------------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [(Role.ADMIN, 200), (Role.FINANCE, 200),
                                              (Role.MANAGER, 403), (Role.REP, 403)])
def test_plans_and_the_workspace_are_for_admin_and_finance(client, applied, role, status):
    as_role(client, applied, role)

    assert client.get(url(applied, "quotas:plan-list")).status_code == status
    assert client.get(url(applied, "quotas:workspace", pk=applied.plan.pk)).status_code == status


def test_admin_creates_a_plan_and_a_second_one_for_the_year_is_refused(client, applied):
    as_role(client, applied, Role.ADMIN)
    data = {"fiscal_year": "2026", "name": "FY2026", "target": "2000000",
            "over_assignment_percent": "110", "method": "equal"}

    created = client.post(url(applied, "quotas:plan-create"), data)
    again = client.post(url(applied, "quotas:plan-create"), data)
    no_target = client.post(url(applied, "quotas:plan-create"), {**data, "fiscal_year": "2027",
                                                                 "target": ""})

    with tenant_context(applied.tenant):
        plan = QuotaPlan.objects.get(fiscal_year=2026)
    assert created.status_code == 302
    assert created["Location"] == url(applied, "quotas:workspace", pk=plan.pk)
    assert plan.target == Decimal("2000000.00")
    assert "FY2026 has a quota plan already" in again.content.decode()
    assert "make a sales plan for the year first" in no_target.content.decode()


def test_finance_reads_the_workspace_without_its_forms(client, applied):
    response = as_role(client, applied, Role.FINANCE).get(
        url(applied, "quotas:workspace", pk=applied.plan.pk))

    body = response.content.decode()
    assert "data-adds-up" in body
    assert "data-allocate-form" not in body
    assert as_role(client, applied, Role.FINANCE).post(
        url(applied, "quotas:allocate", pk=applied.plan.pk), {"method": "equal"}
    ).status_code == 403


@pytest.mark.smoke
def test_the_workspace_shows_the_tree_and_names_sums_that_do_not_add_up(client, applied):
    with tenant_context(applied.tenant):
        QuotaAllocation.objects.filter(plan=applied.plan, person=applied.org.east_rep).update(
            amount=Decimal("5.00"))
    response = as_role(client, applied, Role.ADMIN).get(
        url(applied, "quotas:workspace", pk=applied.plan.pk))

    body = response.content.decode()
    assert [row.node.label for row in response.context["workspace"].rows][:3] == [
        "Company", "Sales", "West"]
    assert "The people in East add up to USD 5.00; they must add up to" in body
    assert "data-problems" in body


def test_allocating_is_a_post_and_reports_the_result(client, applied):
    as_role(client, applied, Role.ADMIN)
    plan_url = url(applied, "quotas:allocate", pk=applied.plan.pk)

    assert client.get(plan_url).status_code == 405
    response = client.post(plan_url, {"method": "historical"}, follow=True)
    bad = client.post(plan_url, {"method": "astrology"}, follow=True)

    assert "Every level adds up" in " ".join(texts(response))
    assert "Pick an allocation method" in " ".join(texts(bad))
    with tenant_context(applied.tenant):
        applied.plan.refresh_from_db()
    assert applied.plan.method == "historical"


def test_a_manual_override_needs_a_reason_and_keeps_it(client, applied):
    with tenant_context(applied.tenant):
        east = QuotaAllocation.objects.get(plan=applied.plan, team=applied.org.east)
    as_role(client, applied, Role.ADMIN)
    override = url(applied, "quotas:override", pk=east.pk)

    refused = client.post(override, {f"n{east.pk}-amount": "-3", f"n{east.pk}-reason": ""},
                          follow=True)
    saved = client.post(override, {f"n{east.pk}-amount": "250000",
                                   f"n{east.pk}-reason": "Smaller patch"}, follow=True)

    messages = " ".join(texts(refused))
    assert "East · Quota: Ensure this value is greater than or equal to 0" in messages
    assert "East · Reason: This field is required" in messages
    assert "re-split" in " ".join(texts(saved))
    with tenant_context(applied.tenant):
        east.refresh_from_db()
    assert (east.amount, east.override_reason) == (Decimal("250000.00"), "Smaller patch")


def test_seasonality_by_hand_is_checked_where_it_is_entered(client, applied):
    as_role(client, applied, Role.ADMIN)

    response = client.post(url(applied, "quotas:seasonality", pk=applied.plan.pk),
                           {"source": "manual", "weights": "50, 50"}, follow=True)

    assert "Seasonality: Enter exactly 12 percentages; got 2." in texts(response)


def test_apply_is_refused_while_the_tree_does_not_add_up(client, applied):
    with tenant_context(applied.tenant):
        QuotaAllocation.objects.filter(plan=applied.plan, person=applied.org.rep).update(
            amount=Decimal("1.00"))
        before = list(Quota.objects.values_list("pk", "amount"))
    as_role(client, applied, Role.ADMIN)

    response = client.post(url(applied, "quotas:apply", pk=applied.plan.pk), {}, follow=True)

    messages = texts(response)
    assert messages[0] == "Not applied: the allocation does not add up."
    assert any("The people in West add up to" in m for m in messages)
    with tenant_context(applied.tenant):
        assert list(Quota.objects.values_list("pk", "amount")) == before


def test_a_mid_year_change_from_the_workspace(client, applied):
    with tenant_context(applied.tenant):
        node = QuotaAllocation.objects.get(plan=applied.plan, person=applied.org.rep)
    as_role(client, applied, Role.ADMIN)

    response = client.post(url(applied, "quotas:change", pk=node.pk), {
        f"c{node.pk}-annual_amount": "123456.78", f"c{node.pk}-effective": "2025-07-01",
        f"c{node.pk}-reason": "Promotion"}, follow=True)

    assert "quota changes from 01 Jul 2025" in " ".join(texts(response))
    with tenant_context(applied.tenant):
        assert Quota.objects.filter(person=applied.org.rep, reason="Promotion").count() == 6


# -- quota letters -------------------------------------------------------------------------------


@pytest.mark.smoke
def test_a_rep_acknowledges_their_letter_and_the_admin_sees_it(client, applied):
    letter_url = url(applied, "quotas:letter", pk=applied.plan.pk)
    as_role(client, applied, Role.REP)

    letter = client.get(letter_url)
    client.post(url(applied, "quotas:acknowledge", pk=applied.plan.pk))
    after = client.get(letter_url)

    assert letter.status_code == 200
    assert letter.context["letter"].annual > 0
    assert b"data-acknowledge-form" in letter.content
    assert b"data-acknowledged" in after.content
    with tenant_context(applied.tenant):
        ack = QuotaAcknowledgement.objects.get()
    assert ack.acknowledged_by == applied.org.users[Role.REP]
    workspace = as_role(client, applied, Role.ADMIN).get(
        url(applied, "quotas:workspace", pk=applied.plan.pk))
    assert workspace.context["workspace"].acknowledged_count == 1


def test_a_draft_plan_has_no_letter_for_reps(client, world):
    as_role(client, world, Role.REP)

    assert client.get(url(world, "quotas:letter", pk=world.plan.pk)).status_code == 404
    assert client.post(url(world, "quotas:acknowledge", pk=world.plan.pk)).status_code == 302
    with tenant_context(world.tenant):
        assert not QuotaAcknowledgement.objects.exists()


def test_someone_without_a_quota_sees_a_letter_saying_so(client, applied):
    response = as_role(client, applied, Role.FINANCE).get(
        url(applied, "quotas:letter", pk=applied.plan.pk))

    assert response.status_code == 200
    assert b'data-empty="letter"' in response.content


@time_machine.travel(MID_FEBRUARY, tick=False)
def test_a_seller_who_moved_away_still_counts_for_their_old_team_by_their_days(client, applied):
    # Ray Rep leaves West for East on 1 February: the manager of West no longer lists him on
    # 14 February, but West's totals keep his January (quota share and the deal he closed).
    org = applied.org
    with tenant_context(applied.tenant):
        person_assign_team(person=org.rep, team=org.east, valid_from=D(2025, 2, 1))

    manager_view = as_role(client, applied, Role.MANAGER).get(url(applied, "quotas:team"))
    admin_view = as_role(client, applied, Role.ADMIN).get(url(applied, "quotas:team"))

    assert "Ray Rep" not in {row.name for row in manager_view.context["rows"]}
    west = {t.team.name: t for t in manager_view.context["team_rows"]}["West"]
    west_for_admin = {t.team.name: t for t in admin_view.context["team_rows"]}["West"]
    assert west.credited == Decimal("40000.00")  # Ray's 10,000 in January + Colin's 30,000
    assert (west.quota, west.credited, west.ytd_quota) == (
        west_for_admin.quota, west_for_admin.credited, west_for_admin.ytd_quota)
    assert "Ray Rep" not in manager_view.content.decode()
