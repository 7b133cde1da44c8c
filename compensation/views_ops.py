"""Finance's operations pages: adjustments (entered by one person, approved by another), holds
on pay, disputes with their thread, and the member's notifications.

Adjustments and holds are for admin and finance. Disputes follow the statements' visibility:
the payee opens one on their own statement and reads their own, a manager reads and answers
their team's, finance and admin all, and only finance and admin move, resolve or reject.
Anyone else gets the same 404 as for a dispute that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from compensation import disputes as dispute_reads
from compensation.forms_ops import (
    AdjustmentForm,
    DisputeCommentForm,
    DisputeOpenForm,
    HoldForm,
    RejectForm,
)
from compensation.holds import statement_holds
from compensation.models import (
    Adjustment,
    AdjustmentStatus,
    Dispute,
    DisputeStatus,
    Hold,
    LineItem,
)
from compensation.selectors import months_of
from compensation.services import (
    adjustment_approve,
    adjustment_create,
    adjustment_reject,
    dispute_comment,
    dispute_move,
    dispute_open,
    dispute_reject,
    dispute_resolve,
    hold_place,
    hold_release,
)
from compensation.services.notifications import notifications_mark_read
from compensation.visibility import payee_visible_to, period_by_pk
from spm.org.models import Period, PeriodKind
from spm.tenancy.models import Role
from spm.tenancy.permissions import can_approve, role_required
from spm.web import add_service_errors, message_service_errors

ADJUSTMENTS_SHOWN = 200


def _months() -> list[Period]:
    return list(Period.objects.filter(kind=PeriodKind.MONTH).order_by("-start_date"))


# -- adjustments -----------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(Role.ADMIN, Role.FINANCE)
def adjustment_list(request: HttpRequest) -> HttpResponse:
    """Adjustments by status and month, and the form to enter one."""
    form = AdjustmentForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            created = adjustment_create(
                payee=data["payee"], period=data["period"], amount=data["amount"],
                reason_code=data["reason_code"], comment=data["comment"],
                repeat_until=data["repeat_until"], actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            months = f" in {len(created)} months" if len(created) > 1 else ""
            messages.success(request, f"Adjustment of {data['amount']} for {data['payee']} "
                                      f"entered{months}; someone else approves it.")
            return redirect(reverse("compensation:adjustment-list"))
    status = request.GET.get("status", AdjustmentStatus.PENDING)
    period = period_by_pk(request.GET.get("period", ""))
    adjustments = Adjustment.objects.select_related(
        "payee", "period", "reason_code", "created_by", "approved_by")
    if status in AdjustmentStatus.values:
        adjustments = adjustments.filter(status=status)
    if period is not None:
        adjustments = adjustments.filter(period__in=months_of(period))
    return render(request, "compensation/adjustment_list.html", {
        "form": form, "adjustments": list(adjustments[:ADJUSTMENTS_SHOWN]),
        "shown_max": ADJUSTMENTS_SHOWN, "statuses": AdjustmentStatus.choices,
        "status": status if status in AdjustmentStatus.values else "", "period": period,
        "periods": _months(), "reject_form": RejectForm(),
    })


@require_POST
@role_required(Role.ADMIN, Role.FINANCE)
def adjustment_decide(request: HttpRequest, adjustment_id: int) -> HttpResponse:
    """Approve or (with a reason) reject a pending adjustment."""
    adjustment = Adjustment.objects.select_related("payee", "period").filter(
        pk=adjustment_id).first()
    if adjustment is None:
        raise Http404("No such adjustment.")
    try:
        if request.POST.get("decision") == "approve":
            adjustment_approve(adjustment=adjustment, actor=request.user)
            messages.success(request, f"Approved: {adjustment}. The statement shows it once "
                                      "its payee is recalculated (queued).")
        elif request.POST.get("decision") == "reject":
            adjustment_reject(adjustment=adjustment, reason=request.POST.get("reason", ""),
                              actor=request.user)
            messages.success(request, f"Rejected: {adjustment}.")
        else:
            messages.error(request, "Choose to approve or reject.")
    except ValidationError as exc:
        message_service_errors(request, exc)
    return redirect(request.POST.get("next") if str(request.POST.get("next", "")).startswith(
        "/t/") else reverse("compensation:adjustment-list"))


adjustment_decide.model = Adjustment  # type: ignore[attr-defined]


# -- holds -----------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(Role.ADMIN, Role.FINANCE)
def hold_list(request: HttpRequest) -> HttpResponse:
    """Holds in force (and released ones of the month), and the form to hold a payee's month."""
    form = HoldForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            hold_place(payee=data["payee"], period=data["period"], reason=data["reason"],
                       actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{data['payee']}'s pay in {data['period']} is held.")
            return redirect(reverse("compensation:hold-list"))
    period = period_by_pk(request.GET.get("period", ""))
    holds = Hold.objects.select_related("payee", "period", "component", "deal", "created_by",
                                        "released_by")
    if period is not None:
        holds = holds.filter(period__in=months_of(period))
    else:
        holds = holds.filter(released_at__isnull=True)
    return render(request, "compensation/hold_list.html", {
        "form": form, "holds": list(holds[:ADJUSTMENTS_SHOWN]), "period": period,
        "periods": _months(),
    })


@require_POST
@role_required(Role.ADMIN, Role.FINANCE)
def hold_line(request: HttpRequest, line_id: int) -> HttpResponse:
    """Hold one statement line (from the statement page)."""
    line = LineItem.objects.select_related("payee", "period").filter(pk=line_id).first()
    if line is None:
        raise Http404("No such line.")
    try:
        hold_place(payee=line.payee, period=line.period, line_item=line,
                   reason=request.POST.get("reason", ""), actor=request.user)
        messages.success(request, "The line is held: it stays on the statement, not payable.")
    except ValidationError as exc:
        message_service_errors(request, exc)
    return redirect(reverse("compensation:statement", kwargs={
        "person_id": line.payee_id, "period_id": line.period_id}))


hold_line.model = LineItem  # type: ignore[attr-defined]


@require_POST
@role_required(Role.ADMIN, Role.FINANCE)
def hold_release_view(request: HttpRequest, hold_id: int) -> HttpResponse:
    hold = Hold.objects.filter(pk=hold_id).first()
    if hold is None:
        raise Http404("No such hold.")
    try:
        hold_release(hold=hold, note=request.POST.get("note", ""), actor=request.user)
        messages.success(request, "Released: the amount is payable again.")
    except ValidationError as exc:
        message_service_errors(request, exc)
    return redirect(reverse("compensation:hold-list"))


hold_release_view.model = Hold  # type: ignore[attr-defined]


# -- disputes --------------------------------------------------------------------------------


@require_safe
def dispute_list(request: HttpRequest) -> HttpResponse:
    """The disputes the member may read, by status, month and whether past the target."""
    status = request.GET.get("status", "")
    rows = dispute_reads.dispute_rows(membership=request.membership, status=status,
                                      period_id=request.GET.get("period", ""),
                                      overdue=request.GET.get("overdue") == "1")
    return render(request, "compensation/dispute_list.html", {
        "rows": rows, "statuses": DisputeStatus.choices,
        "status": status if status in DisputeStatus.values else "",
        "period_id": request.GET.get("period", ""), "periods": _months(),
        "overdue": request.GET.get("overdue") == "1",
        "target_days": dispute_reads.dispute_target_days(),
    })


@require_http_methods(["GET", "HEAD", "POST"])
def dispute_new(request: HttpRequest, person_id: int, period_id: int) -> HttpResponse:
    """Question a statement, or one of its lines (?line=<id>): the payee's own only."""
    period = period_by_pk(period_id)
    person = payee_visible_to(membership=request.membership, person_id=person_id,
                              period=period) if period is not None else None
    if person is None or period is None:
        raise Http404("No such statement.")
    if person.user_id != request.user.pk:
        raise PermissionDenied("Only the payee questions their own statement.")
    raw_line = request.POST.get("line") or request.GET.get("line") or ""
    line = None
    if raw_line:
        line = (LineItem.objects.select_related("component", "deal")
                .filter(pk=raw_line).first() if str(raw_line).isdigit() else None)
        if line is None:
            raise Http404("No such line.")
    form = DisputeOpenForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            dispute = dispute_open(payee=person, period=period, line_item=line,
                                   subject=data["subject"], description=data["description"],
                                   amount_claimed=data["amount_claimed"], actor=request.user)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your dispute is open: finance and your manager are "
                                      "told, and the answer comes in its thread.")
            return redirect(reverse("compensation:dispute-detail",
                                    kwargs={"dispute_id": dispute.pk}))
    return render(request, "compensation/dispute_new.html", {
        "form": form, "person": person, "period": period, "line": line,
    })


