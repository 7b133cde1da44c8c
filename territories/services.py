"""Writes for territories: the tree, ownership, effective-dated account assignment, and applying
assignment rules after a preview. Each operation is atomic and records who made the change."""

from __future__ import annotations

import datetime
import hashlib
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction

from spm.crm.models import Account
from spm.org.models import Person
from spm.tenancy.actors import acting_user
from spm.tenancy.context import require_active_tenant
from spm.tenancy.history import record_author

from .matching import ACCOUNT_COLUMNS, RuleOutcome, first_match
from .models import (
    AccountAssignment,
    AssignmentChange,
    AssignmentRule,
    ChangeKind,
    OwnerRole,
    Territory,
    TerritoryLevel,
    TerritoryOwner,
)

# -- the tree ------------------------------------------------------------------------------------


@transaction.atomic
def territory_create(
    *,
    name: str,
    parent: Territory | None = None,
    level: str = TerritoryLevel.TERRITORY,
    actor: Any = None,
) -> Territory:
    territory = Territory(name=name, parent=parent, level=level, tenant=require_active_tenant())
    record_author(territory, acting_user(actor))
    territory.full_clean(exclude=["path"])
    # The unique constraint treats NULL parents as distinct, so top-level names are checked here.
    if parent is None and Territory.objects.filter(parent__isnull=True, name=name).exists():
        raise ValidationError({"name": f"A top-level territory named {name!r} exists already."})
    territory.save()
    territory.path = f"{parent.path if parent else '/'}{territory.pk}/"
    territory.save(update_fields=["path"])
    return territory


@transaction.atomic
def territory_move(
    *, territory: Territory, parent: Territory | None, actor: Any = None
) -> Territory:
    if parent is not None and parent.path.startswith(territory.path):
        raise ValidationError(
            {"parent": "A territory cannot move under itself or its own subtree."}
        )
    old_prefix = territory.path
    new_prefix = f"{parent.path if parent else '/'}{territory.pk}/"
    territory.parent = parent
    record_author(territory, acting_user(actor))
    territory.save(update_fields=["parent"])
    for node in Territory.objects.filter(path__startswith=old_prefix).select_for_update():
        node.path = new_prefix + node.path[len(old_prefix):]
        node.save(update_fields=["path"])
    territory.refresh_from_db()
    return territory


# -- ownership -----------------------------------------------------------------------------------


@transaction.atomic
def territory_owner_set(
    *,
    territory: Territory,
    person: Person,
    valid_from: datetime.date,
    role: str = OwnerRole.PRIMARY,
    actor: Any = None,
) -> TerritoryOwner:
    """Make `person` the territory's owner in `role` from `valid_from`, ending the ownership that
    was open then. An ownership starting after `valid_from` is a later decision: refused."""
    later = TerritoryOwner.objects.filter(
        territory=territory, role=role, valid_from__gt=valid_from
    ).first()
    if later is not None:
        raise ValidationError({
            "valid_from": f"{later.person} takes this territory over on {later.valid_from}; "
            "change ownership from that date or later, or remove that ownership first."
        })
    current = (
        TerritoryOwner.objects.select_for_update()
        .valid_on(valid_from)
        .filter(territory=territory, role=role, valid_from__lt=valid_from)
        .first()
    )
    if current is not None:
        current.valid_to = valid_from
        record_author(current, acting_user(actor))
        current.save(update_fields=["valid_to"])
    owner = TerritoryOwner(territory=territory, person=person, role=role, valid_from=valid_from)
    owner.full_clean()
    record_author(owner, acting_user(actor))
    owner.save()
    return owner


# -- effective-dated account assignment -----------------------------------------------------------


def _transition_summary(
    pairs: Counter[tuple[int | None, int | None]], names: Mapping[int, str]
) -> list[dict[str, Any]]:
    def name(pk: int | None) -> str:
        return names.get(pk, f"#{pk}") if pk is not None else "Unassigned"

    return [
        {"from_id": a, "from": name(a), "to_id": b, "to": name(b), "count": n}
        for (a, b), n in sorted(pairs.items(), key=lambda item: (-item[1], name(item[0][0])))
    ]


@transaction.atomic
def assignments_write(
    *,
    targets: Mapping[int, int | None],
    effective_date: datetime.date,
    kind: str,
    actor: Any = None,
    note: str = "",
) -> AssignmentChange:
    """Put each account of `targets` (account id -> territory id, None = no territory) in its
    territory from `effective_date`: close the row open on that date, open a new one.

    An account already in its target territory is left alone. An account with a change dated
    after `effective_date` is refused, because writing under it would rewrite that decision. The
    whole set is written or none of it; the AssignmentChange says who did it and what moved.
    """
    if kind not in ChangeKind.values:
        raise ValidationError({"kind": f"Unknown kind of change {kind!r}."})
    account_ids = sorted(targets)
    known = _targets_checked(targets, account_ids)
    current = _open_rows_locked(account_ids, effective_date)
    change = AssignmentChange.objects.create(
        kind=kind, effective_date=effective_date, created_by=acting_user(actor), note=note[:500]
    )
    pairs = _assignments_move(targets, account_ids, current, effective_date, change)
    missing = {pk for pair in pairs for pk in pair if pk is not None} - set(known)
    if missing:
        known.update(Territory.objects.filter(pk__in=missing).values_list("pk", "name"))
    change.moved_count = sum(pairs.values())
    change.summary = _transition_summary(pairs, known)
    change.save(update_fields=["moved_count", "summary"])
    return change


