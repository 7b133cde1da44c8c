"""Reads of plan-assignment import batches for their pages; the heavy columns stay behind."""

from __future__ import annotations

from django.db.models import QuerySet

from compensation.models import AssignmentImport


def assignment_import_by_pk(pk: int) -> AssignmentImport | None:
    """One batch, or None when it is missing or another tenant's (the scoped manager)."""
    return AssignmentImport.objects.select_related("uploaded_by").filter(pk=pk).first()


def recent_assignment_imports(*, limit: int) -> QuerySet[AssignmentImport]:
    return AssignmentImport.objects.select_related("uploaded_by").defer(
        "content", "error_report", "preview")[:limit]
