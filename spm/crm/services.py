"""Writes for CRM facts: stage changes with their history, and keyed bulk upserts of deals,
accounts, leads and activities that imports and the API share."""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from spm.org.bulk import (
    Column,
    RowError,
    RowsInvalid,
    UpsertResult,
    choice,
    count,
    day,
    insert_columns,
    moment,
    money,
    plan_upsert,
    reference,
    text,
    write_upsert,
)
from spm.org.models import Person
from spm.tenancy.actors import acting_user
from spm.tenancy.context import require_active_tenant
from spm.tenancy.history import record_author
from spm.tenancy.today import tenant_today

from .models import (
    Account,
    Activity,
    ActivityKind,
    Deal,
    DealStageHistory,
    DealType,
    ForecastCategory,
    Lead,
    LeadStatus,
    Segment,
    Stage,
    StageMapping,
    stage_source_key,
)
from .signals import deals_changed

__all__ = [
    "RowError",
    "RowsInvalid",
    "UpsertResult",
    "accounts_upsert",
    "activities_upsert",
    "deal_change_stage",
    "deals_upsert",
    "leads_upsert",
    "stage_mappings_set",
    "stages_create_defaults",
]


def _currency(value: Any) -> str:
    code = str(value or "").strip().upper()
    if len(code) != 3 or not code.isalpha() or not code.isascii():
        raise ValueError(f"{value!r} is not a three-letter currency code")
    return code


@transaction.atomic
def deal_change_stage(
    *,
    deal: Deal,
    stage: Stage,
    actor: Any = None,
    at: datetime.datetime | None = None,
    lost_reason: str | None = None,
) -> Deal:
    """Move a deal to `stage`, recording the change; a move to the stage it is in does nothing.

    The forecast category follows the new stage's default, as it does in the CRMs we import from.
    """
    if stage.tenant_id != deal.tenant_id:
        raise ValidationError({"stage": "Refers to a record of another tenant."})
    locked = Deal.objects.select_for_update().get(pk=deal.pk)
    if locked.stage_id == stage.pk:
        return locked
    DealStageHistory.objects.create(
        deal=locked,
        from_stage_id=locked.stage_id,
        to_stage=stage,
        changed_at=at or timezone.now(),
        changed_by=acting_user(actor),
    )
    locked.stage = stage
    locked.status = stage.deal_status
    locked.forecast_category = stage.forecast_category
    fields = ["stage", "status", "forecast_category", "updated_at"]
    if lost_reason is not None:
        locked.lost_reason = lost_reason
        fields.append("lost_reason")
    locked.save(update_fields=fields)
    return locked


#: A new tenant's sales process, editable in the admin afterwards: (name, probability %,
#: forecast category, won, lost), in funnel order. The usual B2B funnel, with the forecast
#: categories the CRMs we import from give these stages.
DEFAULT_STAGES: tuple[tuple[str, str, str, bool, bool], ...] = (
    ("Prospecting", "10", ForecastCategory.PIPELINE, False, False),
    ("Qualification", "20", ForecastCategory.PIPELINE, False, False),
    ("Discovery", "35", ForecastCategory.PIPELINE, False, False),
    ("Proposal", "55", ForecastCategory.BEST_CASE, False, False),
    ("Negotiation", "80", ForecastCategory.COMMIT, False, False),
    ("Closed Won", "100", ForecastCategory.CLOSED, True, False),
    ("Closed Lost", "0", ForecastCategory.OMITTED, False, True),
)


@transaction.atomic
def stages_create_defaults(*, actor: Any = None) -> list[Stage]:
    """Give the active tenant the default sales stages if it has none; returns those created.

    A tenant with any stage of its own keeps exactly its own: defaults are never mixed into a
    process someone designed, and running this again creates nothing. Stages are saved one by
    one so each starts its audit trail with who created it.
    """
    if Stage.objects.exists():
        return []
    user = acting_user(actor)
    created = []
    for order, (name, probability, category, is_won, is_lost) in enumerate(DEFAULT_STAGES, 1):
        stage = Stage(
            name=name,
            order=order,
            default_probability=Decimal(probability),
            forecast_category=category,
            is_won=is_won,
            is_lost=is_lost,
        )
        record_author(stage, user)
        stage.save()
        created.append(stage)
    return created


