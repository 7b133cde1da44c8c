"""Import operations: preview an uploaded file into an ImportBatch, apply a previewed batch whole
or not at all, and import a file in one call for the command and the benchmark."""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from spm.crm.models import Account, ImportBatch, ImportStatus
from spm.crm.services import RowsInvalid, UpsertResult, accounts_upsert
from spm.crm.upserts import upsert_for
from spm.org.services import people_place_under_managers
from spm.tasks import dispatch_on_commit
from spm.tenancy.actors import acting_user

from .fields import KINDS
from .options import ImportOptions
from .reading import ImportFileError, read_table
from .references import GENERATED_ACCOUNT_PREFIX, NewAccount, generated_account_id
from .validation import ImportCheck, RowProblem, check_table

logger = logging.getLogger(__name__)

MAX_STORED_ERRORS = 100_000
MAX_STORED_VALUE = 200
WHOLE_FILE = 0  # the row number of a problem that belongs to no single row
REHEARSAL_MAX_ROWS = 20_000


@dataclass
class ImportResult(UpsertResult):
    """What a write did: the rows of the file, and what came with them."""

    accounts_created: int = 0  # deals naming accounts that did not exist (an option)
    accounts_adopted: int = 0  # accounts made by name that an accounts file gave their ID
    teams_created: int = 0  # people: a team for each manager without one
    teams_moved: int = 0
    people_placed: int = 0  # people put in their manager's team (or moved to it)


@dataclass
class ImportOutcome:
    check: ImportCheck
    result: ImportResult | None = None
    batch: ImportBatch | None = None


def import_check(
    *,
    kind: str,
    content: bytes,
    file_name: str = "",
    sheet: str = "",
    options: ImportOptions | None = None,
) -> ImportCheck:
    """Read and check a file without writing anything; raises ImportFileError if unreadable."""
    if kind not in KINDS:
        raise ValueError(f"Unknown import kind {kind!r}; expected one of {', '.join(KINDS)}.")
    return check_table(
        KINDS[kind], read_table(content, file_name=file_name, sheet=sheet), options
    )


@transaction.atomic
def import_preview(
    *,
    kind: str,
    content: bytes,
    file_name: str,
    sheet: str = "",
    actor: Any = None,
    options: ImportOptions | None = None,
) -> ImportBatch:
    """Check a file and keep it, with what applying it would do, as a batch to confirm.

    Up to REHEARSAL_MAX_ROWS rows, applying is rehearsed in a savepoint that is rolled back, so
    the preview also reports the problems only the write itself finds and how many rows would be
    created or updated; a bigger file would keep the page waiting too long for that.
    Raises ImportFileError (and keeps nothing) when the file cannot be read at all.
    """
    options = options or ImportOptions()
    check = import_check(
        kind=kind, content=content, file_name=file_name, sheet=sheet, options=options
    )
    batch = ImportBatch(
        kind=kind,
        file_name=file_name[:255],
        sheet=check.sheet[:100],
        uploaded_by=acting_user(actor),
        options=options.as_json(),
    )
    _preview_into(batch, check, content, actor)
    batch.save()
    return batch


@transaction.atomic
def import_recheck(
    *, batch: ImportBatch, actor: Any = None, options: ImportOptions | None = None
) -> ImportBatch:
    """Check a previewed batch's file again, after a stage mapping or with other options.

    Raises ValidationError for a batch that is applying, applied, or no longer has its file.
    """
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status not in (ImportStatus.PREVIEWED, ImportStatus.FAILED) or not batch.content:
        raise ValidationError(
            "This import can no longer be checked again; upload the file again instead."
        )
    if options is not None:
        batch.options = options.as_json()
    content = bytes(batch.content)
    try:
        check = import_check(
            kind=batch.kind, content=content, file_name=batch.file_name, sheet=batch.sheet,
            options=ImportOptions.from_json(batch.options),
        )
    except ImportFileError as exc:  # it was read before; only a change of the reader fails here
        raise ValidationError(str(exc)) from None
    _preview_into(batch, check, content, actor)
    batch.save()
    return batch


def _preview_into(batch: ImportBatch, check: ImportCheck, content: bytes, actor: Any) -> None:
    rehearse = check.ok and check.row_count <= REHEARSAL_MAX_ROWS
    plan = _rehearse(check, actor) if rehearse else None
    batch.status = ImportStatus.PREVIEWED if check.ok else ImportStatus.FAILED
    # A file whose problems the preview page can fix (a stage to map, accounts to create) is
    # kept so it can be checked again without another upload; any other failed file is not.
    batch.content = content if check.ok or check.fixable_on_preview else b""
    _record(batch, check)
    if plan is not None:
        batch.preview["plan"] = _counts(plan)


