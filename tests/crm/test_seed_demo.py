"""`manage.py seed_demo`: a usable demo tenant, rebuilt identically, other tenants untouched."""

from __future__ import annotations

import datetime
import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Max, Min

from spm.crm.models import Account, Activity, Deal, DealStageHistory, Lead, Stage
from spm.org.models import Period, Person
from spm.org.selectors import period_of_date, subtree_person_ids
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Membership, Tenant
from tests.factories import DealFactory, StageFactory

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

AS_OF = datetime.date(2026, 5, 20)


def seed(slug: str = "acme", **options) -> str:
    out = io.StringIO()
    arguments = {"tenant": slug, "reps": 9, "years": 1, "deals": 300, "seed": 5,
                 "as_of": AS_OF, "stdout": out} | options
    call_command("seed_demo", **arguments)
    return out.getvalue()


def snapshot(tenant: Tenant) -> set[tuple]:
    with tenant_context(tenant):
        return set(
            Deal.objects.values_list(
                "external_id", "amount", "close_date", "status", "owner__employee_id",
                "stage__name", "account__external_id",
            )
        )


def test_it_creates_acme_with_a_login_per_role_and_prints_them():
    output = seed()
    tenant = Tenant.objects.get(slug="acme")
    assert (tenant.name, tenant.currency) == ("Acme Corp", "USD")
    roles = dict(
        Membership.objects.filter(tenant=tenant).values_list("user__username", "role")
    )
    assert roles == {"acme-admin": "admin", "acme-finance": "finance",
                     "acme-manager": "manager", "acme-rep": "rep"}
    assert "acme-rep" in output
    assert "spm-demo-password" in output
    assert get_user_model().objects.get(username="acme-rep").check_password("spm-demo-password")


def test_the_rep_and_manager_logins_are_people_and_the_manager_sees_the_rep():
    seed()
    tenant = Tenant.objects.get(slug="acme")
    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="acme")}
    with tenant_context(tenant):
        rep = Person.objects.get(user=users["acme-rep"])
        manager = Person.objects.get(user=users["acme-manager"])
        assert rep.name == users["acme-rep"].get_full_name()
        assert rep.pk in subtree_person_ids(manager=manager, on=AS_OF)
        assert Deal.objects.filter(owner=rep).exists()


def test_it_writes_every_kind_of_fact_consistently():
    seed()
    tenant = Tenant.objects.get(slug="acme")
    with tenant_context(tenant):
        assert Deal.objects.count() == 300
        assert Stage.objects.count() == 7
        assert Account.objects.exists()
        assert Lead.objects.filter(converted_deal__isnull=False).exists()
        assert Activity.objects.filter(deal__isnull=False).exists()
        assert Person.objects.exclude(termination_date=None).count() == 1
        for deal in Deal.objects.select_related("stage").prefetch_related("stage_history"):
            steps = sorted(deal.stage_history.all(), key=lambda h: h.changed_at)
            assert steps[0].from_stage_id is None
            assert steps[-1].to_stage_id == deal.stage_id
            assert deal.status == deal.stage.deal_status
            assert deal.amount > 0
        assert DealStageHistory.objects.count() > 300
        span = Deal.objects.aggregate(first=Min("close_date"), last=Max("close_date"))
        for day in (span["first"], span["last"], AS_OF):
            assert period_of_date(day=day, kind="month") is not None
        assert Period.objects.filter(kind="year").count() >= 2


def test_running_it_again_rebuilds_the_same_data_without_duplicates(tenant_b):
    with tenant_context(tenant_b):
        DealFactory(stage=StageFactory(name="Globex stage"), external_id="OPP-0000001")
    seed()
    tenant = Tenant.objects.get(slug="acme")
    first = snapshot(tenant)
    with tenant_context(tenant):
        counts = [m.objects.count() for m in (Deal, DealStageHistory, Lead, Activity, Person)]
    seed()
    assert snapshot(tenant) == first
    with tenant_context(tenant):
        assert [m.objects.count() for m in (Deal, DealStageHistory, Lead, Activity, Person)] == (
            counts
        )
    assert Membership.objects.filter(tenant=tenant).count() == 4
    with tenant_context(tenant_b):
        assert list(Deal.objects.values_list("external_id", flat=True)) == ["OPP-0000001"]


def test_another_seed_gives_other_deals():
    seed()
    tenant = Tenant.objects.get(slug="acme")
    first = snapshot(tenant)
    seed(seed=6)
    assert snapshot(tenant) != first


def test_nonsense_arguments_are_refused_with_a_message():
    with pytest.raises(CommandError, match="at least 1"):
        seed(years=0)
    with pytest.raises(CommandError, match="1 to 12"):
        seed(fiscal_year_start_month=13)
    assert not Tenant.objects.filter(slug="acme").exists()


def test_seed_demo_can_stop_after_the_sales_data(db):
    from territories.models import Territory

    call_command("seed_demo", tenant="until", reps=3, deals=40, seed=3,
                 until="build_activities", stdout=io.StringIO())
    with tenant_context(Tenant.objects.get(slug="until")):
        assert Deal.objects.count() == 40
        assert not Territory.objects.exists()
    with pytest.raises(CommandError, match="--until must be one of"):
        call_command("seed_demo", tenant="until", until="no_such_step", stdout=io.StringIO())