def _targets_checked(targets: Mapping[int, int | None], account_ids: list[int]) -> dict[int, str]:
    """The target territories' names by id; refuses unknown territories and accounts."""
    territory_ids = {t for t in targets.values() if t is not None}
    known = dict(Territory.objects.filter(pk__in=territory_ids).values_list("pk", "name"))
    unknown = territory_ids - set(known)
    if unknown:
        raise ValidationError(f"Unknown territories: {sorted(unknown)}.")
    found = Account.objects.filter(pk__in=account_ids).count()
    if found != len(account_ids):
        raise ValidationError("Some accounts do not exist (or belong to another organisation).")
    return known


def _open_rows_locked(
    account_ids: list[int], effective_date: datetime.date
) -> dict[int, AccountAssignment]:
    """Each account's row open on `effective_date`, locked; refuses changes dated after it."""
    rows = list(
        AccountAssignment.objects.select_for_update()
        .filter(account_id__in=account_ids)
        .overlapping(effective_date, None)
    )
    later = sorted({
        r.account_id for r in rows
        if r.valid_from > effective_date or r.valid_to is not None
    })
    if later:
        shown = ", ".join(
            Account.objects.filter(pk__in=later[:5]).order_by("name").values_list("name", flat=True)
        )
        more = f" and {len(later) - 5} more" if len(later) > 5 else ""
        raise ValidationError({
            "effective_date": f"{len(later)} account(s) already have a change dated after "
            f"{effective_date} ({shown}{more}); choose a date on or after their latest change."
        })
    return {r.account_id: r for r in rows}


def _assignments_move(
    targets: Mapping[int, int | None],
    account_ids: list[int],
    current: Mapping[int, AccountAssignment],
    effective_date: datetime.date,
    change: AssignmentChange,
) -> Counter[tuple[int | None, int | None]]:
    """Close, retarget and open the rows that move each account; counts moves by (from, to)."""
    to_close: list[AccountAssignment] = []
    to_retarget: list[AccountAssignment] = []
    to_open: list[AccountAssignment] = []
    pairs: Counter[tuple[int | None, int | None]] = Counter()
    for account_id in account_ids:
        target = targets[account_id]
        row = current.get(account_id)
        source = row.territory_id if row is not None else None
        if source == target:
            continue
        pairs[(source, target)] += 1
        if row is not None and row.valid_from == effective_date and target is not None:
            # A range [D, D) would be empty: a second change on the same day replaces the first.
            row.territory_id, row.opened_by = target, change
            to_retarget.append(row)
            continue
        if row is not None:
            if row.valid_from == effective_date:
                row.delete()
            else:
                row.valid_to, row.closed_by = effective_date, change
                to_close.append(row)
        if target is not None:
            to_open.append(AccountAssignment(
                account_id=account_id, territory_id=target, valid_from=effective_date,
                opened_by=change,
            ))
    # Closing first frees the one-open-row index for the rows opened next.
    AccountAssignment.objects.bulk_update(to_close, ["valid_to", "closed_by"], batch_size=2000)
    AccountAssignment.objects.bulk_update(to_retarget, ["territory", "opened_by"], batch_size=2000)
    AccountAssignment.objects.bulk_create(to_open, batch_size=2000)
    return pairs


def account_assign(
    *,
    account: Account,
    territory: Territory | None,
    effective_date: datetime.date,
    actor: Any = None,
    note: str = "",
) -> AssignmentChange:
    return assignments_write(
        targets={account.pk: territory.pk if territory else None},
        effective_date=effective_date, kind=ChangeKind.MANUAL, actor=actor, note=note,
    )


# -- assignment rules: preview, then apply ---------------------------------------------------------


@dataclass(frozen=True)
class RuleReport:
    rule: AssignmentRule
    matched: int
    won: int
    warning: str = ""


