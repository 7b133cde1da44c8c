"""Forms of the territory pages: assignment rules, rule preview, balancing and reassignment.

Related-row fields are declared with an empty unscoped queryset and given the active tenant's
rows in __init__, because a ModelForm class is built at import time, when no tenant is active.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crispy_forms.helper import FormHelper
from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from spm.crm.models import Segment
from spm.tenancy.admin_site import TenantModelForm

from .matching import split_values
from .models import AssignmentRule, Territory


def _label(territory: Territory) -> str:
    return f"{'· ' * territory.depth}{territory.name}"


def _territory_field(*, required: bool, label: str, empty_label: str | None = None):
    field = forms.ModelChoiceField(
        queryset=Territory.unscoped.none(), required=required, label=label,
        empty_label=empty_label,
    )
    return field


def _scoped_territories(field: forms.ModelChoiceField, queryset=None) -> None:
    field.queryset = queryset if queryset is not None else Territory.objects.order_by("path")
    field.label_from_instance = _label


class DateInput(forms.DateInput):
    input_type = "date"


class AssignmentRuleForm(TenantModelForm):
    territory = _territory_field(required=True, label="Territory")
    segments = forms.MultipleChoiceField(
        choices=Segment.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Any of the ticked segments; none ticked means any segment.",
    )

    class Meta:
        model = AssignmentRule
        fields = [
            "name", "priority", "territory", "countries", "regions", "postal_prefixes",
            "industries", "segments", "min_employees", "max_employees", "is_active",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _scoped_territories(self.fields["territory"])
        if self.instance.pk:
            self.initial["segments"] = split_values(self.instance.segments)
        self.helper = FormHelper()
        self.helper.form_tag = False

    def clean_segments(self) -> str:
        return ", ".join(self.cleaned_data.get("segments") or [])


class EffectiveDateForm(forms.Form):
    effective_date = forms.DateField(
        widget=DateInput, help_text="Changes take effect from this day (inclusive)."
    )


class DayForm(forms.Form):
    """The `on` query parameter of read pages: the day the figures are for."""

    on = forms.DateField(required=False, widget=DateInput, label="As of")


class BalanceForm(forms.Form):
    scope = _territory_field(required=False, label="Balance within", empty_label="Every territory")
    effective_date = forms.DateField(
        widget=DateInput, help_text="The book as it stands on this day; accepted moves start then."
    )
    tolerance_pct = forms.DecimalField(
        label="Potential tolerance (%)", initial=Decimal("10"), max_digits=5, decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
        help_text="Each territory's potential must end within this much of the mean.",
    )
    count_tolerance_pct = forms.DecimalField(
        label="Account count tolerance (%)", required=False, initial=Decimal("20"), max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
        help_text="Workload: accounts per territory within this much of the mean. Leave empty "
        "to balance potential only.",
    )
    time_limit_s = forms.IntegerField(
        label="Search time (seconds)", initial=5,
        validators=[MinValueValidator(1), MaxValueValidator(30)],
        help_text="Longer searches may move fewer accounts on large books.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        has_children = Territory.objects.filter(children__isnull=False).distinct()
        _scoped_territories(self.fields["scope"], has_children.order_by("path"))
        self.helper = FormHelper()
        self.helper.form_tag = False


class ReassignForm(forms.Form):
    territory = _territory_field(
        required=False, label="Move to", empty_label="No territory (unassign)"
    )
    effective_date = forms.DateField(widget=DateInput)
    note = forms.CharField(max_length=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _scoped_territories(self.fields["territory"])
        self.helper = FormHelper()
        self.helper.form_tag = False
