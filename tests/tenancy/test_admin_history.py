"""Audit trail in the tenant admin: who changed what and when, recorded and shown."""

from __future__ import annotations

import pytest
from django.test import Client

from spm.org.models import Person
from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


@pytest.mark.smoke
def test_a_change_in_the_admin_is_recorded_with_the_acting_user_and_listed(admin_a, tenant_a):
    client = Client(raise_request_exception=False)
    client.force_login(admin_a)
    with tenant_context(tenant_a):
        person = PersonFactory(name="Dana Old", email="dana@example.com")
    response = client.post(
        tenant_reverse(tenant_a, "tenant_admin:org_person_change", person.pk),
        {
            "employee_id": person.employee_id,
            "name": "Dana New",
            "email": "dana@example.com",
            "role": "manager",
            "team_memberships-TOTAL_FORMS": "0",
            "team_memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302

    with tenant_context(tenant_a):
        latest = Person.history.filter(id=person.pk).latest()
        assert latest.history_type == "~"
        assert latest.history_user_id == admin_a.pk
        assert latest.name == "Dana New"
        assert latest.prev_record.name == "Dana Old"

    page = client.get(tenant_reverse(tenant_a, "tenant_admin:org_person_history", person.pk))
    assert page.status_code == 200
    content = page.content.decode()
    assert "admin_a" in content
    assert "Dana Old" in content
    assert "Dana New" in content


def test_the_history_page_shows_no_other_tenants_changes(admin_a, tenant_a, tenant_b):
    client = Client(raise_request_exception=False)
    client.force_login(admin_a)
    with tenant_context(tenant_a):
        own = PersonFactory(name="Acme Person")
    with tenant_context(tenant_b):
        foreign = PersonFactory(name="Globex Person")
        foreign.name = "Globex Renamed"
        foreign.save()
    page = client.get(tenant_reverse(tenant_a, "tenant_admin:org_person_history", own.pk))
    assert page.status_code == 200
    assert "Globex" not in page.content.decode()
    assert client.get(
        tenant_reverse(tenant_a, "tenant_admin:org_person_history", foreign.pk)
    ).status_code == 404
