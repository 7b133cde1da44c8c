"""The admin's setup checklist: a step is done only when its rows exist, read in one query, and
the home page shows it with where to go and the bulk command, folding up once all are done."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.utils import timezone

from compensation.models import CalculationRun
from spm.onboarding.checklist import STEPS, setup_checklist
from spm.org.models import Period
from spm.org.services import periods_generate
from spm.tenancy.context import tenant_context
from spm.tenancy.urls import tenant_reverse
from tests.factories import (
    AccountFactory,
    DealFactory,
    PersonFactory,
    PlanAssignmentFactory,
    PlanVersionFactory,
    QuotaFactory,
    StageFactory,
    TeamFactory,
)

pytestmark = pytest.mark.django_db

#: Session, user, membership (twice: the page and the workspace menu), the tenant's savepoint
#: and setting (four), the admin's person, team and manager (three), the people and team counts,
#: and the checklist's one query: none of them grows with the data.
ADMIN_HOME_QUERIES = 14


def _run(status: str) -> CalculationRun:
    periods_generate(fiscal_years=[2026])
    return CalculationRun.objects.create(
        period=Period.objects.get(kind="month", fiscal_year=2026, number=1),
        status=status,
        requested_at=timezone.now(),
    )


BUILDERS = {
    "calendar": lambda: periods_generate(fiscal_years=[2026]),
    "people": PersonFactory,
    "teams": TeamFactory,
    "stages": StageFactory,
    "accounts": AccountFactory,
    "deals": DealFactory,
    "plans": lambda: PlanVersionFactory(status="published", valid_from=datetime.date(2026, 1, 1)),
    "assignments": PlanAssignmentFactory,
    "quotas": QuotaFactory,
    "calculation": lambda: _run("succeeded"),
}


def progress(tenant) -> dict[str, bool]:
    with tenant_context(tenant):
        return {item.key: item.done for item in setup_checklist(tenant=tenant).items}


def build_everything(tenant) -> None:
    with tenant_context(tenant):
        for build in BUILDERS.values():
            build()


def test_the_checklist_has_every_setup_step_in_the_order_they_are_done():
    assert [step.key for step in STEPS] == list(BUILDERS)


def test_a_new_tenant_has_every_step_still_to_do(tenant_a):
    with tenant_context(tenant_a):
        checklist = setup_checklist(tenant=tenant_a)

    assert checklist.done_count == 0
    assert not checklist.complete
    assert checklist.next_item.key == "calendar"


@pytest.mark.parametrize("key", list(BUILDERS))
def test_a_step_is_done_once_its_rows_exist(tenant_a, key):
    assert progress(tenant_a)[key] is False

    with tenant_context(tenant_a):
        BUILDERS[key]()

    assert progress(tenant_a)[key] is True


def test_a_draft_plan_version_does_not_count_as_a_plan(tenant_a):
    with tenant_context(tenant_a):
        PlanVersionFactory(status="draft")

    assert progress(tenant_a)["plans"] is False


@pytest.mark.parametrize("status", ["queued", "running", "failed"])
def test_a_calculation_that_has_not_succeeded_does_not_count(tenant_a, status):
    with tenant_context(tenant_a):
        _run(status)

    assert progress(tenant_a)["calculation"] is False


def test_another_tenants_rows_do_not_tick_this_tenants_steps(tenant_a, tenant_b):
    build_everything(tenant_b)

    assert progress(tenant_b) == dict.fromkeys(BUILDERS, True)
    assert progress(tenant_a) == dict.fromkeys(BUILDERS, False)


@pytest.mark.parametrize("filled", [False, True])
def test_the_checklist_reads_the_database_once_however_much_is_there(
    tenant_a, django_assert_num_queries, filled
):
    if filled:
        build_everything(tenant_a)
    with tenant_context(tenant_a):
        with django_assert_num_queries(1):
            checklist = setup_checklist(tenant=tenant_a)

    assert checklist.complete is filled


# -- on the admin's home page --------------------------------------------------------------------


def home(user, tenant):
    client = Client()
    client.force_login(user)
    return client.get(tenant_reverse(tenant, "tenant-home"))


def test_the_admin_home_shows_each_step_with_its_page_and_bulk_command(admin_a, tenant_a):
    response = home(admin_a, tenant_a)

    body = response.content.decode()
    assert 'data-checklist-complete="false"' in body
    assert 'data-step="people" data-done="true"' in body  # the admin's own person record
    assert 'data-step="deals" data-done="false"' in body
    assert "manage.py import_crm --tenant acme --kind deals --file deals.csv" in body
    assert "manage.py plan_import --tenant acme plan.yaml --valid-from YYYY-MM-DD --publish" in body
    assert "manage.py assignments_import --tenant acme assignments.csv --apply" in body
    assert "manage.py recalc --tenant acme --open" in body
    assert f'href="{tenant_reverse(tenant_a, "imports:upload", kind="deals")}"' in body
    assert f'href="{tenant_reverse(tenant_a, "onboarding:setup")}"' in body
    assert 'data-empty="calculations"' in body


def test_every_link_of_the_checklist_opens_for_the_admin(admin_a, tenant_a):
    client = Client()
    client.force_login(admin_a)
    with tenant_context(tenant_a):
        checklist = setup_checklist(tenant=tenant_a)

    for item in checklist.items:
        for label, url in item.links:
            assert client.get(url).status_code == 200, (item.key, label, url)


def test_once_everything_is_done_the_checklist_folds_into_one_line(admin_a, tenant_a):
    build_everything(tenant_a)

    body = home(admin_a, tenant_a).content.decode()

    assert 'data-checklist-complete="true"' in body
    assert "Setup complete" in body
    assert "<details" in body
    assert "data-calculated" in body
    assert 'data-empty="calculations"' not in body


@pytest.mark.parametrize("filled", [False, True])
def test_the_admin_home_costs_the_same_queries_empty_or_set_up(
    admin_a, tenant_a, django_assert_num_queries, filled
):
    client = Client()
    client.force_login(admin_a)
    url = tenant_reverse(tenant_a, "tenant-home")
    client.get(url)  # warm the session and caches
    if filled:
        build_everything(tenant_a)

    with django_assert_num_queries(ADMIN_HOME_QUERIES):
        assert client.get(url).status_code == 200


def test_other_roles_do_not_get_the_checklist(make_member, tenant_a):
    from spm.tenancy.models import Role

    for role in (Role.FINANCE, Role.MANAGER, Role.REP):
        assert "data-checklist" not in home(make_member(tenant_a, role), tenant_a).content.decode()
