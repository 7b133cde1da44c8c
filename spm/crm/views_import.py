"""Import pages (admin only): choose a kind, upload a file, read its preview and every problem,
fix what the preview can fix (map a stage value, create missing accounts), then apply it whole;
the error report downloads as a formula-safe CSV."""

from __future__ import annotations

import dataclasses
import io

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from spm.tenancy.models import Role
from spm.tenancy.permissions import role_required

from .forms import ImportUploadForm, RecheckForm, StageMappingForm, max_upload_bytes
from .imports.export import write_error_report
from .imports.fields import KINDS, Kind
from .imports.options import ImportOptions
from .imports.reading import ImportFileError
from .imports.selectors import import_batch_by_pk, recent_import_batches
from .imports.service import import_preview, import_recheck, import_request_apply
from .models import ImportBatch, ImportStatus
from .selectors import stages_in_order
from .services import stage_mappings_set

ERRORS_ON_PAGE = 1000
RECENT_BATCHES = 20
REFRESH_SECONDS = 2


def _kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise Http404("No such import.")
    return kind


def _batch(batch_id: int) -> ImportBatch:
    # The scoped manager: another tenant's batch is as absent as one that never existed.
    batch = import_batch_by_pk(batch_id)
    if batch is None:
        raise Http404("No such import.")
    return batch


@require_safe
@role_required(Role.ADMIN)
def import_index(request: HttpRequest) -> HttpResponse:
    batches = recent_import_batches(limit=RECENT_BATCHES)
    return render(request, "crm/import/index.html", {"kinds": KINDS.values(), "batches": batches})


@require_http_methods(["GET", "HEAD", "POST"])
@role_required(Role.ADMIN)
def import_upload(request: HttpRequest, kind: str) -> HttpResponse:
    spec = _kind(kind)
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES, kind=spec.name)
    else:
        form = ImportUploadForm(kind=spec.name)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            options = ImportOptions(
                create_accounts=bool(form.cleaned_data.get("create_accounts")),
                effective_date=form.cleaned_data.get("effective_date"),
            )
            try:
                batch = import_preview(
                    kind=spec.name,
                    content=upload.read(),
                    file_name=upload.name,
                    sheet=form.cleaned_data["sheet"],
                    actor=request.user,
                    options=options,
                )
            except ImportFileError as exc:
                form.add_error("file", str(exc))
            else:
                return redirect("imports:batch", batch_id=batch.pk)
        status = 400
    context = {"kind": spec, "form": form, "max_upload_bytes": max_upload_bytes()}
    return render(request, "crm/import/upload.html", context, status=status)


@require_safe
@role_required(Role.ADMIN)
def import_batch(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(batch_id)
    can_recheck = (
        batch.status in (ImportStatus.PREVIEWED, ImportStatus.FAILED) and bool(batch.content)
    )
    unknown_stages = batch.preview.get("unknown_stages", []) if can_recheck else []
    context = {
        "batch": batch,
        "kind": KINDS[batch.kind],
        "errors": batch.error_report[:ERRORS_ON_PAGE],
        "errors_hidden": max(len(batch.error_report) - ERRORS_ON_PAGE, 0),
        "errors_unkept": max(batch.error_count - len(batch.error_report), 0),
        "can_apply": batch.status == ImportStatus.PREVIEWED,
        "applying": batch.status == ImportStatus.APPLYING,
        "refresh_seconds": REFRESH_SECONDS,
        "can_recheck": can_recheck,
        "unknown_stages": unknown_stages,
        "stages": list(stages_in_order()) if unknown_stages else [],
        "offer_create_accounts": can_recheck
        and batch.preview.get("unknown_account_rows", 0) > 0
        and not batch.options.get("create_accounts"),
    }
    return render(request, "crm/import/batch.html", context)


@require_POST
@role_required(Role.ADMIN)
def import_batch_map_stage(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Remember what a stage value of the file means, then check the file again."""
    batch = _batch(batch_id)
    form = StageMappingForm(request.POST)
    if not form.is_valid():
        problems = [m for errors in form.errors.values() for m in errors]
        messages.warning(request, "The mapping was not saved: " + " ".join(problems))
        return redirect("imports:batch", batch_id=batch.pk)
    source, stage = form.cleaned_data["source_value"], form.cleaned_data["stage"]
    try:
        stage_mappings_set(mappings=[(source, stage)], actor=request.user)
        import_recheck(batch=batch, actor=request.user)
    except ValidationError as exc:
        messages.warning(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"'{source}' now means the stage {stage.name}, for this file and the next ones; "
            "the file was checked again.",
        )
    return redirect("imports:batch", batch_id=batch.pk)


@require_POST
@role_required(Role.ADMIN)
def import_batch_recheck(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Check the file again, with missing accounts created or not."""
    batch = _batch(batch_id)
    form = RecheckForm(request.POST)
    form.is_valid()  # a checkbox: absent or anything else means no
    options = dataclasses.replace(
        ImportOptions.from_json(batch.options),
        create_accounts=bool(form.cleaned_data.get("create_accounts")),
    )
    try:
        import_recheck(batch=batch, actor=request.user, options=options)
    except ValidationError as exc:
        messages.warning(request, " ".join(exc.messages))
    return redirect("imports:batch", batch_id=batch.pk)


@require_POST
@role_required(Role.ADMIN)
def import_batch_apply(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(batch_id)
    try:
        import_request_apply(batch=batch, actor=request.user)
    except ValidationError as exc:
        messages.warning(request, " ".join(exc.messages))
    return redirect("imports:batch", batch_id=batch.pk)


@require_safe
@role_required(Role.ADMIN)
def import_batch_errors_csv(request: HttpRequest, batch_id: int) -> HttpResponse:
    batch = _batch(batch_id)
    out = io.StringIO()
    write_error_report(out, batch.error_report)
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{batch.pk}-errors.csv"'
    return response


for _view in (import_batch, import_batch_apply, import_batch_errors_csv, import_batch_map_stage,
              import_batch_recheck):
    _view.model = ImportBatch  # type: ignore[attr-defined]  # read by the URL isolation test
