"""Reads of import batches for the import pages; the heavy columns stay in the database."""

from __future__ import annotations

from django.db.models import QuerySet

from spm.crm.models import ImportBatch


def import_batch_by_pk(pk: int) -> ImportBatch | None:
    """One batch, or None when it is missing or another tenant's (the scoped manager)."""
    return ImportBatch.objects.select_related("uploaded_by").filter(pk=pk).first()


def recent_import_batches(*, limit: int) -> QuerySet[ImportBatch]:
    return ImportBatch.objects.select_related("uploaded_by").defer(
        "content", "error_report", "preview"
    )[:limit]
