"""The platform admin is for superusers only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

pytestmark = pytest.mark.django_db


def test_staff_with_permissions_cannot_open_the_platform_admin(django_user_model, tenant_a):
    staff = django_user_model.objects.create_user("staff", "s@example.com", "pw-123456789")
    staff.is_staff = True
    staff.save()
    staff.user_permissions.set(Permission.objects.filter(codename__endswith="tenant"))
    client = Client()
    client.force_login(staff)
    response = client.get("/admin/tenancy/tenant/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_superuser_sees_every_tenant(django_user_model, tenant_a, tenant_b):
    root = django_user_model.objects.create_superuser("root", "r@example.com", "pw-123456789")
    client = Client()
    client.force_login(root)
    response = client.get("/admin/tenancy/tenant/")
    assert response.status_code == 200
    assert b"Acme Corp" in response.content
    assert b"Globex Inc" in response.content
