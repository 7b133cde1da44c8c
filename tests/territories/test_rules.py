"""Assignment rules: validation that names the problem, a preview of what would move, and an
atomic, audited apply that writes effective-dated assignments exactly as previewed."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from spm.tenancy.context import tenant_context
from territories.models import AccountAssignment, AssignmentRule, ChangeKind
from territories.selectors import territory_of_account_on
from territories.services import account_assign, rules_apply, rules_preview
from tests.factories import AccountFactory, AssignmentRuleFactory, UserFactory

from .conftest import APR, JAN

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(tenant_a, tree):
    """Three Californian accounts (one already in South), one New Yorker, one German."""
    with tenant_context(tenant_a):
        accounts = {
            "sf": AccountFactory(name="SF Co", country="US", region="CA", postal_code="94105"),
            "la": AccountFactory(name="LA Co", country="US", region="CA", postal_code="90001"),
            "sj": AccountFactory(name="SJ Co", country="US", region="CA", postal_code="95110"),
            "ny": AccountFactory(name="NY Co", country="US", region="NY", postal_code="10001"),
            "de": AccountFactory(name="Berlin GmbH", country="DE", region="BE", postal_code=""),
        }
        account_assign(account=accounts["sj"], territory=tree.south, effective_date=JAN)
        AssignmentRuleFactory(
            name="Bay Area", priority=10, territory=tree.north, countries="US",
            postal_prefixes="94, 95",
        )
        AssignmentRuleFactory(
            name="Rest of US", priority=20, territory=tree.south, countries="US", regions=""
        )
    return accounts


@pytest.mark.smoke
def test_the_preview_lists_what_would_move_without_changing_anything(tenant_a, tree, book):
    with tenant_context(tenant_a):
        before = AccountAssignment.objects.count()
        preview = rules_preview(effective_date=APR)
        assert AccountAssignment.objects.count() == before
    assert preview.account_count == 5
    assert preview.move_count == 4  # SJ moves South -> North; SF, LA, NY are newly assigned
    assert preview.newly_assigned_count == 3
    assert preview.unmatched_count == 1  # Berlin: no rule, keeps what it has (nothing)
    assert preview.unchanged_count == 0
    assert {(t["from"], t["to"], t["count"]) for t in preview.transitions} == {
        ("Unassigned", "West North", 1),
        ("Unassigned", "West South", 2),
        ("West South", "West North", 1),
    }


def test_applying_writes_effective_dated_rows_and_records_who_and_when(tenant_a, tree, book):
    user = UserFactory()
    with tenant_context(tenant_a):
        preview = rules_preview(effective_date=APR)
        change = rules_apply(effective_date=APR, actor=user, expected_digest=preview.digest)
        assert change.kind == ChangeKind.RULES
        assert change.created_by == user
        assert change.moved_count == 4
        assert territory_of_account_on(account=book["sj"], on=JAN) == tree.south
        assert territory_of_account_on(account=book["sj"], on=APR) == tree.north
        assert territory_of_account_on(account=book["la"], on=APR) == tree.south
        assert territory_of_account_on(account=book["de"], on=APR) is None
        # Applied again, the rules find everything in place.
        assert rules_preview(effective_date=APR).move_count == 0


def test_apply_refuses_when_something_changed_since_the_preview(tenant_a, tree, book):
    with tenant_context(tenant_a):
        preview = rules_preview(effective_date=APR)
        AccountFactory(name="Newcomer", country="US", region="TX")
        with pytest.raises(ValidationError, match="changed since the preview"):
            rules_apply(effective_date=APR, expected_digest=preview.digest)
        assert AccountAssignment.objects.count() == 1


def test_apply_with_nothing_to_move_says_so(tenant_a, tree, book):
    with tenant_context(tenant_a):
        rules_apply(effective_date=APR)
        with pytest.raises(ValidationError, match="nothing to apply"):
            rules_apply(effective_date=APR)


def test_a_failure_half_way_leaves_no_assignment_behind(tenant_a, tree, book):
    with tenant_context(tenant_a):
        # A later change on one account makes the whole application refuse.
        account_assign(account=book["ny"], territory=tree.north, effective_date=APR.replace(day=2))
        before = list(AccountAssignment.objects.values_list("pk", "valid_to"))
        with pytest.raises(ValidationError, match="NY Co"):
            rules_apply(effective_date=APR)
        assert list(AccountAssignment.objects.values_list("pk", "valid_to")) == before


def test_the_preview_warns_of_a_rule_matching_nothing_or_everything(tenant_a, tree, book):
    with tenant_context(tenant_a):
        AssignmentRuleFactory(name="France", priority=5, territory=tree.north, countries="FR")
        AssignmentRuleFactory(
            name="Everyone", priority=1, territory=tree.south, countries="", min_employees=None,
            segments="mid_market",
        )
        preview = rules_preview(effective_date=APR)
    warnings = "\n".join(preview.warnings)
    assert "Everyone: matches every account" in warnings
    assert "France: matches no account" in warnings
    assert "Bay Area: every account it matches is taken by an earlier rule" in warnings


def test_inactive_rules_are_not_applied(tenant_a, tree, book):
    with tenant_context(tenant_a):
        AssignmentRule.objects.update(is_active=False)
        preview = rules_preview(effective_date=APR)
    assert preview.move_count == 0
    assert preview.unmatched_count == 5


# -- validation ----------------------------------------------------------------------------------


def rule(tree, **fields) -> AssignmentRule:
    values = {"name": "R", "priority": 1, "territory": tree.north, "tenant": tree.north.tenant,
              **fields}
    return AssignmentRule(**values)


def errors_of(tenant, instance) -> dict[str, list[str]]:
    with tenant_context(tenant), pytest.raises(ValidationError) as excinfo:
        instance.full_clean()
    return excinfo.value.message_dict


def test_a_rule_without_any_criterion_is_refused_with_a_reason(tenant_a, tree):
    errors = errors_of(tenant_a, rule(tree))
    assert "needs at least one criterion" in errors["__all__"][0]


def test_junk_postal_prefixes_are_named_on_their_field(tenant_a, tree):
    errors = errors_of(tenant_a, rule(tree, postal_prefixes="94, 9$%, <b>"))
    assert "9$%, <b>" in errors["postal_prefixes"][0]


def test_unknown_countries_segments_and_an_upside_down_size_range_are_named(tenant_a, tree):
    errors = errors_of(tenant_a, rule(
        tree, countries="USA", segments="smb, giant", min_employees=500, max_employees=10
    ))
    assert "USA" in errors["countries"][0]
    assert "giant" in errors["segments"][0]
    assert "at least the minimum" in errors["max_employees"][0]


def test_two_rules_cannot_share_a_priority(tenant_a, tree):
    with tenant_context(tenant_a):
        AssignmentRuleFactory(priority=7, territory=tree.north)
    errors = errors_of(tenant_a, rule(tree, priority=7, countries="US"))
    assert "priority" in " ".join(errors.get("__all__", []) + errors.get("priority", [])).lower()
