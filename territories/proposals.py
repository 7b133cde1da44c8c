"""Balancing proposals: run the balancing engine over the book on a date and keep its moves and
figures; accept them (applied atomically through the effective-dated assignment service) or
reject them."""

from __future__ import annotations

import datetime
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pandas as pd
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from spm.tenancy.actors import acting_user

from . import balancing
from .models import (
    AccountAssignment,
    AssignmentChange,
    BalancingMove,
    BalancingProposal,
    ChangeKind,
    ProposalStatus,
    Territory,
)
from .selectors import leaf_territories
from .services import assignments_write

CENT = Decimal("0.01")


def _money(cents: int) -> str:
    return str((Decimal(int(cents)) * CENT).quantize(CENT))


def _figures(figures: balancing.Figures) -> dict[str, Any]:
    return {
        "cv_potential": round(figures.cv_potential, 4),
        "max_min_potential": (
            round(figures.max_min_potential, 3) if figures.max_min_potential else None
        ),
        "cv_count": round(figures.cv_count, 4),
        "max_min_count": round(figures.max_min_count, 3) if figures.max_min_count else None,
        "outside": figures.outside,
        "potential_min": _money(figures.potential_min),
        "potential_max": _money(figures.potential_max),
        "count_min": figures.count_min,
        "count_max": figures.count_max,
    }


def _percent(value: Decimal | None, field: str, *, required: bool) -> Fraction | None:
    if value is None:
        if required:
            raise ValidationError({field: "Give a tolerance in percent, e.g. 10."})
        return None
    if not Decimal("0") < value <= Decimal("100"):
        raise ValidationError({field: "A tolerance is a percentage above 0 and at most 100."})
    return Fraction(value) / 100


@transaction.atomic
def proposal_create(
    *,
    effective_date: datetime.date,
    tolerance_pct: Decimal,
    count_tolerance_pct: Decimal | None = None,
    scope: Territory | None = None,
    time_limit_s: float = 5.0,
    actor: Any = None,
) -> BalancingProposal:
    """Balance the leaf territories (under `scope`, or all) as the book stands on
    `effective_date`, and keep the proposed moves for someone to accept or reject."""
    tolerance = _percent(tolerance_pct, "tolerance_pct", required=True)
    count_tolerance = _percent(count_tolerance_pct, "count_tolerance_pct", required=False)
    leaves = leaf_territories(under=scope)
    if len(leaves) < 2:
        raise ValidationError({
            "scope": "Balancing needs at least two territories without sub-territories here."
        })
    leaf_ids = [t.pk for t in leaves]
    result = balancing.balance(
        _book_on(effective_date, leaf_ids),
        leaf_ids,
        balancing.BalanceSpec(
            tolerance=tolerance, count_tolerance=count_tolerance, time_limit_s=time_limit_s
        ),
    )
    proposal = BalancingProposal.objects.create(
        scope=scope,
        effective_date=effective_date,
        tolerance_pct=tolerance_pct,
        count_tolerance_pct=count_tolerance_pct,
        method=result.method[:100],
        solver_status=result.status,
        lower_bound=result.lower_bound,
        elapsed_seconds=round(result.elapsed_s, 3),
        created_by=acting_user(actor),
        figures=_result_figures(result, {t.pk: t.name for t in leaves}),
    )
    BalancingMove.objects.bulk_create(
        [
            BalancingMove(
                proposal=proposal, account_id=int(m.account_id),
                from_territory_id=int(m.from_territory_id), to_territory_id=int(m.to_territory_id),
                potential=Decimal(int(m.potential_cents)) * CENT,
            )
            for m in result.moves.itertuples()
        ],
        batch_size=2000,
    )
    return proposal


def _book_on(effective_date: datetime.date, leaf_ids: list[int]) -> pd.DataFrame:
    """The leaves' accounts on `effective_date` with their potential in cents (one query)."""
    rows = pd.DataFrame.from_records(
        AccountAssignment.objects.valid_on(effective_date).filter(territory_id__in=leaf_ids)
        .values_list("account_id", "territory_id", "account__potential"),
        columns=["account_id", "territory_id", "potential"],
    )
    if rows.empty:
        raise ValidationError({
            "effective_date": f"No account is in these territories on {effective_date}; "
            "apply the assignment rules first."
        })
    rows["potential_cents"] = [
        int((p * 100).to_integral_value()) if p is not None else 0 for p in rows["potential"]
    ]
    return rows[["account_id", "territory_id", "potential_cents"]]


def _result_figures(result: balancing.BalanceResult, names: dict[int, str]) -> dict[str, Any]:
    """The balancing's figures as kept on the proposal: before, after, bands, per territory."""
    bands = result.bands
    return {
        "before": _figures(result.before),
        "after": _figures(result.after),
        "bands": {
            "low": _money(bands.low), "high": _money(bands.high),
            "mean": _money(round(bands.mean)),
            "count_low": bands.count_low, "count_high": bands.count_high,
            "count_mean": round(float(bands.count_mean), 2),
        },
        "territories": [
            {
                "id": int(row.territory_id), "name": names[int(row.territory_id)],
                "potential_before": _money(row.potential_before),
                "potential_after": _money(row.potential_after),
                "accounts_before": int(row.accounts_before),
                "accounts_after": int(row.accounts_after),
            }
            for row in result.territories.itertuples()
        ],
        "notes": result.notes,
    }


def _lock_open(proposal: BalancingProposal) -> BalancingProposal:
    locked = BalancingProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != ProposalStatus.PROPOSED:
        raise ValidationError(
            f"This proposal was {locked.get_status_display().lower()} already; "
            "propose again to balance the book as it is now."
        )
    return locked


@transaction.atomic
def proposal_accept(*, proposal: BalancingProposal, actor: Any = None) -> AssignmentChange:
    """Apply every move of the proposal from its effective date, or none of them.

    Refused when the book changed since the proposal (an account moved, say): its moves were
    computed for a book that no longer exists.
    """
    proposal = _lock_open(proposal)
    moves = list(proposal.moves.values_list("account_id", "from_territory_id", "to_territory_id"))
    if not moves:
        raise ValidationError("This proposal moves no account; there is nothing to accept.")
    now_in = dict(
        AccountAssignment.objects.valid_on(proposal.effective_date).filter(
            account_id__in=[a for a, _, _ in moves]
        ).values_list("account_id", "territory_id")
    )
    stale = sum(1 for a, source, _ in moves if now_in.get(a) != source)
    if stale:
        raise ValidationError(
            f"{stale} account(s) of this proposal are no longer where it found them; reject it "
            "and propose again."
        )
    change = assignments_write(
        targets={a: target for a, _, target in moves},
        effective_date=proposal.effective_date,
        kind=ChangeKind.BALANCING,
        actor=actor,
        note=f"Balancing proposal {proposal.pk}",
    )
    proposal.status = ProposalStatus.ACCEPTED
    proposal.decided_by = acting_user(actor)
    proposal.decided_at = timezone.now()
    proposal.change = change
    proposal.save(update_fields=["status", "decided_by", "decided_at", "change"])
    return change


@transaction.atomic
def proposal_reject(*, proposal: BalancingProposal, actor: Any = None) -> BalancingProposal:
    proposal = _lock_open(proposal)
    proposal.status = ProposalStatus.REJECTED
    proposal.decided_by = acting_user(actor)
    proposal.decided_at = timezone.now()
    proposal.save(update_fields=["status", "decided_by", "decided_at"])
    return proposal
