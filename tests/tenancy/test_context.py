"""The application wall: scoped managers fail closed and writes stay in their tenant."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from spm.org.models import Person
from spm.tenancy.context import TenantNotActiveError, tenant_context
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_the_default_manager_raises_with_no_active_tenant():
    with pytest.raises(TenantNotActiveError):
        list(Person.objects.all())


def test_saving_with_no_active_tenant_raises(tenant_a):
    with pytest.raises(TenantNotActiveError):
        Person(employee_id="E1", name="Nobody", email="n@example.com").save()


def test_the_default_manager_returns_only_the_active_tenant(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        PersonFactory(name="Alice")
    with tenant_context(tenant_b):
        PersonFactory(name="Bob")
        assert list(Person.objects.values_list("name", flat=True)) == ["Bob"]
    with tenant_context(tenant_a):
        assert list(Person.objects.values_list("name", flat=True)) == ["Alice"]


def test_the_tenant_is_set_on_create(tenant_a):
    with tenant_context(tenant_a):
        person = Person.objects.create(employee_id="E9", name="Carol", email="c@example.com")
        created = Person.objects.bulk_create(
            [Person(employee_id="E10", name="Dan", email="d@example.com")]
        )
    assert person.tenant_id == tenant_a.pk
    assert created[0].tenant_id == tenant_a.pk


def test_a_row_of_another_tenant_cannot_be_saved_or_deleted(tenant_a, tenant_b):
    with tenant_context(tenant_b):
        bob = PersonFactory(name="Bob")
    with tenant_context(tenant_a):
        bob.name = "Hijacked"
        with pytest.raises(ValidationError):
            bob.save()
        with pytest.raises(ValidationError):
            bob.delete()


def test_linking_to_another_tenants_row_is_refused(tenant_a, tenant_b):
    from spm.org.models import Team

    with tenant_context(tenant_b):
        bob = PersonFactory(name="Bob")
    with tenant_context(tenant_a), pytest.raises(ValidationError, match="another tenant"):
        Team(name="Sales", manager=bob).save()


def test_the_unscoped_manager_is_the_explicit_door(tenant_a, tenant_b, django_db_blocker):
    from django.db import connection

    with tenant_context(tenant_a):
        PersonFactory()
    with tenant_context(tenant_b):
        PersonFactory()
    expected = 0 if connection.vendor == "postgresql" else 2  # RLS still binds platform code
    assert Person.unscoped.count() == expected


def test_nested_contexts_restore_the_outer_tenant(tenant_a, tenant_b):
    from spm.tenancy.context import get_active_tenant

    with tenant_context(tenant_a):
        PersonFactory(name="Alice")
        with tenant_context(tenant_b):
            assert get_active_tenant() == tenant_b
            assert Person.objects.count() == 0
        assert get_active_tenant() == tenant_a
        assert list(Person.objects.values_list("name", flat=True)) == ["Alice"]
    assert get_active_tenant() is None
