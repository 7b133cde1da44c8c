"""Finding the people and accounts a file names: by employee id, email or name for people, by ID or
name for accounts. Names match whatever their case, accents and punctuation; a name that fits
several records is reported, never guessed."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field

import pandas as pd

from spm.crm.models import Account
from spm.org.models import Person
from spm.org.names import NameIndex, name_key

from . import cleaning

GENERATED_ACCOUNT_PREFIX = "by-name-"
_LABELLED = re.compile(r"(.+?)\s*[(\[]([^()\[\]]+)[)\]]")
MANY_SHOWN = 3


def shown(value: str) -> str:
    """A cell quoted as the messages quote it."""
    return str(cleaning.quoted(pd.Series([value], dtype=object))[0])


def resolve_each(
    raw: pd.Series, look_up: Callable[[str], tuple[object | None, str | None]],
    *, required: bool = False,
) -> cleaning.Cleaned:
    """Resolve every distinct cell with `look_up` (value -> (record, None) or (None, reason))."""

    def clean(values: pd.Series) -> cleaning.Cleaned:
        result = cleaning.Cleaned.empty_like(values)
        outcomes = [look_up(v) if v else (None, None) for v in values.tolist()]
        found = pd.Series([record is not None for record, _ in outcomes], index=values.index)
        if found.any():
            result.set(found, [record for record, _ in outcomes if record is not None])
        reasons = pd.Series([reason for _, reason in outcomes], index=values.index, dtype=object)
        bad = reasons.notna()
        if bad.any():
            result.fail(bad, reasons)
        if required:
            result.fail(values == "", "is empty")
        return result

    return cleaning.per_distinct_value(raw, clean)


# -- people ---------------------------------------------------------------------------------------


@dataclass
class PeopleIndex:
    """People by employee id, email (any case) and name; the record is whatever the caller keys
    people by (a primary key, or an employee id while a roster is being checked)."""

    by_employee_id: dict[str, Hashable] = field(default_factory=dict)
    by_email: dict[str, Hashable] = field(default_factory=dict)
    shared_emails: set[str] = field(default_factory=set)
    names: NameIndex = field(default_factory=NameIndex)

    @classmethod
    def of(cls, people: Iterable[tuple[Hashable, str, str, str]]) -> PeopleIndex:
        """From (record, employee id, email, name) tuples."""
        index = cls()
        for record, employee_id, email, name in people:
            index.by_employee_id[employee_id.strip()] = record
            address = email.strip().casefold()
            if address:
                if address in index.by_email and index.by_email[address] != record:
                    index.shared_emails.add(address)
                index.by_email.setdefault(address, record)
            index.names.add(name, record)
        return index

    @classmethod
    def of_tenant(cls) -> PeopleIndex:
        return cls.of(Person.objects.values_list("pk", "employee_id", "email", "name"))

    def look_up(self, written: str) -> tuple[Hashable | None, str | None]:
        record, reason = self._look_up(written)
        labelled = _LABELLED.fullmatch(written)
        if record is None and labelled is not None:
            # Workday and others write a reference as "Name (ID)": the ID decides, else the name.
            name, key = labelled.group(1).strip(), labelled.group(2).strip()
            for part in (key, name):
                found, _ = self._look_up(part)
                if found is not None:
                    return found, None
        return record, reason

    def _look_up(self, written: str) -> tuple[Hashable | None, str | None]:
        if written in self.by_employee_id:
            return self.by_employee_id[written], None
        address = written.casefold()
        if address in self.shared_emails:
            return None, f"{shown(written)} is the email of several people; use their employee ID"
        if address in self.by_email:
            return self.by_email[address], None
        record, several = self.names.look_up(written)
        if record is not None:
            return record, None
        if several:
            return None, (
                f"{shown(written)} is the name of several people; use their employee ID or email"
            )
        return None, f"unknown person: nobody has the employee ID, email or name {shown(written)}"


def resolve_people(raw: pd.Series, *, required: bool = False) -> cleaning.Cleaned:
    return resolve_each(raw, PeopleIndex.of_tenant().look_up, required=required)


# -- accounts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewAccount:
    """An account a deals file names that will be created when the file is applied."""

    key: str  # name_key of the name
    name: str  # as first written in the file


def several_values(written: str) -> list[str]:
    """HubSpot lists a deal's associations in one cell, separated by semicolons."""
    return [part.strip() for part in written.split(";") if part.strip()]


