"""Adjustments entered by one person and approved by another, and holds on pay."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from compensation.holds import held_amounts, held_line_ids
from compensation.models import (
    Adjustment,
    AdjustmentStatus,
    Hold,
    LineItem,
    RecomputeRequest,
)
from compensation.services import (
    adjustment_approve,
    adjustment_create,
    adjustment_reject,
    hold_place,
    hold_release,
)
from spm.org.models import PeriodStatus
from spm.org.services import period_set_status
from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse

from .ops_world import build_ops_world, login, recalculate

pytestmark = pytest.mark.django_db


@pytest.fixture
def ops(tenant_a, make_member):
    return build_ops_world(tenant_a, make_member)


def _enter(ops, amount="500.00", **kwargs):
    return adjustment_create(payee=ops.ann, period=kwargs.pop("period", ops.jan),
                             amount=Decimal(amount), reason_code=ops.spiff,
                             comment=kwargs.pop("comment", "Q1 launch"), actor=ops.fin,
                             **kwargs)


# -- services --------------------------------------------------------------------------------


def test_an_approved_adjustment_reaches_the_statement_with_its_reason(ops):
    with tenant_context(ops.tenant):
        [adjustment] = _enter(ops)
        assert adjustment.status == AdjustmentStatus.PENDING
        adjustment_approve(adjustment=adjustment, actor=ops.fin2)
        # Approval asks the recompute of the payee; the engine reads approved rows only.
        assert RecomputeRequest.objects.filter(payee_id=ops.ann.pk).exists()
    recalculate(ops)
    with tenant_context(ops.tenant):
        line = LineItem.objects.get(payee=ops.ann, line_type="adjustment")
        assert line.amount == Decimal("500.00")
        assert "SPIFF: Q1 launch" in line.explanation_text
        assert Adjustment.history.filter(id=adjustment.pk).count() == 2


def test_a_pending_or_rejected_adjustment_never_pays(ops):
    with tenant_context(ops.tenant):
        [first] = _enter(ops)
        [second] = _enter(ops, amount="-200.00")
        adjustment_reject(adjustment=second, reason="Duplicate of the first", actor=ops.fin2)
    recalculate(ops)
    with tenant_context(ops.tenant):
        assert not LineItem.objects.filter(line_type="adjustment").exists()
        second.refresh_from_db()
        assert second.rejection_reason == "Duplicate of the first"
        assert first.status == AdjustmentStatus.PENDING


@pytest.mark.smoke
def test_nobody_approves_their_own_adjustment_and_nothing_changes(ops):
    with tenant_context(ops.tenant):
        [adjustment] = _enter(ops)
        with pytest.raises(ValidationError, match="someone else approves it"):
            adjustment_approve(adjustment=adjustment, actor=ops.fin)
        adjustment.refresh_from_db()
        assert adjustment.status == AdjustmentStatus.PENDING
        assert adjustment.approved_by is None
        assert Adjustment.history.filter(id=adjustment.pk).count() == 1


def test_an_adjustment_into_a_locked_period_is_refused_and_nothing_is_written(ops):
    with tenant_context(ops.tenant):
        period_set_status(period=ops.jan, status=PeriodStatus.LOCKED)
        ops.jan.refresh_from_db()
        with pytest.raises(ValidationError) as refused:
            _enter(ops)
        assert "locked" in str(refused.value.message_dict["period"])
        assert not Adjustment.objects.exists()


def test_a_pending_adjustment_is_not_approved_after_its_period_is_locked(ops):
    with tenant_context(ops.tenant):
        [adjustment] = _enter(ops)
        period_set_status(period=ops.jan, status=PeriodStatus.LOCKED)
        with pytest.raises(ValidationError, match="locked"):
            adjustment_approve(adjustment=adjustment, actor=ops.fin2)
        adjustment.refresh_from_db()
        assert adjustment.status == AdjustmentStatus.PENDING


def test_a_recurring_adjustment_is_one_pending_row_per_month_through_its_last(ops):
    with tenant_context(ops.tenant):
        rows = _enter(ops, amount="-100.00", repeat_until=ops.mar)
        assert [r.period for r in rows] == [ops.jan, ops.feb, ops.mar]
        assert {r.series_id for r in rows[1:]} == {rows[0].pk}
        assert all(r.status == AdjustmentStatus.PENDING and r.amount == Decimal("-100.00")
                   for r in rows)


def test_a_recurring_adjustment_reaching_a_locked_month_writes_no_month(ops):
    with tenant_context(ops.tenant):
        period_set_status(period=ops.feb, status=PeriodStatus.LOCKED)
        with pytest.raises(ValidationError) as refused:
            _enter(ops, repeat_until=ops.mar)
        assert "repeat_until" in refused.value.message_dict
        assert not Adjustment.objects.exists()


@pytest.mark.parametrize(("amount", "field"), [("0", "amount"), ("0.001", "amount")])
def test_an_adjustment_of_nothing_or_of_fractions_of_a_cent_is_refused(ops, amount, field):
    with tenant_context(ops.tenant):
        with pytest.raises(ValidationError) as refused:
            _enter(ops, amount=amount)
        assert field in refused.value.message_dict
        assert not Adjustment.objects.exists()


def test_an_adjustment_ending_before_it_starts_is_refused(ops):
    with tenant_context(ops.tenant):
        with pytest.raises(ValidationError, match="before the first"):
            _enter(ops, period=ops.mar, repeat_until=ops.jan)


# -- holds -----------------------------------------------------------------------------------


def test_a_held_month_is_excluded_from_what_is_payable_until_released(ops):
    with tenant_context(ops.tenant):
        total = sum(line.amount for line in LineItem.objects.filter(payee=ops.ann,
                                                                    period=ops.jan))
        assert total > 0
        hold = hold_place(payee=ops.ann, period=ops.jan, reason="Contract unsigned",
                          actor=ops.fin)
        assert held_amounts(ops.jan) == {ops.ann.pk: total}
        assert held_amounts(ops.world.quarter) == {ops.ann.pk: total}
        hold_release(hold=hold, note="Signed", actor=ops.fin2)
        assert held_amounts(ops.jan) == {}
        with pytest.raises(ValidationError, match="released already"):
            hold_release(hold=hold, actor=ops.fin2)


def test_a_held_line_stays_held_after_a_recalculation_replaces_it(ops):
    with tenant_context(ops.tenant):
        line = LineItem.objects.filter(payee=ops.ann, period=ops.jan, amount__gt=0,
                                       deal__isnull=False).order_by("pk").first()
        hold_place(payee=ops.ann, period=ops.jan, line_item=line, reason="Deal in review",
                   actor=ops.fin)
        assert held_amounts(ops.jan) == {ops.ann.pk: line.amount}
    recalculate(ops)
    with tenant_context(ops.tenant):
        assert not LineItem.objects.filter(pk=line.pk).exists()
        assert held_amounts(ops.jan) == {ops.ann.pk: line.amount}


def test_a_line_is_held_only_on_its_own_payees_statement(ops):
    with tenant_context(ops.tenant):
        line = LineItem.objects.filter(payee=ops.bob, period=ops.jan).first()
        with pytest.raises(ValidationError) as refused:
            hold_place(payee=ops.ann, period=ops.jan, line_item=line, reason="x", actor=ops.fin)
        assert "line_item" in refused.value.message_dict
        with pytest.raises(ValidationError, match="why"):
            hold_place(payee=ops.ann, period=ops.jan, reason="  ", actor=ops.fin)
        assert not Hold.objects.exists()


_line = st.tuples(st.integers(1, 3), st.integers(1, 2), st.sampled_from([None, 7, 8]),
                  st.integers(-10_000, 10_000))


@given(lines=st.lists(_line, max_size=20), holds=st.lists(
    st.tuples(st.integers(1, 3), st.integers(1, 2), st.booleans(),
              st.sampled_from([None, 7, 8])), max_size=5))
def test_held_plus_payable_is_the_total_and_held_matches_a_line_by_line_reference(lines,
                                                                                 holds):
    items = [SimpleNamespace(pk=i, payee_id=p, period_id=m, component_id=1, deal_id=d,
                             line_type="commission", amount=Decimal(c).scaleb(-2))
             for i, (p, m, d, c) in enumerate(lines)]
    hold_rows = [SimpleNamespace(payee_id=p, period_id=m, component_id=1 if one else None,
                                 deal_id=d if one else None,
                                 line_type="commission" if one else "")
                 for p, m, one, d in holds]
    held = held_line_ids(items, hold_rows)

    def reference(item) -> bool:
        return any(h.payee_id == item.payee_id and h.period_id == item.period_id and (
            not h.line_type or h.deal_id == item.deal_id) for h in hold_rows)

    assert set(held) == {i.pk for i in items if reference(i)}
    total = sum((i.amount for i in items), Decimal(0))
    held_total = sum((i.amount for i in items if i.pk in held), Decimal(0))
    payable = sum((i.amount for i in items if i.pk not in held), Decimal(0))
    assert held_total + payable == total


# -- pages -----------------------------------------------------------------------------------


def _list_url(ops):
    return tenant_reverse(ops.tenant, "compensation:adjustment-list")


def test_finance_enters_an_adjustment_on_the_page_and_another_approves_it(client, ops):
    login(client, "fin")
    response = client.post(_list_url(ops), {
        "payee": ops.ann.pk, "period": ops.jan.pk, "amount": "250.00",
        "reason_code": ops.correction.pk, "comment": "Missed split"})
    assert response.status_code == 302
    with tenant_context(ops.tenant):
        adjustment = Adjustment.objects.get()
    page = client.get(_list_url(ops)).content.decode()
    assert "awaits another approver" in page
    decide = tenant_reverse(ops.tenant, "compensation:adjustment-decide",
                            adjustment_id=adjustment.pk)
    response = client.post(decide, {"decision": "approve"}, follow=True)
    assert "someone else approves it" in response.content.decode()
    client.logout()
    login(client, "fin2")
    client.post(decide, {"decision": "approve"})
    with tenant_context(ops.tenant):
        adjustment.refresh_from_db()
        assert adjustment.status == AdjustmentStatus.APPROVED
        assert adjustment.approved_by.username == "fin2"


def test_the_page_names_the_field_of_an_adjustment_into_a_locked_month(client, ops):
    with tenant_context(ops.tenant):
        period_set_status(period=ops.jan, status=PeriodStatus.LOCKED)
    login(client, "fin")
    response = client.post(_list_url(ops), {
        "payee": ops.ann.pk, "period": ops.jan.pk, "amount": "250.00",
        "reason_code": ops.correction.pk})
    assert response.status_code == 200
    assert "is locked" in response.context["form"].errors["period"][0]
    with tenant_context(ops.tenant):
        assert not Adjustment.objects.exists()


def test_reps_and_managers_may_not_open_adjustments_or_holds(client, ops):
    for username in ("ann", "boss"):
        login(client, username)
        assert client.get(_list_url(ops)).status_code == 403
        assert client.get(tenant_reverse(ops.tenant, "compensation:hold-list")
                          ).status_code == 403
        client.logout()


def test_an_outsider_gets_404_on_adjustments_and_holds(client, ops, tenant_b, make_member):
    make_member(tenant_b, "admin", username="stranger")
    login(client, "stranger")
    assert client.get(_list_url(ops)).status_code == 404
    assert client.get(tenant_reverse(ops.tenant, "compensation:hold-list")).status_code == 404


def test_the_adjustment_list_reads_in_a_fixed_number_of_queries(
        client, ops, django_assert_max_num_queries):
    with tenant_context(ops.tenant):
        for _ in range(5):
            _enter(ops, repeat_until=ops.mar)
    login(client, "fin2")
    with django_assert_max_num_queries(16):
        response = client.get(_list_url(ops) + "?status=pending")
    assert response.content.decode().count("data-adjustment=") == 15


def test_the_statement_shows_holds_adjustments_and_what_stays_payable(client, ops):
    with tenant_context(ops.tenant):
        [adjustment] = _enter(ops, comment="Launch bonus")
        adjustment_approve(adjustment=adjustment, actor=ops.fin2)
        _enter(ops, amount="75.00", comment="Still pending")
    recalculate(ops)
    with tenant_context(ops.tenant):
        line = LineItem.objects.filter(payee=ops.ann, period=ops.jan,
                                       deal__isnull=False).order_by("pk").first()
    login(client, "fin")
    url = tenant_reverse(ops.tenant, "compensation:statement", person_id=ops.ann.pk,
                         period_id=ops.jan.pk)
    response = client.post(tenant_reverse(ops.tenant, "compensation:hold-line",
                                          line_id=line.pk), {"reason": "Deal in review"})
    assert response.status_code == 302
    page = client.get(url).content.decode()
    assert "SPIFF: Launch bonus" in page
    assert "pending approval, not yet in the total" in page
    assert "Deal in review" in page
    assert "data-held" in page
    with tenant_context(ops.tenant):
        total = sum(i.amount for i in LineItem.objects.filter(payee=ops.ann, period=ops.jan))
    assert f"{total - line.amount:,.2f}" in page  # payable


def test_finance_holds_and_releases_a_month_on_the_holds_page(client, ops):
    login(client, "fin")
    url = tenant_reverse(ops.tenant, "compensation:hold-list")
    assert client.post(url, {"payee": ops.bob.pk, "period": ops.jan.pk,
                             "reason": "Leaver"}).status_code == 302
    with tenant_context(ops.tenant):
        hold = Hold.objects.get()
    assert "Leaver" in client.get(url).content.decode()
    client.post(tenant_reverse(ops.tenant, "compensation:hold-release", hold_id=hold.pk),
                {"note": "Settled"})
    with tenant_context(ops.tenant):
        hold.refresh_from_db()
        assert hold.released_at is not None
        assert hold.release_note == "Settled"
