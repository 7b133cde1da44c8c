"""Forms of the compensation pages: a manager's MBO score of one payee's component and window."""

from __future__ import annotations

from typing import Any

from django import forms

from .models import MboScore


class MboScoreForm(forms.Form):
    """One window's score; an empty score clears the one entered before.

    The bounds are the model's validators, so the page and the admin say the same thing.
    """

    score_pct = forms.DecimalField(
        required=False, max_digits=6, decimal_places=2, label="Score (%)",
        validators=MboScore._meta.get_field("score_pct").validators,
        help_text="85 means 85%; leave empty for no score yet.",
    )
    comment = forms.CharField(required=False, max_length=2000,
                              widget=forms.Textarea(attrs={"rows": 1}))

    def __init__(self, *args: Any, read_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            # A disabled field keeps its initial value whatever is posted.
            field.disabled = read_only

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("score_pct") is None and data.get("comment") and "score_pct" not in \
                self.errors:
            self.add_error("score_pct", "Enter a score for this comment, or clear both.")
        return data
