"""Finance's pay pages: the months and their pay cycles, one period's review (approve, second
approval, reopen, lock), its payroll export, and the tenant's payroll column layout.

Admin and finance only (finance approves, locks and exports); anyone else gets 403, and a period
of another tenant is the same 404 as one that does not exist. Every change is a POST that calls
one service and redirects back; a refusal is shown as a message that says why.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from compensation import pay_pages
from compensation.models import PayrollExport
from compensation.services import paycycle, payroll
from compensation.visibility import period_by_pk
from spm.org.models import Period
from spm.tenancy.models import Role
from spm.tenancy.permissions import role_required
from spm.web import add_service_errors, message_service_errors

FINANCE = (Role.ADMIN, Role.FINANCE)
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _period_or_404(period_id: Any) -> Period:
    period = period_by_pk(period_id)
    if period is None:
        raise Http404("No such period.")
    return period


@require_safe
@role_required(*FINANCE)
def pay_cycle_list(request: HttpRequest) -> HttpResponse:
    return render(request, "compensation/pay_cycle_list.html",
                  {"months": pay_pages.month_cycles()})


@require_safe
@role_required(*FINANCE)
def pay_cycle_detail(request: HttpRequest, period_id: int) -> HttpResponse:
    period = _period_or_404(period_id)
    return render(request, "compensation/pay_cycle_detail.html",
                  {"page": pay_pages.cycle_page(period=period),
                   "formats": payroll.FORMATS})


ACTIONS = {"submit", "approve", "approve_payee", "second_approve", "reopen", "lock"}


@require_POST
@role_required(*FINANCE)
def pay_cycle_action(request: HttpRequest, period_id: int) -> HttpResponse:
    period = _period_or_404(period_id)
    action = request.POST.get("action", "")
    reason = request.POST.get("reason", "").strip()[:2000]
    payee = request.POST.get("payee", "")
    payee_ids = [int(payee)] if payee.isdigit() else None
    try:
        if action == "submit":
            paycycle.paycycle_submit(period=period, actor=request.user, reason=reason)
            done = f"{period} is in review."
        elif action in ("approve", "approve_payee"):
            if action == "approve_payee" and payee_ids is None:
                raise ValidationError("Choose the payee to approve.")
            cycle = paycycle.paycycle_approve(period=period, actor=request.user,
                                              payee_ids=payee_ids, reason=reason)
            done = ("Approved." if cycle.status != "approved"
                    else f"{period} is approved: every payee's pay is approved.")
        elif action == "second_approve":
            paycycle.paycycle_second_approve(period=period, actor=request.user,
                                             payee_ids=payee_ids, reason=reason)
            done = "Second approval recorded."
        elif action == "reopen":
            paycycle.paycycle_reopen(period=period, actor=request.user, reason=reason)
            done = f"{period} is reopened: recalculate it, then submit it for review again."
        elif action == "lock":
            paycycle.paycycle_lock(period=period, actor=request.user, reason=reason)
            done = f"{period} is locked: its pay is final."
        else:
            raise ValidationError(f"Unknown action {action[:40]!r}: choose one of "
                                  + ", ".join(sorted(ACTIONS)) + ".")
    except ValidationError as exc:
        message_service_errors(request, exc)
    else:
        messages.success(request, done)
    return redirect("compensation:pay-cycle", period_id=period.pk)


def _attachment(content: bytes, *, name: str, file_format: str) -> HttpResponse:
    response = HttpResponse(content, content_type=CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_http_methods(["GET", "POST"])
@role_required(*FINANCE)
def pay_cycle_export(request: HttpRequest, period_id: int) -> HttpResponse:
    """POST: export (the first time pays the approved payees); GET: the file already exported.
    `summary=1` gives the general-ledger summary (CSV) kept with it."""
    period = _period_or_404(period_id)
    data = request.POST if request.method == "POST" else request.GET
    file_format = data.get("format", "csv")
    if file_format not in payroll.FORMATS:
        raise Http404("No such format.")
    if request.method == "POST":
        try:
            export = payroll.payroll_export(period=period, file_format=file_format,
                                            actor=request.user)
        except ValidationError as exc:
            message_service_errors(request, exc)
            return redirect("compensation:pay-cycle", period_id=period.pk)
    else:
        export = PayrollExport.objects.filter(cycle__period=period,
                                              file_format=file_format).first()
        if export is None:
            raise Http404("Not exported yet.")
    key = f"{period.start_date:%Y-%m}"
    if data.get("summary"):
        return _attachment(bytes(export.summary), name=f"gl-summary-{key}.csv",
                           file_format="csv")
    return _attachment(bytes(export.content), name=f"payroll-{key}.{file_format}",
                       file_format=file_format)


class LayoutForm(forms.Form):
    columns = forms.CharField(
        help_text="Column keys in order, separated by commas.",
        widget=forms.TextInput(attrs={"class": "form-control"}))


@require_http_methods(["GET", "POST"])
@role_required(*FINANCE)
def payroll_layout(request: HttpRequest) -> HttpResponse:
    """Admin sets the payroll file's columns; finance reads them."""
    may_edit = request.membership.role == Role.ADMIN
    form = LayoutForm(request.POST or None,
                      initial={"columns": ", ".join(payroll.payroll_columns())})
    if request.method == "POST":
        if not may_edit:
            messages.error(request, "Only an admin changes the payroll layout.")
            return redirect("compensation:payroll-layout")
        if form.is_valid():
            try:
                payroll.payroll_layout_set(columns=form.cleaned_data["columns"].split(","),
                                           actor=request.user)
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                messages.success(request, "Payroll layout saved; files already exported keep "
                                          "the columns they were made with.")
                return redirect("compensation:payroll-layout")
    return render(request, "compensation/payroll_layout.html",
                  {"form": form, "vocabulary": payroll.COLUMNS, "may_edit": may_edit})