@transaction.atomic
def import_request_apply(*, batch: ImportBatch, actor: Any = None) -> ImportBatch:
    """Confirm a previewed batch: mark it applying and have a worker write it after commit.

    Without a broker (the embedded setup) the task runs in-process as soon as the request's
    transaction commits.
    """
    from .tasks import import_apply_task

    batch = _lock_for_apply(batch)
    if batch.status == ImportStatus.APPLYING:
        return batch  # confirmed twice (a double click): one write is on its way
    batch.status = ImportStatus.APPLYING
    batch.save(update_fields=["status"])
    user = acting_user(actor)
    dispatch_on_commit(
        import_apply_task, tenant=batch.tenant_id, batch_id=batch.pk,
        actor_id=user.pk if user is not None else None,
    )
    return batch


@transaction.atomic
def import_apply(*, batch: ImportBatch, actor: Any = None) -> ImportBatch:
    """Re-read and re-check the stored file, then write every row or none.

    A batch that now has problems (someone deleted a referenced owner since the preview, say) is
    marked failed with its error report; nothing of it is written.
    """
    batch = _lock_for_apply(batch)
    try:
        check = import_check(
            kind=batch.kind, content=bytes(batch.content), file_name=batch.file_name,
            sheet=batch.sheet, options=ImportOptions.from_json(batch.options),
        )
    except ImportFileError as exc:
        batch.error_report = [RowProblem(WHOLE_FILE, "", str(exc)).as_dict()]
        batch.error_count = 1
        return _finish(batch, ImportStatus.FAILED)
    result = _write(check, actor) if check.ok else None
    _record(batch, check, preview=False)
    if result is None:
        return _finish(batch, ImportStatus.FAILED)
    batch.created_count = result.created
    batch.updated_count = result.updated
    batch.unchanged_count = result.unchanged
    batch.applied_at = timezone.now()
    batch.preview = {**batch.preview, "applied": _counts(result)}
    return _finish(batch, ImportStatus.APPLIED)


@transaction.atomic
def import_file(
    *,
    kind: str,
    content: bytes,
    file_name: str,
    sheet: str = "",
    actor: Any = None,
    dry_run: bool = False,
    options: ImportOptions | None = None,
) -> ImportOutcome:
    """Check and, when every row is good, write a file in one go (scripts and benchmarks).

    With problems nothing is written and `outcome.check.errors` lists them; a dry run rehearses
    the write and rolls it back. A written file is recorded as an applied batch.
    """
    options = options or ImportOptions()
    check = import_check(
        kind=kind, content=content, file_name=file_name, sheet=sheet, options=options
    )
    if not check.ok:
        return ImportOutcome(check)
    if dry_run:
        return ImportOutcome(check, result=_rehearse(check, actor))
    result = _write(check, actor)
    if result is None:
        return ImportOutcome(check)
    batch = ImportBatch(
        kind=kind,
        file_name=file_name[:255],
        sheet=check.sheet[:100],
        uploaded_by=acting_user(actor),
        options=options.as_json(),
        created_count=result.created,
        updated_count=result.updated,
        unchanged_count=result.unchanged,
        applied_at=timezone.now(),
    )
    _record(batch, check)
    batch.preview["applied"] = _counts(result)
    batch.status = ImportStatus.APPLIED
    batch.save()
    return ImportOutcome(check, result=result, batch=batch)


@transaction.atomic
def import_fail(*, batch: ImportBatch, row: int, reason: str) -> ImportBatch:
    """Give up on a batch with one problem that explains why; nothing of it is written."""
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    batch.error_report = [*batch.error_report, RowProblem(row, "", reason).as_dict()]
    batch.error_count += 1
    return _finish(batch, ImportStatus.FAILED)


# -- helpers --------------------------------------------------------------------------------------


def _lock_for_apply(batch: ImportBatch) -> ImportBatch:
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.status not in (ImportStatus.PREVIEWED, ImportStatus.APPLYING):
        raise ValidationError(f"This import is {batch.get_status_display().lower()} already.")
    return batch



class _Rehearsal(Exception):
    """Carries a rehearsed result out of the savepoint it rolls back."""

    def __init__(self, result: ImportResult) -> None:
        self.result = result


