"""What if I close this deal: each open deal priced alone by the engine, at the margin."""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compensation.statements import pipeline_projection
from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse
from tests.factories import DealFactory, StageFactory

from .test_statements import _login, world  # noqa: F401  (the shared fixture)

pytestmark = pytest.mark.django_db

CENT = Decimal("0.01")
QUOTA = Decimal("100000.00")


def graduated(credited: Decimal) -> Decimal:
    """The AE plan by hand: 8% to quota, 12% to 150%, 15% above, capped at 20,000 a period."""
    bands = [(Decimal(0), QUOTA, Decimal("0.08")),
             (QUOTA, QUOTA * Decimal("1.5"), Decimal("0.12")),
             (QUOTA * Decimal("1.5"), None, Decimal("0.15"))]
    total = sum((max(Decimal(0), min(credited, top if top is not None else credited) - low) * rate
                 for low, top, rate in bands), Decimal(0))
    return min(total, Decimal("20000.00")).quantize(CENT, ROUND_HALF_UP)


def _open_deal(world, name: str, amount: str, day: int):  # noqa: F811
    stage = StageFactory(name="Proposal", order=3)
    return DealFactory(owner=world.bob, stage=stage, amount=Decimal(amount),
                       close_date=datetime.date(2026, 1, day), name=name)


def test_a_deal_that_crosses_quota_adds_its_graduated_margin_not_the_flat_rate(
        tenant_a, world):  # noqa: F811
    with tenant_context(tenant_a):
        big = _open_deal(world, "Big one", "80000.00", 25)
        small = _open_deal(world, "Small one", "10000.00", 28)
        projection = pipeline_projection(tenant=tenant_a, person=world.bob,
                                         period=world.month("2026-01"))
    credited = Decimal("33333.33")
    assert projection.earned == graduated(credited) == Decimal("2666.67")
    adds = {w.deal.pk: w.adds for w in projection.what_if}
    # 66,666.67 of the big deal at 8% up to quota, the other 13,333.33 at 12%: not 80,000 x 8%.
    assert adds[big.pk] == graduated(credited + Decimal("80000.00")) - projection.earned
    assert adds[big.pk] == Decimal("6933.33") != Decimal("6400.00")
    assert adds[small.pk] == Decimal("800.00")
    # Alone, neither sees the other: won together they add more than their two what-ifs.
    assert projection.extra == graduated(credited + Decimal("90000.00")) - projection.earned
    assert projection.extra > adds[big.pk] + adds[small.pk]
    assert {w.deal.pk: w.earnings for w in projection.what_if}[big.pk] == Decimal("9600.00")


def test_a_deal_already_past_the_cap_adds_nothing(tenant_a, world):  # noqa: F811
    with tenant_context(tenant_a):
        whale = _open_deal(world, "Whale", "400000.00", 20)
        extra = _open_deal(world, "Extra", "5000.00", 21)
        projection = pipeline_projection(tenant=tenant_a, person=world.bob,
                                         period=world.month("2026-01"))
    adds = {w.deal.pk: w.adds for w in projection.what_if}
    assert adds[whale.pk] == Decimal("20000.00") - Decimal("2666.67")
    assert adds[extra.pk] == Decimal("400.00")
    # Together they hit the period cap, so the projection is the cap, not the sum.
    assert projection.with_pipeline == Decimal("20000.00")


def test_the_rep_reads_what_each_open_deal_would_add_on_their_statement(
        client, tenant_a, world):  # noqa: F811
    with tenant_context(tenant_a):
        big = _open_deal(world, "Big one", "80000.00", 25)
    _login(client, "bob")
    url = tenant_reverse(tenant_a, "compensation:statement", person_id=world.bob.pk,
                         period_id=world.month("2026-01").pk)
    page = client.get(url).content.decode()
    assert "What if I close this deal" in page
    row = page.split(f'data-what-if-deal="{big.pk}"')[1].split("</tr>")[0]
    assert "80,000.00" in row
    assert "+6,933.33" in row
    assert "9,600.00" in row


def test_a_colleague_cannot_see_anothers_what_if(client, tenant_a, world):  # noqa: F811
    with tenant_context(tenant_a):
        _open_deal(world, "Big one", "80000.00", 25)
    _login(client, "ann")
    url = tenant_reverse(tenant_a, "compensation:statement", person_id=world.bob.pk,
                         period_id=world.month("2026-01").pk)
    assert client.get(url).status_code == 404


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cents=st.integers(min_value=1, max_value=30_000_000))
def test_any_deal_adds_exactly_the_graduated_plan_at_the_margin(tenant_a, world, cents):  # noqa: F811
    from spm.crm.models import Deal

    amount = Decimal(cents).scaleb(-2)
    with tenant_context(tenant_a):
        deal = Deal.objects.filter(name="Probe").first() or _open_deal(world, "Probe", "1.00", 25)
        Deal.objects.filter(pk=deal.pk).update(amount=amount)
        projection = pipeline_projection(tenant=tenant_a, person=world.bob,
                                         period=world.month("2026-01"))
    credited = Decimal("33333.33")
    (what_if,) = projection.what_if
    assert what_if.adds == graduated(credited + amount) - graduated(credited)


def test_past_the_limit_later_deals_are_left_in_the_projection_and_the_page_says_so(
        client, tenant_a, world, monkeypatch):  # noqa: F811
    monkeypatch.setattr("compensation.statements.WHAT_IF_LIMIT", 1)
    with tenant_context(tenant_a):
        first = _open_deal(world, "First", "1000.00", 10)
        _open_deal(world, "Later", "2000.00", 29)
    _login(client, "bob")
    url = tenant_reverse(tenant_a, "compensation:statement", person_id=world.bob.pk,
                         period_id=world.month("2026-01").pk)
    response = client.get(url)
    assert [w.deal.pk for w in response.context["projection"].what_if] == [first.pk]
    assert "1 later-closing deal not priced one by one; it is in the projection above." in (
        response.content.decode())
