"""Generated over every ModelAdmin of the tenant admin: A's admin never sees or reaches B's rows.

For each registered model, tenant A and tenant B get a row (B's with primary keys from 1,000,000 up
and text carrying a marker), plus rows of every model its form can point at. Then, as A's admin:
change list, change/delete/history pages, autocomplete, add-form choices, a posted foreign id,
"save as new" and the bulk delete action. Finance of A reads but cannot write; a platform
superuser sees B's rows in B's admin. Models registered later are covered without editing this.
"""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass, field

import pytest
from django.contrib.admin.widgets import AutocompleteMixin, ForeignKeyRawIdWidget
from django.db import models
from django.forms import ModelMultipleChoiceField, SplitDateTimeWidget
from django.forms.models import model_to_dict
from django.test import Client
from django.utils.html import escape

from spm.tenancy.admin_site import TenantModelAdmin, tenant_admin_site
from spm.tenancy.context import tenant_context
from spm.tenancy.models import Role, TenantModel
from spm.tenancy.urls import tenant_reverse
from tests.factories import UserFactory
from tests.security.rows import build_row

pytestmark = [pytest.mark.django_db, pytest.mark.smoke]

MARKER = "GLOBEXADMINONLY"
B_PK_BASE = 1_000_000

REGISTERED = sorted(tenant_admin_site._registry.items(), key=lambda item: item[0]._meta.label)
each_model_admin = pytest.mark.parametrize(
    "model_admin",
    [model_admin for _, model_admin in REGISTERED],
    ids=[model._meta.label for model, _ in REGISTERED],
)


def relation_fields(model: type[models.Model]) -> list[models.Field]:
    """Editable foreign keys and many-to-many fields of `model` that point at tenant rows."""
    return [
        f
        for f in model._meta.get_fields()
        if (f.many_to_one or f.one_to_one or f.many_to_many)
        and f.concrete
        and not f.auto_created
        and f.editable
        and isinstance(f.related_model, type)
        and issubclass(f.related_model, TenantModel)
    ]


@dataclass
class World:
    model: type[models.Model]
    a_row: models.Model
    b_row: models.Model
    a_targets: dict[str, models.Model] = field(default_factory=dict)
    b_targets: dict[str, models.Model] = field(default_factory=dict)

    @property
    def b_pks(self) -> set[int]:
        return {self.b_row.pk} | {row.pk for row in self.b_targets.values()}


def _row_of(model, *, pk: int | None, marker: str, minimum_pk: int = 0):
    # Reuse a row the tenant already has (a target may be the model itself, and some models
    # allow one row per natural key), so building never trips a unique constraint.
    existing = model._default_manager.filter(pk__gte=minimum_pk).order_by("-pk").first()
    return existing or build_row(model, pk=pk, marker=marker)


def build_world(model, tenant_a, tenant_b) -> World:
    with tenant_context(tenant_a):
        a_row = build_row(model, marker="ACMEROW")
        a_targets = {
            f.name: _row_of(f.related_model, pk=None, marker="ACMEROW")
            for f in relation_fields(model)
        }
    with tenant_context(tenant_b):
        b_row = build_row(model, pk=B_PK_BASE, marker=MARKER)
        b_targets = {
            f.name: _row_of(
                f.related_model, pk=B_PK_BASE * (index + 2), marker=MARKER, minimum_pk=B_PK_BASE
            )
            for index, f in enumerate(relation_fields(model))
        }
    return World(model, a_row, b_row, a_targets, b_targets)


def admin_url(tenant, model, action: str, *args) -> str:
    name = f"tenant_admin:{model._meta.app_label}_{model._meta.model_name}_{action}"
    return tenant_reverse(tenant, name, *args)


def assert_no_trace_of_b(content: str, world: World) -> None:
    assert MARKER not in content
    for pk in world.b_pks:
        for shape in (f"={pk}", f'"{pk}"', f"/{pk}/"):
            assert shape not in content, f"B's row {pk} shows up as {shape!r}"


def signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.fixture
def client_a(admin_a) -> Client:
    return signed_in(admin_a)


