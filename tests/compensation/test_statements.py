"""Statement pages: who may see whose statement, totals to the cent, CSV export and projection."""

from __future__ import annotations

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.db.models import Sum

from compensation.models import CalculationRun, LineItem, RunStatus
from compensation.services.assignments import assignment_create
from compensation.services.runs import calculation_run
from spm.org.models import Person
from spm.org.services import team_create
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse
from tests.factories import DealFactory, StageFactory

from .runs_world import build_world, credit_deal

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant_a, make_member):
    """A manager leading a team of two reps, each with credits in January 2026, calculated."""
    manager_user = make_member(tenant_a, Role.MANAGER, username="boss")
    rep_user = make_member(tenant_a, Role.REP, username="ann")
    other_user = make_member(tenant_a, Role.REP, username="bob")
    with tenant_context(tenant_a):
        boss = Person.objects.get(user=manager_user)
        ann = Person.objects.get(user=rep_user)
        bob = Person.objects.get(user=other_user)
        team = team_create(name="West", manager=boss)
        from spm.org.models import TeamMembership

        for person in (ann, bob):
            TeamMembership.objects.create(person=person, team=team,
                                          valid_from=datetime.date(2025, 1, 1))
        world = build_world(people=[ann, bob])
        # The manager is paid on the team's roll-up too, as crediting credits it to them.
        assignment_create(person=boss, plan=world.version.plan,
                          valid_from=datetime.date(2026, 1, 1),
                          target_incentive=Decimal("80000.00"))
        credit_deal(world, ann, "60000.00", datetime.date(2026, 1, 10))
        # A name that a spreadsheet would run as a formula.
        credit = credit_deal(world, ann, "60000.00", datetime.date(2026, 1, 20))
        credit.deal.name = "=HYPERLINK(\"http://x\")"
        credit.deal.save()
        credit_deal(world, bob, "33333.33", datetime.date(2026, 1, 3))
        run = calculation_run(tenant=tenant_a, period=world.month("2026-01"), actor=None)
        assert run.status == RunStatus.SUCCEEDED, run.error
    world.ann, world.bob, world.boss = ann, bob, boss
    return world


def _login(client, username: str) -> None:
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))


def _statement_url(tenant, person, period, name="compensation:statement"):
    return tenant_reverse(tenant, name, person_id=person.pk, period_id=period.pk)


@pytest.mark.smoke
def test_a_rep_sees_their_statement_with_every_line_traced_to_its_deal(
        client, tenant_a, world):
    _login(client, "ann")
    response = client.get(_statement_url(tenant_a, world.ann, world.month("2026-01")))
    assert response.status_code == 200
    page = response.content.decode()
    assert "10,400.00" in page
    assert "graduated: 40,000.00" in page
    assert world.deals[0].external_id in page
    assert "deal owner" in page  # the crediting rule of each line
    assert "Projection" in page


def test_a_rep_cannot_open_a_colleagues_statement(client, tenant_a, world):
    _login(client, "ann")
    response = client.get(_statement_url(tenant_a, world.bob, world.month("2026-01")))
    assert response.status_code == 404


def test_a_manager_sees_the_statements_of_their_team(client, tenant_a, world):
    _login(client, "boss")
    response = client.get(_statement_url(tenant_a, world.bob, world.month("2026-01")))
    assert response.status_code == 200
    listing = client.get(tenant_reverse(tenant_a, "compensation:statement-list"))
    assert world.ann.name in listing.content.decode()
    assert world.bob.name in listing.content.decode()


def test_finance_sees_everyone_and_an_outsider_gets_404(client, tenant_a, tenant_b, world,
                                                        make_member):
    make_member(tenant_a, Role.FINANCE, username="fin")
    make_member(tenant_b, Role.ADMIN, username="stranger")
    _login(client, "fin")
    assert client.get(_statement_url(tenant_a, world.bob, world.month("2026-01"))
                      ).status_code == 200
    client.logout()
    _login(client, "stranger")
    assert client.get(_statement_url(tenant_a, world.bob, world.month("2026-01"))
                      ).status_code == 404


def test_a_statement_total_is_the_sum_of_its_lines_to_the_cent(tenant_a, world):
    from compensation.statements import payee_statement

    with tenant_context(tenant_a):
        statement = payee_statement(person=world.bob, period=world.month("2026-01"))
        stored = LineItem.objects.filter(payee=world.bob).aggregate(s=Sum("amount"))["s"]
    # 33,333.33 x 8% = 2,666.6664 -> 2,666.67 (half-up on the line)
    assert statement.total == Decimal("2666.67") == stored
    assert statement.result.total == statement.total
    assert sum(c.amount for c in statement.by_component) == statement.total


