"""Compensation pages: statements (list, one payee's period, CSV) and calculation runs.

A manager sees their subtree's statements, a rep only their own, admin and finance everyone;
anyone else gets the same 404 as for a statement that does not exist. Runs are for admin and
finance, and "recalculate" is a POST that queues the task and redirects back.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST, require_safe

from compensation import statements
from compensation.tasks import enqueue_recompute
from spm.org.models import Period, PeriodKind, Person
from spm.org.selectors import person_for_user, visible_person_ids
from spm.tenancy.models import Role
from spm.tenancy.permissions import role_required


def _visible_ids(request: HttpRequest, period: Period | None) -> set[int] | None:
    on = period.last_day if period is not None else statements.today_for(request.tenant)
    return visible_person_ids(membership=request.membership, on=on)


def _period_or_404(period_id: Any) -> Period:
    period = Period.objects.filter(pk=period_id).first() if str(period_id).isdigit() else None
    if period is None:
        raise Http404("No such period.")
    return period


def _person_visible_or_404(request: HttpRequest, person_id: int, period: Period) -> Person:
    ids = _visible_ids(request, period)
    if ids is not None and person_id not in ids:
        # Also for people the member may see on another day: the same answer as "not found".
        today_ids = _visible_ids(request, None)
        if today_ids is not None and person_id not in today_ids:
            raise Http404("No such statement.")
    person = Person.objects.filter(pk=person_id).first()
    if person is None:
        raise Http404("No such statement.")
    return person


@require_safe
def statement_list(request: HttpRequest) -> HttpResponse:
    """Statements of a period for everyone the member may see; a rep goes to their own."""
    periods = statements.periods_with_results()
    months = [p for p in periods if p.kind == PeriodKind.MONTH]
    chosen = request.GET.get("period")
    # A run covers its whole fiscal year, so months still ahead have (empty) results too: open
    # on the month in progress, not on the last one of the year.
    today = timezone.localdate()
    started = [p for p in months if p.start_date <= today]
    period = next((p for p in periods if str(p.pk) == chosen), None) or (
        started[0] if started else months[0] if months else None)
    if request.membership.role == Role.REP:
        me = person_for_user(user=request.user)
        if me is not None and period is not None:
            return redirect("compensation:statement", person_id=me.pk, period_id=period.pk)
    rows = []
    if period is not None:
        rows = statements.statement_rows(period=period,
                                         person_ids=_visible_ids(request, period))
    return render(request, "compensation/statement_list.html", {
        "periods": months, "period": period, "rows": rows,
        "total": sum((r["total"] or Decimal(0) for r in rows), Decimal("0.00")),
    })


@require_safe
def statement_detail(request: HttpRequest, person_id: int, period_id: int) -> HttpResponse:
    period = _period_or_404(period_id)
    person = _person_visible_or_404(request, person_id, period)
    statement = statements.payee_statement(person=person, period=period)
    projection = statements.pipeline_projection(tenant=request.tenant, person=person,
                                                period=period)
    months = [p for p in statements.periods_with_results() if p.kind == PeriodKind.MONTH]
    return render(request, "compensation/statement_detail.html", {
        "statement": statement, "person": person, "period": period, "projection": projection,
        "periods": months,
    })


def neutralise(value: Any) -> Any:
    """Text a spreadsheet would run as a formula (= + - @) is prefixed with an apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


@require_safe
def statement_csv(request: HttpRequest, person_id: int, period_id: int) -> HttpResponse:
    period = _period_or_404(period_id)
    person = _person_visible_or_404(request, person_id, period)
    statement = statements.payee_statement(person=person, period=period)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    safe_name = "".join(c if c.isalnum() else "-" for c in f"{person.employee_id}-{period}")
    response["Content-Disposition"] = f'attachment; filename="statement-{safe_name}.csv"'
    writer = csv.writer(response)
    writer.writerow(["period", "window", "component", "line_type", "deal", "deal_name",
                     "credit_rule", "basis", "attainment", "tier", "rate", "amount",
                     "explanation"])
    for line in statement.lines:
        rule = ""
        if line.credit_id is not None:
            rule = line.credit.rule.name if line.credit.rule_id else line.credit.rule_ref
        row = [str(line.period), line.window,
               line.component.code if line.component_id else "", line.line_type,
               line.deal.external_id if line.deal_id else "",
               line.deal.name if line.deal_id else "", rule, f"{line.basis}",
               "" if line.attainment is None else f"{line.attainment}",
               "" if line.tier is None else line.tier, line.rate, f"{line.amount}",
               line.explanation_text]
        writer.writerow([neutralise(v) for v in row])
    writer.writerow(["total", "", "", "", "", "", "", "", "", "", "", f"{statement.total}", ""])
    return response


@require_safe
@role_required(Role.ADMIN, Role.FINANCE)
def run_list(request: HttpRequest) -> HttpResponse:
    periods = Period.objects.filter(kind__in=[PeriodKind.MONTH, PeriodKind.QUARTER,
                                              PeriodKind.YEAR]).order_by("-start_date",
                                                                          "end_date")
    return render(request, "compensation/run_list.html", {
        "runs": statements.latest_runs(), "periods": periods,
    })


@require_POST
@role_required(Role.ADMIN, Role.FINANCE)
def run_recalculate(request: HttpRequest) -> HttpResponse:
    period = Period.objects.filter(pk=request.POST.get("period") or 0).first() \
        if str(request.POST.get("period", "")).isdigit() else None
    if period is None:
        messages.error(request, "Choose a period to recalculate.")
    elif period.is_locked:
        messages.error(request, f"{period} is locked, so its results are final; unlock it "
                                "before recalculating.")
    else:
        enqueue_recompute(tenant=request.tenant, period_id=period.pk, user=request.user)
        messages.success(request, f"Recalculation of {period} queued; the list below shows it "
                                  "when it has run.")
    return redirect(reverse("compensation:run-list"))