def form_data(form, row: models.Model) -> dict[str, object]:
    """POST data that a browser would send for `row` in the admin's form."""
    data: dict[str, object] = {}
    values = model_to_dict(row, fields=list(form.fields))
    for name, form_field in form.fields.items():
        value = values.get(name)
        if isinstance(value, list):
            value = [getattr(v, "pk", v) for v in value]
        elif isinstance(value, models.Model):
            value = value.pk
        if isinstance(form_field.widget, SplitDateTimeWidget):
            moment = value or datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
            data[f"{name}_0"], data[f"{name}_1"] = moment.date().isoformat(), "00:00:00"
        elif isinstance(value, bool):
            if value:
                data[name] = "on"
        elif isinstance(value, (datetime.date, decimal.Decimal)):
            data[name] = str(value)
        elif value is not None:
            data[name] = value
    return data


def management_data(response) -> dict[str, str]:
    data = {}
    for inline_formset in response.context.get("inline_admin_formsets", []):
        prefix = inline_formset.formset.prefix
        data[f"{prefix}-TOTAL_FORMS"] = "0"
        data[f"{prefix}-INITIAL_FORMS"] = "0"
    return data


def add_page_or_skip(client, tenant, world):
    """The add form, or a skip for models whose rows are never typed in (e.g. periods)."""
    page = client.get(admin_url(tenant, world.model, "add"))
    if page.status_code == 403:
        pytest.skip(f"{world.model._meta.label} rows are not added in the admin")
    assert page.status_code == 200
    return page


# ------------------------------------------------------------------------------------------------
# The generated part
# ------------------------------------------------------------------------------------------------
def test_every_tenant_model_admin_is_covered():
    labels = {model._meta.label for model, _ in REGISTERED}
    assert {"org.Person", "org.Team", "org.TeamMembership"} <= labels
    assert all(isinstance(model_admin, TenantModelAdmin) for _, model_admin in REGISTERED)


@each_model_admin
def test_the_changelist_shows_own_rows_and_none_of_the_other_tenants(
    model_admin, tenant_a, tenant_b, client_a
):
    world = build_world(model_admin.model, tenant_a, tenant_b)
    response = client_a.get(admin_url(tenant_a, world.model, "changelist"))
    assert response.status_code == 200
    listed = {row.pk for row in response.context["cl"].result_list}
    assert world.a_row.pk in listed
    assert world.b_row.pk not in listed
    content = response.content.decode()
    assert_no_trace_of_b(content, world)
    assert escape(str(world.b_row)) not in content or str(world.b_row) == str(world.a_row)


@each_model_admin
def test_change_delete_and_history_pages_of_another_tenants_row_are_404(
    model_admin, tenant_a, tenant_b, client_a
):
    world = build_world(model_admin.model, tenant_a, tenant_b)
    for action in ("change", "delete", "history"):
        own = client_a.get(admin_url(tenant_a, world.model, action, world.a_row.pk))
        # An action the admin never allows (deleting a period) is refused before any lookup:
        # the foreign row then gets the same refusal as an own row, which reveals nothing.
        allowed = {404} if own.status_code == 200 else {403, 404}
        assert own.status_code in (200, 403), action
        foreign = client_a.get(admin_url(tenant_a, world.model, action, world.b_row.pk))
        assert foreign.status_code in allowed, action
        posted = client_a.post(
            admin_url(tenant_a, world.model, action, world.b_row.pk), {"post": "yes"}
        )
        assert posted.status_code in allowed, action
    with tenant_context(tenant_b):
        assert world.model._default_manager.filter(pk=world.b_row.pk).exists()


@each_model_admin
def test_a_history_version_of_another_tenants_row_is_404(
    model_admin, tenant_a, tenant_b, client_a
):
    model = model_admin.model
    if getattr(model._meta, "simple_history_manager_attribute", None) is None:
        pytest.skip(f"{model._meta.label} keeps no history")
    world = build_world(model, tenant_a, tenant_b)
    with tenant_context(tenant_a):
        a_version = world.a_row.history.latest().history_id
    with tenant_context(tenant_b):
        b_version = world.b_row.history.latest().history_id

    def version_url(pk, version):
        return admin_url(tenant_a, model, "simple_history", pk, version)

    assert client_a.get(version_url(world.a_row.pk, a_version)).status_code == 200
    assert client_a.get(version_url(world.b_row.pk, b_version)).status_code == 404
    assert client_a.get(version_url(world.a_row.pk, b_version)).status_code == 404
    assert client_a.post(version_url(world.b_row.pk, b_version), {}).status_code == 404


