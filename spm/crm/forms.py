"""Forms of the CRM pages: the import upload."""

from __future__ import annotations

from crispy_forms.helper import FormHelper
from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat

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

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
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
