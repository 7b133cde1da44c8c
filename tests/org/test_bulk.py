"""Set-based bulk writes: rows land in the active tenant with every value as given."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction

from spm.crm.models import Account
from spm.org.bulk import insert_columns
from spm.tenancy.context import tenant_context

pytestmark = [pytest.mark.django_db]


def test_inserted_rows_belong_to_the_active_tenant_and_keep_their_values(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        ids = insert_columns(Account, {
            "external_id": ["A-1", "A-2"],
            "name": ['Acme "East", {HQ}', "NULL"],
            "annual_revenue": [Decimal("987654321098.76"), None],
            "employees": [None, 12],
        }, key="external_id", batch_size=1)
        stored = {a.external_id: a for a in Account.objects.all()}
        assert ids == {key: account.pk for key, account in stored.items()}
        assert (stored["A-1"].name, stored["A-1"].annual_revenue) == (
            'Acme "East", {HQ}', Decimal("987654321098.76")
        )
        assert (stored["A-2"].name, stored["A-2"].employees, stored["A-2"].segment) == (
            "NULL", 12, "smb"
        )
    with tenant_context(tenant_b):
        assert not Account.objects.exists()


def test_a_row_claiming_another_tenant_is_refused(tenant_a, tenant_b):
    with tenant_context(tenant_a):
        with pytest.raises((DatabaseError, ValidationError)), transaction.atomic():
            insert_columns(Account, {
                "external_id": ["A-1"], "name": ["Intruder"], "tenant_id": [tenant_b.pk],
            })
    with tenant_context(tenant_b):
        assert not Account.objects.exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite does not enforce varchar lengths"
)
def test_a_text_longer_than_its_column_is_refused_not_cut(tenant_a):
    with tenant_context(tenant_a):
        with pytest.raises(DatabaseError, match="too long"), transaction.atomic():
            insert_columns(Account, {"external_id": ["A-1"], "name": ["x" * 256]})
        assert not Account.objects.exists()