@each_model_admin
def test_autocomplete_never_returns_another_tenants_rows(
    model_admin, tenant_a, tenant_b, client_a
):
    model = model_admin.model
    sources = [
        (source, f)
        for source in tenant_admin_site._registry
        for f in relation_fields(source)
        if f.related_model is model
    ]
    if not model_admin.search_fields or not sources:
        pytest.skip(f"nothing in the tenant admin autocompletes to {model._meta.label}")
    world = build_world(model, tenant_a, tenant_b)
    url = tenant_reverse(tenant_a, "tenant_admin:autocomplete")
    for source, relation in sources:
        params = {
            "app_label": source._meta.app_label,
            "model_name": source._meta.model_name,
            "field_name": relation.name,
        }
        ids: set[str] = set()
        page, more = 1, True
        while more:
            response = client_a.get(url, {**params, "term": "", "page": page})
            assert response.status_code == 200
            body = response.json()
            ids |= {result["id"] for result in body["results"]}
            more, page = body["pagination"]["more"], page + 1
        assert str(world.a_row.pk) in ids
        assert str(world.b_row.pk) not in ids
        searched = client_a.get(url, {**params, "term": MARKER})
        assert searched.json()["results"] == []


@each_model_admin
def test_the_add_form_offers_no_choices_from_another_tenant(
    model_admin, tenant_a, tenant_b, client_a
):
    world = build_world(model_admin.model, tenant_a, tenant_b)
    response = add_page_or_skip(client_a, tenant_a, world)
    assert_no_trace_of_b(response.content.decode(), world)
    form = response.context["adminform"].form
    with tenant_context(tenant_a):
        for name, target in world.a_targets.items():
            form_field = form.fields.get(name)
            if form_field is None or isinstance(
                form_field.widget, (AutocompleteMixin, ForeignKeyRawIdWidget)
            ):
                continue  # these widgets render only the chosen value
            offered = {str(choice[0]) for choice in form_field.choices}
            assert str(target.pk) in offered, name


@each_model_admin
def test_a_form_naming_another_tenants_row_is_rejected_on_that_field(
    model_admin, tenant_a, tenant_b, client_a
):
    world = build_world(model_admin.model, tenant_a, tenant_b)
    add_url = admin_url(tenant_a, world.model, "add")
    page = add_page_or_skip(client_a, tenant_a, world)
    form = page.context["adminform"].form
    names = [name for name in world.b_targets if name in form.fields]
    if not names:
        pytest.skip(f"the {world.model._meta.label} form picks no tenant rows")
    for name in names:
        many = isinstance(form.fields[name], ModelMultipleChoiceField)
        base = {**form_data(form, world.a_row), **management_data(page)}
        foreign = world.b_targets[name].pk
        response = client_a.post(add_url, {**base, name: [foreign] if many else foreign})
        assert response.status_code == 200, name
        errors = response.context["adminform"].form.errors.as_data()
        codes = {error.code for error in errors.get(name, [])}
        expected = {"invalid_pk_value", "invalid_choice"} if many else {"invalid_choice"}
        assert codes & expected, f"{name}: {errors}"
        # The same post with A's own row is not refused on that field.
        own = world.a_targets[name].pk
        accepted = client_a.post(add_url, {**base, name: [own] if many else own})
        if accepted.status_code == 200:  # the copied row may clash (a unique person, say)
            kept = accepted.context["adminform"].form.errors.as_data().get(name, [])
            assert not {error.code for error in kept} & expected, f"{name}: {kept}"
    with tenant_context(tenant_a):
        for name in names:
            linked = world.model._default_manager.filter(**{f"{name}__in": world.b_pks})
            assert not linked.exists(), name


@each_model_admin
def test_save_as_new_over_another_tenants_row_is_404(model_admin, tenant_a, tenant_b, client_a):
    world = build_world(model_admin.model, tenant_a, tenant_b)
    add_page = add_page_or_skip(client_a, tenant_a, world)
    data = {
        **form_data(add_page.context["adminform"].form, world.a_row),
        **management_data(add_page),
        "_saveasnew": "Save as new",
    }
    with tenant_context(tenant_a):
        before = world.model._default_manager.count()
    response = client_a.post(admin_url(tenant_a, world.model, "change", world.b_row.pk), data)
    assert response.status_code == 404
    with tenant_context(tenant_a):
        assert world.model._default_manager.count() == before


