"""Once crediting has run, attainment counts what was credited: the quota pages and the
statements agree on splits and manager roll-ups."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from compensation.services import credits_build, deal_splits_set
from quotas.selectors import attainment_by_person
from spm.org.models import Period
from spm.tenancy.context import tenant_context
from tests.factories import QuotaFactory, QuotaPlanFactory

from .samples import won_deal
from .test_crediting import MAR_10, Org

pytestmark = pytest.mark.django_db

D = Decimal


def credited(period: Period) -> dict[str, Decimal]:
    rows = attainment_by_person(period=period, as_of=datetime.date(2026, 3, 31))
    return {row.name: row.credited for row in rows}


def test_attainment_counts_split_credits_once_crediting_has_run(tenant_a):
    with tenant_context(tenant_a):
        org = Org()
        deal = won_deal(owner=org.ann, amount=D("1000.00"), units=1, close_date=MAR_10)
        deal_splits_set(deal=deal, splits=[(org.ann, D("60")), (org.bob, D("40"))])
        march = Period.objects.get(kind="month", start_date=datetime.date(2026, 3, 1))
        plan = QuotaPlanFactory(fiscal_year=2026)
        for person in (org.ann, org.bob, org.manager):
            QuotaFactory(plan=plan, person=person, period=march,
                         valid_from=datetime.date(2025, 1, 1))
        before = credited(march)
        credits_build(period=march)
        after = credited(march)

    # Before crediting: the won deal, in full, to its owner (and rolled up to the manager).
    assert before["Ann Rep"] == D("1000.00")
    assert before.get("Bob Rep", D(0)) == D(0)
    # After: each rep's split, and the manager's roll-up credits counted once, not twice.
    assert after["Ann Rep"] == D("600.00")
    assert after["Bob Rep"] == D("400.00")
    assert after["Max Manager"] == D("1000.00")