def _deal_columns(currency: str) -> list[Column]:
    return [
        Column("name", text(255), default=""),
        Column("account_id", reference(), required=True, references=Account),
        Column("owner_id", reference(), required=True, references=Person),
        Column("stage_id", reference(), required=True, references=Stage),
        Column("amount", money(), required=True),
        Column("currency", _currency, default=currency),
        Column("forecast_category", choice(ForecastCategory)),
        Column("created_date", day(), default=tenant_today),
        Column("close_date", day(), required=True),
        Column("product_line", text(100), default=""),
        Column("deal_type", choice(DealType), default=DealType.NEW),
        Column("units", count(), default=1),
        Column("lost_reason", text(255), default=""),
        Column("margin", money(negative=True, nullable=True)),
    ]


@transaction.atomic
def deals_upsert(
    *, rows: Sequence[Mapping[str, Any]], actor: Any = None, batch_size: int = 2000
) -> UpsertResult:
    """Create or update deals by `external_id`; all rows are written or none.

    A row holds model attnames (`account_id`, `owner_id`, `stage_id`, ...), already resolved by
    the caller; columns it omits keep their stored values. An optional `stage_changed_at` per row
    says when the CRM saw the stage change (default: now). Every new deal gets a first stage
    history row and every stage change another; a row that changes nothing writes nothing, so
    re-importing the same file is a no-op.
    """
    tenant = require_active_tenant()
    columns = _deal_columns(tenant.currency)
    plan = plan_upsert(
        Deal, rows=rows, key="external_id", columns=columns, extra_keys=["stage_changed_at"]
    )
    stages = {s.pk: s for s in Stage.objects.all()}
    now = timezone.now()
    stamp = moment(nullable=True)
    changed_at: dict[int, datetime.datetime] = {}
    errors: list[RowError] = []
    for index in [c[0] for c in plan.creates] + [u[0] for u in plan.updates]:
        try:
            changed_at[index] = stamp(rows[index].get("stage_changed_at")) or now
        except ValueError as exc:
            errors.append(RowError(index, "stage_changed_at", str(exc)))
    if errors:
        raise RowsInvalid(errors)

    # A new deal's first stage is recorded too (from no stage), but it is where the deal starts,
    # not a change: only moves of deals that existed count as stage changes.
    transitions: list[tuple[str, int | None, int, datetime.datetime]] = []
    for index, values in plan.creates:
        stage = stages[values["stage_id"]]
        values["status"] = stage.deal_status
        if values["forecast_category"] is None:
            values["forecast_category"] = stage.forecast_category
        transitions.append((values["external_id"], None, stage.pk, changed_at[index]))
    for index, _pk, old, values in plan.updates:
        stage = stages[values["stage_id"]]
        values["status"] = stage.deal_status
        if values["stage_id"] != old["stage_id"]:
            if "forecast_category" not in rows[index]:
                values["forecast_category"] = stage.forecast_category
            transitions.append(
                (values["external_id"], old["stage_id"], stage.pk, changed_at[index])
            )

    update_fields = [c.name for c in columns] + ["status", "updated_at"]
    ids = write_upsert(
        Deal, plan, key="external_id", update_fields=update_fields, batch_size=batch_size
    )
    ids.update((str(rows[index]["external_id"]).strip(), pk) for index, pk in plan.unchanged)
    changed_by_id = getattr(acting_user(actor), "pk", None)
    insert_columns(
        DealStageHistory,
        {
            "deal_id": [ids[external_id] for external_id, *_ in transitions],
            "from_stage_id": [from_stage_id for _, from_stage_id, _, _ in transitions],
            "to_stage_id": [to_stage_id for _, _, to_stage_id, _ in transitions],
            "changed_at": [at for *_, at in transitions],
            "changed_by_id": [changed_by_id] * len(transitions),
        },
        batch_size=batch_size,
    )
    if plan.creates or plan.updates:
        changed = [ids[values["external_id"]] for _, values in plan.creates]
        changed += [pk for _, pk, _, _ in plan.updates]
        created, updated = len(plan.creates), len(plan.updates)
        # On commit only: a rehearsal (an import's preview) rolls back and tells nobody.
        transaction.on_commit(lambda: deals_changed.send(
            sender=Deal, tenant=tenant, created=created, updated=updated, deal_ids=changed))
    return UpsertResult(
        created=len(plan.creates),
        updated=len(plan.updates),
        unchanged=len(plan.unchanged),
        stage_changes=len(transitions) - len(plan.creates),
        ids=ids,
    )