@each_model_admin
def test_the_bulk_delete_action_deletes_own_rows_and_skips_the_other_tenants(
    model_admin, tenant_a, tenant_b, client_a
):
    world = build_world(model_admin.model, tenant_a, tenant_b)
    changelist = admin_url(tenant_a, world.model, "changelist")
    chosen = [world.a_row.pk, world.b_row.pk]
    preview = client_a.post(changelist, {"action": "delete_selected", "_selected_action": chosen})
    confirming = preview.status_code == 200 and any(
        t.name == "admin/delete_selected_confirmation.html" for t in preview.templates)
    if preview.status_code == 302 or (preview.status_code == 200 and not confirming):
        pytest.skip(f"{world.model._meta.label} has no delete action")
    assert preview.status_code == 200
    assert_no_trace_of_b(preview.content.decode(), world)
    if preview.context["protected"]:
        pytest.skip(f"a fresh {world.model._meta.label} row is protected by a related row")
    client_a.post(
        changelist, {"action": "delete_selected", "_selected_action": chosen, "post": "yes"}
    )
    with tenant_context(tenant_a):
        assert not world.model._default_manager.filter(pk=world.a_row.pk).exists()
    with tenant_context(tenant_b):
        assert world.model._default_manager.filter(pk=world.b_row.pk).exists()


@each_model_admin
def test_finance_reads_the_admin_but_cannot_write(model_admin, tenant_a, tenant_b, make_member):
    world = build_world(model_admin.model, tenant_a, tenant_b)
    finance = signed_in(make_member(tenant_a, Role.FINANCE, username="finance_a"))
    model = world.model
    assert finance.get(admin_url(tenant_a, model, "changelist")).status_code == 200
    change_page = finance.get(admin_url(tenant_a, model, "change", world.a_row.pk))
    assert change_page.status_code == 200
    assert finance.get(admin_url(tenant_a, model, "change", world.b_row.pk)).status_code == 404
    if model_admin.finance_can_edit:
        pytest.skip(f"finance may edit {model._meta.label}")
    assert change_page.context["has_change_permission"] is False
    assert finance.get(admin_url(tenant_a, model, "add")).status_code == 403
    assert finance.post(admin_url(tenant_a, model, "change", world.a_row.pk), {}).status_code == 403
    assert finance.get(admin_url(tenant_a, model, "delete", world.a_row.pk)).status_code == 403
    with tenant_context(tenant_a):
        assert model._default_manager.filter(pk=world.a_row.pk).exists()


@each_model_admin
def test_a_platform_superuser_sees_tenant_bs_rows_in_tenant_bs_admin(
    model_admin, tenant_a, tenant_b
):
    world = build_world(model_admin.model, tenant_a, tenant_b)
    superuser = signed_in(UserFactory(username="operator", is_superuser=True, is_staff=True))
    response = superuser.get(admin_url(tenant_b, world.model, "changelist"))
    assert response.status_code == 200
    listed = {row.pk for row in response.context["cl"].result_list}
    assert world.b_row.pk in listed
    assert world.a_row.pk not in listed
    assert superuser.get(admin_url(tenant_b, world.model, "change", world.b_row.pk)).status_code \
        == 200


# ------------------------------------------------------------------------------------------------
# Who gets in at all
# ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", [Role.MANAGER, Role.REP])
def test_managers_and_reps_are_refused_the_admin_without_an_error(role, tenant_a, make_member):
    member = signed_in(make_member(tenant_a, role))
    urls = [tenant_reverse(tenant_a, "tenant_admin:index")]
    urls += [admin_url(tenant_a, model, "changelist") for model, _ in REGISTERED]
    for url in urls:
        assert member.get(url).status_code == 403, url


def test_admins_of_another_tenant_are_strangers_in_this_admin(tenant_a, tenant_b, make_member):
    outsider = signed_in(make_member(tenant_b, Role.ADMIN, username="globex_admin"))
    assert outsider.get(tenant_reverse(tenant_a, "tenant_admin:index")).status_code == 404
    for model, _ in REGISTERED:
        url = admin_url(tenant_a, model, "changelist")
        assert outsider.get(url).status_code == 404, url
