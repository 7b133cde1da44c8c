"""The pay steps of `seed_demo`: the demo looks like a tenant in the middle of its year.

Before the calculation, the demo rep gets two adjustments in the last full month (a SPIFF
approved by someone other than the person who entered it, a correction still pending). After
it, the last three full months stand where a finance team would have them: the oldest paid and
exported to payroll, the next approved, the last in review; the rep has one dispute answered
by the SPIFF and one still open, and has accepted their plan while nobody else has.

Everything goes through the services finance and reps use, as the people who would do it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from compensation.models import (
    Adjustment,
    AdjustmentReason,
    AdjustmentStatus,
    LineItem,
    PayeePeriodResult,
)
from compensation.plan_pages import versions_held
from compensation.services.acceptance import plan_version_accept
from compensation.services.adjustments import adjustment_approve, adjustment_create
from compensation.services.disputes import dispute_open, dispute_resolve
from compensation.services.paycycle import paycycle_approve, paycycle_submit
from compensation.services.payroll import payroll_export
from spm.org.models import Period, PeriodKind, Person
from spm.tenancy.models import Role

if TYPE_CHECKING:
    from spm.demo.steps import DemoContext

REASONS = (("spiff", "SPIFF"), ("correction", "Correction"), ("guarantee", "Guarantee"))


def _full_months(ctx: DemoContext, count: int) -> list[Period]:
    """The last `count` months that ended before the as-of date, latest first."""
    return list(Period.objects.filter(kind=PeriodKind.MONTH, end_date__lt=ctx.spec.as_of)
                .order_by("-start_date")[:count])


def _demo_rep(ctx: DemoContext) -> Person | None:
    user = ctx.users.get(Role.REP)
    return Person.objects.filter(user=user).first() if user is not None else None


def build_adjustments(ctx: DemoContext) -> None:
    """Reason codes, and two adjustments for the demo rep in the last full month."""
    reasons = {code: AdjustmentReason.objects.create(code=code, label=label)
               for code, label in REASONS}
    rep, months = _demo_rep(ctx), _full_months(ctx, 1)
    finance, admin = ctx.users.get(Role.FINANCE), ctx.users.get(Role.ADMIN)
    if rep is None or not months or finance is None or admin is None:
        return
    [spiff] = adjustment_create(
        payee=rep, period=months[0], amount=Decimal("500.00"), reason_code=reasons["spiff"],
        comment="Quarter-end push on multi-year renewals", actor=finance)
    adjustment_approve(adjustment=spiff, actor=admin)
    adjustment_create(
        payee=rep, period=months[0], amount=Decimal("-120.00"),
        reason_code=reasons["correction"],
        comment="Deal credited twice after an account merge", actor=finance)
    ctx.counts["adjustments"] = 2


def build_pay_cycles(ctx: DemoContext) -> None:
    """Paid and exported, approved, in review; two disputes; the rep's plan accepted."""
    finance, rep_user = ctx.users.get(Role.FINANCE), ctx.users.get(Role.REP)
    if finance is None:
        return
    months = [m for m in _full_months(ctx, 3)
              if PayeePeriodResult.objects.filter(period=m).exists()]
    months.reverse()  # oldest first: the furthest along
    reached = ("paid", "approved", "in review")
    for month, status in zip(months, reached[-len(months):] if months else (), strict=True):
        paycycle_submit(period=month, actor=finance, reason="Month-end review")
        if status == "in review":
            continue
        paycycle_approve(period=month, actor=finance, reason="Reviewed against the bookings")
        if status == "paid":
            payroll_export(period=month, file_format="csv", actor=finance)
    ctx.counts["pay cycles moved"] = len(months)

    rep = _demo_rep(ctx)
    if rep is None or rep_user is None or not months:
        return
    latest = months[-1]
    line = (LineItem.objects.filter(payee=rep, period=latest, deal__isnull=False)
            .order_by("pk").first())
    dispute_open(payee=rep, period=latest, line_item=line,
                 subject="Rate on this deal looks low",
                 description="I expected this deal at the accelerated rate: I was past "
                             "quota when it closed.", amount_claimed=Decimal("350.00"),
                 actor=rep_user)
    answered = dispute_open(payee=rep, period=latest, subject="Renewal SPIFF not paid",
                            description="The quarter-end renewal SPIFF is not on my statement.",
                            actor=rep_user)
    spiff = Adjustment.objects.filter(payee=rep, reason_code__code="spiff",
                                      status=AdjustmentStatus.APPROVED).first()
    dispute_resolve(dispute=answered, actor=finance, adjustment=spiff,
                    resolution="Paid as a SPIFF adjustment in this month.")
    ctx.counts["disputes"] = 2

    # The rep accepted their plan; everyone else's acceptance is still missing.
    accepted = {held.version.pk: held.version for held in versions_held(person=rep)}
    for version in accepted.values():
        plan_version_accept(person=rep, version=version, actor=rep_user)
    ctx.counts["plan acceptances"] = len(accepted)
