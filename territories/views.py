"""Territory pages: the tree, a territory, coverage, assignment rules with preview and apply,
the audit of assignment changes, balancing proposals, and an account's territory history.

Admins change things; finance reads everything; managers and reps read the territories they
(or the people they may see) own. Object pages look the row up before checking the method, so
another tenant's id is a 404 whatever the method.
"""

from __future__ import annotations

import datetime
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from spm.crm.models import Account
from spm.tenancy.models import Role
from spm.tenancy.permissions import can_configure, can_see_everyone, role_required
from spm.tenancy.today import tenant_today
from spm.web import (
    add_service_errors,
    detail_only_get,
    message_service_errors,
    page_query,
    paginate,
)

from . import proposals
from .forms import AssignmentRuleForm, BalanceForm, DayForm, EffectiveDateForm, ReassignForm
from .models import (
    AssignmentChange,
    AssignmentRule,
    BalancingProposal,
    ProposalStatus,
    Territory,
)
from .selectors import (
    account_by_pk,
    accounts_in_territory_by_potential,
    assignment_change_by_pk,
    assignment_changes,
    assignment_history,
    assignment_rule_by_pk,
    assignment_rules,
    coverage_report,
    names_for_moves,
    next_rule_priority,
    proposal_by_pk,
    proposal_moves,
    recent_proposals,
    territory_potential_on,
    territory_surroundings,
    territory_tree_visible_to,
    territory_visible_to,
)
from .services import account_assign, assignment_rule_save, rules_apply, rules_preview

READERS = (Role.ADMIN, Role.FINANCE)
PREVIEW_SAMPLE = 200


def _day(request: HttpRequest) -> datetime.date:
    """The `on` parameter, or the tenant's today; a junk date is reported and ignored."""
    form = DayForm(request.GET or None)
    if form.is_bound and form.is_valid() and form.cleaned_data["on"]:
        return form.cleaned_data["on"]
    if form.is_bound and form.errors:
        messages.warning(request, "That date was not understood; showing today instead.")
    return tenant_today(request.tenant)


# -- the tree and one territory ------------------------------------------------------------------


@require_safe
def territory_tree(request: HttpRequest) -> HttpResponse:
    on = _day(request)
    tree = territory_tree_visible_to(membership=request.membership, on=on)
    roots = tree.roots
    total_accounts = sum(ld.subtree_accounts for ld in roots)
    total_potential = sum((ld.subtree_potential for ld in roots), start=0)
    return render(request, "territories/tree.html", {
        "roots": roots,
        "on": on,
        "day_form": DayForm(initial={"on": on}),
        "total_accounts": total_accounts,
        "total_potential": total_potential,
        "territory_count": tree.territory_count,
    })


def territory_detail(request: HttpRequest, pk: int) -> HttpResponse:
    on = _day(request)
    territory = territory_visible_to(membership=request.membership, territory_id=pk, on=on)
    if territory is None:
        raise Http404("No such territory.")
    if (refused := detail_only_get(request)) is not None:
        return refused
    load = territory_potential_on(on=on)[territory.pk]
    page = paginate(request, accounts_in_territory_by_potential(territory=territory, on=on))
    around = territory_surroundings(territory=territory)
    return render(request, "territories/detail.html", {
        "territory": territory,
        "load": load,
        "on": on,
        "page": page,
        "page_query": page_query(request),
        "ancestors": around.ancestors,
        "children": around.children,
        "ownerships": around.ownerships,
        "rules": around.rules,
    })


territory_detail.model = Territory  # type: ignore[attr-defined]


# -- coverage ------------------------------------------------------------------------------------


@require_safe
@role_required(*READERS)
def coverage(request: HttpRequest) -> HttpResponse:
    on = _day(request)
    report = coverage_report(on=on)
    return render(request, "territories/coverage.html", {
        "report": report, "on": on, "day_form": DayForm(initial={"on": on}),
        "assigned_count": report.account_count - report.unassigned_count,
    })


# -- assignment rules ----------------------------------------------------------------------------


