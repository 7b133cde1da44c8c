"""Import operations: preview an uploaded file into an ImportBatch, apply a previewed batch whole
or not at all, and import a file in one call for the command and the benchmark."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from spm.crm.models import ImportBatch, ImportStatus
from spm.crm.services import RowsInvalid, UpsertResult
from spm.crm.upserts import upsert_for
from spm.tasks import dispatch_on_commit

from .fields import KINDS
from .reading import ImportFileError, read_table
from .validation import ImportCheck, RowProblem, check_table

logger = logging.getLogger(__name__)

MAX_STORED_ERRORS = 100_000
MAX_STORED_VALUE = 200
WHOLE_FILE = 0  # the row number of a problem that belongs to no single row
REHEARSAL_MAX_ROWS = 20_000


@dataclass
class ImportOutcome:
    check: ImportCheck
    result: UpsertResult | None = None
    batch: ImportBatch | None = None


def import_check(*, kind: str, content: bytes, file_name: str = "", sheet: str = "") -> ImportCheck:
    """Read and check a file without writing anything; raises ImportFileError if unreadable."""
    if kind not in KINDS:
        raise ValueError(f"Unknown import kind {kind!r}; expected one of {', '.join(KINDS)}.")
    return check_table(KINDS[kind], read_table(content, file_name=file_name, sheet=sheet))


@transaction.atomic
def import_preview(
    *, kind: str, content: bytes, file_name: str, sheet: str = "", actor: Any = None
) -> ImportBatch:
    """Check a file and keep it, with what applying it would do, as a batch to confirm.

    Up to REHEARSAL_MAX_ROWS rows, applying is rehearsed in a savepoint that is rolled back, so
    the preview also reports the problems only the write itself finds and how many rows would be
    created or updated; a bigger file would keep the page waiting too long for that.
    Raises ImportFileError (and keeps nothing) when the file cannot be read at all.
    """
    check = import_check(kind=kind, content=content, file_name=file_name, sheet=sheet)
    rehearse = check.ok and check.row_count <= REHEARSAL_MAX_ROWS
    plan = _rehearse(check, actor) if rehearse else None
    batch = ImportBatch(
        kind=kind,
        file_name=file_name[:255],
        sheet=check.sheet[:100],
        uploaded_by=_user(actor),
        status=ImportStatus.PREVIEWED if check.ok else ImportStatus.FAILED,
        content=content if check.ok else b"",
    )
    _record(batch, check)
    if plan is not None:
        batch.preview["plan"] = _counts(plan)
    batch.save()
    return batch


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
    user = _user(actor)
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
            sheet=batch.sheet,
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
) -> ImportOutcome:
    """Check and, when every row is good, write a file in one go (scripts and benchmarks).

    With problems nothing is written and `outcome.check.errors` lists them; a dry run rehearses
    the write and rolls it back. A written file is recorded as an applied batch.
    """
    check = import_check(kind=kind, content=content, file_name=file_name, sheet=sheet)
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
        uploaded_by=_user(actor),
        created_count=result.created,
        updated_count=result.updated,
        unchanged_count=result.unchanged,
        applied_at=timezone.now(),
    )
    _record(batch, check)
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

    def __init__(self, result: UpsertResult) -> None:
        self.result = result


def _write(check: ImportCheck, actor: Any) -> UpsertResult | None:
    """Upsert in a savepoint; on refusal add the problems to `check` and return None."""
    try:
        with transaction.atomic():
            return upsert_for(check.kind.name)(rows=check.upsert_rows(), actor=actor)
    except RowsInvalid as exc:
        check.errors.extend(_row_problems(check, exc))
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


def _rehearse(check: ImportCheck, actor: Any) -> UpsertResult | None:
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


def _counts(result: UpsertResult) -> dict[str, int]:
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "stage_changes": result.stage_changes,
    }


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None