@dataclass
class RulesPreview:
    """What applying the active rules on `effective_date` would do, before anything changes."""

    effective_date: datetime.date
    account_count: int
    moves: pd.DataFrame  # account_id, from_territory_id (<NA> = unassigned), to_territory_id
    unmatched_count: int
    unchanged_count: int
    rules: list[RuleReport]
    transitions: list[dict[str, Any]] = field(default_factory=list)

    @property
    def move_count(self) -> int:
        return len(self.moves)

    @property
    def newly_assigned_count(self) -> int:
        return int(self.moves["from_territory_id"].isna().sum())

    @property
    def warnings(self) -> list[str]:
        return [f"{r.rule}: {r.warning}" for r in self.rules if r.warning]

    @property
    def digest(self) -> str:
        """Fingerprint of the moves, so applying can tell whether anything changed meanwhile."""
        text = f"{self.effective_date}|" + ";".join(
            f"{a}:{f}:{t}" for a, f, t in self.moves[
                ["account_id", "from_territory_id", "to_territory_id"]
            ].astype(str).itertuples(index=False)
        )
        return hashlib.sha256(text.encode()).hexdigest()[:32]


@transaction.atomic
def assignment_rule_save(*, rule: AssignmentRule, actor: Any = None) -> AssignmentRule:
    """Create or change an assignment rule. It moves no account by itself: the rules take effect
    when they are previewed and applied from a date."""
    rule.full_clean()
    record_author(rule, acting_user(actor))
    rule.save()
    return rule


def _rule_warning(outcome: RuleOutcome, total: int) -> str:
    if outcome.matched == 0:
        return "matches no account; check its criteria."
    if outcome.matched == total and total > 1:
        return (
            "matches every account, so rules after it never decide anything; narrow it or "
            "give it the last priority."
        )
    if outcome.won == 0:
        return "every account it matches is taken by an earlier rule; it never decides."
    return ""


def rules_preview(*, effective_date: datetime.date) -> RulesPreview:
    """Evaluate the active rules (first match wins) against every account, compared with the
    assignment on `effective_date`. Accounts no rule matches keep the territory they have."""
    rules = list(AssignmentRule.objects.filter(is_active=True).select_related("territory"))
    accounts = pd.DataFrame.from_records(
        Account.objects.order_by("pk").values_list(*[
            "pk" if c == "account_id" else c for c in ACCOUNT_COLUMNS
        ]),
        columns=ACCOUNT_COLUMNS,
    )
    current = dict(
        AccountAssignment.objects.valid_on(effective_date)
        .values_list("account_id", "territory_id")
    )
    criteria = [r.criteria() for r in rules]
    decided, outcomes = first_match(accounts, criteria)
    decided["from_territory_id"] = pd.array(
        [current.get(a) for a in decided["account_id"]], dtype="Int64"
    )
    matched = decided["territory_id"].notna()
    moving = matched & (
        decided["from_territory_id"].isna()
        | (decided["from_territory_id"] != decided["territory_id"]).fillna(True)
    )
    moves = decided.loc[moving, ["account_id", "from_territory_id", "territory_id", "rule_id"]]
    moves = moves.rename(columns={"territory_id": "to_territory_id"}).reset_index(drop=True)
    names = {r.territory_id: r.territory.name for r in rules}
    missing = set(moves["from_territory_id"].dropna().astype(int)) - set(names)
    names.update(Territory.objects.filter(pk__in=missing).values_list("pk", "name"))
    pairs: Counter[tuple[int | None, int | None]] = Counter(
        (None if pd.isna(f) else int(f), int(t))
        for f, t in zip(moves["from_territory_id"], moves["to_territory_id"], strict=True)
    )
    by_rule = {o.rule_id: o for o in outcomes}
    total = len(accounts)
    return RulesPreview(
        effective_date=effective_date,
        account_count=total,
        moves=moves,
        unmatched_count=int((~matched).sum()),
        unchanged_count=int((matched & ~moving).sum()),
        rules=[
            RuleReport(rule=r, matched=by_rule[r.pk].matched, won=by_rule[r.pk].won,
                       warning=_rule_warning(by_rule[r.pk], total))
            for r in rules
        ],
        transitions=_transition_summary(pairs, names),
    )


@transaction.atomic
def rules_apply(
    *, effective_date: datetime.date, actor: Any = None, expected_digest: str | None = None
) -> AssignmentChange:
    """Apply the active rules from `effective_date`, exactly as previewed.

    `expected_digest` is the preview's digest: if accounts, rules or assignments changed since,
    the moves differ and nothing is applied.
    """
    preview = rules_preview(effective_date=effective_date)
    if expected_digest is not None and preview.digest != expected_digest:
        raise ValidationError(
            "Accounts, rules or assignments changed since the preview; review the new preview "
            "and apply again."
        )
    if preview.move_count == 0:
        raise ValidationError("The rules move no account; there is nothing to apply.")
    targets = {
        int(a): int(t)
        for a, t in zip(preview.moves["account_id"], preview.moves["to_territory_id"], strict=True)
    }
    return assignments_write(
        targets=targets, effective_date=effective_date, kind=ChangeKind.RULES, actor=actor,
        note=f"{len(preview.rules)} active rule(s)",
    )