def _dispute_action(request: HttpRequest, dispute: Dispute) -> DisputeCommentForm | None:
    """Carry out a posted action; the comment form back when it has errors, else None."""
    action = request.POST.get("action", "comment")
    if action != "comment" and not can_approve(request.membership):
        raise PermissionDenied("Finance or an admin moves, resolves and rejects disputes.")
    form = DisputeCommentForm(request.POST)
    try:
        if action == "comment":
            if not form.is_valid():
                return form
            dispute_comment(dispute=dispute, body=form.cleaned_data["body"], actor=request.user)
        elif action == "review":
            dispute_move(dispute=dispute, status=DisputeStatus.IN_REVIEW,
                         note=request.POST.get("body", ""), actor=request.user)
        elif action == "reopen":
            dispute_move(dispute=dispute, status=DisputeStatus.OPEN,
                         note=request.POST.get("body", ""), actor=request.user)
        elif action == "resolve":
            adjustment = _adjustment_of(request.POST.get("adjustment", ""))
            dispute_resolve(dispute=dispute, resolution=request.POST.get("body", ""),
                            adjustment=adjustment, actor=request.user)
        elif action == "reject":
            dispute_reject(dispute=dispute, reason=request.POST.get("body", ""),
                           actor=request.user)
        else:
            messages.error(request, "Unknown action.")
            return None
    except ValidationError as exc:
        message_service_errors(request, exc)
        return None
    messages.success(request, "Saved.")
    return None


