"""`seed_demo` builds territories: a tree over the sales teams, owners, rules applied from the
start of the window with their history, coverage with a deliberate gap, and an open proposal."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.management import call_command

from spm.crm.models import Account
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Tenant
from territories.models import (
    AccountAssignment,
    AssignmentChange,
    BalancingProposal,
    ProposalStatus,
    Territory,
    TerritoryOwner,
)
from territories.selectors import account_owner_on, coverage_report

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

AS_OF = datetime.date(2026, 5, 20)


@pytest.fixture
def acme():
    call_command("seed_demo", tenant="acme", reps=9, years=1, deals=300, seed=5, as_of=AS_OF,
                 stdout=io.StringIO())
    return Tenant.objects.get(slug="acme")


def test_the_demo_has_a_region_area_territory_tree_with_owners(acme):
    with tenant_context(acme):
        levels = set(Territory.objects.values_list("level", flat=True))
        assert levels == {"region", "area", "territory"}
        leaves = Territory.objects.filter(level="territory")
        assert leaves.count() == 9  # one per rep
        owned = set(TerritoryOwner.objects.filter(territory__in=leaves)
                    .values_list("territory_id", flat=True))
        assert owned == set(leaves.values_list("pk", flat=True))


def test_the_demo_places_every_account_but_the_uncovered_country_and_leaves_no_overlap(acme):
    with tenant_context(acme):
        coverage = coverage_report(on=AS_OF)
        swedish = Account.objects.filter(country="SE").count()
        assert coverage.unassigned_count == swedish
        assert coverage.overlaps == []
        assert coverage.account_count > swedish


def test_demo_accounts_have_owners_on_past_dates_and_some_a_history(acme):
    with tenant_context(acme):
        placed = AccountAssignment.objects.select_related("account").first().account
        assert account_owner_on(account=placed, on=AS_OF) is not None
        assert AssignmentChange.objects.filter(kind="manual", moved_count__gt=0).exists()
        assert AccountAssignment.objects.filter(valid_to__isnull=False).exists()


def test_the_demo_leaves_a_balancing_proposal_for_the_admin(acme):
    with tenant_context(acme):
        proposal = BalancingProposal.objects.get()
        assert proposal.status == ProposalStatus.PROPOSED
        assert proposal.figures["after"]["cv_potential"] < proposal.figures["before"][
            "cv_potential"
        ]
