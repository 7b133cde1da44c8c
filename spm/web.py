"""The web toolkit every app's pages share: sorting, pagination, filter forms, putting a service's
ValidationError on a form or in messages, and CSV cells a spreadsheet shows but never runs."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed

# The spreadsheet rules live without Django, so pure modules (the import error export) share them.
from spm.csv_cells import FORMULA_PREFIXES, csv_safe, neutralise  # noqa: F401 - for the views

PAGE_SIZE = 50

# -- sorting -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SortLink:
    url: str
    direction: str | None  # "asc" or "desc" when the list is sorted by this column


def sort_key(raw: str | None, *, allowed: Collection[str], default: str) -> str:
    """The sort key in force ("name" or "-name"): `raw` when it names an allowed column, else
    `default`, so raw input never picks what is sorted on."""
    return raw if isinstance(raw, str) and raw.lstrip("-") in allowed else default


def sort_order(
    raw: str | None, *, allowed: Mapping[str, str], default: str
) -> tuple[str, list[str]]:
    """The sort key in force and its order_by fields.

    Only keys of `allowed` map to fields, so raw input never reaches order_by; anything else
    falls back to `default`. A trailing "-pk" keeps pages stable when values tie.
    """
    key = sort_key(raw, allowed=allowed, default=default)
    field_name = allowed[key.lstrip("-")]
    prefix = "-" if key.startswith("-") else ""
    return key, [f"{prefix}{field_name}", "-pk"]


def sort_links(request: HttpRequest, *, allowed: Collection[str], current: str) -> dict:
    """For each sortable column, the URL that sorts by it (toggling direction when it is current),
    keeping every other parameter but the page."""
    links: dict[str, SortLink] = {}
    for key in allowed:
        params = request.GET.copy()
        params.pop("page", None)
        direction = None
        if current == key:
            direction, params["sort"] = "asc", f"-{key}"
        elif current == f"-{key}":
            direction, params["sort"] = "desc", key
        else:
            params["sort"] = key
        links[key] = SortLink(url=f"?{params.urlencode()}", direction=direction)
    return links


# -- pagination ----------------------------------------------------------------------------------


def paginate(request: HttpRequest, items: Any, *, count: int | None = None) -> Page:
    """The requested page; `page=abc` or a page past the end give the first or last page.

    `count`, when the caller already knows it (from a totals query), saves a COUNT(*).
    """
    paginator = Paginator(items, PAGE_SIZE)
    if count is not None:
        paginator.__dict__["count"] = count  # Paginator.count is a cached_property
    return paginator.get_page(request.GET.get("page"))


def page_query(request: HttpRequest) -> str:
    """The current parameters without the page number, for pagination links."""
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# -- filter forms and detail pages ---------------------------------------------------------------


def report_ignored_filters(request: HttpRequest, form: forms.Form) -> None:
    """Tell the member which filter values were not understood; the list ignores them."""
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else None
        where = f"{label}: " if label else ""
        messages.warning(request, f"Filter ignored. {where}{' '.join(errors)}")


def style_filter_form(form: forms.Form) -> None:
    """Bootstrap classes on a filter form's widgets, so templates can loop over its fields."""
    for bound in form:
        widget = bound.field.widget
        if isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select form-select-sm")
        else:
            widget.attrs.setdefault("class", "form-control form-control-sm")
        if isinstance(widget, forms.DateInput):
            widget.input_type = "date"


def detail_only_get(request: HttpRequest) -> HttpResponse | None:
    """Detail pages look the object up before checking the method, so a foreign or missing id is
    404 whatever the method (nothing about it leaks through a 405)."""
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return None


# -- a service's refusal, shown where the member acts --------------------------------------------


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Put a service's ValidationError on the form: on the fields it names when the form has them,
    the rest on the form as a whole."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error.messages)
        return
    for field, field_messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, field_messages)


def message_service_errors(request: HttpRequest, error: ValidationError) -> None:
    """Show a service's ValidationError as error messages, each led by the field it names."""
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            messages.error(request, message)
        return
    for field, field_messages in error.message_dict.items():
        label = "" if field == "__all__" else f"{field.replace('_', ' ').capitalize()}: "
        for message in field_messages:
            messages.error(request, f"{label}{message}")