def _adjustment_of(raw: Any) -> Adjustment | None:
    if not str(raw).isdigit():
        return None
    adjustment = Adjustment.objects.filter(pk=raw).first()
    if adjustment is None:
        raise ValidationError({"adjustment": f"There is no adjustment {raw}."})
    return adjustment


@require_http_methods(["GET", "HEAD", "POST"])
def dispute_detail(request: HttpRequest, dispute_id: int) -> HttpResponse:
    """A dispute, its thread, and the actions the member may take."""
    dispute = dispute_reads.dispute_visible(membership=request.membership, pk=dispute_id)
    if dispute is None:
        raise Http404("No such dispute.")
    form = None
    if request.method == "POST":
        form = _dispute_action(request, dispute)
        if form is None:
            return redirect(reverse("compensation:dispute-detail",
                                    kwargs={"dispute_id": dispute.pk}))
    thread = list(dispute.messages.select_related("author"))
    adjustments = []
    if can_approve(request.membership):
        adjustments = list(Adjustment.objects.filter(payee=dispute.payee).exclude(
            status=AdjustmentStatus.REJECTED).select_related("period")[:50])
    return render(request, "compensation/dispute_detail.html", {
        "dispute": dispute, "thread": thread, "form": form or DisputeCommentForm(),
        "age_days": dispute_reads.dispute_age_days(dispute),
        "target_days": dispute_reads.dispute_target_days(),
        "closed": dispute.status in (DisputeStatus.RESOLVED, DisputeStatus.REJECTED),
        "may_decide": can_approve(request.membership), "adjustments": adjustments,
    })


dispute_detail.model = Dispute  # type: ignore[attr-defined]


# -- notifications ---------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def notification_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        count = notifications_mark_read(user=request.user)
        messages.success(request, f"Marked {count} notification(s) read.")
        return redirect(reverse("compensation:notification-list"))
    return render(request, "compensation/notification_list.html", {
        "notifications": dispute_reads.notifications_of(user=request.user),
    })


@require_safe
def notification_badge(request: HttpRequest) -> HttpResponse:
    """The navbar's unread count, fetched after the page loads so no page pays its query."""
    unread = dispute_reads.unread_notifications(user=request.user).count()
    return render(request, "compensation/_notification_badge.html", {"unread": unread})




def statement_operations(request: HttpRequest, person: Any, period: Period,
                         statement: Any) -> dict[str, Any]:
    """What the statement page shows of holds, adjustments and disputes, and which of their
    buttons the member gets."""
    months = months_of(period)
    on_hold = statement_holds(lines=statement.lines, period=period, payee_id=person.pk,
                              total=statement.total)
    adjustments = list(Adjustment.objects.filter(payee=person, period__in=months)
                       .exclude(status=AdjustmentStatus.REJECTED)
                       .select_related("period", "reason_code").order_by("period__start_date",
                                                                         "pk"))
    open_disputes = list(Dispute.objects.filter(payee=person, period__in=[*months, period])
                         .only("pk", "subject", "status", "line_item_id").order_by("pk"))
    return {
        "on_hold": on_hold, "statement_adjustments": adjustments,
        "statement_disputes": open_disputes,
        "disputed_line_ids": {d.line_item_id for d in open_disputes if d.line_item_id},
        "may_dispute": person.user_id is not None and person.user_id == request.user.pk,
        "may_hold": can_approve(request.membership) and not any(m.is_locked for m in months),
    }
