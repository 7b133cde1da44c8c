"""The territory step of `seed_demo`: a tree over the sales teams, owners, rules applied from
the start of the window with their history, coverage with a deliberate gap, an open proposal."""

from __future__ import annotations

import datetime

import pytest

from spm.crm.models import Account
from spm.demo.generate import DemoSpec
from spm.demo.steps import STEPS, DemoContext, ensure_tenant, ensure_users, run_steps
from spm.tenancy.context import tenant_context
from territories.demo import build_territories
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
    """The demo's steps up to and including the territory step (later steps are other parts')."""
    tenant = ensure_tenant(slug="acme")
    users = ensure_users(tenant=tenant, password="demo-password")
    spec = DemoSpec(reps=9, years=1, deals=300, seed=5, as_of=AS_OF)
    ctx = DemoContext(spec=spec, tenant=tenant, users=users, log=lambda line: None)
    with tenant_context(tenant):
        run_steps(ctx, steps=STEPS[: STEPS.index(build_territories) + 1])
    return tenant


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
