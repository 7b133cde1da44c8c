"""factory_boy factories. Tenant-owned factories need an active tenant (tenant_context)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model

from spm.org.models import Person
from spm.tenancy.models import Membership, Role, Tenant

PASSWORD = "correct horse battery staple"


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"tenant-{n}")
    name = factory.LazyAttribute(lambda o: o.slug.replace("-", " ").title())
    currency = "USD"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password(PASSWORD)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    tenant = factory.SubFactory(TenantFactory)
    role = Role.REP


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    employee_id = factory.Sequence(lambda n: f"E{n:05d}")
    name = factory.Faker("name")
    email = factory.LazyAttribute(lambda o: f"{o.employee_id.lower()}@example.com")
    hire_date = datetime.date(2024, 1, 1)


# -- sales data: teams and CRM facts (need an active tenant, like PersonFactory) ---------------


class TeamFactory(factory.django.DjangoModelFactory):
    """Built through team_create so the materialised path is right."""

    class Meta:
        model = "org.Team"

    name = factory.Sequence(lambda n: f"Team {n}")
    parent = None
    manager = None

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from spm.org.services import team_create

        pk = kwargs.pop("pk", None)
        if pk is None:
            return team_create(**kwargs)
        # Isolation tests pick ids another tenant cannot have; team_create cannot take one, so
        # the row is saved by hand with the path team_create would have given it.
        team = model_class(pk=pk, **kwargs)
        team.save()
        parent = kwargs.get("parent")
        team.path = f"{parent.path if parent else '/'}{team.pk}/"
        team.save(update_fields=["path"])
        return team


class StageFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Stage"
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Stage {n}")
    order = factory.Sequence(lambda n: n)
    default_probability = Decimal("20.00")
    forecast_category = "pipeline"


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Account"

    external_id = factory.Sequence(lambda n: f"ACC-{n:06d}")
    name = factory.Faker("company")
    segment = "mid_market"
    country = "US"
    region = "CA"


class DealFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Deal"

    external_id = factory.Sequence(lambda n: f"DEAL-{n:06d}")
    account = factory.SubFactory(AccountFactory)
    owner = factory.SubFactory(PersonFactory)
    stage = factory.SubFactory(StageFactory)
    amount = Decimal("10000.00")
    currency = "USD"
    forecast_category = factory.LazyAttribute(lambda o: o.stage.forecast_category)
    status = factory.LazyAttribute(lambda o: o.stage.deal_status)
    created_date = datetime.date(2025, 1, 6)
    close_date = datetime.date(2025, 3, 28)


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Lead"

    external_id = factory.Sequence(lambda n: f"LEAD-{n:06d}")
    source = "inbound"
    owner = factory.SubFactory(PersonFactory)
    created_at = datetime.datetime(2025, 1, 6, 9, 0, tzinfo=datetime.UTC)


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crm.Activity"

    external_id = factory.Sequence(lambda n: f"ACT-{n:06d}")
    kind = "call"
    person = factory.SubFactory(PersonFactory)
    at = datetime.datetime(2025, 1, 7, 10, 0, tzinfo=datetime.UTC)


# -- territories (need an active tenant) -------------------------------------------------------


class TerritoryFactory(factory.django.DjangoModelFactory):
    """Built through territory_create so the materialised path is right."""

    class Meta:
        model = "territories.Territory"

    name = factory.Sequence(lambda n: f"Territory {n}")
    parent = None
    level = "territory"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        from territories.services import territory_create

        pk = kwargs.pop("pk", None)
        if pk is None:
            return territory_create(**kwargs)
        territory = model_class(pk=pk, **kwargs)
        territory.save()
        parent = kwargs.get("parent")
        territory.path = f"{parent.path if parent else '/'}{territory.pk}/"
        territory.save(update_fields=["path"])
        return territory


class TerritoryOwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "territories.TerritoryOwner"

    territory = factory.SubFactory(TerritoryFactory)
    person = factory.SubFactory(PersonFactory)
    role = "primary"
    valid_from = datetime.date(2025, 1, 1)
    valid_to = None


class AssignmentRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "territories.AssignmentRule"

    name = factory.Sequence(lambda n: f"Rule {n}")
    priority = factory.Sequence(lambda n: (n + 1) * 10)
    territory = factory.SubFactory(TerritoryFactory)
    countries = "US"


class AccountAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "territories.AccountAssignment"

    account = factory.SubFactory(AccountFactory)
    territory = factory.SubFactory(TerritoryFactory)
    valid_from = datetime.date(2025, 1, 1)
    valid_to = None


# -- planning and quotas (need an active tenant) -------------------------------------------------


class RampScheduleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "planning.RampSchedule"

    name = factory.Sequence(lambda n: f"Ramp {n}")
    percent_by_month = "0, 25, 50, 75, 100"


class SalesPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "planning.SalesPlan"

    # One plan a year per tenant: a sequence keeps generated plans apart.
    fiscal_year = factory.Sequence(lambda n: 2100 + n % 100)
    name = factory.LazyAttribute(lambda o: f"FY{o.fiscal_year} plan")
    bookings_target = Decimal("10000000.00")
    full_quota = Decimal("800000.00")
    expected_attainment_percent = Decimal("85.00")


class QuotaPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "quotas.QuotaPlan"

    fiscal_year = factory.Sequence(lambda n: 2100 + n % 100)
    name = factory.LazyAttribute(lambda o: f"FY{o.fiscal_year} quotas")
    target = Decimal("1000000.00")


def _month_of(fiscal_year: int, number: int):
    """Month `number` of a January fiscal year, made on first use (for rows that need one)."""
    from spm.org.models import Period

    start = datetime.date(fiscal_year, number, 1)
    end = datetime.date(fiscal_year + number // 12, number % 12 + 1, 1)
    period, _ = Period.objects.get_or_create(
        kind="month", fiscal_year=fiscal_year, number=number,
        defaults={"start_date": start, "end_date": end, "label": f"FY{fiscal_year} M{number:02d}"},
    )
    return period


class QuotaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "quotas.Quota"

    class Params:
        month = factory.Sequence(lambda n: n % 12 + 1)

    plan = factory.SubFactory(QuotaPlanFactory)
    person = factory.SubFactory(PersonFactory)
    period = factory.LazyAttribute(lambda o: _month_of(o.plan.fiscal_year, o.month))
    amount = Decimal("10000.00")
    valid_from = factory.LazyAttribute(lambda o: o.period.start_date)


# -- compensation (need an active tenant) ------------------------------------------------------


class CompPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "compensation.CompPlan"

    code = factory.Sequence(lambda n: f"PLAN-{n}")
    name = factory.LazyAttribute(lambda o: f"{o.code} plan")


class ComponentFactory(factory.django.DjangoModelFactory):
    """A per-deal spiff: valid on its own, with no tiers to add."""

    class Meta:
        model = "compensation.Component"

    code = factory.Sequence(lambda n: f"spiff-{n}")
    name = "Spiff"
    kind = "spiff"
    spiff_per_deal = Decimal("100.00")


class ComponentTierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "compensation.ComponentTier"

    component = factory.SubFactory(ComponentFactory, kind="rate_table", spiff_per_deal=None)
    lower = Decimal("0")
    upper = None
    rate = Decimal("0.05")


class PlanVersionFactory(factory.django.DjangoModelFactory):
    """A draft version (publish through plan_version_publish)."""

    class Meta:
        model = "compensation.PlanVersion"

    plan = factory.SubFactory(CompPlanFactory)
    number = factory.Sequence(lambda n: n + 1)
    valid_from = datetime.date(2026, 1, 1)


class PlanAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "compensation.PlanAssignment"

    person = factory.SubFactory(PersonFactory)
    plan = factory.SubFactory(CompPlanFactory)
    valid_from = datetime.date(2026, 1, 1)
    target_incentive = Decimal("60000.00")


class DealSplitSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "compensation.DealSplitSet"

    deal = factory.SubFactory(DealFactory)


class DealSplitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "compensation.DealSplit"

    split_set = factory.SubFactory(DealSplitSetFactory)
    person = factory.SubFactory(PersonFactory)
    percent = Decimal("100.00")


class CreditRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        # The class, not its label, so the generated admin tests build rules through this
        # factory: a rule crediting a person needs one.
        from compensation.models import CreditRule as model

    name = factory.Sequence(lambda n: f"Overlay {n}")
    target = "person"
    person = factory.SubFactory(PersonFactory)
    product_line = "Security"
    valid_from = datetime.date(2025, 1, 1)


class ExchangeRateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "compensation.ExchangeRate"

    currency = "EUR"
    valid_from = factory.Sequence(lambda n: datetime.date(2020, 1, 1) + datetime.timedelta(n))
    rate = Decimal("1.10000000")


class DealCancellationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "compensation.DealCancellation"

    deal = factory.SubFactory(DealFactory)
    cancel_date = datetime.date(2025, 4, 15)


class MboScoreFactory(factory.django.DjangoModelFactory):
    """A monthly MBO component's score for March 2026 (a January fiscal year)."""

    class Meta:
        model = "compensation.MboScore"

    payee = factory.SubFactory(PersonFactory)
    component = factory.SubFactory(
        ComponentFactory, code=factory.Sequence(lambda n: f"mbo-{n}"), name="Objectives",
        kind="mbo", spiff_per_deal=None, mbo_weight=Decimal("0.1"), mbo_max_score=Decimal("1"))
    period = factory.LazyFunction(lambda: _month_of(2026, 3))
    score_pct = Decimal("85.00")
