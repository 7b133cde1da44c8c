"""A period's pay cycle: calculated, reviewed, approved once or twice, reopened with a reason;
an approved month is as final as a locked one for every recompute."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from compensation.models import (
    CalculationRun,
    LineItem,
    PayCycle,
    PayCycleStatus,
    PayCycleTransition,
    PayeeApproval,
    PayeePeriodResult,
    PaySettings,
    RecomputeRequest,
)
from compensation.services.paycycle import (
    paycycle_approve,
    paycycle_lock,
    paycycle_reopen,
    paycycle_second_approve,
    paycycle_submit,
)
from compensation.services.recompute import (
    open_months,
    period_recompute,
    recompute_pending,
    recompute_request,
)
from compensation.services.runs import PeriodLockedError
from spm.tenancy.context import tenant_context

from .paycycle_world import build_pay_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def pay(tenant_a, make_member, time_machine):
    return build_pay_world(tenant_a, make_member, time_machine)


def totals(march) -> dict[int, Decimal]:
    return dict(PayeePeriodResult.objects.filter(period=march).values_list("payee_id", "total"))


def test_a_calculation_marks_the_month_calculated_with_the_run_as_its_reason(tenant_a, pay):
    with tenant_context(tenant_a):
        cycle = PayCycle.objects.get(period=pay.march)
        step = cycle.transitions.get(action="calculated")
    assert cycle.status == PayCycleStatus.CALCULATED
    assert step.from_status == "open"
    assert step.reason.startswith("Calculation run ")


def test_finance_approves_a_whole_period_and_each_amount_is_kept_as_approved(tenant_a, pay):
    with tenant_context(tenant_a):
        paycycle_submit(period=pay.march, actor=pay.finance)
        cycle = paycycle_approve(period=pay.march, actor=pay.finance, reason="Checked")
        approved = dict(PayeeApproval.objects.values_list("payee_id", "amount"))
        assert approved == totals(pay.march)
        actions = list(cycle.transitions.order_by("at", "pk").values_list("action", "actor_id"))
    assert cycle.status == PayCycleStatus.APPROVED
    assert actions[-1] == ("approved", pay.finance.pk)
    assert ("submitted", pay.finance.pk) in actions


def test_approving_payee_by_payee_approves_the_period_with_the_last_one(tenant_a, pay):
    first, second = pay.comp.reps
    with tenant_context(tenant_a):
        paycycle_submit(period=pay.march, actor=pay.finance)
        cycle = paycycle_approve(period=pay.march, actor=pay.finance, payee_ids=[first.pk])
        assert cycle.status == PayCycleStatus.IN_REVIEW
        cycle = paycycle_approve(period=pay.march, actor=pay.finance, payee_ids=[second.pk])
    assert cycle.status == PayCycleStatus.APPROVED


def test_above_the_threshold_a_second_approver_who_is_not_the_first_is_needed(tenant_a, pay):
    big = pay.comp.reps[1]  # 10,400.00
    with tenant_context(tenant_a):
        PaySettings.objects.create(second_approval_above=Decimal("5000.00"))
        paycycle_submit(period=pay.march, actor=pay.finance)
        cycle = paycycle_approve(period=pay.march, actor=pay.finance)
        assert cycle.status == PayCycleStatus.IN_REVIEW
        with pytest.raises(ValidationError, match="must come from someone else"):
            paycycle_second_approve(period=pay.march, actor=pay.finance)
        assert PayeeApproval.objects.get(payee=big).second_approved_by is None
        cycle = paycycle_second_approve(period=pay.march, actor=pay.finance2)
        approval = PayeeApproval.objects.get(payee=big)
    assert approval.needs_second
    assert approval.second_approved_by == pay.finance2
    assert cycle.status == PayCycleStatus.APPROVED


def test_an_approved_month_refuses_a_recalculation_until_reopened_with_a_reason(tenant_a, pay):
    with tenant_context(tenant_a):
        paycycle_submit(period=pay.march, actor=pay.finance)
        paycycle_approve(period=pay.march, actor=pay.finance)
        runs = CalculationRun.objects.count()
        with pytest.raises(PeriodLockedError, match=r"approved.*reopens it with a reason"):
            period_recompute(period=pay.march)
        with pytest.raises(PeriodLockedError, match="approved"):
            period_recompute(period=pay.comp.quarter)
        assert CalculationRun.objects.count() == runs
        with pytest.raises(ValidationError, match="Say why"):
            paycycle_reopen(period=pay.march, actor=pay.finance, reason="  ")
        assert PayCycle.objects.get(period=pay.march).status == PayCycleStatus.APPROVED
        cycle = paycycle_reopen(period=pay.march, actor=pay.finance2,
                                reason="A deal was booked in the wrong month")
        step = cycle.transitions.get(action="reopened")
        assert not PayeeApproval.objects.exists()
        run = period_recompute(period=pay.march)
    assert cycle.status == PayCycleStatus.CALCULATED
    assert (step.actor, step.reason) == (pay.finance2, "A deal was booked in the wrong month")
    assert run.has_results


def test_changes_waiting_leave_an_approved_month_as_it_is_and_say_so_on_the_run(tenant_a, pay):
    rep = pay.comp.reps[0]
    with tenant_context(tenant_a):
        paycycle_submit(period=pay.march, actor=pay.finance)
        paycycle_approve(period=pay.march, actor=pay.finance)
        before = list(LineItem.objects.filter(period=pay.march).order_by("pk")
                      .values_list("pk", "amount"))
        recompute_request(payee_ids=[rep.pk], reason="test")
        outcome = recompute_pending()
        after = list(LineItem.objects.filter(period=pay.march).order_by("pk")
                     .values_list("pk", "amount"))
        assert pay.march not in open_months(on=datetime.date(2026, 3, 20))
        recompute_request(everything=True, reason="test")
        everything = recompute_pending()
        assert RecomputeRequest.objects.count() == 0
    assert before == after
    assert outcome.skipped_locked == [str(pay.march)]
    assert str(pay.march) in everything.skipped_locked
    assert all(str(pay.march) in r.inputs["skipped_final_months"] for r in everything.runs)


def test_bad_steps_are_refused_with_why_and_write_nothing(tenant_a, pay):
    with tenant_context(tenant_a):
        with pytest.raises(ValidationError, match="only a period in review is approved"):
            paycycle_approve(period=pay.march, actor=pay.finance)
        with pytest.raises(ValidationError, match="nothing to reopen"):
            paycycle_reopen(period=pay.march, actor=pay.finance, reason="why not")
        with pytest.raises(ValidationError, match="locked once its payroll has been exported"):
            paycycle_lock(period=pay.march, actor=pay.finance)
        with pytest.raises(ValidationError, match="no calculated results"):
            paycycle_submit(period=pay.comp.month("2026-06"), actor=pay.finance)
        assert not PayeeApproval.objects.exists()
        assert not PayCycleTransition.objects.exclude(action="calculated").exists()


def test_a_change_to_a_locked_months_deal_is_paid_as_an_adjustment_in_the_next_month(
        tenant_a, pay):
    from compensation.models import Adjustment
    from spm.crm.models import Deal
    from spm.org.services import period_set_status

    from .runs_world import credit_deal

    rep = pay.comp.reps[0]
    january, february = pay.comp.month("2026-01"), pay.comp.month("2026-02")
    with tenant_context(tenant_a):
        deal_id = credit_deal(pay.comp, rep, "10000.00", datetime.date(2026, 1, 20)).deal_id
        period_recompute(period=january)
        paid = PayeePeriodResult.objects.get(period=january, payee=rep).total
        period_set_status(period=january, status="locked")
        before = list(LineItem.objects.filter(period=january).order_by("pk")
                      .values_list("pk", "amount"))
        Deal.objects.filter(pk=deal_id).update(amount=Decimal("50000.00"))
        recompute_request(deal_ids=[deal_id], reason="test")
        outcome = recompute_pending()
        adjustment = Adjustment.objects.get()
        after = list(LineItem.objects.filter(period=january).order_by("pk")
                     .values_list("pk", "amount"))
        february_adjustments = PayeePeriodResult.objects.get(period=february,
                                                             payee=rep).adjustments
        statement_line = LineItem.objects.get(period=february, payee=rep,
                                              line_type="adjustment").explanation_text
        recompute_request(deal_ids=[deal_id], reason="again, unchanged")
        recompute_pending()
        count = Adjustment.objects.count()
    assert paid == Decimal("800.00")
    assert before == after
    assert outcome.prior_period == [adjustment]
    assert (adjustment.payee_id, adjustment.period_id, adjustment.amount) == (
        rep.pk, february.pk, Decimal("3200.00"))
    assert adjustment.reason.startswith(f"Prior-period adjustment for {january}")
    assert february_adjustments == Decimal("3200.00")
    assert statement_line.startswith(f"adjustment: Prior-period adjustment for {january}")
    assert count == 1


def test_a_change_to_a_paid_months_deal_waits_as_an_adjustment_in_the_next_open_month(
        tenant_a, pay):
    from compensation.models import Adjustment, Payout
    from compensation.services.payroll import payroll_export
    from spm.crm.models import Deal

    rep = pay.comp.reps[0]
    with tenant_context(tenant_a):
        paycycle_submit(period=pay.march, actor=pay.finance)
        paycycle_approve(period=pay.march, actor=pay.finance)
        payroll_export(period=pay.march, file_format="csv")
        paid = Payout.objects.get(payee=rep).amount
        deal = Deal.objects.filter(owner=rep, close_date__month=3).get()
        Deal.objects.filter(pk=deal.pk).update(amount=deal.amount + Decimal("10000.00"))
        recompute_request(deal_ids=[deal.pk], reason="test")
        recompute_pending()
        adjustment = Adjustment.objects.get()
        march_total = PayeePeriodResult.objects.get(period=pay.march, payee=rep).total
    assert march_total == paid  # the paid month is as it was paid
    assert adjustment.period_id == pay.comp.month("2026-04").pk
    assert adjustment.amount == Decimal("800.00")  # 10,000.00 more at 8%


def test_a_recalculation_during_review_withdraws_the_approvals_whose_amount_changed(
        tenant_a, pay):
    from .runs_world import credit_deal

    changed, same = pay.comp.reps
    with tenant_context(tenant_a):
        paycycle_submit(period=pay.march, actor=pay.finance)
        paycycle_approve(period=pay.march, actor=pay.finance, payee_ids=[changed.pk])
        credit_deal(pay.comp, changed, "5000.00", datetime.date(2026, 3, 12))
        period_recompute(period=pay.march)
        after_change = set(PayeeApproval.objects.values_list("payee_id", flat=True))
        withdrawn = PayCycleTransition.objects.get(action="approval withdrawn")
        paycycle_approve(period=pay.march, actor=pay.finance, payee_ids=[same.pk])
        period_recompute(period=pay.march)  # nothing changed: the approval stands
        after_rerun = set(PayeeApproval.objects.values_list("payee_id", flat=True))
        status = PayCycle.objects.get(period=pay.march).status
    assert after_change == set()
    assert withdrawn.payee_id == changed.pk
    assert "the amount changed from" in withdrawn.reason
    assert after_rerun == {same.pk}
    assert status == PayCycleStatus.IN_REVIEW
