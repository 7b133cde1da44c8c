"""Forms of the CRM pages: the import upload, and the fixes the import preview offers."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

from .models import Stage

ACCEPTED_EXTENSIONS = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm")


def max_upload_bytes() -> int:
    return int(getattr(settings, "IMPORT_MAX_UPLOAD_BYTES", 50 * 1024 * 1024))


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label="File",
        help_text="CSV (any delimiter; UTF-8 preferred) or an Excel .xlsx workbook, "
        "with the column names in the first row.",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ACCEPTED_EXTENSIONS)}),
    )
    sheet = forms.CharField(
        label="Sheet",
        required=False,
        max_length=100,
        help_text="For a workbook with several sheets: the sheet's name or number. "
        "Empty reads the first sheet.",
    )

    create_accounts = forms.BooleanField(
        label="Create accounts that do not exist yet",
        required=False,
        help_text="For files that name each deal's account (Account Name, Associated Company) "
        "instead of giving its ID: a name no account has becomes a new account. The preview "
        "lists every account it would create.",
    )
    effective_date = forms.DateField(
        label="Team changes take effect on",
        required=False,
        help_text="For a roster with a manager column: the day people join their manager's "
        "team (YYYY-MM-DD). Empty means today. People never placed before join from their "
        "hire date.",
    )

    KIND_OPTIONS = {"deals": {"create_accounts"}, "people": {"effective_date"}}

    def __init__(self, *args, kind: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in ("create_accounts", "effective_date"):
            if name not in self.KIND_OPTIONS.get(kind, set()):
                del self.fields[name]
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = max_upload_bytes()
        if upload.size > limit:
            raise forms.ValidationError(
                f"The file is {filesizeformat(upload.size)}; the largest accepted is "
                f"{filesizeformat(limit)}. Split it into several files."
            )
        if not upload.name.lower().endswith(ACCEPTED_EXTENSIONS):
            raise forms.ValidationError(
                "Upload a .csv or .xlsx file (exports from other programs can be saved as one)."
            )
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload


class StageMappingForm(forms.Form):
    """On the import preview: what a stage value of the file means."""

    source_value = forms.CharField(max_length=100, widget=forms.HiddenInput)
    stage = forms.ModelChoiceField(
        queryset=None, empty_label="choose a stage", label="Stage"
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Read when the form is made, inside the tenant: the scoped manager fails closed.
        self.fields["stage"].queryset = Stage.objects.order_by("order", "name")


class RecheckForm(forms.Form):
    create_accounts = forms.BooleanField(required=False)