@require_safe
@role_required(*READERS)
def rule_list(request: HttpRequest) -> HttpResponse:
    return render(request, "territories/rule_list.html", {
        "rules": assignment_rules(),
        "preview_form": EffectiveDateForm(initial={"effective_date": tenant_today(request.tenant)}),
    })


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(Role.ADMIN)
def rule_add(request: HttpRequest) -> HttpResponse:
    return _rule_form(request, AssignmentRule())


@role_required(Role.ADMIN)
def rule_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rule = assignment_rule_by_pk(pk)
    if rule is None:
        raise Http404("No such rule.")
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    return _rule_form(request, rule)


rule_edit.model = AssignmentRule  # type: ignore[attr-defined]


def _rule_form(request: HttpRequest, rule: AssignmentRule) -> HttpResponse:
    if request.method == "POST":
        form = AssignmentRuleForm(request.POST, instance=rule)
        if form.is_valid():
            saved = assignment_rule_save(rule=form.save(commit=False), actor=request.user)
            messages.success(
                request, f"Rule “{saved.name}” saved. Preview to see what it would move."
            )
            return redirect("territories:rule-list")
    else:
        initial = {}
        if rule.pk is None:
            initial["priority"] = next_rule_priority()
        form = AssignmentRuleForm(instance=rule, initial=initial)
    return render(request, "territories/rule_form.html", {"form": form, "rule": rule})


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(Role.ADMIN)
def rules_preview_page(request: HttpRequest) -> HttpResponse:
    """GET shows what the active rules would do on the date; POST applies exactly that."""
    data = request.POST if request.method == "POST" else request.GET
    form = EffectiveDateForm(data or None)
    if not form.is_valid():
        return render(request, "territories/rules_preview.html", {"form": form, "preview": None})
    effective_date = form.cleaned_data["effective_date"]
    if request.method == "POST":
        try:
            change = rules_apply(
                effective_date=effective_date, actor=request.user,
                expected_digest=request.POST.get("digest") or "missing",
            )
        except ValidationError as error:
            message_service_errors(request, error)
        else:
            messages.success(
                request, f"{change.moved_count} account(s) moved from {effective_date}."
            )
            return redirect("territories:change-detail", pk=change.pk)
    preview = rules_preview(effective_date=effective_date)
    moves = preview.moves.head(PREVIEW_SAMPLE).astype(object)
    moves = moves.where(moves.notna(), None)
    territory_names = {r.rule.territory_id: r.rule.territory.name for r in preview.rules}
    sources = {int(t) for t in moves["from_territory_id"] if t is not None}
    names, source_names = names_for_moves(account_ids=[int(a) for a in moves["account_id"]],
                                          territory_ids=sources - set(territory_names))
    territory_names.update(source_names)
    rule_names = {r.rule.pk: r.rule.name for r in preview.rules}
    sample = [
        {
            "account": names.get(int(row.account_id), row.account_id),
            "from": "Unassigned" if row.from_territory_id is None
            else territory_names.get(int(row.from_territory_id)),
            "to": territory_names.get(int(row.to_territory_id)),
            "rule": rule_names.get(int(row.rule_id)),
        }
        for row in moves.itertuples()
    ]
    return render(request, "territories/rules_preview.html", {
        "form": form, "preview": preview, "sample": sample,
    })


# -- the audit of assignment changes -------------------------------------------------------------


@require_safe
@role_required(*READERS)
def change_list(request: HttpRequest) -> HttpResponse:
    page = paginate(request, assignment_changes())
    return render(request, "territories/change_list.html", {
        "page": page, "page_query": page_query(request),
    })


@role_required(*READERS)
def change_detail(request: HttpRequest, pk: int) -> HttpResponse:
    change = assignment_change_by_pk(pk)
    if change is None:
        raise Http404("No such change.")
    if (refused := detail_only_get(request)) is not None:
        return refused
    return render(request, "territories/change_detail.html", {"change": change})


change_detail.model = AssignmentChange  # type: ignore[attr-defined]


