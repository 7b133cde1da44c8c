"""Forms of the quota pages: a new plan, allocating, overriding a node, seasonality, applying,
and picking a period to read attainment for."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from crispy_forms.helper import FormHelper
from django import forms

from planning.capacity import parse_percentages
from planning.models import RampSchedule
from spm.org.models import Period, PeriodKind

from .models import AllocationMethod, QuotaPlan

MONEY_FIELD = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


class _Crispy:
    def _helper(self) -> None:
        self.helper = FormHelper()
        self.helper.form_tag = False


class QuotaPlanCreateForm(_Crispy, forms.Form):
    fiscal_year = forms.IntegerField(min_value=2000, max_value=2200,
                                     help_text="Named after the calendar year it ends in.")
    name = forms.CharField(max_length=200)
    target = forms.DecimalField(
        required=False, **MONEY_FIELD,
        help_text="Empty: the bookings target of the year's sales plan.",
    )
    over_assignment_percent = forms.DecimalField(
        initial=Decimal("110"), min_value=Decimal("100"), max_value=Decimal("200"),
        max_digits=5, decimal_places=2, label="Over-assignment (%)",
        help_text="Sellers' quotas add up to this share of their team's quota.",
    )
    method = forms.ChoiceField(choices=AllocationMethod.choices,
                               initial=AllocationMethod.HISTORICAL)
    # Choices come from the active tenant, so they are set per form, never at import.
    ramp_schedule = forms.ModelChoiceField(
        queryset=None, required=False, empty_label="The tenant's default",
        help_text="New hires' quotas follow it.",
    )
    org_as_of = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}),
        label="Teams as of", help_text="Empty: the first day of the year.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ramp_schedule"].queryset = RampSchedule.objects.all()
        self._helper()

    def clean_fiscal_year(self) -> int:
        year = self.cleaned_data["fiscal_year"]
        if QuotaPlan.objects.filter(fiscal_year=year).exists():
            raise forms.ValidationError(f"FY{year} has a quota plan already; open it instead.")
        return year


class AllocateForm(forms.Form):
    method = forms.ChoiceField(choices=AllocationMethod.choices)


class OverrideForm(_Crispy, forms.Form):
    amount = forms.DecimalField(**MONEY_FIELD, label="Quota")
    reason = forms.CharField(max_length=500, help_text="Kept with the amount in the record.")
    clear = forms.BooleanField(required=False, label="Let allocation decide again")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._helper()
        if self.data.get(self.add_prefix("clear")):
            self.fields["amount"].required = False
            self.fields["reason"].required = False


class SeasonalityForm(forms.Form):
    SOURCES = [("learn", "Learn from the last two years' bookings"), ("flat", "Flat"),
               ("manual", "Set by hand")]
    source = forms.ChoiceField(choices=SOURCES, widget=forms.RadioSelect)
    weights = forms.CharField(
        required=False, max_length=300,
        help_text="Twelve percentages adding up to 100, first fiscal month first.",
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("source") == "manual":
            try:
                parse_percentages(data.get("weights", ""), count=12, total=Decimal(100))
            except ValueError as exc:
                self.add_error("weights", str(exc))
        return data


class ApplyForm(forms.Form):
    effective = forms.DateField(
        required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text="From when changed quotas count. Empty: today. The first application covers "
        "the whole year.",
    )


class QuotaChangeForm(_Crispy, forms.Form):
    annual_amount = forms.DecimalField(**MONEY_FIELD, label="New annual quota")
    effective = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(max_length=500)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._helper()


class PeriodForm(forms.Form):
    """Which period to read: a kind and a date inside it (default: today)."""

    kind = forms.ChoiceField(choices=PeriodKind.choices, required=False)
    on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}),
                         label="As of")

    def period(self, today: datetime.date) -> tuple[Period | None, datetime.date]:
        data = self.cleaned_data if self.is_valid() else {}
        kind = data.get("kind") or PeriodKind.QUARTER
        day = data.get("on") or today
        period = Period.objects.filter(kind=kind, start_date__lte=day, end_date__gt=day).first()
        return period, day
