"""Account and deal pages: filtered, sorted, paginated lists and detail pages, scoped by role.

A rep sees their own deals and the accounts they have deals on, a manager their subtree's, admin
and finance everything; anything else answers 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from spm.org.selectors import people_visible_to
from spm.tenancy.today import tenant_today
from spm.web import (
    detail_only_get,
    page_query,
    paginate,
    report_ignored_filters,
    sort_links,
    sort_order,
)

from .filters import AccountFilter, DealFilter
from .models import Account, Deal
from .selectors import (
    CurrencyTotal,
    account_countries,
    account_deals_visible_to,
    account_industries,
    account_visible_to,
    accounts_visible_to,
    deal_amount_totals,
    deal_product_lines,
    deal_recent_activities,
    deal_stage_steps,
    deal_visible_to,
    deals_visible_to,
)

DEAL_SORTS = {
    "name": "name",
    "account": "account__name",
    "owner": "owner__name",
    "stage": "stage__order",
    "status": "status",
    "type": "deal_type",
    "created": "created_date",
    "close": "close_date",
    "amount": "amount",
}

ACCOUNT_SORTS = {
    "name": "name",
    "segment": "segment",
    "industry": "industry",
    "country": "country",
    "employees": "employees",
    "deals": "deal_count",
}

#: How many of a deal's activities its page lists (newest first).
RECENT_ACTIVITIES = 10


def _totals_context(totals: list[CurrencyTotal], currency: str) -> dict[str, Any]:
    """The total in the tenant's currency, and any other currencies shown beside it, unconverted."""
    main = next((t for t in totals if t.currency == currency), None)
    return {
        "total": main,
        "other_totals": [t for t in totals if t.currency != currency],
        "total_count": sum(t.deals for t in totals),
    }


@require_safe
def deal_list(request: HttpRequest) -> HttpResponse:
    today = tenant_today(request.tenant)
    owners = people_visible_to(membership=request.membership, on=today)
    visible = deals_visible_to(membership=request.membership, on=today)
    filterset = DealFilter(
        request.GET or None,
        queryset=visible,
        owners=owners,
        owner_count=owners.count(),
        product_lines=deal_product_lines(deals=visible),
        request=request,
    )
    report_ignored_filters(request, filterset.form)
    sort, order = sort_order(request.GET.get("sort"), allowed=DEAL_SORTS, default="-close")
    deals = filterset.qs
    totals = _totals_context(
        deal_amount_totals(deals=deals, currency=request.tenant.currency), request.tenant.currency
    )
    page = paginate(request, deals.order_by(*order), count=totals["total_count"])
    return render(
        request,
        "crm/deal_list.html",
        {
            "filter_form": filterset.form,
            "owner_select": filterset.owner_select,
            "filtered": any(v for k, v in request.GET.items() if k not in ("sort", "page")),
            "page": page,
            "sorts": sort_links(request, allowed=DEAL_SORTS, current=sort),
            "page_query": page_query(request),
            **totals,
        },
    )


def deal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    today = tenant_today(request.tenant)
    deal = deal_visible_to(membership=request.membership, deal_id=pk, on=today)
    if deal is None:
        raise Http404("No such deal.")
    if (refused := detail_only_get(request)) is not None:
        return refused
    activities, activity_count = deal_recent_activities(deal=deal, limit=RECENT_ACTIVITIES)
    return render(
        request,
        "crm/deal_detail.html",
        {
            "deal": deal,
            "steps": deal_stage_steps(deal=deal, now=timezone.now()),
            "activities": activities,
            "activity_count": activity_count,
        },
    )


deal_detail.model = Deal  # type: ignore[attr-defined]


@require_safe
def account_list(request: HttpRequest) -> HttpResponse:
    today = tenant_today(request.tenant)
    filterset = AccountFilter(
        request.GET or None,
        queryset=accounts_visible_to(membership=request.membership, on=today),
        industries=account_industries(),
        countries=account_countries(),
        request=request,
    )
    report_ignored_filters(request, filterset.form)
    sort, order = sort_order(request.GET.get("sort"), allowed=ACCOUNT_SORTS, default="name")
    page = paginate(request, filterset.qs.order_by(*order))
    return render(
        request,
        "crm/account_list.html",
        {
            "filter_form": filterset.form,
            "filtered": any(v for k, v in request.GET.items() if k not in ("sort", "page")),
            "page": page,
            "sorts": sort_links(request, allowed=ACCOUNT_SORTS, current=sort),
            "page_query": page_query(request),
        },
    )


def account_detail(request: HttpRequest, pk: int) -> HttpResponse:
    today = tenant_today(request.tenant)
    account = account_visible_to(membership=request.membership, account_id=pk, on=today)
    if account is None:
        raise Http404("No such account.")
    if (refused := detail_only_get(request)) is not None:
        return refused
    deals = account_deals_visible_to(membership=request.membership, account=account, on=today)
    sort, order = sort_order(request.GET.get("sort"), allowed=DEAL_SORTS, default="-close")
    totals = _totals_context(
        deal_amount_totals(deals=deals, currency=request.tenant.currency), request.tenant.currency
    )
    page = paginate(request, deals.order_by(*order), count=totals["total_count"])
    return render(
        request,
        "crm/account_detail.html",
        {
            "account": account,
            "page": page,
            "sorts": sort_links(request, allowed=DEAL_SORTS, current=sort),
            "page_query": page_query(request),
            **totals,
        },
    )


account_detail.model = Account  # type: ignore[attr-defined]
