"""Plan assignment import pages (admin only, as configuring plans is): upload a file, read each
row's outcome and every problem, then apply it whole; the error report downloads as a
formula-safe CSV."""

from __future__ import annotations

import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from compensation.imports.assignments import ASSIGNMENTS, PREVIEW_ROWS
from compensation.imports.selectors import assignment_import_by_pk, recent_assignment_imports
from compensation.imports.service import (
    assignment_import_preview,
    assignment_import_request_apply,
)
from compensation.models import AssignmentImport
from spm.crm.forms import ImportUploadForm, max_upload_bytes
from spm.crm.imports.export import write_error_report
from spm.crm.imports.reading import ImportFileError
from spm.crm.models import ImportStatus
from spm.tenancy.models import Role
from spm.tenancy.permissions import role_required

ERRORS_ON_PAGE = 1000
RECENT_BATCHES = 20
REFRESH_SECONDS = 2


def _batch(batch_id: int) -> AssignmentImport:
    # The scoped manager: another tenant's batch is as absent as one that never existed.
    batch = assignment_import_by_pk(batch_id)
    if batch is None:
        raise Http404("No such import.")
    return batch


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(Role.ADMIN)
def assignment_import(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                batch = assignment_import_preview(
                    content=upload.read(), file_name=upload.name,
                    sheet=form.cleaned_data["sheet"], actor=request.user)
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                return redirect("compensation:assignment-import-batch", batch_id=batch.pk)
        status = 400
    else:
        form = ImportUploadForm()
    batches = recent_assignment_imports(limit=RECENT_BATCHES)
    return render(request, "compensation/assignment_import.html", {
        "form": form, "kind": ASSIGNMENTS, "batches": batches,
        "max_upload_bytes": max_upload_bytes(), "currency": request.tenant.currency,
    }, status=status)


@require_safe
@role_required(Role.ADMIN)
def assignment_import_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(batch_id)
    rows = batch.preview.get("rows", [])
    return render(request, "compensation/assignment_import_batch.html", {
        "batch": batch,
        "counts": batch.preview.get("counts", {}),
        "rows": rows,
        "rows_hidden": max(batch.row_count - len(rows), 0),
        "preview_rows": PREVIEW_ROWS,
        "errors": batch.error_report[:ERRORS_ON_PAGE],
        "errors_hidden": max(len(batch.error_report) - ERRORS_ON_PAGE, 0),
        "errors_unkept": max(batch.error_count - len(batch.error_report), 0),
        "can_apply": batch.status == ImportStatus.PREVIEWED,
        "applying": batch.status == ImportStatus.APPLYING,
        "refresh_seconds": REFRESH_SECONDS,
    })


@require_POST
@role_required(Role.ADMIN)
def assignment_import_apply(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(batch_id)
    try:
        assignment_import_request_apply(batch=batch, actor=request.user)
    except ValidationError as exc:
        messages.warning(request, " ".join(exc.messages))
    return redirect("compensation:assignment-import-batch", batch_id=batch.pk)


@require_safe
@role_required(Role.ADMIN)
def assignment_import_errors_csv(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(batch_id)
    out = io.StringIO()
    write_error_report(out, batch.error_report)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="assignment-import-{batch.pk}-errors.csv"')
    return response


for _view in (assignment_import_batch, assignment_import_apply, assignment_import_errors_csv):
    _view.model = AssignmentImport  # type: ignore[attr-defined]  # read by the URL isolation test