def _one_company(written: str) -> tuple[str | None, str | None]:
    parts = list(dict.fromkeys(several_values(written)))
    if len(parts) > 1:
        return None, (
            f"{shown(written)} names {len(parts)} companies, and a deal belongs to one account: "
            "export only the primary company (HubSpot: 'Associated Company (Primary)')"
        )
    return (parts[0] if parts else written), None


def resolve_account_ids(raw: pd.Series) -> cleaning.Cleaned:
    """Account IDs as the CRM wrote them ('Associated Company IDs' may list several)."""
    wanted = {v for written in set(raw) - {""} for v in several_values(written)}
    known: dict[str, int] = {}
    ordered = sorted(wanted)
    for start in range(0, len(ordered), 5000):
        chunk = ordered[start : start + 5000]
        known.update(Account.objects.filter(external_id__in=chunk).values_list("external_id", "pk"))

    def look_up(written: str) -> tuple[int | None, str | None]:
        value, reason = _one_company(written)
        if reason is not None:
            return None, reason
        if value in known:
            return known[value], None
        return None, (
            f"unknown account: no account has the ID {shown(value)} (import accounts first)"
        )

    return resolve_each(raw, look_up)


def resolve_account_names(
    raw: pd.Series, *, create_missing: bool
) -> tuple[cleaning.Cleaned, dict[str, str], int]:
    """Accounts by name: (cleaned, names to create by key, how many rows name an unknown one).

    An unknown name is created when `create_missing`; otherwise it is a problem of its row.
    """
    if not (raw != "").any():  # every row gave an account ID: no need to read every name
        return cleaning.Cleaned.empty_like(raw), {}, 0
    accounts = list(Account.objects.values_list("pk", "name", "external_id"))
    index = NameIndex.of((name, pk) for pk, name, _ in accounts)
    external_ids = {pk: external_id for pk, _, external_id in accounts}
    to_create: dict[str, str] = {}

    def look_up(written: str) -> tuple[object | None, str | None]:
        value, reason = _one_company(written)
        if reason is not None:
            return None, reason
        record, several = index.look_up(value)
        if record is not None:
            return record, None
        if several:
            ids = ", ".join(external_ids[pk] for pk in several[:MANY_SHOWN])
            more = f" and {len(several) - MANY_SHOWN} more" if len(several) > MANY_SHOWN else ""
            return None, (
                f"{shown(value)} is the name of {len(several)} accounts ({ids}{more}); give the "
                "account's ID in an account ID column instead"
            )
        key = name_key(value)
        if not key:
            return None, f"{shown(value)} is not an account name"
        if create_missing:
            to_create.setdefault(key, value)
            return NewAccount(key=key, name=to_create[key]), None
        return None, (
            f"unknown account: no account is named {shown(value)} (import accounts first, or "
            "choose to create missing accounts)"
        )

    result = resolve_each(raw, look_up)
    unknown = int(result.problems.fillna("").str.startswith("unknown account").sum())
    return result, to_create, unknown


def generated_account_id(key: str, taken: set[str]) -> str:
    """A stable external ID for an account created from its name alone.

    The same name gives the same ID, so the accounts file that comes later can claim it (see
    `adoptable_accounts`); a clash with an existing ID gets a number.
    """
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    slug = "-".join(key.split())[:40]
    base = f"{GENERATED_ACCOUNT_PREFIX}{slug}-{digest}" if slug.isascii() else (
        f"{GENERATED_ACCOUNT_PREFIX}{digest}"
    )
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def adoptable_accounts(rows: Iterable[tuple[str, str]]) -> dict[int, str]:
    """Accounts made from a deals file by name that an accounts file now gives a real ID.

    `rows` are (external id, name) of the file. An account created by name whose name matches
    one new ID of the file, and no other account, takes that ID (primary key -> new ID), so
    the file updates it instead of adding a twin that would make its name ambiguous.
    """
    rows = list(rows)
    new_ids = {external_id for external_id, _ in rows}
    existing = set(
        Account.objects.filter(external_id__in=sorted(new_ids)).values_list(
            "external_id", flat=True
        )
    )
    generated = list(
        Account.objects.filter(external_id__startswith=GENERATED_ACCOUNT_PREFIX).values_list(
            "pk", "name"
        )
    )
    if not generated:
        return {}
    all_names = NameIndex.of(Account.objects.values_list("name", "pk"))
    file_names = NameIndex.of(
        (name, external_id) for external_id, name in rows if external_id not in existing
    )
    adopted: dict[int, str] = {}
    for pk, name in generated:
        external_id, _ = file_names.look_up(name)
        owner, _ = all_names.look_up(name)
        if external_id is not None and owner == pk and external_id not in adopted.values():
            adopted[pk] = str(external_id)
    return adopted
