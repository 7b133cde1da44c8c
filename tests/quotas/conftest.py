"""A sales org with a year of bookings behind it and a draft FY2025 quota plan."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from quotas.models import QuotaPlan
from quotas.services import quota_plan_create
from spm.crm.models import Stage
from spm.org.models import Person
from spm.org.services import periods_generate, person_assign_team
from spm.tenancy.context import tenant_context
from tests.factories import AccountFactory, DealFactory, PersonFactory, StageFactory
from tests.org.test_views import SalesOrg, build_sales_org


@dataclass
class World:
    """Sales (VP) > West (manager: rep, colleague, newbie from April) and East (east rep).

    FY2024 bookings: rep 300k, colleague 100k, east rep 200k. The plan targets 1,000,000 with
    110% over-assignment, split by historical share.
    """

    org: SalesOrg
    newbie: Person
    won: Stage
    plan: QuotaPlan

    @property
    def tenant(self) -> Any:
        return self.org.tenant

    def deal(self, owner: Person, amount: str, close: datetime.date, *, won: bool = True):
        stage = self.won if won else StageFactory(name="Open", order=1)
        return DealFactory(owner=owner, amount=Decimal(amount), close_date=close, stage=stage,
                           account=AccountFactory())


@pytest.fixture
def world(tenant_a, make_member, admin_a) -> World:
    org = build_sales_org(tenant_a, make_member)
    with tenant_context(tenant_a):
        # Admin and finance logins have a person each; they sell nothing and carry no quota.
        Person.objects.filter(user__memberships__role__in=["admin", "finance"]).update(
            role="other")
        periods_generate(fiscal_years=[2024, 2025])
        won = StageFactory(name="Closed won", order=9, is_won=True,
                           default_probability=Decimal(100), forecast_category="closed")
        newbie = PersonFactory(name="Nia Newhire", hire_date=datetime.date(2025, 4, 1))
        person_assign_team(person=newbie, team=org.west, valid_from=datetime.date(2025, 4, 1))
        for owner, amount in ((org.rep, "300000"), (org.colleague, "100000"),
                              (org.east_rep, "200000")):
            DealFactory(owner=owner, amount=Decimal(amount), stage=won,
                        close_date=datetime.date(2024, 6, 15))
        plan = quota_plan_create(fiscal_year=2025, name="FY2025 quotas",
                                 target=Decimal("1000000.00"),
                                 over_assignment_percent=Decimal("110"))
    return World(org=org, newbie=newbie, won=won, plan=plan)