def test_the_csv_export_neutralises_formulas_and_ends_with_the_total(client, tenant_a, world):
    _login(client, "ann")
    response = client.get(_statement_url(tenant_a, world.ann, world.month("2026-01"),
                                         "compensation:statement-csv"))
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    names = [row[5] for row in rows[1:-1]]
    assert "'=HYPERLINK(\"http://x\")" in names
    assert rows[-1][0] == "total"
    assert Decimal(rows[-1][11]) == sum(Decimal(row[11]) for row in rows[1:-1])


def test_the_projection_counts_open_deals_as_won_and_says_it_is_a_projection(
        client, tenant_a, world):
    from compensation.statements import pipeline_projection

    with tenant_context(tenant_a):
        stage = StageFactory(name="Proposal", order=3)
        DealFactory(owner=world.bob, stage=stage, amount=Decimal("10000.00"),
                    close_date=datetime.date(2026, 1, 25), name="Open one")
        projection = pipeline_projection(tenant=tenant_a, person=world.bob,
                                         period=world.month("2026-01"))
    assert projection.earned == Decimal("2666.67")
    # 33,333.33 + 10,000 on a 100,000 quota: all of it still in the 8% tier.
    assert projection.extra == Decimal("800.00")
    assert [p.deal.name for p in projection.deals] == ["Open one"]


def test_finance_queues_a_recalculation_and_is_sent_back_to_the_runs(
        client, tenant_a, world, make_member, django_capture_on_commit_callbacks, eager_tasks):
    make_member(tenant_a, Role.FINANCE, username="fin")
    _login(client, "fin")
    url = tenant_reverse(tenant_a, "compensation:run-recalculate")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"period": world.month("2026-01").pk})
    assert response.status_code == 302
    assert response["Location"] == tenant_reverse(tenant_a, "compensation:run-list")
    with tenant_context(tenant_a):
        runs = list(CalculationRun.objects.order_by("pk"))
    assert [r.status for r in runs] == [RunStatus.SUPERSEDED, RunStatus.SUCCEEDED]
    page = client.get(response["Location"]).content.decode()
    assert runs[-1].inputs_fingerprint[:12] in page


def test_a_rep_may_not_see_runs_or_recalculate(client, tenant_a, world):
    _login(client, "ann")
    assert client.get(tenant_reverse(tenant_a, "compensation:run-list")).status_code == 403
    response = client.post(tenant_reverse(tenant_a, "compensation:run-recalculate"),
                           {"period": world.month("2026-01").pk})
    assert response.status_code == 403


def test_a_recalculation_of_a_locked_period_is_refused_with_a_message(client, tenant_a, world,
                                                                      make_member):
    make_member(tenant_a, Role.ADMIN, username="boss2")
    with tenant_context(tenant_a):
        january = world.month("2026-01")
        january.status = "locked"
        january.save()
    _login(client, "boss2")
    response = client.post(tenant_reverse(tenant_a, "compensation:run-recalculate"),
                           {"period": january.pk}, follow=True)
    assert "is locked" in response.content.decode()
    with tenant_context(tenant_a):
        assert CalculationRun.objects.count() == 1


def test_a_rep_lands_on_the_month_in_progress_not_a_later_month_of_the_run(
    client, world, tenant_a
):
    import time_machine

    from spm.org.models import Period

    with tenant_context(tenant_a):
        # A run over the whole fiscal year leaves (empty) results in the months still ahead.
        year = Period.objects.get(kind="year", start_date__lte=datetime.date(2026, 2, 14),
                                  end_date__gt=datetime.date(2026, 2, 14))
        assert calculation_run(tenant=tenant_a, period=year, actor=None).status == "succeeded"
    _login(client, "ann")
    with time_machine.travel(datetime.datetime(2026, 2, 14, 12, tzinfo=datetime.UTC)):
        response = client.get(tenant_reverse(tenant_a, "compensation:statement-list"))
    assert response.status_code == 302
    with tenant_context(tenant_a):
        february = world.month("2026-02")
    assert response["Location"].rstrip("/").endswith(f"/{world.ann.pk}/{february.pk}")
