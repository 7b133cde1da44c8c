"""Every "nothing here yet" message says what to do next: an admin gets a link to where it is done,
everyone else is told whom to ask; and no such message shows while the data it denies exists."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from compensation.models import CalculationRun, PayeePeriodResult
from spm.org.models import Period, Person
from spm.org.services import periods_generate
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse
from tests.factories import QuotaFactory, QuotaPlanFactory, TeamFactory

pytestmark = pytest.mark.django_db

ADMIN, FINANCE, MANAGER, REP = Role.ADMIN, Role.FINANCE, Role.MANAGER, Role.REP

#: (page, the empty state it shows in a new tenant, the roles that open the page)
EMPTY_PAGES = [
    ("tenant-home", "calculations", [ADMIN]),
    ("tenant-home", "quota", [REP]),
    ("tenant-home", "statements", [REP]),
    ("tenant-home", "attainment", [MANAGER]),
    ("crm:deal-list", "deals", [ADMIN, FINANCE, MANAGER, REP]),
    ("crm:account-list", "accounts", [ADMIN, FINANCE, MANAGER, REP]),
    ("org:person-list", "people", [ADMIN, FINANCE]),  # members without a person record
    ("org:team-tree", "teams", [ADMIN, FINANCE, MANAGER, REP]),
    ("territories:tree", "territories", [ADMIN, FINANCE, MANAGER, REP]),
    ("territories:coverage", "territories", [ADMIN, FINANCE]),
    ("territories:rule-list", "rules", [ADMIN, FINANCE]),
    ("territories:change-list", "changes", [ADMIN, FINANCE]),
    ("territories:balance", "proposals", [ADMIN, FINANCE]),
    ("planning:plan-list", "sales-plans", [ADMIN, FINANCE]),
    ("quotas:plan-list", "quota-plans", [ADMIN, FINANCE]),
    ("quotas:team", "period", [ADMIN, FINANCE, MANAGER]),
    ("quotas:my", "period", [ADMIN, MANAGER, REP]),
    ("compensation:statement-list", "statements", [ADMIN, FINANCE, MANAGER, REP]),
    ("compensation:run-list", "runs", [ADMIN, FINANCE]),
    ("compensation:mbo-list", "periods", [ADMIN, FINANCE, MANAGER]),
    ("imports:index", "imports", [ADMIN]),
]
CASES = [(page, key, role) for page, key, roles in EMPTY_PAGES for role in roles]


def empty_state(body: str, key: str) -> str:
    """The markup of the element marked data-empty=key, up to where it closes."""
    start = body.index(f'data-empty="{key}"')
    ends = [body.find(tag, start) for tag in ("</p>", "</div>", "</td>")]
    return body[start:min(end for end in ends if end != -1)]


def page(user, tenant, name: str, **kwargs) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(tenant_reverse(tenant, name, **kwargs))
    assert response.status_code == 200, name
    return response.content.decode()


@pytest.mark.parametrize(("name", "key", "role"), CASES)
def test_an_empty_page_says_what_to_do_next_for_the_role(make_member, tenant_a, name, key, role):
    member = make_member(tenant_a, role, person=name != "org:person-list")
    text = empty_state(page(member, tenant_a, name), key)

    links = 'href="/t/acme/' in text
    if role == ADMIN:
        # A link to where it is done, or the form on this very page.
        assert links or "the form" in text, text
    else:
        assert "/t/acme/admin/" not in text, text
        assert "/t/acme/setup/" not in text, text
        assert links or re.search(r"\b(ask|your admin)\b", text, re.IGNORECASE), text


# -- no "nothing yet" while there is something ----------------------------------------------------


@pytest.fixture
def periods(tenant_a):
    with tenant_context(tenant_a):
        periods_generate(fiscal_years=[2026])
        return Period.objects.get(kind="month", fiscal_year=2026, number=1)


def test_a_rep_with_a_quota_and_a_statement_is_sent_to_them_not_told_there_are_none(
    make_member, tenant_a, periods
):
    rep = make_member(tenant_a, REP)
    with tenant_context(tenant_a):
        me = Person.objects.get(user=rep)
        QuotaFactory(plan=QuotaPlanFactory(fiscal_year=2026), person=me, period=periods)
        run = CalculationRun.objects.create(period=periods, status="succeeded",
                                            requested_at=timezone.now())
        PayeePeriodResult.objects.create(run=run, payee=me, period=periods,
                                         total=Decimal("10.00"))

    body = page(rep, tenant_a, "tenant-home")

    assert 'data-empty="quota"' not in body
    assert 'data-empty="statements"' not in body
    assert f'href="{tenant_reverse(tenant_a, "quotas:my")}"' in body
    assert f'href="{tenant_reverse(tenant_a, "compensation:statement-list")}"' in body


def test_a_rep_without_a_quota_is_still_told_so(make_member, tenant_a, periods):
    rep = make_member(tenant_a, REP)
    with tenant_context(tenant_a):
        QuotaFactory(plan=QuotaPlanFactory(fiscal_year=2026), period=periods)  # someone else's

    assert 'data-empty="quota"' in page(rep, tenant_a, "tenant-home")


def test_a_manager_whose_team_has_quotas_is_sent_to_the_attainment(
    make_member, tenant_a, periods
):
    manager = make_member(tenant_a, MANAGER)
    with tenant_context(tenant_a):
        QuotaFactory(plan=QuotaPlanFactory(fiscal_year=2026),
                     person=Person.objects.get(user=manager), period=periods)

    body = page(manager, tenant_a, "tenant-home")

    assert 'data-empty="attainment"' not in body
    assert f'href="{tenant_reverse(tenant_a, "quotas:team")}"' in body


def test_sorting_an_empty_list_does_not_claim_a_filter_matched_nothing(admin_a, tenant_a):
    client = Client()
    client.force_login(admin_a)

    accounts = client.get(tenant_reverse(tenant_a, "crm:account-list") + "?sort=name")
    text = empty_state(accounts.content.decode(), "accounts")
    assert "No accounts yet" in text
    assert "matches" not in text


def test_a_filter_that_matches_nothing_offers_to_clear_it(admin_a, tenant_a):
    client = Client()
    client.force_login(admin_a)

    people = client.get(tenant_reverse(tenant_a, "org:person-list") + "?q=nobody-by-this-name")
    text = empty_state(people.content.decode(), "people")
    assert "No one matches these filters" in text
    assert f'href="{tenant_reverse(tenant_a, "org:person-list")}"' in text


def test_an_admin_with_no_teams_is_not_told_they_lead_none(admin_a, tenant_a, periods):
    text = empty_state(page(admin_a, tenant_a, "quotas:team"), "teams")

    assert "No teams yet" in text
    assert "You lead no team" not in text


def test_an_admin_with_teams_but_no_quotas_is_told_to_allocate(admin_a, tenant_a, periods):
    with tenant_context(tenant_a):
        TeamFactory(name="West")

    body = page(admin_a, tenant_a, "quotas:team")

    assert 'data-empty="teams"' not in body
    text = empty_state(body, "attainment")
    assert f'href="{tenant_reverse(tenant_a, "quotas:plan-list")}"' in text
