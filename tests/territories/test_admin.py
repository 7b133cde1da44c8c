"""Territories, owners and rules edited in the tenant admin: paths stay right, and bad input is
named on the field it was entered in."""

from __future__ import annotations

import pytest
from django.test import Client

from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse
from territories.models import AssignmentRule, Territory, TerritoryOwner
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db

INLINE = "owners"


@pytest.fixture
def client_a(admin_a) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(admin_a)
    return client


def territory_form(**values) -> dict[str, str]:
    return {
        "name": "", "level": "territory", "parent": "",
        f"{INLINE}-TOTAL_FORMS": "0", f"{INLINE}-INITIAL_FORMS": "0", **values,
    }


@pytest.mark.smoke
def test_adding_a_territory_in_the_admin_gives_it_its_path_and_history(
    client_a, tenant_a, tree
):
    url = tenant_reverse(tenant_a, "tenant_admin:territories_territory_add")
    response = client_a.post(url, territory_form(name="Bay Area", parent=str(tree.north.pk)))
    assert response.status_code == 302
    with tenant_context(tenant_a):
        bay = Territory.objects.get(name="Bay Area")
        assert bay.path == f"{tree.north.path}{bay.pk}/"
        assert bay.history.latest().history_user is not None


def test_moving_a_territory_under_its_own_child_is_refused_on_the_parent_field(
    client_a, tenant_a, tree
):
    url = tenant_reverse(tenant_a, "tenant_admin:territories_territory_change", tree.west.pk)
    response = client_a.post(url, territory_form(
        name="West", level="region", parent=str(tree.north.pk)
    ))
    assert response.status_code == 200
    assert "own subtree" in str(response.context["adminform"].form.errors["parent"])


def test_overlapping_owner_dates_are_named_in_the_admin(client_a, tenant_a, tree):
    with tenant_context(tenant_a):
        ann, bob = PersonFactory(name="Ann"), PersonFactory(name="Bob")
        TerritoryOwner.objects.create(territory=tree.north, person=ann, valid_from="2025-01-01")
    url = tenant_reverse(tenant_a, "tenant_admin:territories_territoryowner_add")
    response = client_a.post(url, {
        "territory": tree.north.pk, "person": bob.pk, "role": "primary",
        "valid_from": "2025-03-01", "valid_to": "",
    })
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "Ann already holds the owner role" in str(errors["valid_from"])
    with tenant_context(tenant_a):
        assert TerritoryOwner.objects.count() == 1


def rule_form(tree, **values) -> dict[str, str]:
    return {
        "name": "Bay Area", "priority": "10", "territory": str(tree.north.pk),
        "countries": "", "regions": "", "postal_prefixes": "", "industries": "",
        "segments": "", "min_employees": "", "max_employees": "", "is_active": "on",
        **values,
    }


def test_a_rule_without_criteria_is_refused_in_the_admin(client_a, tenant_a, tree):
    url = tenant_reverse(tenant_a, "tenant_admin:territories_assignmentrule_add")
    response = client_a.post(url, rule_form(tree))
    assert response.status_code == 200
    assert "needs at least one criterion" in str(response.context["adminform"].form.errors)


def test_postal_prefix_junk_is_refused_in_the_admin(client_a, tenant_a, tree):
    url = tenant_reverse(tenant_a, "tenant_admin:territories_assignmentrule_add")
    response = client_a.post(url, rule_form(tree, postal_prefixes="94, 1=1"))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "1=1" in str(errors["postal_prefixes"])


def test_a_valid_rule_is_saved_with_its_audit_trail(client_a, tenant_a, tree):
    url = tenant_reverse(tenant_a, "tenant_admin:territories_assignmentrule_add")
    response = client_a.post(url, rule_form(tree, countries="US", postal_prefixes="94, 95"))
    assert response.status_code == 302
    with tenant_context(tenant_a):
        rule = AssignmentRule.objects.get()
        assert rule.criteria().postal_prefixes == ("94", "95")
        assert rule.history.count() == 1