# -- balancing -----------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(*READERS)
def balance(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if not can_configure(request.membership):
            messages.error(request, "Only an admin can run the balancer.")
            return redirect("territories:balance")
        form = BalanceForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                proposal = proposals.proposal_create(
                    effective_date=data["effective_date"],
                    tolerance_pct=data["tolerance_pct"],
                    count_tolerance_pct=data["count_tolerance_pct"],
                    scope=data["scope"],
                    time_limit_s=float(data["time_limit_s"]),
                    actor=request.user,
                )
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                return redirect("territories:proposal-detail", pk=proposal.pk)
    else:
        form = BalanceForm(initial={"effective_date": tenant_today(request.tenant)})
    return render(request, "territories/balance.html",
                  {"form": form, "recent": recent_proposals(limit=20)})


def _proposal_or_404(pk: int) -> BalancingProposal:
    proposal = proposal_by_pk(pk)
    if proposal is None:
        raise Http404("No such proposal.")
    return proposal


@role_required(*READERS)
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    proposal = _proposal_or_404(pk)
    if (refused := detail_only_get(request)) is not None:
        return refused
    page = paginate(request, proposal_moves(proposal=proposal))
    territories = proposal.figures.get("territories", [])
    chart = {
        "names": [t["name"] for t in territories],
        "before": [float(t["potential_before"]) for t in territories],
        "after": [float(t["potential_after"]) for t in territories],
        "low": float(proposal.figures.get("bands", {}).get("low", 0)),
        "high": float(proposal.figures.get("bands", {}).get("high", 0)),
    }
    return render(request, "territories/proposal_detail.html", {
        "proposal": proposal,
        "figures": proposal.figures,
        "page": page,
        "page_query": page_query(request),
        "chart_json": json.dumps(chart),
        "can_decide": can_configure(request.membership)
        and proposal.status == ProposalStatus.PROPOSED,
    })


proposal_detail.model = BalancingProposal  # type: ignore[attr-defined]


def _decide(request: HttpRequest, pk: int, *, accept: bool) -> HttpResponse:
    proposal = _proposal_or_404(pk)
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        if accept:
            change = proposals.proposal_accept(proposal=proposal, actor=request.user)
            messages.success(
                request, f"Proposal accepted: {change.moved_count} account(s) moved from "
                f"{proposal.effective_date}."
            )
        else:
            proposals.proposal_reject(proposal=proposal, actor=request.user)
            messages.info(request, "Proposal rejected; nothing was changed.")
    except ValidationError as error:
        message_service_errors(request, error)
    return redirect("territories:proposal-detail", pk=proposal.pk)


@role_required(Role.ADMIN)
def proposal_accept(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, accept=True)


@role_required(Role.ADMIN)
def proposal_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, accept=False)


proposal_accept.model = BalancingProposal  # type: ignore[attr-defined]
proposal_reject.model = BalancingProposal  # type: ignore[attr-defined]


# -- one account's territories -------------------------------------------------------------------


@role_required(*READERS)
def account_territories(request: HttpRequest, pk: int) -> HttpResponse:
    """An account's territory history, and (for admins) a move from a date."""
    account = account_by_pk(pk)
    if account is None:
        raise Http404("No such account.")
    if request.method not in ("GET", "HEAD", "POST"):
        return HttpResponseNotAllowed(["GET", "HEAD", "POST"])
    form: ReassignForm | None = None
    if can_configure(request.membership):
        if request.method == "POST":
            form = ReassignForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                try:
                    change = account_assign(
                        account=account, territory=data["territory"],
                        effective_date=data["effective_date"], actor=request.user,
                        note=data["note"],
                    )
                except ValidationError as error:
                    add_service_errors(form, error)
                else:
                    if change.moved_count:
                        messages.success(request, f"{account.name} moved.")
                    else:
                        messages.info(request, f"{account.name} is in that territory already.")
                    return redirect("territories:account", pk=account.pk)
        else:
            form = ReassignForm(initial={"effective_date": tenant_today(request.tenant)})
    elif request.method == "POST":
        messages.error(request, "Only an admin can move accounts.")
        return redirect("territories:account", pk=account.pk)
    return render(request, "territories/account.html", {
        "account": account,
        "history": list(assignment_history(account=account)),
        "form": form,
        "can_see_everyone": can_see_everyone(request.membership),
    })


account_territories.model = Account  # type: ignore[attr-defined]