def _write(check: ImportCheck, actor: Any) -> ImportResult | None:
    """Upsert in a savepoint; on refusal add the problems to `check` and return None.

    Around the rows themselves: accounts a deals file names are created first (when asked),
    accounts made by name take the ID an accounts file gives them, and a roster's reporting
    lines become the team tree once its people are written.
    """
    try:
        with transaction.atomic():
            rows = check.upsert_rows()
            adopted = _adopt_accounts(check)
            accounts_created = _create_named_accounts(check, rows, actor)
            written = upsert_for(check.kind.name)(rows=rows, actor=actor)
            result = ImportResult(
                **{f.name: getattr(written, f.name) for f in fields(UpsertResult)},
                accounts_created=accounts_created,
                accounts_adopted=adopted,
            )
            if check.reports:
                placed = people_place_under_managers(
                    reports=check.reports, on=check.effective_date,
                    from_hire_date=check.new_people, actor=actor,
                )
                result.teams_created = placed.teams_created
                result.teams_moved = placed.teams_moved
                result.people_placed = placed.people_placed
            return result
    except RowsInvalid as exc:
        check.errors.extend(_row_problems(check, exc))
    except ValidationError as exc:
        # The team tree refused the reporting lines (the file's checks catch nearly all of it).
        column = check.headers.get("manager", "")
        check.errors.extend(RowProblem(WHOLE_FILE, column, message) for message in exc.messages)
    except DatabaseError as exc:
        # Validation should leave nothing for the database to refuse; a concurrent write of the
        # same keys (another import, the API) still can.
        logger.warning("import of %s refused by the database: %s", check.kind.name, exc)
        check.errors.append(
            RowProblem(
                WHOLE_FILE, "",
                "The database refused the rows, probably because the same records were being "
                "changed at the same moment. Nothing was written; try again.",
            )
        )
    return None


def _adopt_accounts(check: ImportCheck) -> int:
    for pk, external_id in check.account_adoptions.items():
        Account.objects.filter(pk=pk).update(external_id=external_id)
    return len(check.account_adoptions)


def _create_named_accounts(check: ImportCheck, rows: list[dict[str, Any]], actor: Any) -> int:
    """Create the accounts a deals file names that do not exist, and point its rows at them."""
    if not check.accounts_to_create:
        return 0
    taken = set(
        Account.objects.filter(external_id__startswith=GENERATED_ACCOUNT_PREFIX).values_list(
            "external_id", flat=True
        )
    )
    external_ids: dict[str, str] = {}
    for key in check.accounts_to_create:
        external_ids[key] = generated_account_id(key, taken)
        taken.add(external_ids[key])
    created = accounts_upsert(
        rows=[{"external_id": external_ids[key], "name": name}
              for key, name in check.accounts_to_create.items()],
        actor=actor,
    )
    for row in rows:
        account = row.get("account_id")
        if isinstance(account, NewAccount):
            row["account_id"] = created.ids[external_ids[account.key]]
    return created.created


def _rehearse(check: ImportCheck, actor: Any) -> ImportResult | None:
    try:
        with transaction.atomic():
            result = _write(check, actor)
            if result is not None:
                raise _Rehearsal(result)
    except _Rehearsal as done:
        return done.result
    return None


def _row_problems(check: ImportCheck, exc: RowsInvalid) -> list[RowProblem]:
    labels = {f.name: f.label for f in check.kind.fields}
    return [
        RowProblem(
            check.row_number(error.index),
            check.headers.get(error.field, labels.get(error.field, error.field)),
            error.message,
        )
        for error in exc.row_errors
    ]


def _record(batch: ImportBatch, check: ImportCheck, *, preview: bool = True) -> None:
    batch.row_count = check.row_count
    batch.error_count = len(check.errors)
    batch.error_report = [
        {**e.as_dict(), "value": e.value[:MAX_STORED_VALUE]}
        for e in check.errors[:MAX_STORED_ERRORS]
    ]
    batch.notices = list(check.notices)
    if preview:
        batch.preview = {**check.preview, "sheets": check.sheet_names}


def _finish(batch: ImportBatch, status: str) -> ImportBatch:
    batch.status = status
    # The facts are in their tables now (or were refused): the file has served its purpose.
    batch.content = b""
    batch.save()
    return batch


def _counts(result: ImportResult) -> dict[str, int]:
    counts = {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "stage_changes": result.stage_changes,
    }
    for name in ("accounts_created", "accounts_adopted", "teams_created", "teams_moved",
                 "people_placed"):
        if getattr(result, name):
            counts[name] = getattr(result, name)
    return counts


