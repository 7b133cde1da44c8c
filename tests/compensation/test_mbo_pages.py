"""The MBO score pages and admin: managers score the people below them, admin and finance
anyone, reps read their own; a stranger sees nothing; refusals are shown where they happen."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from compensation.mbo import mbo_score_set
from compensation.models import MboScore
from spm.org.models import PeriodStatus
from spm.org.services import period_set_status
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse

from .mbo_world import build_mbo_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(tenant_a, make_member):
    return build_mbo_world(tenant_a, make_member)


def signed_in(username: str) -> Client:
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return client


def person_url(tenant, world, person, period_key: str = "Q1") -> str:
    return tenant_reverse(tenant, "compensation:mbo-person", period_id=world[period_key].pk,
                          person_id=person.pk)


def list_url(tenant, world, period_key: str = "Q1") -> str:
    return tenant_reverse(tenant, "compensation:mbo-list") + f"?period={world[period_key].pk}"


def field(world, name: str, window: str = "Q1") -> str:
    return f"w{world[window].pk}-objectives-{name}"


def scores(tenant) -> dict[tuple[str, str], Decimal]:
    with tenant_context(tenant):
        return {(s.payee.name, s.period.label): s.score_pct
                for s in MboScore.objects.select_related("payee", "period")}


# -- a manager and their team ----------------------------------------------------------------


@pytest.mark.smoke
def test_a_manager_enters_a_score_for_someone_in_their_team(tenant_a, world):
    client = signed_in("boss")
    page = client.get(person_url(tenant_a, world, world.ann))
    assert page.status_code == 200
    assert f'name="{field(world, "score_pct")}"' in page.content.decode()
    response = client.post(person_url(tenant_a, world, world.ann), {
        field(world, "score_pct"): "87.5", field(world, "comment"): "Ramped two partners"})
    assert response.status_code == 302
    assert scores(tenant_a) == {(world.ann.name, "FY2026 Q1"): Decimal("87.50")}
    with tenant_context(tenant_a):
        score = MboScore.objects.get()
        assert score.entered_by.username == "boss"
        assert score.comment == "Ramped two partners"
    shown = client.get(response["Location"]).content.decode()
    assert "Saved 1 score change" in shown
    assert "87.50" in shown


def test_a_manager_gets_404_for_someone_outside_their_team_and_saves_nothing(tenant_a, world):
    client = signed_in("boss")
    url = person_url(tenant_a, world, world.zed)
    assert client.get(url).status_code == 404
    assert client.post(url, {field(world, "score_pct"): "100"}).status_code == 404
    assert scores(tenant_a) == {}
    listing = client.get(list_url(tenant_a, world)).content.decode()
    assert world.ann.name in listing
    assert world.zed.name not in listing


def test_a_manager_reads_but_cannot_score_their_own_objectives(tenant_a, world):
    client = signed_in("boss")
    page = client.get(person_url(tenant_a, world, world.boss))
    assert page.status_code == 200
    assert field(world, "score_pct") not in page.content.decode()
    assert client.post(person_url(tenant_a, world, world.boss),
                       {field(world, "score_pct"): "120"}).status_code == 403
    assert scores(tenant_a) == {}


def test_a_bad_score_is_shown_on_its_field_and_no_score_of_the_page_is_saved(tenant_a, world):
    client = signed_in("boss")
    response = client.post(person_url(tenant_a, world, world.ann, "FY2026"), {
        field(world, "score_pct", "Q1"): "85",
        field(world, "score_pct", "Q2"): "-5",
        field(world, "score_pct", "Q3"): "85.125",
        field(world, "comment", "Q4"): "no score yet"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "A score cannot be negative." in page
    assert "no more than 2 decimal places" in page
    assert "Enter a score for this comment, or clear both." in page
    assert scores(tenant_a) == {}


def test_clearing_a_score_removes_it_and_an_unchanged_page_changes_nothing(tenant_a, world):
    with tenant_context(tenant_a):
        mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                      score_pct=Decimal("85"))
    client = signed_in("boss")
    url = person_url(tenant_a, world, world.ann)
    unchanged = client.post(url, {field(world, "score_pct"): "85.0"}, follow=True)
    assert "Nothing changed." in unchanged.content.decode()
    with tenant_context(tenant_a):
        assert MboScore.history.count() == 1
    client.post(url, {field(world, "score_pct"): ""})
    assert scores(tenant_a) == {}


def test_a_locked_window_is_read_only_and_what_is_posted_for_it_is_ignored(tenant_a, world):
    with tenant_context(tenant_a):
        mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                      score_pct=Decimal("85"))
        period_set_status(period=world["2026-03"], status=PeriodStatus.LOCKED)
    client = signed_in("boss")
    url = person_url(tenant_a, world, world.ann, "FY2026")
    page = client.get(url).content.decode()
    assert field(world, "score_pct", "Q1") not in page
    assert field(world, "score_pct", "Q2") in page
    client.post(url, {field(world, "score_pct", "Q1"): "10",
                      field(world, "score_pct", "Q2"): "90"})
    assert scores(tenant_a) == {(world.ann.name, "FY2026 Q1"): Decimal("85.00"),
                                (world.ann.name, "FY2026 Q2"): Decimal("90.00")}


# -- reps, finance and strangers -------------------------------------------------------------


def test_a_rep_reads_their_own_scores_and_gets_404_for_a_colleague(tenant_a, world):
    with tenant_context(tenant_a):
        mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                      score_pct=Decimal("85"), comment="Great partner quarter")
    client = signed_in("ann")
    own = client.get(person_url(tenant_a, world, world.ann)).content.decode()
    assert "85.00%" in own
    assert "Great partner quarter" in own
    assert field(world, "score_pct") not in own
    assert client.post(person_url(tenant_a, world, world.ann),
                       {field(world, "score_pct"): "120"}).status_code == 403
    assert client.get(person_url(tenant_a, world, world.zed)).status_code == 404
    listing = client.get(list_url(tenant_a, world)).content.decode()
    assert world.ann.name in listing
    assert world.zed.name not in listing
    assert scores(tenant_a) == {(world.ann.name, "FY2026 Q1"): Decimal("85.00")}


def test_finance_scores_anyone(tenant_a, world, make_member):
    make_member(tenant_a, Role.FINANCE, username="fin")
    client = signed_in("fin")
    listing = client.get(list_url(tenant_a, world)).content.decode()
    for person in (world.boss, world.ann, world.zed):
        assert person.name in listing
    client.post(person_url(tenant_a, world, world.zed), {field(world, "score_pct"): "100"})
    assert scores(tenant_a) == {(world.zed.name, "FY2026 Q1"): Decimal("100.00")}


def test_a_member_of_another_tenant_gets_404(tenant_a, tenant_b, world, make_member):
    make_member(tenant_b, Role.ADMIN, username="stranger")
    client = signed_in("stranger")
    assert client.get(person_url(tenant_a, world, world.ann)).status_code == 404
    assert client.post(person_url(tenant_a, world, world.ann),
                       {field(world, "score_pct"): "100"}).status_code == 404
    assert client.get(list_url(tenant_a, world)).status_code == 404
    assert scores(tenant_a) == {}


def test_the_list_reads_a_whole_year_in_a_bounded_number_of_queries(
        tenant_a, world, admin_a, django_assert_max_num_queries):
    with tenant_context(tenant_a):
        mbo_score_set(payee=world.zed, component=world.objectives, window=world["Q3"],
                      score_pct=Decimal("95"))
    client = Client()
    client.force_login(admin_a)
    with django_assert_max_num_queries(20):
        response = client.get(list_url(tenant_a, world, "FY2026"))
    page = response.content.decode()
    assert page.count("data-mbo-row=") == 3 * 4
    assert "95.00%" in page


def test_the_nav_links_managers_to_the_scores_but_not_reps(tenant_a, world):
    home = tenant_reverse(tenant_a, "tenant-home")
    assert "data-nav-mbo" in signed_in("boss").get(home).content.decode()
    assert "data-nav-mbo" not in signed_in("ann").get(home).content.decode()


# -- the admin -------------------------------------------------------------------------------


def admin_add(tenant, world, **values) -> dict[str, str]:
    data = {"payee": world.ann.pk, "component": world.objectives.pk, "period": world["Q1"].pk,
            "score_pct": "85", "comment": ""}
    data.update(values)
    return data


def test_the_admin_names_the_field_of_each_refusal(tenant_a, world, admin_a):
    client = Client()
    client.force_login(admin_a)
    url = tenant_reverse(tenant_a, "tenant_admin:compensation_mboscore_add")
    cases = {
        "component": admin_add(tenant_a, world, component=world.commission.pk),
        "period": admin_add(tenant_a, world, period=world["2026-02"].pk),
        "score_pct": admin_add(tenant_a, world, score_pct="-1"),
    }
    for name, data in cases.items():
        response = client.post(url, data)
        assert response.status_code == 200, name
        assert list(response.context["adminform"].form.errors) == [name]
    with tenant_context(tenant_a):
        period_set_status(period=world["Q1"], status=PeriodStatus.LOCKED)
    locked = client.post(url, admin_add(tenant_a, world))
    assert "is locked" in " ".join(locked.context["adminform"].form.errors["period"])
    assert scores(tenant_a) == {}


def test_a_score_saved_in_the_admin_records_who_entered_it(tenant_a, world, admin_a):
    client = Client()
    client.force_login(admin_a)
    url = tenant_reverse(tenant_a, "tenant_admin:compensation_mboscore_add")
    response = client.post(url, admin_add(tenant_a, world, score_pct="112.5"))
    assert response.status_code == 302
    with tenant_context(tenant_a):
        score = MboScore.objects.get()
        assert (score.score_pct, score.entered_by) == (Decimal("112.50"), admin_a)
        assert score.history.get().history_user == admin_a


def test_a_score_in_a_locked_window_opens_read_only_in_the_admin(tenant_a, world, admin_a):
    with tenant_context(tenant_a):
        score = mbo_score_set(payee=world.ann, component=world.objectives, window=world["Q1"],
                              score_pct=Decimal("85"))
        period_set_status(period=world["Q1"], status=PeriodStatus.LOCKED)
    client = Client()
    client.force_login(admin_a)
    change = tenant_reverse(tenant_a, "tenant_admin:compensation_mboscore_change", score.pk)
    assert client.post(change, admin_add(tenant_a, world, score_pct="10")).status_code == 403
    changelist = tenant_reverse(tenant_a, "tenant_admin:compensation_mboscore_changelist")
    client.post(changelist, {"action": "delete_selected", "_selected_action": [score.pk],
                             "post": "yes"})
    assert scores(tenant_a) == {(world.ann.name, "FY2026 Q1"): Decimal("85.00")}
