"""Bulk upsert of people by employee id, audited like any edit of a person."""

from __future__ import annotations

import datetime

import pytest

from spm.org.bulk import RowsInvalid
from spm.org.models import Person
from spm.org.services import people_upsert
from spm.tenancy.context import tenant_context

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

ROWS = [
    {"employee_id": "E1", "name": "Ana Ruiz", "email": "ana@example.com", "role": "SDR / BDR",
     "hire_date": "2025-04-01"},
    {"employee_id": "E2", "name": "Ben Ode", "email": "ben@example.com", "title": "AE"},
]


def test_people_are_created_then_updated_by_employee_id_with_history(tenant_a, admin_a):
    with tenant_context(tenant_a):
        first = people_upsert(rows=ROWS, actor=admin_a)
        assert (first.created, first.updated) == (2, 0)
        ana = Person.objects.get(employee_id="E1")
        assert (ana.role, ana.hire_date) == ("sdr", datetime.date(2025, 4, 1))
        again = people_upsert(rows=[*ROWS, {"employee_id": "E1", "title": "Senior SDR"}][1:],
                              actor=admin_a)
        assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
        ana.refresh_from_db()
        assert (ana.title, ana.name) == ("Senior SDR", "Ana Ruiz")
        titles = [h.title for h in ana.history.order_by("history_id")]
        assert titles == ["", "Senior SDR"]
        assert ana.history.latest("history_id").history_user == admin_a


def test_a_termination_before_hire_and_a_bad_email_are_reported_by_row(tenant_a):
    rows = [
        {"employee_id": "E1", "name": "A", "email": "not-an-address"},
        {"employee_id": "E2", "name": "B", "email": "b@example.com", "hire_date": "2025-05-01",
         "termination_date": "2025-04-30"},
    ]
    with tenant_context(tenant_a):
        with pytest.raises(RowsInvalid) as caught:
            people_upsert(rows=rows)
        assert {(e.index, e.field) for e in caught.value.row_errors} == {
            (0, "email"), (1, "termination_date")
        }
        assert Person.objects.count() == 0
