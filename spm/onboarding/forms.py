"""The first-run settings form of a tenant's admin."""

from __future__ import annotations

import calendar
import zoneinfo

from crispy_forms.helper import FormHelper
from django import forms

from spm.tenancy.models import CURRENCY_VALIDATOR

from .services import DEFAULT_PAST_YEARS, MAX_PAST_YEARS

MONTH_CHOICES = [(number, calendar.month_name[number]) for number in range(1, 13)]


def _timezone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class SetupForm(forms.Form):
    fiscal_year_start_month = forms.TypedChoiceField(
        label="Fiscal year starts in",
        choices=MONTH_CHOICES,
        coerce=int,
        help_text="A fiscal year is named after the calendar year it ends in: with a February "
        "start, FY2027 runs from February 2026 to January 2027. It can change only until "
        "quotas, calculations or locked periods refer to the periods.",
    )
    currency = forms.CharField(
        label="Currency",
        min_length=3,
        max_length=3,
        help_text="Three-letter ISO 4217 code (USD, EUR, GBP…) of quotas, plans and statements.",
    )
    timezone = forms.ChoiceField(
        label="Time zone",
        choices=_timezone_choices,
        help_text="Decides which day “today” is for the workspace.",
    )
    past_years = forms.IntegerField(
        label="Years of history",
        min_value=0,
        max_value=MAX_PAST_YEARS,
        initial=DEFAULT_PAST_YEARS,
        help_text="Fiscal years before the current one to create periods for, so imported past "
        "deals and quotas have periods to land in. The next fiscal year is always created, "
        "and kept one year ahead every day. Lowering this removes no periods.",
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_currency(self) -> str:
        code = self.cleaned_data["currency"].strip().upper()
        CURRENCY_VALIDATOR(code)
        return code
