"""Plan assignment imports: preview a file into a batch, apply a previewed batch whole or not at
all through the assignment services, and import a file in one call for the command."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.utils import timezone

from compensation.models import AssignmentImport, CompPlan, PlanAssignment
from compensation.services.assignments import (
    assignment_change,
    assignment_create,
    assignment_end,
    assignment_periods_refresh,
)
from spm.crm.imports.reading import ImportFileError, read_table
from spm.crm.imports.validation import RowProblem
from spm.crm.models import ImportStatus
from spm.org.models import Person
from spm.tasks import dispatch_on_commit
from spm.tenancy.actors import acting_user

from . import outcomes as rules
from .assignments import AssignmentCheck, RowOutcome, check_assignments

logger = logging.getLogger(__name__)

WHOLE_FILE = 0  # the row number of a problem that belongs to no single row
MAX_STORED_ERRORS = 100_000
MAX_STORED_VALUE = 200
# Service errors arrive keyed by model field; the file's column for each.
FIELD_COLUMNS = {"person": "person", "plan": "plan", "valid_from": "valid_from",
                 "valid_to": "valid_to", "target_incentive": "target_incentive"}


@dataclass
class Written:
    created: int = 0
    ended: int = 0
    changed: int = 0
    unchanged: int = 0

    @property
    def changes(self) -> int:
        return self.created + self.ended + self.changed


@dataclass
class ImportOutcome:
    check: AssignmentCheck
    written: Written | None = None
    batch: AssignmentImport | None = None


def assignment_import_check(*, content: bytes, file_name: str = "",
                            sheet: str = "") -> AssignmentCheck:
    """Read and check a file without writing anything; raises ImportFileError if unreadable."""
    return check_assignments(read_table(content, file_name=file_name, sheet=sheet))


@transaction.atomic
def assignment_import_preview(*, content: bytes, file_name: str, sheet: str = "",
                              actor: Any = None) -> AssignmentImport:
    """Check a file and keep it, with each row's outcome, as a batch to confirm.

    Raises ImportFileError (and keeps nothing) when the file cannot be read at all.
    """
    check = assignment_import_check(content=content, file_name=file_name, sheet=sheet)
    batch = AssignmentImport(
        file_name=file_name[:255], sheet=check.sheet[:100], uploaded_by=acting_user(actor),
        status=ImportStatus.PREVIEWED if check.ok else ImportStatus.FAILED,
        content=content if check.ok else b"")
    _record(batch, check)
    batch.save()
    return batch


@transaction.atomic
def assignment_import_request_apply(*, batch: AssignmentImport,
                                    actor: Any = None) -> AssignmentImport:
    """Confirm a previewed batch: mark it applying and have a worker write it after commit
    (in-process, as soon as the request's transaction commits, without a broker)."""
    from .tasks import assignment_import_apply_task

    batch = _lock_for_apply(batch)
    if batch.status == ImportStatus.APPLYING:
        return batch  # confirmed twice (a double click): one write is on its way
    batch.status = ImportStatus.APPLYING
    batch.save(update_fields=["status"])
    user = acting_user(actor)
    dispatch_on_commit(assignment_import_apply_task, tenant=batch.tenant_id, batch_id=batch.pk,
                       actor_id=user.pk if user is not None else None)
    return batch


@transaction.atomic
def assignment_import_apply(*, batch: AssignmentImport, actor: Any = None) -> AssignmentImport:
    """Re-read and re-check the stored file, then write every row or none.

    A batch that now has problems (someone changed an assignment since the preview, say) is
    marked failed with its error report; nothing of it is written.
    """
    batch = _lock_for_apply(batch)
    try:
        check = assignment_import_check(content=bytes(batch.content),
                                        file_name=batch.file_name, sheet=batch.sheet)
    except ImportFileError as exc:
        batch.error_report = [RowProblem(WHOLE_FILE, "", str(exc)).as_dict()]
        batch.error_count = 1
        return _finish(batch, ImportStatus.FAILED)
    written = _write(check, actor, source=batch.file_name) if check.ok else None
    _record(batch, check)
    if written is None:
        return _finish(batch, ImportStatus.FAILED)
    _count(batch, written)
    batch.applied_at = timezone.now()
    return _finish(batch, ImportStatus.APPLIED)


@transaction.atomic
def assignment_import_file(*, content: bytes, file_name: str, sheet: str = "",
                           actor: Any = None, apply: bool = False) -> ImportOutcome:
    """Check a file and, with `apply` and no problem, write it in one go (the command).

    A written file is recorded as an applied batch, so the import page lists it.
    """
    check = assignment_import_check(content=content, file_name=file_name, sheet=sheet)
    if not check.ok or not apply:
        return ImportOutcome(check)
    written = _write(check, actor, source=file_name)
    if written is None:
        return ImportOutcome(check)
    batch = AssignmentImport(file_name=file_name[:255], sheet=check.sheet[:100],
                             uploaded_by=acting_user(actor), applied_at=timezone.now(),
                             status=ImportStatus.APPLIED)
    _record(batch, check)
    _count(batch, written)
    batch.save()
    return ImportOutcome(check, written=written, batch=batch)


@transaction.atomic
def assignment_import_fail(*, batch: AssignmentImport, reason: str) -> AssignmentImport:
    """Give up on a batch with one problem that explains why; nothing of it is written."""
    batch = AssignmentImport.objects.select_for_update().get(pk=batch.pk)
    batch.error_report = [*batch.error_report, RowProblem(WHOLE_FILE, "", reason).as_dict()]
    batch.error_count += 1
    return _finish(batch, ImportStatus.FAILED)


# -- writing --------------------------------------------------------------------------------------


class _Refused(Exception):
    def __init__(self, problems: list[RowProblem]) -> None:
        self.problems = problems


def _write(check: AssignmentCheck, actor: Any, *, source: str) -> Written | None:
    """Apply each row through the assignment services in a savepoint; on a refusal add the
    problems to `check`, roll every row back and return None."""
    try:
        with transaction.atomic():
            written = _apply_rows(check, actor, source=source)
    except _Refused as refused:
        check.errors.extend(refused.problems)
        return None
    except DatabaseError as exc:
        # The services check everything first; a concurrent write to the same people can still
        # be refused by the database.
        logger.warning("assignment import refused by the database: %s", exc)
        check.errors.append(RowProblem(WHOLE_FILE, "", (
            "The database refused the rows, probably because the same assignments were being "
            "changed at the same moment. Nothing was written; try again.")))
        return None
    # Each assignment saved asks for its payee's recompute itself (compensation.tasks).
    return written


def _apply_rows(check: AssignmentCheck, actor: Any, *, source: str) -> Written:
    rows = [r for r in check.rows if r.action != rules.UNCHANGED]
    people = Person.objects.in_bulk({r.person_id for r in rows})
    plans = CompPlan.objects.in_bulk({r.plan_id for r in rows})
    held = PlanAssignment.objects.select_related("person", "plan").in_bulk(
        {r.held_id for r in rows if r.held_id is not None})
    written = Written(unchanged=len(check.rows) - len(rows))
    touched: list[PlanAssignment] = []
    # Date order within each person, so an assignment is ended before its successor starts.
    for r in sorted(rows, key=lambda r: (r.person_id, r.valid_from)):
        try:
            if r.action in (rules.CHANGE_END, rules.END_PREVIOUS):
                touched.append(_set_end(held[r.held_id], r.new_valid_to, actor))
            if r.action == rules.CHANGE_END:
                written.changed += 1
                continue
            if r.action == rules.END_PREVIOUS:
                written.ended += 1
            touched.append(assignment_create(
                person=people[r.person_id], plan=plans[r.plan_id], valid_from=r.valid_from,
                valid_to=r.valid_to, target_incentive=r.target, notes=_note(source, r),
                actor=actor, refresh_periods=False))
            written.created += 1
        except ValidationError as exc:
            raise _Refused(_problems(check, r, exc)) from exc
    # The month shares of every assignment written, in one vectorised rebuild.
    assignment_periods_refresh(assignments=touched)
    return written


def _set_end(assignment: PlanAssignment, valid_to: Any, actor: Any) -> PlanAssignment:
    if valid_to is None:  # the file reopens an assignment that had an end
        return assignment_change(assignment=assignment, valid_to=None, actor=actor,
                                 refresh_periods=False)
    return assignment_end(assignment=assignment, valid_to=valid_to, actor=actor,
                          refresh_periods=False)


def _note(source: str, row: RowOutcome) -> str:
    return f"Imported from {source[:200]}, row {row.row}."


def _problems(check: AssignmentCheck, row: RowOutcome,
              exc: ValidationError) -> list[RowProblem]:
    if hasattr(exc, "error_dict"):
        return [RowProblem(row.row, check.column(FIELD_COLUMNS.get(name, "person")), message)
                for name, messages in exc.message_dict.items() for message in messages]
    return [RowProblem(row.row, "", message) for message in exc.messages]


# -- batches --------------------------------------------------------------------------------------


def _lock_for_apply(batch: AssignmentImport) -> AssignmentImport:
    batch = AssignmentImport.objects.select_for_update().get(pk=batch.pk)
    if batch.status not in (ImportStatus.PREVIEWED, ImportStatus.APPLYING):
        raise ValidationError(f"This import is {batch.get_status_display().lower()} already.")
    return batch


def _record(batch: AssignmentImport, check: AssignmentCheck) -> None:
    batch.row_count = check.row_count
    batch.error_count = len(check.errors)
    batch.error_report = [{**e.as_dict(), "value": e.value[:MAX_STORED_VALUE]}
                          for e in check.errors[:MAX_STORED_ERRORS]]
    batch.notices = list(check.notices)
    batch.preview = check.preview()


def _count(batch: AssignmentImport, written: Written) -> None:
    batch.created_count = written.created
    batch.ended_count = written.ended
    batch.changed_count = written.changed
    batch.unchanged_count = written.unchanged


def _finish(batch: AssignmentImport, status: str) -> AssignmentImport:
    batch.status = status
    # The assignments are in their table now (or were refused): the file has served its purpose.
    batch.content = b""
    batch.save()
    return batch