def _simple_upsert(
    model: type,
    rows: Sequence[Mapping[str, Any]],
    columns: list[Column],
    batch_size: int,
    check: Callable[[dict[str, Any]], list[tuple[str, str]]] | None = None,
) -> UpsertResult:
    """Upsert by external id; `check` returns (field, reason) problems of one complete row."""
    plan = plan_upsert(model, rows=rows, key="external_id", columns=columns, check=check)
    ids = write_upsert(
        model, plan, key="external_id", update_fields=[c.name for c in columns],
        batch_size=batch_size,
    )
    ids.update((str(rows[index]["external_id"]).strip(), pk) for index, pk in plan.unchanged)
    return UpsertResult(
        created=len(plan.creates),
        updated=len(plan.updates),
        unchanged=len(plan.unchanged),
        ids=ids,
    )


def _country(value: Any) -> str:
    code = text(2)(value).upper()
    if code and not (code.isalpha() and code.isascii() and len(code) == 2):
        raise ValueError(f"{value!r} is not a two-letter country code")
    return code


@transaction.atomic
def accounts_upsert(
    *, rows: Sequence[Mapping[str, Any]], actor: Any = None, batch_size: int = 2000
) -> UpsertResult:
    """Create or update accounts by `external_id`; all rows are written or none."""
    columns = [
        Column("name", text(255, required=True), required=True),
        Column("industry", text(100), default=""),
        Column("segment", choice(Segment), default=Segment.SMB),
        Column("country", _country, default=""),
        Column("region", text(100), default=""),
        Column("postal_code", text(20), default=""),
        Column("employees", count(nullable=True)),
        Column("annual_revenue", money(max_digits=16, nullable=True)),
        Column("potential", money(nullable=True)),
        Column("owner_id", reference(nullable=True), references=Person),
    ]
    return _simple_upsert(Account, rows, columns, batch_size)


@transaction.atomic
def leads_upsert(
    *, rows: Sequence[Mapping[str, Any]], actor: Any = None, batch_size: int = 2000
) -> UpsertResult:
    """Create or update leads by `external_id`; all rows are written or none."""
    columns = [
        Column("source", text(64), default=""),
        Column("status", choice(LeadStatus), default=LeadStatus.NEW),
        Column("owner_id", reference(nullable=True), references=Person),
        Column("account_id", reference(nullable=True), references=Account),
        Column("converted_deal_id", reference(nullable=True), references=Deal),
        Column("created_at", moment(), required=True),
        Column("first_response_at", moment(nullable=True)),
        Column("converted_at", moment(nullable=True)),
    ]
    return _simple_upsert(Lead, rows, columns, batch_size, check=_lead_problems)


def _lead_problems(values: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    created = values["created_at"]
    for name in ("first_response_at", "converted_at"):
        if values[name] is not None and values[name] < created:
            problems.append((name, "is before the lead was created"))
    return problems


@transaction.atomic
def activities_upsert(
    *, rows: Sequence[Mapping[str, Any]], actor: Any = None, batch_size: int = 2000
) -> UpsertResult:
    """Create or update activities by `external_id`; all rows are written or none."""
    columns = [
        Column("kind", choice(ActivityKind), required=True),
        Column("person_id", reference(), required=True, references=Person),
        Column("deal_id", reference(nullable=True), references=Deal),
        Column("lead_id", reference(nullable=True), references=Lead),
        Column("at", moment(), required=True),
    ]
    return _simple_upsert(Activity, rows, columns, batch_size)


@transaction.atomic
def stage_mappings_set(
    *, mappings: Sequence[tuple[str, Stage]], actor: Any = None
) -> list[StageMapping]:
    """Remember what stage values of imported files mean: (value as the CRM writes it, stage).

    A value already mapped is pointed at the new stage; each change lands in the mapping's
    history with `actor`. Raises ValidationError for an empty value or another tenant's stage.
    """
    tenant = require_active_tenant()
    user = acting_user(actor)
    saved: list[StageMapping] = []
    for source_value, stage in mappings:
        value = str(source_value).strip()[:100]
        key = stage_source_key(value)
        if not key:
            raise ValidationError({"source_value": "Give the value as the CRM writes it."})
        if stage.tenant_id != tenant.pk:
            raise ValidationError({"stage": "Refers to a record of another tenant."})
        mapping = StageMapping.objects.select_for_update().filter(source_key=key).first()
        if mapping is None:
            mapping = StageMapping(source_value=value, stage=stage)
        elif mapping.stage_id == stage.pk:
            saved.append(mapping)
            continue
        mapping.stage = stage
        record_author(mapping, user)
        mapping.save()
        saved.append(mapping)
    return saved
