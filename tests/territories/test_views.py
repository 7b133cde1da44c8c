"""Territory pages: each renders for the roles that may see it, an outsider from another tenant
gets 404 for every URL with an id, bad input gets a clear message where it was entered, and
rules and proposals are applied from the pages exactly as previewed."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.test import Client

from spm.crm.models import Account
from spm.org.models import Person
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role
from spm.tenancy.urls import tenant_reverse
from territories.models import (
    AccountAssignment,
    AssignmentChange,
    AssignmentRule,
    BalancingProposal,
    ProposalStatus,
    Territory,
)
from territories.proposals import proposal_create
from territories.selectors import territory_of_account_on
from territories.services import (
    account_assign,
    territory_create,
    territory_owner_set,
)
from tests.factories import AccountFactory, AssignmentRuleFactory

pytestmark = pytest.mark.django_db

JAN = datetime.date(2025, 1, 1)
APR = datetime.date(2025, 4, 1)


def client_for(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@dataclass
class World:
    west: Territory
    north: Territory
    south: Territory
    rep_person: Person
    acme: Account
    rule: AssignmentRule
    proposal: BalancingProposal
    change: AssignmentChange


@pytest.fixture
def world(tenant_a, make_member) -> World:
    rep_user = make_member(tenant_a, Role.REP, username="rep_a")
    with tenant_context(tenant_a):
        rep_person = Person.objects.get(user=rep_user)
        west = territory_create(name="West", level="region")
        north = territory_create(name="West North", parent=west)
        south = territory_create(name="West South", parent=west)
        territory_owner_set(territory=north, person=rep_person, valid_from=JAN)
        acme = AccountFactory(name="Acme Rockets", potential=Decimal("5000.00"), country="US",
                              postal_code="94105")
        others = [AccountFactory(name=f"North {i}", potential=Decimal("1000.00"))
                  for i in range(4)]
        change = account_assign(account=acme, territory=north, effective_date=JAN)
        for account in others:
            account_assign(account=account, territory=north, effective_date=JAN)
        AccountFactory(name="Lonely Unassigned Ltd", potential=Decimal("77.00"))
        rule = AssignmentRuleFactory(name="Bay Area", priority=10, territory=south,
                                     countries="US", postal_prefixes="94")
        proposal = proposal_create(effective_date=APR, tolerance_pct=Decimal("50"))
    return World(west, north, south, rep_person, acme, rule, proposal, change)


def url(tenant, name: str, *args, **query) -> str:
    path = tenant_reverse(tenant, f"territories:{name}", *args)
    if query:
        path += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return path


# -- every page renders --------------------------------------------------------------------------


@pytest.mark.smoke
def test_every_page_renders_for_an_admin(tenant_a, admin_a, world):
    client = client_for(admin_a)
    pages = [
        url(tenant_a, "tree"),
        url(tenant_a, "detail", world.north.pk),
        url(tenant_a, "coverage"),
        url(tenant_a, "rule-list"),
        url(tenant_a, "rule-add"),
        url(tenant_a, "rule-edit", world.rule.pk),
        url(tenant_a, "rules-preview", effective_date="2025-04-01"),
        url(tenant_a, "change-list"),
        url(tenant_a, "change-detail", world.change.pk),
        url(tenant_a, "balance"),
        url(tenant_a, "proposal-detail", world.proposal.pk),
        url(tenant_a, "account", world.acme.pk),
    ]
    for page in pages:
        response = client.get(page)
        assert response.status_code == 200, page


def test_the_tree_shows_accounts_potential_and_owners(tenant_a, admin_a, world):
    response = client_for(admin_a).get(url(tenant_a, "tree", on="2025-02-01"))
    content = response.content.decode()
    assert "West North" in content
    assert "5 accounts" in content  # under West: Acme and four others
    assert "USD 9,000" in content
    assert world.rep_person.name in content


def test_the_tree_page_costs_a_constant_number_of_queries(
    tenant_a, admin_a, world, django_assert_max_num_queries
):
    client = client_for(admin_a)
    with tenant_context(tenant_a):
        for i in range(10):
            territory_create(name=f"Extra {i}", parent=world.west)
    with django_assert_max_num_queries(12):
        response = client.get(url(tenant_a, "tree"))
    assert response.status_code == 200


def test_the_coverage_page_costs_a_constant_number_of_queries(
    tenant_a, admin_a, world, django_assert_max_num_queries
):
    client = client_for(admin_a)
    with tenant_context(tenant_a):
        for _ in range(20):
            account_assign(account=AccountFactory(), territory=world.south, effective_date=JAN)
            AccountFactory()
    # Session, user, membership and (on PostgreSQL) the tenant savepoint and setting come first.
    with django_assert_max_num_queries(16):
        response = client.get(url(tenant_a, "coverage"))
    assert response.status_code == 200


def test_coverage_shows_unassigned_accounts_and_no_overlaps(tenant_a, admin_a, world):
    response = client_for(admin_a).get(url(tenant_a, "coverage", on="2025-02-01"))
    report = response.context["report"]
    assert report.unassigned_count == 1
    assert report.overlaps == []
    assert "Lonely Unassigned Ltd" in response.content.decode()


# -- who sees what -------------------------------------------------------------------------------


def test_a_rep_reads_their_own_territory_and_not_the_others(tenant_a, world):
    rep = client_for(world.rep_person.user)
    tree = rep.get(url(tenant_a, "tree"))
    assert tree.status_code == 200
    assert [root.territory for root in tree.context["roots"]] == [world.north]
    assert rep.get(url(tenant_a, "detail", world.north.pk)).status_code == 200
    assert rep.get(url(tenant_a, "detail", world.south.pk)).status_code == 404


def test_a_manager_reads_the_area_they_own_and_the_territories_below_it(
    tenant_a, make_member, world
):
    manager_user = make_member(tenant_a, Role.MANAGER)
    with tenant_context(tenant_a):
        area = territory_create(name="Bay Area", parent=world.west, level="area")
        leaf = territory_create(name="Bay Area 1", parent=area)
        territory_owner_set(
            territory=area, person=Person.objects.get(user=manager_user), valid_from=JAN
        )
    manager = client_for(manager_user)
    tree = manager.get(url(tenant_a, "tree"))
    assert [root.territory for root in tree.context["roots"]] == [area]
    assert [child.territory for child in tree.context["roots"][0].children] == [leaf]
    assert manager.get(url(tenant_a, "detail", leaf.pk)).status_code == 200
    assert manager.get(url(tenant_a, "detail", world.north.pk)).status_code == 404


@pytest.mark.parametrize("name", ["coverage", "rule-list", "rule-add", "change-list", "balance"])
def test_reps_and_managers_are_refused_the_admin_pages(tenant_a, make_member, world, name):
    for role in (Role.REP, Role.MANAGER):
        member = client_for(make_member(tenant_a, role))
        assert member.get(url(tenant_a, name)).status_code == 403, (role, name)


def test_finance_reads_proposals_but_cannot_accept_them(tenant_a, make_member, world):
    finance = client_for(make_member(tenant_a, Role.FINANCE))
    page = finance.get(url(tenant_a, "proposal-detail", world.proposal.pk))
    assert page.status_code == 200
    assert page.context["can_decide"] is False
    assert finance.post(url(tenant_a, "proposal-accept", world.proposal.pk)).status_code == 403
    with tenant_context(tenant_a):
        assert BalancingProposal.objects.get().status == ProposalStatus.PROPOSED


def test_an_outsider_gets_404_for_every_url_with_an_id(tenant_a, tenant_b, admin_b, world):
    outsider = client_for(admin_b)
    ids = {
        "detail": world.north.pk,
        "rule-edit": world.rule.pk,
        "change-detail": world.change.pk,
        "proposal-detail": world.proposal.pk,
        "proposal-accept": world.proposal.pk,
        "proposal-reject": world.proposal.pk,
        "account": world.acme.pk,
    }
    for name, pk in ids.items():
        # Under their own tenant the ids of tenant A are nobody's...
        own = url(tenant_b, name, pk)
        assert outsider.get(own).status_code in (404, 405), name
        assert outsider.post(own).status_code == 404, name
        # ...and tenant A's URLs are closed to a non-member.
        assert outsider.get(url(tenant_a, name, pk)).status_code == 404, name
    with tenant_context(tenant_a):
        assert BalancingProposal.objects.get().status == ProposalStatus.PROPOSED


# -- rules from the pages ------------------------------------------------------------------------


def rule_post(world, **values) -> dict[str, str]:
    return {
        "name": "Texas", "priority": "20", "territory": str(world.south.pk),
        "countries": "", "regions": "", "postal_prefixes": "", "industries": "",
        "min_employees": "", "max_employees": "", "is_active": "on", **values,
    }


def test_a_rule_with_no_criteria_gets_a_clear_form_error(tenant_a, admin_a, world):
    response = client_for(admin_a).post(url(tenant_a, "rule-add"), rule_post(world))
    assert response.status_code == 200
    assert "needs at least one criterion" in response.content.decode()
    with tenant_context(tenant_a):
        assert AssignmentRule.objects.count() == 1


def test_postal_prefix_junk_gets_a_form_error_on_that_field(tenant_a, admin_a, world):
    response = client_for(admin_a).post(
        url(tenant_a, "rule-add"), rule_post(world, postal_prefixes="75, <script>")
    )
    assert response.status_code == 200
    assert "Not postal code beginnings: <script>" in response.context["form"].errors[
        "postal_prefixes"
    ][0]
    assert "Not postal code beginnings: &lt;script&gt;" in response.content.decode()


def test_a_rule_saved_from_the_page_keeps_its_ticked_segments(tenant_a, admin_a, world):
    response = client_for(admin_a).post(
        url(tenant_a, "rule-add"),
        {**rule_post(world, regions="TX"), "segments": ["smb", "enterprise"]},
    )
    assert response.status_code == 302
    with tenant_context(tenant_a):
        saved = AssignmentRule.objects.get(name="Texas")
        assert saved.segments == "smb, enterprise"
        assert saved.history.latest().history_user is not None


def test_rules_are_previewed_then_applied_from_the_page(tenant_a, admin_a, world):
    client = client_for(admin_a)
    preview = client.get(url(tenant_a, "rules-preview", effective_date="2025-04-01"))
    assert preview.status_code == 200
    assert preview.context["preview"].move_count == 1
    assert "Acme Rockets" in preview.content.decode()
    with tenant_context(tenant_a):
        assert territory_of_account_on(account=world.acme, on=APR) == world.north
    applied = client.post(url(tenant_a, "rules-preview"), {
        "effective_date": "2025-04-01", "digest": preview.context["preview"].digest,
    })
    assert applied.status_code == 302
    with tenant_context(tenant_a):
        assert territory_of_account_on(account=world.acme, on=APR) == world.south
        change = AssignmentChange.objects.latest("created_at")
        assert change.created_by == admin_a
    assert applied["Location"] == url(tenant_a, "change-detail", change.pk)


def test_applying_a_stale_preview_changes_nothing_and_says_why(tenant_a, admin_a, world):
    response = client_for(admin_a).post(
        url(tenant_a, "rules-preview"), {"effective_date": "2025-04-01", "digest": "stale"},
        follow=True,
    )
    assert "changed since the preview" in response.content.decode()
    with tenant_context(tenant_a):
        assert territory_of_account_on(account=world.acme, on=APR) == world.north


def test_a_junk_preview_date_is_named_on_the_field(tenant_a, admin_a, world):
    response = client_for(admin_a).get(url(tenant_a, "rules-preview", effective_date="31-31-2025"))
    assert response.status_code == 200
    assert 'data-field-error="effective_date"' in response.content.decode()


def test_a_junk_as_of_date_falls_back_to_today_with_a_message(tenant_a, admin_a, world):
    response = client_for(admin_a).get(url(tenant_a, "tree", on="yesterday-ish"))
    assert response.status_code == 200
    assert "not understood" in response.content.decode()


# -- balancing from the pages --------------------------------------------------------------------


def test_a_proposal_is_made_and_accepted_from_the_pages(tenant_a, admin_a, world):
    client = client_for(admin_a)
    made = client.post(url(tenant_a, "balance"), {
        "scope": "", "effective_date": "2025-04-01", "tolerance_pct": "10",
        "count_tolerance_pct": "", "time_limit_s": "3",
    })
    assert made.status_code == 302
    with tenant_context(tenant_a):
        proposal = BalancingProposal.objects.latest("created_at")
    page = client.get(made["Location"])
    assert page.status_code == 200
    assert page.context["can_decide"] is True
    accepted = client.post(url(tenant_a, "proposal-accept", proposal.pk))
    assert accepted.status_code == 302
    with tenant_context(tenant_a):
        proposal.refresh_from_db()
        assert proposal.status == ProposalStatus.ACCEPTED
        assert AccountAssignment.objects.filter(territory=world.south).exists()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("tolerance_pct", "0", "greater than or equal to 0.01"),
    ("tolerance_pct", "ten", "Enter a number"),
    ("count_tolerance_pct", "500", "less than or equal to 100"),
    ("time_limit_s", "3600", "less than or equal to 30"),
    ("effective_date", "2025-02-30", "Enter a valid date"),
])
def test_bad_balancing_input_is_named_on_its_field(tenant_a, admin_a, world, field, value,
                                                    message):
    data = {"scope": "", "effective_date": "2025-04-01", "tolerance_pct": "10",
            "count_tolerance_pct": "", "time_limit_s": "3", field: value}
    response = client_for(admin_a).post(url(tenant_a, "balance"), data)
    assert response.status_code == 200
    assert message in str(response.context["form"].errors[field])


def test_balancing_an_empty_book_says_to_apply_the_rules_first(tenant_a, admin_a, world):
    response = client_for(admin_a).post(url(tenant_a, "balance"), {
        "scope": "", "effective_date": "2024-06-01", "tolerance_pct": "10",
        "count_tolerance_pct": "", "time_limit_s": "3",
    })
    assert response.status_code == 200
    assert "apply the assignment rules first" in str(response.context["form"].errors)


def test_rejecting_from_the_page_changes_no_assignment(tenant_a, admin_a, world):
    with tenant_context(tenant_a):
        before = AccountAssignment.objects.count()
    client_for(admin_a).post(url(tenant_a, "proposal-reject", world.proposal.pk))
    with tenant_context(tenant_a):
        assert BalancingProposal.objects.get().status == ProposalStatus.REJECTED
        assert AccountAssignment.objects.count() == before


# -- moving one account --------------------------------------------------------------------------


def test_moving_an_account_before_its_latest_change_is_a_form_error(tenant_a, admin_a, world):
    response = client_for(admin_a).post(url(tenant_a, "account", world.acme.pk), {
        "territory": str(world.south.pk), "effective_date": "2024-12-01", "note": "",
    })
    assert response.status_code == 200
    errors = response.context["form"].errors["effective_date"]
    assert "change dated after 2024-12-01" in str(errors)


def test_an_admin_moves_one_account_from_a_date(tenant_a, admin_a, world):
    response = client_for(admin_a).post(url(tenant_a, "account", world.acme.pk), {
        "territory": str(world.south.pk), "effective_date": "2025-03-01", "note": "Handover",
    })
    assert response.status_code == 302
    with tenant_context(tenant_a):
        assert territory_of_account_on(account=world.acme, on=datetime.date(2025, 3, 1)) \
            == world.south
        assert AssignmentChange.objects.latest("created_at").note == "Handover"
