"""The shared web toolkit: a service's refusal lands where the member acts, CSV cells stay inert,
and changes are recorded against a signed-in user or nobody."""

from __future__ import annotations

import pytest
from django import forms
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from spm.tenancy.actors import acting_user
from spm.web import add_service_errors, csv_safe, neutralise, sort_key


class NameForm(forms.Form):
    name = forms.CharField()


def bound_form() -> NameForm:
    form = NameForm({"name": "x"})
    assert form.is_valid()
    return form


def test_a_service_error_naming_a_field_of_the_form_lands_on_that_field():
    form = bound_form()
    add_service_errors(form, ValidationError({"name": "Taken.", "valid_to": "Too late."}))
    assert form.errors["name"] == ["Taken."]
    assert form.errors[NON_FIELD_ERRORS] == ["Too late."]


def test_a_service_error_without_fields_lands_on_the_whole_form():
    form = bound_form()
    add_service_errors(form, ValidationError(["One.", "Two."]))
    assert form.non_field_errors() == ["One.", "Two."]


@pytest.mark.parametrize(
    ("value", "shown"),
    [("=CMD()", "'=CMD()"), ("-2+3", "'-2+3"), ("-1234.50", "-1234.50"), ("Initech", "Initech")],
)
def test_only_text_a_spreadsheet_would_run_is_quoted(value, shown):
    assert neutralise(value) == shown == csv_safe(value)


def test_values_that_are_not_text_pass_through_for_the_writer_to_format():
    assert neutralise(12) == 12
    assert neutralise(None) is None
    assert csv_safe(None) == ""


def test_an_unknown_sort_falls_back_to_the_default():
    allowed = {"name", "amount"}
    assert sort_key("-amount", allowed=allowed, default="name") == "-amount"
    assert sort_key("password", allowed=allowed, default="name") == "name"
    assert sort_key(None, allowed=allowed, default="-amount") == "-amount"


@pytest.mark.django_db
def test_changes_are_recorded_against_a_signed_in_user_or_nobody(admin_a):
    assert acting_user(admin_a) is admin_a
    assert acting_user(AnonymousUser()) is None
    assert acting_user(None) is None
