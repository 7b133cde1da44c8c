"""Balancing proposals over the stored book: propose, then accept atomically through the
effective-dated assignments, or reject."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from spm.tenancy.context import tenant_context
from territories.models import AccountAssignment, ChangeKind, ProposalStatus
from territories.proposals import proposal_accept, proposal_create, proposal_reject
from territories.selectors import territory_of_account_on, territory_potential_on
from territories.services import account_assign, assignments_write, territory_create
from tests.factories import AccountFactory, UserFactory

from .conftest import APR, JAN

pytestmark = pytest.mark.django_db


@pytest.fixture
def lopsided(tenant_a, tree):
    """North holds six accounts worth 100 each, South none: balancing must move three."""
    with tenant_context(tenant_a):
        accounts = [AccountFactory(potential=Decimal("100.00")) for _ in range(6)]
        assignments_write(
            targets={a.pk: tree.north.pk for a in accounts}, effective_date=JAN,
            kind=ChangeKind.MANUAL,
        )
    return accounts


@pytest.mark.smoke
def test_a_proposal_keeps_its_moves_and_figures_without_changing_the_book(
    tenant_a, tree, lopsided
):
    with tenant_context(tenant_a):
        proposal = proposal_create(effective_date=APR, tolerance_pct=Decimal("10"))
        assert proposal.status == ProposalStatus.PROPOSED
        assert proposal.moves.count() == 3
        assert set(proposal.moves.values_list("to_territory_id", flat=True)) == {tree.south.pk}
        assert proposal.solver_status == "optimal"
        figures = proposal.figures
        assert figures["before"]["outside"] == 2
        assert figures["after"]["outside"] == 0
        assert figures["after"]["max_min_potential"] == 1.0
        assert {t["name"]: t["potential_after"] for t in figures["territories"]} == {
            "West North": "300.00", "West South": "300.00"
        }
        assert all(
            territory_of_account_on(account=a, on=APR) == tree.north for a in lopsided
        )


def test_accepting_applies_every_move_from_the_effective_date_and_records_who(
    tenant_a, tree, lopsided
):
    user = UserFactory()
    with tenant_context(tenant_a):
        proposal = proposal_create(effective_date=APR, tolerance_pct=Decimal("10"))
        change = proposal_accept(proposal=proposal, actor=user)
        proposal.refresh_from_db()
        assert proposal.status == ProposalStatus.ACCEPTED
        assert (proposal.decided_by, proposal.change) == (user, change)
        assert change.kind == ChangeKind.BALANCING
        assert change.created_by == user
        loads = territory_potential_on(on=APR)
        assert loads[tree.north.pk].potential == loads[tree.south.pk].potential == Decimal("300")
        assert territory_potential_on(on=JAN)[tree.north.pk].accounts == 6


def test_a_proposal_is_refused_when_the_book_changed_since(tenant_a, tree, lopsided):
    with tenant_context(tenant_a):
        proposal = proposal_create(effective_date=APR, tolerance_pct=Decimal("10"))
        moved = proposal.moves.first().account
        account_assign(account=moved, territory=tree.west, effective_date=JAN.replace(month=2))
        before = AccountAssignment.objects.count()
        with pytest.raises(ValidationError, match="no longer where it found them"):
            proposal_accept(proposal=proposal)
        assert AccountAssignment.objects.count() == before


def test_a_decided_proposal_cannot_be_decided_again(tenant_a, tree, lopsided):
    with tenant_context(tenant_a):
        proposal = proposal_create(effective_date=APR, tolerance_pct=Decimal("10"))
        proposal_reject(proposal=proposal)
        with pytest.raises(ValidationError, match="rejected already"):
            proposal_accept(proposal=proposal)
        assert territory_of_account_on(account=lopsided[0], on=APR) == tree.north


def test_only_leaf_territories_under_the_scope_are_balanced(tenant_a, tree, lopsided):
    with tenant_context(tenant_a):
        east = territory_create(name="East", level="region")
        territory_create(name="East One", parent=east)
        with pytest.raises(ValidationError, match="at least two territories"):
            proposal_create(effective_date=APR, tolerance_pct=Decimal("10"), scope=east)
        proposal = proposal_create(effective_date=APR, tolerance_pct=Decimal("10"),
                                   scope=tree.west)
        assert {t["name"] for t in proposal.figures["territories"]} == {
            "West North", "West South"
        }


@pytest.mark.parametrize("bad", [Decimal("0"), Decimal("-5"), Decimal("150")])
def test_a_tolerance_outside_0_to_100_percent_is_refused_on_its_field(
    tenant_a, tree, lopsided, bad
):
    with tenant_context(tenant_a), pytest.raises(ValidationError) as excinfo:
        proposal_create(effective_date=APR, tolerance_pct=bad)
    assert "tolerance_pct" in excinfo.value.message_dict


def test_a_book_with_no_assigned_accounts_asks_for_the_rules_first(tenant_a, tree):
    with tenant_context(tenant_a), pytest.raises(ValidationError, match="assignment rules"):
        proposal_create(effective_date=APR, tolerance_pct=Decimal("10"))
