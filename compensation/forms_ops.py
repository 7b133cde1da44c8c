"""Forms of finance's operations pages: adjustments, holds and disputes."""

from __future__ import annotations

from typing import Any

from django import forms

from compensation.models import AdjustmentReason
from spm.org.models import Period, PeriodKind, Person


def _months() -> Any:
    return Period.objects.filter(kind=PeriodKind.MONTH).order_by("-start_date")


class AdjustmentForm(forms.Form):
    payee = forms.ModelChoiceField(queryset=None)
    period = forms.ModelChoiceField(queryset=None, label="Month",
                                    help_text="A locked month takes no adjustment.")
    amount = forms.DecimalField(max_digits=16, decimal_places=2,
                                help_text="Positive pays more, negative takes back.")
    reason_code = forms.ModelChoiceField(queryset=None,
                                         label="Reason")
    comment = forms.CharField(required=False, max_length=400,
                              widget=forms.Textarea(attrs={"rows": 2}),
                              help_text="Shown on the statement after the reason.")
    repeat_until = forms.ModelChoiceField(
        queryset=None, required=False, label="Repeat monthly until",
        help_text="Leave empty for a one-time adjustment; otherwise one adjustment is entered "
                  "for each month through this one, each approved on its own.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payee"].queryset = Person.objects.order_by("name", "pk")
        self.fields["period"].queryset = _months()
        self.fields["repeat_until"].queryset = _months()
        self.fields["reason_code"].queryset = AdjustmentReason.objects.filter(is_active=True)


class RejectForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


class HoldForm(forms.Form):
    payee = forms.ModelChoiceField(queryset=None)
    period = forms.ModelChoiceField(queryset=None, label="Month")
    reason = forms.CharField(max_length=500, help_text="The payee reads this on their statement.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payee"].queryset = Person.objects.order_by("name", "pk")
        self.fields["period"].queryset = _months()


class DisputeOpenForm(forms.Form):
    subject = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}),
                                  help_text="What you expected, and why.")
    amount_claimed = forms.DecimalField(max_digits=16, decimal_places=2, required=False,
                                        help_text="What you believe you are owed, if you know.")


class DisputeCommentForm(forms.Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 3}))
