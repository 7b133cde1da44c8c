"""Compensation pages: statements (list, one payee's period, CSV) and calculation runs.

A manager sees their subtree's statements, a rep only their own, admin and finance everyone;
anyone else gets the same 404 as for a statement that does not exist. Runs are for admin and
finance, and "recalculate" is a POST that queues the task and redirects back. MBO scores follow
the statements' visibility; managers score the people below them (not themselves), admin and
finance anyone, and a rep reads their own.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from compensation import mbo, statements
from compensation.forms import MboScoreForm
from compensation.models import CalculationRun, RunStatus
from compensation.run_review import MAX_ISSUES_KEPT, run_review
from compensation.selectors import months_of
from compensation.services.paycycle import frozen_period_ids
from compensation.tasks import enqueue_recompute
from compensation.views_ops import statement_operations
from compensation.visibility import (
    may_score,
    payee_ids_visible_to,
    payee_visible_to,
    period_by_pk,
    periods_for_runs,
    periods_for_scoring,
    run_by_pk,
)
from spm.org.models import Period, PeriodKind, Person
from spm.org.selectors import person_for_user
from spm.tenancy.models import Role
from spm.tenancy.permissions import role_required
from spm.tenancy.today import tenant_today
from spm.web import add_service_errors, neutralise


def _visible_ids(request: HttpRequest, period: Period | None) -> set[int] | None:
    return payee_ids_visible_to(membership=request.membership, period=period)


def _period_or_404(period_id: Any) -> Period:
    period = period_by_pk(period_id)
    if period is None:
        raise Http404("No such period.")
    return period


def _person_visible_or_404(request: HttpRequest, person_id: int, period: Period) -> Person:
    person = payee_visible_to(membership=request.membership, person_id=person_id, period=period)
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
    today = tenant_today(request.tenant)
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
        "periods": months, **statement_operations(request, person, period, statement),
    })


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
    periods = periods_for_runs()
    status = request.GET.get("status", "")
    runs = statements.latest_runs(status=status if status in RunStatus.values else None)
    return render(request, "compensation/run_list.html", {
        "runs": runs, "periods": periods, "statuses": RunStatus.choices,
        "status": status if status in RunStatus.values else "",
    })


@require_safe
@role_required(Role.ADMIN, Role.FINANCE)
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """A run's outcome, every issue with its payee, deal, reason and fix (each at #issue-<n>),
    and the payees credited much but paid nothing."""
    run = run_by_pk(run_id)
    if run is None:
        raise Http404("No such calculation run.")
    return render(request, "compensation/run_detail.html", {
        "review": run_review(run=run), "run": run, "max_issues_kept": MAX_ISSUES_KEPT,
    })


run_detail.model = CalculationRun  # type: ignore[attr-defined]


@require_POST
@role_required(Role.ADMIN, Role.FINANCE)
def run_recalculate(request: HttpRequest) -> HttpResponse:
    period = period_by_pk(request.POST.get("period", ""))
    if period is None:
        messages.error(request, "Choose a period to recalculate.")
    elif period.is_locked:
        messages.error(request, f"{period} is locked, so its results are final; unlock it "
                                "before recalculating.")
    elif frozen_period_ids([p.pk for p in (period, *months_of(period))]):
        messages.error(request, f"{period}'s pay (or a month in it) is approved, so it is not "
                                "recalculated: reopen it with a reason on its pay cycle page "
                                "first.")
    else:
        enqueue_recompute(tenant=request.tenant, period_id=period.pk, user=request.user)
        messages.success(request, f"Recalculation of {period} queued; the list below shows it "
                                  "when it has run.")
    return redirect(reverse("compensation:run-list"))


# -- MBO scores ------------------------------------------------------------------------------


@require_safe
def mbo_list(request: HttpRequest) -> HttpResponse:
    """The MBO windows of a period for everyone the member may see, with their scores."""
    periods = periods_for_scoring()
    chosen = request.GET.get("period")
    today = tenant_today(request.tenant)
    # MBOs are mostly quarterly: open on the quarter in progress.
    period = next((p for p in periods if str(p.pk) == chosen), None) or next(
        (p for p in periods if p.kind == PeriodKind.QUARTER and p.contains(today)),
        periods[0] if periods else None)
    rows: list[mbo.MboWindow] = []
    if period is not None:
        rows = mbo.mbo_windows(period=period, person_ids=_visible_ids(request, period))
    scorable = {r.person.pk for r in rows if may_score(request.membership, r.person)}
    return render(request, "compensation/mbo_list.html", {
        "periods": periods, "period": period, "rows": rows, "scorable": scorable,
    })


class _Rollback(Exception):
    pass


def _save_scores(request: HttpRequest, person: Person,
                 entries: list[tuple[mbo.MboWindow, MboScoreForm]]) -> int | None:
    """Save every changed score, or none when one is refused; the count saved, or None."""
    changed = [(row, form) for row, form in entries if form.has_changed()]
    try:
        with transaction.atomic():
            refused = False
            for row, form in changed:
                try:
                    mbo.mbo_score_set(payee=person, component=row.component, window=row.window,
                                      score_pct=form.cleaned_data["score_pct"],
                                      comment=form.cleaned_data["comment"], actor=request.user)
                except ValidationError as exc:
                    add_service_errors(form, exc)
                    refused = True
            if refused:
                raise _Rollback
    except _Rollback:
        return None
    return len(changed)


@require_http_methods(["GET", "HEAD", "POST"])
def mbo_person(request: HttpRequest, period_id: int, person_id: int) -> HttpResponse:
    """One person's MBO windows in a period: a form for whoever may score them, else a list."""
    period = _period_or_404(period_id)
    person = _person_visible_or_404(request, person_id, period)
    editable = may_score(request.membership, person)
    if request.method == "POST" and not editable:
        raise PermissionDenied("Your role does not let you enter this person's scores.")
    rows = mbo.mbo_windows(period=period, person_ids=[person.pk])
    data = request.POST if request.method == "POST" else None
    entries = [
        (row, MboScoreForm(data, prefix=row.key, read_only=not editable or row.locked,
                           initial={"score_pct": row.score.score_pct if row.score else None,
                                    "comment": row.score.comment if row.score else ""}))
        for row in rows
    ]
    if data is not None and all(form.is_valid() for _, form in entries):
        saved = _save_scores(request, person, entries)
        if saved is not None:
            if saved:
                messages.success(request, f"Saved {saved} score change(s) for {person}.")
            else:
                messages.info(request, "Nothing changed.")
            return redirect(reverse("compensation:mbo-person",
                                    kwargs={"period_id": period.pk, "person_id": person.pk}))
    return render(request, "compensation/mbo_person.html", {
        "person": person, "period": period, "entries": entries, "editable": editable,
        "can_save": editable and any(not row.locked for row in rows),
    })
