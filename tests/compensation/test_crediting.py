"""credits_build: won deals into owner, split, overlay, sourcing and manager credits, reversals
of cancelled deals, currencies, and the engine frames read back from the credits."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from compensation.models import Credit, CreditBuild, CreditKind, DealSplit, DealSplitSet
from compensation.selectors import cancellations_frame, credits_frame
from compensation.services import (
    assignment_create,
    credits_build,
    deal_splits_set,
    plan_create,
)
from spm.org.models import Period
from spm.org.services import periods_generate, person_assign_team
from spm.tenancy.context import tenant_context
from tests.factories import (
    AccountAssignmentFactory,
    AccountFactory,
    CreditRuleFactory,
    DealCancellationFactory,
    ExchangeRateFactory,
    LeadFactory,
    PersonFactory,
    TeamFactory,
    TerritoryFactory,
    TerritoryOwnerFactory,
)

from .samples import won_deal

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]
D = Decimal
MAR_10 = datetime.date(2026, 3, 10)


class Org:
    """A VP over an East team manager over two reps, in teams since 2025."""

    def __init__(self) -> None:
        periods_generate(fiscal_years=[2026])
        self.vp = PersonFactory(name="Vera VP", role="manager")
        self.manager = PersonFactory(name="Max Manager", role="manager")
        self.ann = PersonFactory(name="Ann Rep")
        self.bob = PersonFactory(name="Bob Rep")
        self.sales = TeamFactory(name="Sales", manager=self.vp)
        self.east = TeamFactory(name="East", parent=self.sales, manager=self.manager)
        start = datetime.date(2025, 1, 1)
        person_assign_team(person=self.manager, team=self.east, valid_from=start)
        for rep in (self.ann, self.bob):
            person_assign_team(person=rep, team=self.east, valid_from=start)

    @staticmethod
    def month(day: datetime.date) -> Period:
        return Period.objects.get(kind="month", start_date=day.replace(day=1))


@pytest.fixture
def org(tenant_a):
    with tenant_context(tenant_a):
        return Org()


def credits_by(build: CreditBuild) -> dict[tuple[str, str], Credit]:
    return {(c.payee.name, c.role): c
            for c in Credit.objects.filter(build=build).select_related("payee")}


def test_a_won_deal_is_credited_to_its_owner_and_rolls_up_the_management_chain(tenant_a, org):
    with tenant_context(tenant_a):
        deal = won_deal(owner=org.ann, amount=D("12000.00"), units=3, margin=D("4000.00"),
                        close_date=MAR_10)
        build = credits_build(period=org.month(MAR_10))
        found = credits_by(build)
        assert set(found) == {("Ann Rep", "owner"), ("Max Manager", "manager"),
                              ("Vera VP", "manager")}
        owner = found["Ann Rep", "owner"]
        assert (owner.amount, owner.units, owner.margin, owner.credit_date, owner.deal_id) == (
            D("12000.00"), 3, D("4000.00"), MAR_10, deal.pk)
        assert owner.split_percent == D("100.00")
        assert owner.rule_ref == "deal owner"
        rolled = found["Vera VP", "manager"]
        assert (rolled.amount, rolled.rolled_up_from_id) == (D("12000.00"), org.ann.pk)
        assert build.credit_count == 3
        assert build.issues == []


def test_deals_outside_the_month_or_not_won_are_not_credited(tenant_a, org):
    with tenant_context(tenant_a):
        won_deal(owner=org.ann, close_date=datetime.date(2026, 4, 1))
        open_deal = won_deal(owner=org.ann, close_date=MAR_10)
        open_deal.status = "open"
        open_deal.save()
        build = credits_build(period=org.month(MAR_10))
        assert build.credit_count == 0


def test_building_a_month_again_replaces_its_credits(tenant_a, org):
    with tenant_context(tenant_a):
        won_deal(owner=org.ann, close_date=MAR_10)
        first = credits_build(period=org.month(MAR_10))
        won_deal(owner=org.bob, close_date=MAR_10)
        second = credits_build(period=org.month(MAR_10))
        assert not Credit.objects.filter(build=first).exists()
        assert Credit.objects.filter(period=org.month(MAR_10)).count() == 6
        assert second.credit_count == 6


def test_split_credits_add_up_to_the_deal_to_the_cent_and_replace_the_owners(tenant_a, org):
    with tenant_context(tenant_a):
        carl = PersonFactory(name="Carl Rep")
        deal = won_deal(owner=org.ann, amount=D("100.00"), units=1, close_date=MAR_10)
        deal_splits_set(deal=deal, splits=[(org.ann, D("33.33")), (org.bob, D("33.33")),
                                           (carl, D("33.34"))])
        found = credits_by(credits_build(period=org.month(MAR_10)))
        splits = {name: c for (name, role), c in found.items() if role == "split"}
        assert {n: c.amount for n, c in splits.items()} == {
            "Ann Rep": D("33.33"), "Bob Rep": D("33.33"), "Carl Rep": D("33.34")}
        assert sum(c.units for c in splits.values()) == 1
        assert ("Ann Rep", "owner") not in found
        assert splits["Carl Rep"].rule_ref == "split 33.34%"
        # Carl sits in no team: only Ann's and Bob's shares roll up.
        assert found["Max Manager", "manager"].amount in (D("33.33"),)
        managers = Credit.objects.filter(role="manager", payee=org.manager)
        assert sum(c.amount for c in managers) == D("66.66")


def test_splits_that_do_not_add_up_are_reported_and_the_deal_is_not_credited(tenant_a, org):
    with tenant_context(tenant_a):
        deal = won_deal(owner=org.ann, close_date=MAR_10, external_id="DEAL-SPLIT-90")
        # Written past the checks, as a bad import might.
        split_set = DealSplitSet.objects.create(deal=deal)
        DealSplit.objects.create(split_set=split_set, person=org.ann, percent=D("90"))
        build = credits_build(period=org.month(MAR_10))
        assert build.credit_count == 0
        assert build.issues == [{
            "severity": "error", "code": "splits_not_100", "deal_id": deal.pk,
            "message": "The splits of deal DEAL-SPLIT-90 add up to 90.00%, not 100%: not "
                       "credited until they are fixed."}]


def test_an_overlay_rule_gives_a_specialist_an_extra_full_credit_by_product_line(tenant_a,
                                                                                 org):
    with tenant_context(tenant_a):
        specialist = PersonFactory(name="Sam Specialist")
        CreditRuleFactory(name="Security overlay", person=specialist, product_line="Security")
        CreditRuleFactory(name="Self overlay", person=org.ann, product_line="Security")
        won_deal(owner=org.ann, amount=D("5000.00"), product_line="Security",
                 close_date=MAR_10)
        won_deal(owner=org.ann, amount=D("7000.00"), product_line="Cloud", close_date=MAR_10)
        credits = Credit.objects.filter(build=credits_build(period=org.month(MAR_10)))
        overlay = credits.get(role="overlay")
        assert (overlay.payee, overlay.amount, overlay.rule_ref) == (
            specialist, D("5000.00"), "rule: Security overlay")
        # Ann already has the owner credit, so her own overlay rule adds nothing.
        assert credits.filter(payee=org.ann).count() == 2


def test_a_territory_rule_credits_the_territorys_overlay_owner_on_the_credit_date(tenant_a,
                                                                                  org):
    with tenant_context(tenant_a):
        west = TerritoryFactory(name="West")
        bay = TerritoryFactory(name="Bay Area", parent=west)
        valley = TerritoryFactory(name="Valley", parent=west)
        specialist = PersonFactory(name="Olga Overlay")
        TerritoryOwnerFactory(territory=bay, person=specialist, role="overlay",
                              valid_from=datetime.date(2026, 1, 1))
        account = AccountFactory()
        AccountAssignmentFactory(account=account, territory=bay,
                                 valid_from=datetime.date(2026, 1, 1))
        vacant_account = AccountFactory()
        AccountAssignmentFactory(account=vacant_account, territory=valley,
                                 valid_from=datetime.date(2026, 1, 1))
        CreditRuleFactory(name="West overlay", target="territory_owner", person=None,
                          product_line="", territory=west, owner_role="overlay")
        won_deal(owner=org.ann, account=account, amount=D("800.00"), close_date=MAR_10)
        vacant = won_deal(owner=org.ann, account=vacant_account, close_date=MAR_10)
        build = credits_build(period=org.month(MAR_10))
        overlay = Credit.objects.get(build=build, role="overlay")
        assert (overlay.payee, overlay.amount) == (specialist, D("800.00"))
        assert [(i["code"], i["deal_id"]) for i in build.issues] == [
            ("territory_without_owner", vacant.pk)]


def test_a_sourcing_rule_credits_the_sdr_whose_lead_became_the_deal(tenant_a, org):
    with tenant_context(tenant_a):
        sdr = PersonFactory(name="Sid SDR", role="sdr")
        CreditRuleFactory(name="SDR sourcing", target="lead_owner", person=None,
                          product_line="")
        deal = won_deal(owner=org.ann, amount=D("9000.00"), close_date=MAR_10)
        LeadFactory(owner=sdr, converted_deal=deal)
        won_deal(owner=org.ann, close_date=MAR_10)  # came from no lead
        sourced = Credit.objects.get(build=credits_build(period=org.month(MAR_10)),
                                     role="source")
        assert (sourced.payee, sourced.deal, sourced.amount) == (sdr, deal, D("9000.00"))


def test_the_manager_roll_up_follows_team_membership_on_each_credit_date(tenant_a, org):
    with tenant_context(tenant_a):
        west_manager = PersonFactory(name="Wes Manager", role="manager")
        west = TeamFactory(name="West", parent=org.sales, manager=west_manager)
        person_assign_team(person=org.bob, team=west, valid_from=datetime.date(2026, 3, 15))
        won_deal(owner=org.bob, amount=D("100.00"), close_date=datetime.date(2026, 3, 14))
        won_deal(owner=org.bob, amount=D("200.00"), close_date=datetime.date(2026, 3, 15))
        credits = Credit.objects.filter(build=credits_build(period=org.month(MAR_10)),
                                        role="manager")
        by_manager = {}
        for credit in credits.select_related("payee"):
            by_manager[credit.payee.name] = by_manager.get(credit.payee.name, 0) + credit.amount
        assert by_manager == {"Max Manager": D("100.00"), "Wes Manager": D("200.00"),
                              "Vera VP": D("300.00")}


def test_a_plan_may_credit_on_the_created_date_instead_of_the_close_date(tenant_a, org):
    with tenant_context(tenant_a):
        booked = plan_create(code="BOOKED", name="Booked", credit_date_field="created_date")
        assignment_create(person=org.bob, plan=booked, valid_from=datetime.date(2026, 1, 1))
        deal = won_deal(owner=org.bob, created_date=datetime.date(2026, 2, 20),
                        close_date=MAR_10)
        other = won_deal(owner=org.ann, created_date=datetime.date(2026, 2, 20),
                         close_date=MAR_10)
        february = credits_build(period=org.month(datetime.date(2026, 2, 1)))
        march = credits_build(period=org.month(MAR_10))
        assert {c.deal_id for c in Credit.objects.filter(build=february)} == {deal.pk}
        assert {c.deal_id for c in Credit.objects.filter(build=march)} == {other.pk}
        assert Credit.objects.get(build=february, role="owner").credit_date == \
            datetime.date(2026, 2, 20)


def test_a_deal_in_another_currency_is_converted_at_the_rate_of_its_credit_date(tenant_a, org):
    with tenant_context(tenant_a):
        ExchangeRateFactory(currency="EUR", valid_from=datetime.date(2026, 1, 1),
                            rate=D("1.10"))
        ExchangeRateFactory(currency="EUR", valid_from=datetime.date(2026, 3, 11),
                            rate=D("1.20"))
        won_deal(owner=org.ann, currency="EUR", amount=D("1000.05"), margin=D("0.05"),
                 close_date=MAR_10)
        owner = Credit.objects.get(build=credits_build(period=org.month(MAR_10)),
                                   role="owner")
        # 1,000.05 x 1.10 = 1,100.055 -> 1,100.06 (half-up); 0.05 x 1.10 = 0.055 -> 0.06
        assert (owner.amount, owner.margin, owner.currency, owner.exchange_rate) == (
            D("1100.06"), D("0.06"), "EUR", D("1.10"))


def test_a_deal_with_no_exchange_rate_is_reported_never_dropped_silently(tenant_a, org):
    with tenant_context(tenant_a):
        deal = won_deal(owner=org.ann, currency="GBP", close_date=MAR_10,
                        external_id="DEAL-GBP")
        won_deal(owner=org.ann, close_date=MAR_10)
        build = credits_build(period=org.month(MAR_10))
        assert not Credit.objects.filter(build=build, deal=deal).exists()
        assert build.issues == [{
            "severity": "error", "code": "missing_rate", "deal_id": deal.pk,
            "message": "Deal DEAL-GBP is in GBP and there is no GBP exchange rate on or "
                       "before 2026-03-10: not credited until one is added."}]


def test_a_cancelled_deal_is_reversed_in_the_month_it_was_cancelled(tenant_a, org):
    with tenant_context(tenant_a):
        deal = won_deal(owner=org.ann, amount=D("3000.00"), units=2,
                        close_date=datetime.date(2026, 2, 10))
        DealCancellationFactory(deal=deal, cancel_date=datetime.date(2026, 3, 20))
        credits_build(period=org.month(datetime.date(2026, 2, 1)))
        march = credits_build(period=org.month(MAR_10))
        reversals = Credit.objects.filter(build=march)
        assert {(c.payee_id, c.role, c.amount, c.units) for c in reversals} == {
            (org.ann.pk, "owner", D("-3000.00"), -2),
            (org.manager.pk, "manager", D("-3000.00"), -2),
            (org.vp.pk, "manager", D("-3000.00"), -2)}
        assert {c.kind for c in reversals} == {CreditKind.REVERSAL}
        assert {(c.credit_date, c.reverses_date) for c in reversals} == {
            (datetime.date(2026, 3, 20), datetime.date(2026, 2, 10))}
        # The engine reads reversals as cancellations, not as credits.
        assert credits_frame(period=org.month(MAR_10)).empty
        events = cancellations_frame(period=org.month(MAR_10))
        assert events.to_dict("records") == [{
            "deal_id": deal.pk, "close_date": datetime.datetime(2026, 2, 10),
            "cancel_date": datetime.datetime(2026, 3, 20), "period": "2026-03"}]


def test_the_credits_frame_carries_the_engines_columns_in_cents(tenant_a, org):
    with tenant_context(tenant_a):
        deal = won_deal(owner=org.ann, amount=D("1234.56"), units=4, product_line="Cloud",
                        deal_type="new", close_date=MAR_10)
        credits_build(period=org.month(MAR_10))
        quarter = Period.objects.get(kind="quarter", start_date=datetime.date(2026, 1, 1))
        frame = credits_frame(period=quarter)
        owner = frame[frame["role"] == "owner"].iloc[0]
        assert (owner["payee_id"], owner["deal_id"], owner["period"], owner["amount_cents"],
                owner["units"], owner["deal_amount_cents"], owner["product_line"],
                bool(owner["is_new_logo"])) == (
            org.ann.pk, deal.pk, "2026-03", 123456, 4, 123456, "Cloud", True)
        assert frame["credit_id"].is_unique


def test_crediting_refuses_a_locked_month_and_anything_but_a_month(tenant_a, org):
    with tenant_context(tenant_a):
        quarter = Period.objects.get(kind="quarter", start_date=datetime.date(2026, 1, 1))
        with pytest.raises(ValidationError, match="per fiscal month"):
            credits_build(period=quarter)
        march = org.month(MAR_10)
        march.status = "locked"
        march.save()
        with pytest.raises(ValidationError, match="locked"):
            credits_build(period=march)


def statements(captured) -> list[str]:
    skip = ('INSERT INTO "compensation_credit" ', "SAVEPOINT", "RELEASE SAVEPOINT")
    return [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(skip)]


def test_crediting_takes_the_same_number_of_queries_for_3_or_30_deals(
    tenant_a, org, django_assert_max_num_queries
):
    with tenant_context(tenant_a):
        CreditRuleFactory(name="Overlay", product_line="Security")
        for _ in range(3):
            won_deal(owner=org.ann, product_line="Security", close_date=MAR_10)
        credits_build(period=org.month(MAR_10))  # so both measured builds replace credits
        with django_assert_max_num_queries(25) as few:
            credits_build(period=org.month(MAR_10))
        for _ in range(27):
            won_deal(owner=org.bob, product_line="Security", close_date=MAR_10)
        with django_assert_max_num_queries(25) as many:
            build = credits_build(period=org.month(MAR_10))
        assert build.credit_count == 30 * 4
        # Only the credits' INSERT batches may grow (SQLite binds few parameters per query).
        assert len(statements(many)) == len(statements(few))


def test_another_tenants_deals_are_never_credited(tenant_a, tenant_b, org):
    with tenant_context(tenant_b):
        periods_generate(fiscal_years=[2026])
        won_deal(close_date=MAR_10)
    with tenant_context(tenant_a):
        won_deal(owner=org.ann, close_date=MAR_10)
        build = credits_build(period=org.month(MAR_10))
        assert {c.payee_id for c in Credit.objects.filter(build=build)} == {
            org.ann.pk, org.manager.pk, org.vp.pk}
    with tenant_context(tenant_b):
        assert not Credit.objects.exists()
