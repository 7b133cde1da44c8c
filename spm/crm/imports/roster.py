"""Checks only a roster (people file) needs: a name from first and last name columns, one email
per person, managers found among the file and the people already here with no circle in the
reporting lines, and seller roles read from job titles."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

import pandas as pd

from spm.org.models import Person
from spm.org.selectors import placements_of
from spm.org.services import reporting_cycle
from spm.org.titles import role_for_title, title_rules
from spm.tenancy.today import tenant_today

from . import cleaning
from .references import PeopleIndex, resolve_each, shown

if TYPE_CHECKING:
    from spm.tenancy.models import Tenant

    from .validation import ImportCheck, Sheet

NAME_MAX = 200


def derive_name(sheet: Sheet) -> None:
    """Fill the name from first (or preferred first) and last name columns where it is empty."""
    parts = [name for name in ("preferred_first_name", "first_name", "last_name")
             if name in sheet.raw]
    if not parts:
        return
    first = sheet.raw.get("first_name", _blank(sheet))
    if "preferred_first_name" in sheet.raw:
        preferred = sheet.raw["preferred_first_name"]
        first = preferred.where(preferred != "", first)
    last = sheet.raw.get("last_name", _blank(sheet))
    combined = (first + " " + last).str.strip()
    used = " + ".join(sheet.headers[name] for name in parts)
    if "name" in sheet.raw:
        written = sheet.raw["name"]
        sheet.raw["name"] = written.where(written != "", combined)
    else:
        sheet.raw["name"] = combined
        sheet.headers["name"] = used


def _blank(sheet: Sheet) -> pd.Series:
    return pd.Series("", index=sheet.cells.index, dtype=object)


def check_people(sheet: Sheet, check: ImportCheck) -> None:
    employee_ids = sheet.raw.get("employee_id")
    if employee_ids is None or "email" not in sheet.cleaned:
        return
    _check_emails(sheet, employee_ids)
    if "manager" in sheet.raw:
        _resolve_managers(sheet, check, employee_ids)
    _derive_roles(sheet, employee_ids)


def _check_emails(sheet: Sheet, employee_ids: pd.Series) -> None:
    """Two people cannot share an email: it is how owner and manager columns find a person."""
    email = sheet.cleaned["email"]
    addresses = email.parsed.where(email.problems.isna()).dropna().astype(str).str.casefold()
    if addresses.empty:
        return
    owners = pd.DataFrame({"address": addresses, "employee_id": employee_ids[addresses.index]})
    first = owners.drop_duplicates("address")
    first_of = dict(zip(first["address"], first.index, strict=True))
    for row, address, employee_id in owners.itertuples():
        earlier = first_of[address]
        if earlier != row and employee_ids[earlier] != employee_id:
            email.fail(
                pd.Series(email.problems.index == row, index=email.problems.index),
                f"{shown(sheet.raw['email'][row])} is also the email of row {earlier} "
                f"({employee_ids[earlier]}); two people cannot share an email",
            )
    in_file = set(employee_ids)
    others = {
        address.strip().casefold(): (employee_id, name)
        for employee_id, address, name in Person.objects.exclude(
            employee_id__in=sorted(in_file)
        ).values_list("employee_id", "email", "name")
    }
    taken = addresses[addresses.isin(others)]
    for row, address in taken.items():
        employee_id, name = others[address]
        email.fail(
            pd.Series(email.problems.index == row, index=email.problems.index),
            f"{shown(sheet.raw['email'][row])} is already the email of {name} ({employee_id}), "
            "who is not in this file; two people cannot share an email",
        )


def _resolve_managers(sheet: Sheet, check: ImportCheck, employee_ids: pd.Series) -> None:
    """Find each manager among the file's people and those already here, by employee id, email
    or name, and refuse reporting lines that go round in a circle."""
    names = sheet.cleaned["name"].parsed if "name" in sheet.cleaned else _blank(sheet)
    emails = sheet.cleaned["email"].parsed
    in_file = set(employee_ids) - {""}
    stored = list(
        Person.objects.exclude(employee_id__in=sorted(in_file)).values_list(
            "employee_id", "email", "name"
        )
    )
    index = PeopleIndex.of([
        *((e, e, address, name) for e, address, name in stored),
        *((e, e, str(address or ""), str(name or ""))
          for e, address, name in zip(employee_ids, emails, names, strict=True) if e),
    ])
    managers = resolve_each(sheet.raw["manager"], index.look_up)
    unknown = managers.problems.fillna("").str.startswith("unknown person")
    managers.problems[unknown] = (
        "unknown manager: nobody in this file or already here has the employee ID, email or "
        "name " + cleaning.quoted(sheet.raw["manager"][unknown])
    )
    self_managed = managers.parsed.notna() & (managers.parsed == employee_ids)
    if self_managed.any():
        managers.parsed[self_managed] = None
        check.notices.append(
            f"{int(self_managed.sum())} person(s) are their own manager in "
            f"'{sheet.headers['manager']}' (rows {_rows(self_managed)}); they are read as "
            "reporting to no one."
        )
    sheet.cleaned["manager"] = managers
    # An empty cell means the person reports to no one: the roster is the HR system's picture
    # of the whole organisation, whose top has no manager.
    reports: dict[str, str | None] = {
        str(e): (None if m is None else str(m))
        for e, m, problem in zip(employee_ids, managers.parsed, managers.problems, strict=True)
        if e and problem is None
    }
    graph = {e: m for e, m in reports.items() if m is not None}
    day = check.effective_date
    # Whom everyone else reports to now: a circle may run through people the file leaves alone.
    kept = [p for p in Person.objects.only("pk", "employee_id") if p.employee_id not in reports]
    by_pk = {p.pk: p.employee_id for p in kept}
    for person_pk, placement in placements_of(people=kept, on=day).items():
        if placement.manager is not None:
            graph[by_pk[person_pk]] = placement.manager.employee_id
    name_of = {e: str(n) for e, n in zip(employee_ids, names, strict=True) if e}
    name_of.update({e: n for e, _, n in stored if e not in name_of})
    for row, employee_id in employee_ids.items():
        if reports.get(employee_id) is None:
            continue
        cycle = reporting_cycle(graph, employee_id)
        if cycle:
            circle = " → ".join(name_of.get(e, e) for e in cycle)
            managers.fail(
                pd.Series(managers.problems.index == row, index=managers.problems.index),
                f"{shown(sheet.raw['manager'][row])} makes the reporting lines go round in a "
                f"circle: {circle}",
            )
    check.reports = reports
    if not any(m is not None for m in reports.values()):
        check.reports = {}  # a manager column with nothing in it changes no team
    # Someone new has reported to their manager since they were hired, as far as anyone knows.
    check.new_people = set(reports) - set(
        Person.objects.filter(employee_id__in=sorted(reports)).values_list(
            "employee_id", flat=True
        )
    )


def _rows(mask: pd.Series) -> str:
    rows = [str(r) for r in mask[mask].index[:10]]
    return ", ".join(rows) + (" ..." if int(mask.sum()) > 10 else "")


def _derive_roles(sheet: Sheet, employee_ids: pd.Series) -> None:
    """A role the file does not give comes from the title, for new people and changed titles.

    A role set by hand stays while the title stays the same, so re-importing a roster does not
    undo it; a promotion (a new title) is read again.
    """
    if "title" not in sheet.cleaned:
        return
    titles = sheet.cleaned["title"].parsed
    role = sheet.cleaned.get("role")
    given = role.parsed.notna() if role is not None else pd.Series(False, index=titles.index)
    stored = dict(
        Person.objects.filter(employee_id__in=sorted(set(employee_ids) - {""})).values_list(
            "employee_id", "title"
        )
    )
    derive = ~given & pd.Series(
        [
            e not in stored or (t or "") != stored[e]
            for e, t in zip(employee_ids, titles, strict=True)
        ],
        index=titles.index,
    )
    if role is not None:
        derive &= role.problems.isna()
    if not derive.any():
        return
    rules = title_rules()
    derived = [role_for_title(str(t or ""), rules) for t in titles[derive].tolist()]
    if role is None:
        role = cleaning.Cleaned.empty_like(titles)
        sheet.cleaned["role"] = role
        sheet.raw["role"] = _blank(sheet)
        sheet.headers["role"] = f"Role (from {sheet.headers['title']})"
    role.set(derive, derived)


def effective_day(tenant: Tenant, chosen: datetime.date | None) -> datetime.date:
    """The day team changes take effect: the one chosen on upload, else the tenant's today."""
    return chosen if chosen is not None else tenant_today(tenant)
